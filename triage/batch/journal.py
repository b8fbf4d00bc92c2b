"""The checkpoint of a batch run, so that `--resume` continues exactly where it stopped.

After each chunk is durably written, `<out>.journal` is replaced (write to a temporary file,
fsync, rename) with: the run's settings, the number of input rows consumed, the digest of
those rows, each sink's state and the counts so far. Killed at any instant, the journal
names a consistent point: the output up to it, and the input rows that produced it.

A resumed run must use the same input (checked by re-reading and re-digesting the rows
already consumed), output format, chunk size, error mode and model version; anything else
would make its output differ from an uninterrupted run, so it is refused with the reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from triage.errors import InputError

from .rows import EMPTY_DIGEST

FORMAT = "triage-batch-journal/1"
SETTINGS = ("input", "out_format", "rejects", "chunk_rows", "on_error", "model_version")


@dataclass
class Journal:
    """Where a batch run stands."""

    input: str
    out_format: str
    rejects: str | None
    chunk_rows: int
    on_error: str
    model_version: str
    chunks: int = 0
    rows: int = 0
    digest: str = EMPTY_DIGEST
    output_state: Any = None
    rejects_state: Any = None
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    status: str = "running"
    format: str = FORMAT

    @staticmethod
    def path_for(output: Path) -> Path:
        return output.with_name(output.name + ".journal")

    def save(self, output: Path) -> None:
        """Replace the journal atomically and durably."""
        path = self.path_for(output)
        temp = path.with_name(path.name + ".tmp")
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        _fsync_dir(path.parent)

    @classmethod
    def load(cls, output: Path) -> Journal | None:
        """The journal an interrupted run left next to `output`, if any."""
        path = cls.path_for(output)
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')!r}")
            return cls(**raw)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"{path} is not a journal this version can resume ({exc}); "
                "delete it and run without --resume to start over") from exc

    def check_same_run(self, other: Journal) -> None:
        """Refuse to resume when a setting that shapes the output has changed."""
        for name in SETTINGS:
            before, now = getattr(self, name), getattr(other, name)
            if before != now:
                raise InputError(
                    f"cannot resume: the interrupted run had {name}={before!r}, this one has "
                    f"{now!r}; rerun with the same options, or without --resume to start over")

    @classmethod
    def remove(cls, output: Path) -> None:
        cls.path_for(output).unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
