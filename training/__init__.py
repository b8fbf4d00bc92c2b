"""Retraining pipeline: labelled tickets -> fine-tuned MiniLM -> calibrated int8 ONNX model.

Only this package imports torch and transformers (install with `pip install .[train]`).
"""

from training.config import TrainConfig
from training.train import train

__all__ = ["TrainConfig", "train"]
