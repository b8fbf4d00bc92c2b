"""Rows to Arrow tables and Parquet segments back into one file, with types that may drift.

JSON rows do not promise a type per field: a column may be all null in one chunk and text
in the next, or hold numbers in one row and text in another. Within a chunk, a column whose
values Arrow cannot hold in one type is kept as JSON text; across chunks, types are unified
(null -> anything, int -> float, ...) and a column that cannot be unified becomes text.
An output with no rows at all still has the columns scoring adds: one per head of the model,
then the verdict (`score_schema`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .sinks import to_jsonable


def score_schema(heads: Sequence[str]) -> pa.Schema:
    """The columns scoring adds, typed: a float per head of the model, then the verdict."""
    return pa.schema([*(pa.field(h, pa.float64()) for h in heads),
                      pa.field("scorable", pa.bool_()), pa.field("reason", pa.string()),
                      pa.field("model_version", pa.string())])


def as_text(value: Any) -> str | None:
    """A value as text: strings unchanged, anything else as JSON; null stays null."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=to_jsonable)


def to_array(values: list[Any]) -> pa.Array:
    """An Arrow array of `values`, or of their JSON text when they share no Arrow type."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([as_text(v) for v in values], type=pa.string())


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """A table with every key of `rows` as a column, in first-seen order."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return pa.table({name: to_array([row.get(name) for row in rows]) for name in names})


def unified_schema(schemas: list[pa.Schema], heads: Sequence[str] = ()) -> pa.Schema:
    """One schema for all segments: promoted where Arrow can, text where it cannot (no
    segments: the score columns of `heads`)."""
    if not schemas:
        return score_schema(heads)
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for f in schema:
            fields.setdefault(f.name, f)
            if fields[f.name].type != f.type:
                fields[f.name] = _promote(fields[f.name], f)
    return pa.schema(list(fields.values()))


def _promote(a: pa.Field, b: pa.Field) -> pa.Field:
    try:
        return pa.unify_schemas([pa.schema([a]), pa.schema([b])],
                                promote_options="permissive").field(a.name)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.field(a.name, pa.string())


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with the columns of `schema`, in its order and types (missing ones null)."""
    columns = []
    for f in schema:
        if f.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, type=f.type))
            continue
        column = table.column(f.name)
        if column.type != f.type and pa.types.is_string(f.type):
            column = pa.array([as_text(v) for v in column.to_pylist()], type=pa.string())
        columns.append(column.cast(f.type))
    return pa.table(columns, schema=schema)


def merge_segments(segments: list[Path], out: Path, heads: Sequence[str] = ()) -> None:
    """Write the segments, in order, as the row groups of one Parquet file (with no segments,
    an empty file with the score columns of `heads`)."""
    schema = unified_schema([pq.read_schema(s) for s in segments], heads)
    with pq.ParquetWriter(out, schema) as writer:
        for segment in segments:
            writer.write_table(conform(pq.read_table(segment), schema))
