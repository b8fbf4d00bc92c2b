"""Labelled rows for training: the heads a file teaches, loading a file or a folder of files,
and the fixed splits.

The heads are the file's label columns (`triage.records.label_columns` over the raw rows of
every file: ours and any of the data scientist's own, e.g. `legal_threat`), or the subset
asked for. A row of a file without some head's column has that label missing (masked).

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

from triage.errors import InputError, RecordError
from triage.heads import check_heads
from triage.records import ReadReport, Record, iter_rows, label_columns, read_records

SPLITS = ("train", "val", "heldout")


def data_files(path: Path) -> list[Path]:
    """The labelled files behind `path`: the file itself, or every .jsonl/.csv in a folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in {".jsonl", ".csv", ".gz"})
        if not files:
            raise RecordError(f"no .jsonl or .csv files in {path}")
        return files
    return [path]


def found_heads(path: Path) -> list[str]:
    """The label columns of a labelled file or folder, in first-seen order.

    Lines that are not JSON objects are passed over here; reading the rows reports them.
    """
    rows = (row for file in data_files(path)
            for _, row in iter_rows(file, on_bad_line=lambda _: None))
    return label_columns(rows)


def choose_heads(path: Path, wanted: Sequence[str] | None = None) -> tuple[str, ...]:
    """The heads to learn from `path`: `wanted` (each must be a label column), else all found."""
    found = found_heads(path)
    if not found:
        raise RecordError(
            f"no label columns in {path}; expected at least one column of 0/1/empty labels "
            "named like a head (e.g. frustration, urgency, legal_threat)"
        )
    if wanted is None:
        return check_heads(found)
    heads = check_heads(wanted)
    absent = [h for h in heads if h not in found]
    if absent:
        raise InputError(
            f"head(s) {absent} have no label column in {path}; the label columns found are "
            f"{found}. Pick --heads among those, or add the column (0, 1 or empty per row)"
        )
    return heads


def check_descriptions(descriptions: dict[str, str], heads: Sequence[str]) -> None:
    """Every described head must be one the model learns (a typo would vanish silently)."""
    unknown = sorted(set(descriptions) - set(heads))
    if unknown:
        raise InputError(f"head description(s) given for {unknown}, which the model does not "
                         f"learn; the heads are {list(heads)}")


def load_rows(path: Path, report: ReadReport | None = None,
              heads: Sequence[str] | None = None) -> list[Record]:
    """Every record of a labelled file or folder, in a stable order, with labels for `heads`
    (default: every label column found)."""
    heads = choose_heads(path) if heads is None else heads
    rows: list[Record] = []
    for file in data_files(path):
        rows.extend(read_records(file, on_error="skip" if report else "stop", report=report,
                                 heads=heads))
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
    """Rows of one split, as texts and a label matrix (NaN where a label is missing), with
    one column per head of `heads`; `soft` holds a teacher's probabilities in the same shape
    where distillation has them (`training.teacher`), else None."""

    texts: list[str]
    labels: np.ndarray
    records: list[Record]
    heads: tuple[str, ...]
    soft: np.ndarray | None = None

    @classmethod
    def of(cls, records: Sequence[Record], heads: Sequence[str]) -> Split:
        labels = np.array(
            [[np.nan if r.labels.get(h) is None else r.labels[h] for h in heads]
             for r in records],
            dtype=np.float32,
        ).reshape(len(records), len(heads))
        return cls([r.text for r in records], labels, list(records), tuple(heads))


def make_splits(records: Sequence[Record], val_fraction: float, heldout_fraction: float,
                heads: Sequence[str] | None = None) -> dict[str, Split]:
    """Train / val / heldout splits of `records`; each must be non-empty.

    `heads` are the label columns (default: the labels of the first record)."""
    heads = tuple(records[0].labels) if heads is None and records else tuple(heads or ())
    groups: dict[str, list[Record]] = {s: [] for s in SPLITS}
    for record in records:
        groups[split_of(record, val_fraction, heldout_fraction)].append(record)
    for name in ("train", "val"):
        if not groups[name]:
            raise RecordError(
                f"the {name} split is empty ({len(records)} rows in all); "
                "give at least a few dozen labelled rows"
            )
    return {name: Split.of(rows, heads) for name, rows in groups.items()}
