"""The default model: built from `data/samples/` the first time it is needed.

`ensure_default_model` returns the configured model directory when it already holds a valid
model. Otherwise, for the default location only, it trains one from the project's own
labelled samples (needs the `train` extra; about 3 minutes on 2 idle cores), builds it in a
temporary directory beside the target and renames it into place, under a lock file so that
two processes never build at once. It scores exactly our three heads (`DEFAULT_HEADS`),
whatever other label columns the samples may come to hold.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

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


def ensure_default_model(settings: Settings, log: Callable[[str], None] = print) -> Path:
    """The model directory to serve, training the default model first if it is missing."""
    target = settings.resolved_model_dir()
    if is_valid(target):
        return target
    if settings.model_dir is not None:
        load_manifest(target)  # raises with a message saying what is wrong
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_valid(target):
            return target
        build_default(samples_dir(settings), target, log)
    return target


def build_default(data: Path, target: Path, log: Callable[[str], None]) -> Path:
    """Train the default model from `data` into `target` (atomically)."""
    try:
        from training import TrainConfig, train
    except ImportError as exc:
        raise ModelError(
            f"no model at {target} and the training extra is not installed; run "
            "`pip install '.[train]' torch==2.13.0` or set TRIAGE_MODEL_DIR to a built model"
        ) from exc
    if not data.is_dir():
        raise ModelError(f"no model at {target} and no labelled samples at {data}; "
                         "set TRIAGE_SAMPLES_DIR or TRIAGE_MODEL_DIR")
    log(f"building the default model from {data} into {target} (one-off, a few minutes)")
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        train(TrainConfig(heads=DEFAULT_HEADS), data, work, log=log)
        shutil.rmtree(work / "checkpoints", ignore_errors=True)
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
