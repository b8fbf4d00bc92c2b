"""Shared helpers of the batch tests: writing and reading rows in every format, a fake model."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

WORDS = ["refund", "late", "order", "broken", "card", "account", "cancel", "please", "waiting", "angry", "thanks", "delivery", "invoice", "password", "locked", "support", "again", "still", "never", "today"]


def messages(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` rows with an id, an English-looking text of varied length and extra fields."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        words = rng.choice(WORDS, size=int(rng.integers(4, 40)))
        rows.append({"id": f"t{i}", "text": "my " + " ".join(words) + " please help",
                     "channel": ["email", "chat"][i % 2], "meta": {"n": i, "tags": ["a", "é"]}})
    return rows


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows as JSONL, CSV or Parquet by the file's name (.gz for JSONL/CSV)."""
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist(rows), path)
        return path
    buffer = io.StringIO()
    if name.endswith(".csv"):
        columns = list(dict.fromkeys(k for r in rows for k in r))
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in r.items()} for r in rows)
    else:
        buffer.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    data = buffer.getvalue().encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read back what the batch engine wrote."""
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        return pq.read_table(path).to_pylist()
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode()
    if name.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class FakeModel:
    """Deterministic scores from a hash of the text, at the Scorer seam; optional delays
    (to shuffle completion order across workers) and an interrupt after N calls."""

    heads = ("frustration", "churn_risk", "urgency")

    def __init__(self, version: str = "fake-1", delay: bool = False,
                 interrupt_after: int | None = None) -> None:
        self._version, self.delay, self.interrupt_after = version, delay, interrupt_after
        self.calls = 0

    @property
    def version(self) -> str:
        return self._version

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.interrupt_after is not None and self.calls > self.interrupt_after:
            raise KeyboardInterrupt
        if self.delay:
            time.sleep((self.calls * 7919 % 5) / 200)
        return np.array([expected_scores(t) for t in texts], dtype=np.float32).reshape(-1, 3)


def expected_scores(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [digest[i] / 255 for i in range(3)]
