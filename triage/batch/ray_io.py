"""Ray Data sources and sinks that keep rows exactly as the local engine sees and writes them.

Ray's own JSON and CSV readers convert rows to Arrow types on the way in (ISO dates become
timestamps, "007" becomes 7, one bad line fails the file) and its writers re-encode them on
the way out. The backlog must come out as it went in, plus scores, so:

- `RowsDatasource` streams each JSONL/CSV file (any pyarrow filesystem, gzip inferred from
  the name) through `triage.records.iter_handle`, and each Parquet file by row group through
  `iter_parquet`, as chunks of `chunk_rows` items (line or row number, row as JSON text, or
  the reason a line could not be read). A chunk travels as ONE Ray row, so that each model
  call sees exactly the rows the local engine would batch together: with int8 dynamic
  quantization a message's scores depend slightly on its batch neighbours, and this keeps
  both engines' output identical. Memory stays bounded for any file size; files are read in
  parallel. (Ray's `read_parquet` would also split a file by row group, but on Ray 2.60 its
  file-listing step needs a whole CPU, which a CPU-bound actor pool may never leave free.)
- `EncodedDatasink` writes chunks that the scoring actors already encoded with the local
  engine's `RowEncoder`, one file per write task; `SegmentDatasink` writes one Parquet
  segment per chunk. File names sort in dataset order.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from ray.data.block import BlockAccessor
from ray.data.datasource import FilenameProvider
from ray.data.datasource.file_based_datasource import FileBasedDatasource
from ray.data.datasource.file_datasink import BlockBasedFileDatasink, RowBasedFileDatasink

from triage.errors import RecordError
from triage.records import iter_handle, iter_parquet

from .rows import Item, items_of, short_reason
from .sinks import to_jsonable

ITEM_SCHEMA = pa.schema([("line", pa.int64()), ("source", pa.string()), ("row", pa.string()),
                         ("kind", pa.string()), ("reason", pa.string()), ("raw", pa.string())])


def items_to_table(items: list[Item], source: str) -> pa.Table:
    """Items as an Arrow table (rows travel as JSON text, so no type is changed)."""
    columns: dict[str, list[Any]] = {name: [] for name in ITEM_SCHEMA.names}
    for item in items:
        raw = item.error.detail.get("raw") if item.error and isinstance(item.error.detail, dict) \
            else None
        columns["line"].append(item.line)
        columns["source"].append(source)
        columns["row"].append(None if item.row is None else
                              json.dumps(item.row, ensure_ascii=False, default=to_jsonable))
        columns["kind"].append(item.kind)
        columns["reason"].append(short_reason(item.error) if item.error else None)
        columns["raw"].append(raw)
    return pa.table(columns, schema=ITEM_SCHEMA)


def chunk_row(items: list[Item], source: str) -> pa.Table:
    """A one-row table holding a whole chunk of items (Arrow IPC bytes)."""
    sink = pa.BufferOutputStream()
    table = items_to_table(items, source)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return pa.table({"source": [source], "rows": [len(items)],
                     "items": pa.array([sink.getvalue().to_pybytes()], pa.binary())})


def chunk_items(table: pa.Table) -> list[Item]:
    """The items of every chunk row in `table`, in order."""
    items: list[Item] = []
    for data in table.column("items").to_pylist():
        items.extend(table_to_items(pa.ipc.open_stream(data).read_all()))
    return items


def table_to_items(table: pa.Table) -> list[Item]:
    """The inverse of `items_to_table`."""
    items = []
    for rec in table.to_pylist():
        item = Item(rec["line"], None if rec["row"] is None else json.loads(rec["row"]))
        if rec["kind"] is not None:
            detail = {"raw": rec["raw"]} if rec["raw"] is not None else None
            item.reject(rec["kind"], RecordError(rec["reason"], source=rec["source"],
                                                 line=rec["line"] or None, detail=detail))
        items.append(item)
    return items


class RowsDatasource(FileBasedDatasource):
    """JSONL, CSV or Parquet files, streamed, one Ray row per chunk of `chunk_rows` items."""

    def __init__(self, paths: str | list[str], *, fmt: str, chunk_rows: int = 1024,
                 **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self.fmt, self.chunk_rows = fmt, chunk_rows

    def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> pa.NativeFile:
        if self.fmt == "parquet":  # needs random access, and is compressed inside
            return filesystem.open_input_file(path)
        return super()._open_input_source(filesystem, path, **open_args)

    def _read_stream(self, f: pa.NativeFile, path: str) -> Iterator[pa.Table]:
        if self.fmt == "parquet":
            items = items_of(lambda bad: iter_parquet(f, path), path)
        else:
            handle = io.TextIOWrapper(f, encoding="utf-8", errors="strict", newline="")
            items = items_of(lambda bad: iter_handle(handle, self.fmt, path, on_bad_line=bad),
                             path)
        batch: list[Item] = []
        for item in items:
            batch.append(item)
            if len(batch) == self.chunk_rows:
                yield chunk_row(batch, path)
                batch = []
        if batch:
            yield chunk_row(batch, path)


class OrderedNames(FilenameProvider):
    """`part-000042-<uuid>.jsonl`: names that sort in write-task order."""

    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return f"part-{task_index:06}-{write_uuid}.{self.file_format}"


class EncodedDatasink(BlockBasedFileDatasink):
    """Writes the `data` column (bytes already encoded as JSONL/CSV) of each block as is."""

    def __init__(self, path: str, *, ext: str, header: bytes = b"", gz: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(path, filename_provider=OrderedNames(file_format=ext), **kwargs)
        self.header, self.gz = header, gz

    def write_block_to_file(self, block: BlockAccessor, file: pa.NativeFile) -> None:
        data = self.header + b"".join(block.to_arrow().column("data").to_pylist())
        file.write(gzip.compress(data, mtime=0) if self.gz else data)


class SegmentDatasink(RowBasedFileDatasink):
    """Writes each row's `data` (a whole Parquet file, one chunk) as its own file."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path, filename_provider=OrderedNames(file_format="parquet"), **kwargs)

    def write_row_to_file(self, row: dict[str, Any], file: pa.NativeFile) -> None:
        file.write(row["data"])
