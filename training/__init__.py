"""Retraining pipeline: labelled tickets -> fine-tuned MiniLM -> calibrated int8 ONNX model.

Only this package imports torch and transformers (install with `pip install .[train]`).
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

from transformers.utils import logging as _hf_logging  # noqa: E402

_hf_logging.set_verbosity_error()
_hf_logging.disable_progress_bar()

from training.config import TrainConfig  # noqa: E402
from training.train import train  # noqa: E402

__all__ = ["TrainConfig", "train"]
