"""Labelled rows for training: loading a file or a folder of files, and the fixed splits.

Splits are fixed by a hash of each row's id (or text when there is no id): the same row
always lands in the same split, whatever else the file holds, so the held-out split of
`data/samples/` is stable across retrains. A `split` column (`train`, `val`, `heldout`)
overrides the hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from triage.errors import RecordError
from triage.heads import DEFAULT_HEADS as HEADS
from triage.records import ReadReport, Record, read_records

SPLITS = ("train", "val", "heldout")


def data_files(path: Path) -> list[Path]:
    """The labelled files behind `path`: the file itself, or every .jsonl/.csv in a folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in {".jsonl", ".csv", ".gz"})
        if not files:
            raise RecordError(f"no .jsonl or .csv files in {path}")
        return files
    return [path]


def load_rows(path: Path, report: ReadReport | None = None) -> list[Record]:
    """Every record of a labelled file or folder, in a stable order."""
    rows: list[Record] = []
    for file in data_files(path):
        rows.extend(read_records(file, on_error="skip" if report else "stop", report=report))
    if report is not None:
        report.kept = len(rows)
    return rows


def data_hash(path: Path) -> str:
    """SHA-256 over the bytes of every labelled file, in name order."""
    digest = hashlib.sha256()
    for file in data_files(path):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def split_of(record: Record, val_fraction: float, heldout_fraction: float) -> str:
    """The fixed split of one record."""
    explicit = record.fields.get("split")
    if explicit in SPLITS:
        return str(explicit)
    key = record.id or record.text
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < heldout_fraction:
        return "heldout"
    if bucket < heldout_fraction + val_fraction:
        return "val"
    return "train"


@dataclass
class Split:
    """Rows of one split, as texts and a label matrix (NaN where a label is missing)."""

    texts: list[str]
    labels: np.ndarray
    records: list[Record]

    @classmethod
    def of(cls, records: Sequence[Record]) -> Split:
        labels = np.array(
            [[np.nan if r.labels[h] is None else r.labels[h] for h in HEADS] for r in records],
            dtype=np.float32,
        ).reshape(len(records), len(HEADS))
        return cls([r.text for r in records], labels, list(records))


def make_splits(records: Sequence[Record], val_fraction: float,
                heldout_fraction: float) -> dict[str, Split]:
    """Train / val / heldout splits of `records`; each must be non-empty."""
    groups: dict[str, list[Record]] = {s: [] for s in SPLITS}
    for record in records:
        groups[split_of(record, val_fraction, heldout_fraction)].append(record)
    for name in ("train", "val"):
        if not groups[name]:
            raise RecordError(
                f"the {name} split is empty ({len(records)} rows in all); "
                "give at least a few dozen labelled rows"
            )
    return {name: Split.of(rows) for name, rows in groups.items()}
