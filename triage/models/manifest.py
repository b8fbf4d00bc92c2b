"""The model directory's `manifest.json`: what the model is, and checks that it is intact.

A model directory holds `model.onnx`, `tokenizer.json` and `manifest.json` (plus, from
training, the Hugging Face checkpoint under `hf/`). The manifest records heads, calibration,
thresholds, max_length, file hashes, training-data hash, metrics, library versions and
`created_at`. Loading checks the format version, the heads and every listed file's hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.errors import InputError, ManifestError
from triage.heads import check_heads, describe

FORMAT = "triage-model/1"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
REQUIRED = ("format", "version", "heads", "max_length", "files", "calibration", "thresholds")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


LONG_TEXT_STRATEGIES = frozenset({"chunk-and-max", "chunk-and-mean"})


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of one head: p = sigmoid(a * logit + b)."""

    a: float = 1.0
    b: float = 0.0


@dataclass(frozen=True)
class Manifest:
    """A loaded, checked manifest. `raw` keeps every field for `GET /v1/model`."""

    raw: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.raw["version"])

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(self.raw["heads"])

    def describe(self, head: str) -> str:
        """What a head means, as the manifest (or our defaults) says."""
        return describe(head, self.raw.get("head_descriptions"))

    @property
    def max_length(self) -> int:
        return int(self.raw["max_length"])

    @property
    def stride(self) -> int:
        return int(self.raw.get("long_text", {}).get("stride", 32))

    @property
    def max_chunks(self) -> int:
        return int(self.raw.get("long_text", {}).get("max_chunks", 8))

    @property
    def long_text_strategy(self) -> str:
        """How a long message's window scores become one per head: "chunk-and-mean" (the
        mean of its windows' calibrated probabilities; models built from 2026-12-02) or
        "chunk-and-max" (the maximum; models built before, which keep scoring as they did)."""
        strategy = str(self.raw.get("long_text", {}).get("strategy", "chunk-and-max"))
        if strategy not in LONG_TEXT_STRATEGIES:
            raise ManifestError(f"long_text.strategy {strategy!r} is not one of "
                                f"{sorted(LONG_TEXT_STRATEGIES)}; this runtime is older than "
                                "the model")
        return strategy

    def calibration(self, head: str) -> Calibration:
        cal = self.raw["calibration"].get(head) or {}
        return Calibration(float(cal.get("a", 1.0)), float(cal.get("b", 0.0)))

    def threshold(self, head: str) -> float:
        return float(self.raw["thresholds"].get(head, 0.5))


def load_manifest(model_dir: Path, *, verify_hashes: bool = True) -> Manifest:
    """Read and check `manifest.json` in `model_dir`; raise ManifestError saying what to do."""
    path = model_dir / MANIFEST_FILE
    if not model_dir.is_dir():
        raise ManifestError(
            f"model directory {model_dir} does not exist; build one with `triage train` "
            "or point TRIAGE_MODEL_DIR at an existing model"
        )
    if not path.is_file():
        raise ManifestError(f"{path} is missing; this is not a triage model directory")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc}); rebuild the model") from exc
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        raise ManifestError(f"{path} lacks {missing}; rebuild the model with `triage train`")
    if raw["format"] != FORMAT:
        raise ManifestError(
            f"{path} has format {raw['format']!r}, this triage reads {FORMAT!r}; "
            "retrain or upgrade triage"
        )
    _check_heads(path, raw)
    for name, expected in raw["files"].items():
        file = model_dir / name
        if not file.is_file():
            raise ManifestError(f"{file} is missing; copy the whole model directory again")
        if verify_hashes and sha256_file(file) != expected:
            raise ManifestError(
                f"{file} does not match the hash in the manifest (corrupt or replaced); "
                "copy the model directory again or retrain"
            )
    return Manifest(raw)


def _check_heads(path: Path, raw: dict[str, Any]) -> None:
    heads = raw["heads"]
    if not isinstance(heads, list):
        raise ManifestError(f"{path} has heads {heads!r}; expected a list of names")
    try:
        check_heads(heads)
    except InputError as exc:
        raise ManifestError(f"{path}: {exc.message}; rebuild the model") from exc
    for key in ("calibration", "thresholds"):
        missing = [h for h in heads if h not in raw[key]]
        if missing:
            raise ManifestError(f"{path} has no {key} for head(s) {missing}; rebuild the model")


def write_manifest(model_dir: Path, raw: dict[str, Any]) -> Path:
    """Write `manifest.json`, filling in the hashes of the files it lists."""
    raw = dict(raw)
    raw["format"] = FORMAT
    raw["files"] = {name: sha256_file(model_dir / name) for name in raw.get("files", {})}
    path = model_dir / MANIFEST_FILE
    path.write_text(json.dumps(raw, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
