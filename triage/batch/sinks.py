"""The output side of a batch run: streaming writers that can be resumed and publish atomically.

A sink is written chunk by chunk. `commit()` makes what was written durable (fsync) and
returns a small `state` that the journal records; a resumed run calls `restore(state)`,
which throws away anything written after that point (a chunk half-written when the process
was killed). `publish()` moves the finished file into place with a single rename, so the
output path never holds a partial file.

- JSONL and CSV go to `<out>.part`, appended; with `.gz`, each chunk is one gzip member
  (a multi-member gzip file is one valid stream to every gzip reader).
- Parquet goes to one segment file per chunk under `<out>.parts/`; `publish()` streams the
  segments into a single Parquet file, one row group per chunk, reconciling column types
  that drifted between chunks.
- Standard output is written as it goes; it cannot be resumed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from triage.errors import InputError


class Sink(Protocol):
    """Where output rows go."""

    def write(self, rows: list[dict[str, Any]]) -> None: ...
    def commit(self) -> Any: ...
    def restore(self, state: Any) -> None: ...
    def publish(self) -> None: ...
    def close(self) -> None: ...
    def discard(self) -> None: ...


def to_jsonable(value: Any) -> Any:
    """JSON for values Parquet and CSV readers produce (dates, decimals, bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class RowEncoder:
    """Rows to JSONL or CSV bytes; a CSV encoder fixes its columns on the first rows."""

    def __init__(self, fmt: str, columns: list[str] | None = None) -> None:
        self.fmt = fmt
        self.columns = columns

    def encode(self, rows: list[dict[str, Any]]) -> bytes:
        if self.fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False, default=to_jsonable) + "\n"
                           for r in rows).encode()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if self.columns is None:
            self.columns = column_order(rows)
            buffer.write(self.header().decode())
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in self._fit(row)])
        return buffer.getvalue().encode()

    def header(self) -> bytes:
        """The CSV header line (empty for JSONL, or before the columns are known)."""
        if self.fmt != "csv" or self.columns is None:
            return b""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(self.columns)
        return buffer.getvalue().encode()

    def _fit(self, row: dict[str, Any]) -> list[str]:
        assert self.columns is not None
        extra = [k for k in row if k not in self.columns]
        if extra:
            raise InputError(
                f"a row has field(s) {extra} that the CSV header (fixed by the first rows: "
                f"{self.columns}) lacks; write JSONL or Parquet instead (-o out.jsonl)")
        return self.columns


def column_order(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of `rows`, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def csv_cell(value: Any) -> str:
    """One CSV cell: empty for null, lower-case booleans, JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=to_jsonable)
    return str(value)


def _fsync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


class TextSink:
    """JSONL or CSV, optionally gzipped, appended to `<path>.part` and renamed when done."""

    def __init__(self, path: Path, encoder: RowEncoder, *, gz: bool, fresh: bool) -> None:
        self.path, self.encoder, self.gz = path, encoder, gz
        self.part = path.with_name(path.name + ".part")
        # resuming a run killed between publishing this file and removing its journal
        self.published = not fresh and not self.part.exists() and path.exists()
        self.handle: BinaryIO | None = None
        if not self.published:
            self.handle = open(self.part, "wb" if fresh else "ab")  # noqa: SIM115 (kept open)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if rows and self.handle is not None:
            data = self.encoder.encode(rows)
            self.handle.write(gzip.compress(data, mtime=0) if self.gz else data)

    def commit(self) -> Any:
        if self.handle is None:
            return None
        _fsync(self.handle)
        return {"bytes": self.handle.tell(), "columns": self.encoder.columns}

    def restore(self, state: Any) -> None:
        if self.handle is not None and state is not None:
            self.handle.truncate(state["bytes"])
            self.handle.seek(state["bytes"])
            self.encoder.columns = state.get("columns")

    def publish(self) -> None:
        if self.handle is not None:
            self.close()
            os.replace(self.part, self.path)
            self.handle = None

    def close(self) -> None:
        if self.handle is not None and not self.handle.closed:
            _fsync(self.handle)
            self.handle.close()

    def discard(self) -> None:
        """Remove what this run wrote (it committed nothing worth resuming)."""
        self.close()
        self.part.unlink(missing_ok=True)


class StreamSink:
    """JSONL or CSV to standard output, as it goes (no resume)."""

    def __init__(self, encoder: RowEncoder, stream: BinaryIO | None = None) -> None:
        self.encoder = encoder
        self.stream = stream or sys.stdout.buffer

    def write(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.stream.write(self.encoder.encode(rows))
            self.stream.flush()

    def commit(self) -> Any:
        return None

    def restore(self, state: Any) -> None:
        raise InputError("output to stdout cannot be resumed; pass -o FILE")

    def publish(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()

    def discard(self) -> None:
        return None


class ParquetSink:
    """One Parquet segment per chunk under `<path>.parts/`, merged into `<path>` at the end.

    `heads` are the model's: an output with no rows still gets their columns.
    """

    def __init__(self, path: Path, *, fresh: bool, heads: Sequence[str] = ()) -> None:
        self.path = path
        self.heads = tuple(heads)
        self.parts = path.with_name(path.name + ".parts")
        if fresh and self.parts.exists():
            shutil.rmtree(self.parts)
        if fresh or not path.exists():
            self.parts.mkdir(exist_ok=True)
        self.count = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        import pyarrow.parquet as pq

        from .arrow import rows_to_table

        final = self.parts / f"{self.count:08d}.parquet"
        temp = final.with_suffix(".tmp")
        pq.write_table(rows_to_table(rows), temp)
        os.replace(temp, final)
        self.count += 1

    def commit(self) -> Any:
        return {"segments": self.count}

    def restore(self, state: Any) -> None:
        self.count = int(state["segments"])
        if not self.parts.exists():
            return
        for leftover in self.parts.iterdir():
            stem = leftover.name.split(".")[0]
            if not stem.isdigit() or int(stem) >= self.count or leftover.suffix != ".parquet":
                leftover.unlink()

    def publish(self) -> None:
        from .arrow import merge_segments

        if not self.parts.exists():  # published by a run killed before removing its journal
            return
        segments = [self.parts / f"{i:08d}.parquet" for i in range(self.count)]
        temp = self.path.with_name(self.path.name + ".tmp")
        merge_segments(segments, temp, self.heads)
        os.replace(temp, self.path)
        shutil.rmtree(self.parts)

    def close(self) -> None:
        return None

    def discard(self) -> None:
        shutil.rmtree(self.parts, ignore_errors=True)


def open_sink(path: str | Path | None, fmt: str, *, fresh: bool = True,
              heads: Sequence[str] = ()) -> Sink:
    """A sink for `path` (`None` or `-`: standard output) in format `fmt`.

    `fresh=False` keeps what an interrupted run left, for `restore()`; `heads` are the
    model's (the columns of an empty Parquet output).
    """
    if path is None or str(path) == "-":
        if fmt == "parquet":
            raise InputError("Parquet cannot be streamed to stdout; pass -o FILE.parquet")
        return StreamSink(RowEncoder(fmt))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return ParquetSink(path, fresh=fresh, heads=heads)
    return TextSink(path, RowEncoder(fmt), gz=path.suffix == ".gz", fresh=fresh)
