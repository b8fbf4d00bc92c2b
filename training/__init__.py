"""Retraining pipeline: labelled tickets -> fine-tuned MiniLM -> calibrated int8 ONNX model.

Only this package imports torch and transformers (install with `pip install .[train]`).
Its data modules (`training.data`, `training.audit`, `training.config`) need neither, so
`TrainConfig` and `train` are imported on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

if TYPE_CHECKING:
    from training.config import TrainConfig
    from training.train import train

__all__ = ["TrainConfig", "train"]


def __getattr__(name: str) -> Any:
    """`TrainConfig` and `train`, imported on first use (the function `train`, not the
    submodule of the same name that importing it sets on this package)."""
    if name not in __all__:
        raise AttributeError(f"module 'training' has no attribute {name!r}")
    import importlib

    module = "training.config" if name == "TrainConfig" else "training.train"
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
