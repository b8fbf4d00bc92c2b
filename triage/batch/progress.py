"""Progress on stderr while a batch runs, and the summary when it ends.

On a terminal: a rich progress bar with rows done, rows/s and ETA. Otherwise (a log file, a
CI job, a pipe): one plain line every `log_every` seconds. The row total behind the ETA is
exact for Parquet (its footer says), estimated for JSONL/CSV from the file size and the
first MiB (compressed or not), and unknown for stdin.
"""

from __future__ import annotations

import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

SAMPLE = 1 << 20


def estimate_rows(path: str | Path, fmt: str) -> int | None:
    """About how many rows `path` holds, without reading it all (None if unknown)."""
    if str(path) == "-":
        return None
    path = Path(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(SAMPLE)
    except Exception:  # noqa: BLE001 (an estimate must never fail the run)
        return None
    if path.suffix == ".gz":
        try:
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            lines = inflate.decompress(head).count(b"\n")
        except zlib.error:
            return None
    else:
        lines = head.count(b"\n")
    if not head or not lines:
        return None
    return max(1, round(lines * size / len(head)) - (1 if fmt == "csv" else 0))


@dataclass
class Summary:
    """What a batch run did."""

    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    output: str = "-"
    rejects: str | None = None
    engine: str = "local"

    @property
    def scored(self) -> int:
        return self.counts.get("scored", 0)

    @property
    def unscorable(self) -> dict[str, int]:
        return _by_prefix(self.counts, "unscorable:")

    @property
    def skipped(self) -> dict[str, int]:
        return _by_prefix(self.counts, "skipped:")

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "scored": self.scored,
                "unscorable": sum(self.unscorable.values()), "unscorable_reasons": self.unscorable,
                "skipped": sum(self.skipped.values()), "skipped_reasons": self.skipped,
                "elapsed_s": round(self.elapsed, 3), "rows_per_s": round(self.rows_per_s, 1),
                "output": self.output, "rejects": self.rejects, "engine": self.engine}

    def text(self) -> str:
        parts = [f"{self.rows:,} rows in {self.elapsed:.1f}s ({self.rows_per_s:,.0f} rows/s)",
                 f"{self.scored:,} scored"]
        for label, reasons in (("unscorable", self.unscorable), ("skipped", self.skipped)):
            if reasons:
                detail = ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items()))
                parts.append(f"{sum(reasons.values()):,} {label} ({detail})")
        line = "done: " + ", ".join(parts) + f" -> {self.output}"
        if self.rejects and self.skipped:
            line += f"; rejects -> {self.rejects}"
        return line


def _by_prefix(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): v for k, v in counts.items() if k.startswith(prefix) and v}


class Progress:
    """Rows done, rows/s and ETA on stderr: a bar on a terminal, log lines otherwise."""

    def __init__(self, total: int | None, *, done: int = 0, log_every: float = 30.0,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.total, self.done, self.start_done = total, done, done
        self.stream = stream or sys.stderr
        self.clock, self.log_every = clock, log_every
        self.started = self.last_log = clock()
        self.bar = self._make_bar() if _is_tty(self.stream) else None

    def _make_bar(self) -> Any:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        bar = Bar(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]} rows/s"), TimeElapsedColumn(),
                  TextColumn("ETA"), TimeRemainingColumn(),
                  console=Console(file=self.stream), transient=False)
        self.task = bar.add_task("scoring", total=self.total, completed=self.done, rate="-")
        bar.start()
        return bar

    @property
    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def update(self, rows: int) -> None:
        self.done += rows
        if self.total is not None and self.done > self.total:
            self.total = self.done
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, total=self.total,
                            rate=f"{self.rate:,.0f}")
        elif self.clock() - self.last_log >= self.log_every:
            self.last_log = self.clock()
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def line(self) -> str:
        """`scored 12,288 rows (12%), 612 rows/s, ETA 0:02:24` (parts unknown left out)."""
        text = f"scored {self.done:,} rows"
        if self.total:
            text += f" of ~{self.total:,} ({100 * self.done / self.total:.0f}%)"
        text += f", {self.rate:,.0f} rows/s"
        if self.total and self.rate > 0:
            left = int((self.total - self.done) / self.rate)
            text += f", ETA {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}"
        return text

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
