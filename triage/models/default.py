"""The default model: built from `data/samples/` the first time it is needed.

`ensure_default_model` returns the configured model directory when it already holds a valid
model. Otherwise, for the default location only, it trains one from the project's own
labelled samples (needs the `train` extra; 9-45 minutes on 2 idle cores by CPU, far longer on
busy ones), builds it in a temporary directory beside the target and renames it into
place, under a lock file so that two processes never build at once. It scores exactly our
three heads (`DEFAULT_HEADS`), whatever other label columns the samples may come to hold.
`triage serve` does not wait for it: `needs_build` says whether to start one, and
`triage.models.build` runs it in its own process while the server answers.
"""

from __future__ import annotations

import fcntl
import importlib.util
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from triage.errors import ManifestError, ModelError
from triage.heads import DEFAULT_HEADS
from triage.models.manifest import load_manifest
from triage.settings import Settings


def samples_dir(settings: Settings) -> Path:
    """`TRIAGE_SAMPLES_DIR`, else `data/samples` of the source checkout triage runs from."""
    if settings.samples_dir:
        return settings.samples_dir
    return Path(__file__).resolve().parents[2] / "data" / "samples"


def is_valid(model_dir: Path) -> bool:
    try:
        load_manifest(model_dir, verify_hashes=False)
    except ManifestError:
        return False
    return True


def needs_build(settings: Settings) -> bool:
    """Whether the default model must be built before it can be served.

    Raises ModelError, saying what to do, when the configured model is broken or when the
    default model is missing and cannot be built here.
    """
    target = settings.resolved_model_dir()
    if is_valid(target):
        return False
    if settings.model_dir is not None:
        load_manifest(target)  # raises with a message saying what is wrong
    if not all(importlib.util.find_spec(name) for name in ("torch", "transformers")):
        raise ModelError(NO_TRAIN_EXTRA.format(target=target))
    _check_samples(samples_dir(settings), target)
    return True


def ensure_default_model(settings: Settings, log: Callable[[str], None] = print) -> Path:
    """The model directory to serve, training the default model first if it is missing."""
    target = settings.resolved_model_dir()
    if is_valid(target):
        return target
    if settings.model_dir is not None:
        load_manifest(target)  # raises with a message saying what is wrong
    return build_once(target, samples_dir(settings), log, settings.build_config)


def build_once(target: Path, data: Path, log: Callable[[str], None],
               overrides: dict[str, Any] | None = None) -> Path:
    """Build into `target` under the build lock, unless another process just did."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_valid(target):
            build_default(data, target, log, overrides)
    return target


NO_TRAIN_EXTRA = ("no model at {target} and the training extra is not installed; run "
                  "`pip install '.[train]' torch==2.13.0` or set TRIAGE_MODEL_DIR to a built "
                  "model")


def _check_samples(data: Path, target: Path) -> None:
    if not data.is_dir():
        raise ModelError(f"no model at {target} and no labelled samples at {data}; "
                         "set TRIAGE_SAMPLES_DIR or TRIAGE_MODEL_DIR")


# Two epochs: three over the 12,268 samples (1,608 steps) showed 13.5 minutes of training
# alone. Over 13,308 samples two epochs are 1,164 steps: 8 min 32 s in all on an idle
# 2-core AMD EPYC with AVX-512 (2026-12-02); over 13,668, 1,194 steps took 11 min 55 s on
# an idle one with AVX2 only, and 42 min 45 s on a slower AVX2 one (about 1.9 s a step),
# over the 10 minutes issue 9 asks for; over 14,118, 1,232 steps took 7 min 35 s on an idle
# 2-core Intel Xeon with AVX-512 and AMX. `freeze_layers=2` would
# cut a step by 30 % but costs AUROC (docs/model-card.md), so the build freezes none.
DEFAULT_BUILD: dict[str, Any] = {"heads": DEFAULT_HEADS, "epochs": 2}


def default_teacher(data: Path) -> Path | None:
    """The teacher's soft labels committed beside the samples (`data/teacher/mpnet.jsonl`,
    written by `python -m training.teacher`), if there are any."""
    path = data.parent / "teacher" / "mpnet.jsonl"
    return path if path.is_file() else None


def build_default(data: Path, target: Path, log: Callable[[str], None],
                  overrides: dict[str, Any] | None = None) -> Path:
    """Train the default model from `data` into `target` (atomically), distilling from the
    teacher's soft labels beside the samples where they are.

    `overrides` change TrainConfig fields (TRIAGE_BUILD_CONFIG; tests build a tiny model;
    `{"teacher": null}` trains on the labels alone).
    """
    try:
        from training import TrainConfig, train
    except ImportError as exc:
        raise ModelError(NO_TRAIN_EXTRA.format(target=target)) from exc
    _check_samples(data, target)
    log(f"building the default model from {data} into {target} (one-off: 9-45 minutes "
        "on 2 idle cores by CPU, longer on busy ones)")
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        teacher = default_teacher(data)
        config = {**DEFAULT_BUILD, "teacher": str(teacher) if teacher else None,
                  **(overrides or {})}
        train(TrainConfig(**config), data, work, log=log)
        shutil.rmtree(work / "checkpoints", ignore_errors=True)
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
