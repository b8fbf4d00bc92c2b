"""Fixtures shared by all tests: a real tiny model, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples" / "parts"
SHARED_DEV = ROOT.parent / "shared" / "data" / "eval" / "dev.jsonl"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, servable model directory: a 2-layer encoder trained for a few steps.

    Its scores are real but close to random; tests that need controlled scores use a fake
    model at the Scorer seam instead.
    """
    from training import TrainConfig, train

    out = tmp_path_factory.mktemp("tiny-model")
    config = TrainConfig(base_model="tiny", epochs=1, max_steps=12, batch_size=16, seed=7)
    train(config, SAMPLES, out, log=lambda _: None)
    return out


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    """A Scorer (language gate + ONNX runtime) over the tiny model."""
    from triage.scoring import Scorer

    return Scorer.from_dir(tiny_model_dir, threads=1)
