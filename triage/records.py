"""The labelled-ticket format: one message a row, in JSONL, CSV (both may be gzipped) or Parquet.

A row has `text` (required) and optional labels, one column per head, each 0, 1 or empty
(missing): ours are `frustration`, `churn_risk`, `urgency`, and a data scientist's file may
add their own (`legal_threat`, ...). Optional `id`, `customer_id`, `channel`, `created_at`;
unknown columns are kept and passed through wherever rows are re-written.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from triage.errors import BrokenJson, InputError, NotAnObject, RecordError
from triage.heads import DEFAULT_HEADS, check_head

FORMATS = ("jsonl", "csv", "parquet")

_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}


@dataclass
class Record:
    """One labelled (or unlabelled) message with everything else it came with."""

    text: str
    labels: dict[str, int | None]
    fields: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    @property
    def id(self) -> str | None:
        value = self.fields.get("id")
        return None if value is None else str(value)


def detect_format(path: str | Path, explicit: str | None = None, *,
                  option: str = "--format") -> str:
    """The file format from `explicit` or the file name (`.jsonl`, `.csv`, `.parquet`, `.gz`).

    `option` is the command-line option that names the format when the name does not
    (`--format` for an input, `--out-format` for an output).
    """
    if explicit:
        if explicit not in FORMATS:
            raise RecordError(f"unknown format {explicit!r}; expected one of {', '.join(FORMATS)}")
        return explicit
    name = str(path).lower().removesuffix(".gz")
    for fmt, suffixes in (("jsonl", (".jsonl", ".json", ".ndjson")), ("csv", (".csv",)),
                          ("parquet", (".parquet", ".pq"))):
        if name.endswith(suffixes):
            return fmt
    if str(path) == "-":
        return "jsonl"
    raise RecordError(
        f"cannot tell the format of {path!s} from its name; expected .jsonl, .csv or .parquet "
        f"(optionally .gz), or pass {option} jsonl|csv|parquet"
    )


def open_text(path: str | Path) -> IO[str]:
    """Open a text file (or `-` for stdin), gunzipping `.gz`; invalid UTF-8 raises RecordError."""
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict", newline="")
    p = Path(path)
    if not p.exists():
        raise RecordError(f"file not found: {p}; check the path")
    if p.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="strict", newline="")
    return open(p, encoding="utf-8", errors="strict", newline="")


def parse_label(value: Any, head: str, *, source: str, line: int) -> int | None:
    """A 0/1/empty label from JSON or CSV; anything else raises RecordError naming the row."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return 1 if value.strip().lower() in _TRUE else 0
    raise RecordError(
        f"label {head!r} is {value!r}; expected 0, 1 or empty", source=source, line=line
    )


def is_label(value: Any) -> bool:
    """Whether `value` reads as a label: 0, 1, empty, or a boolean."""
    try:
        parse_label(value, "", source="", line=0)
    except RecordError:
        return False
    return True


def label_columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The columns of `rows` that hold labels: allowed head names whose every value is a label.

    A column must have at least one 0 or 1 to count (an all-empty column teaches nothing).
    """
    seen: dict[str, bool] = {}
    filled: set[str] = set()
    for row in rows:
        for name, value in row.items():
            if not isinstance(name, str) or seen.get(name) is False:
                continue
            seen[name] = _head_name(name) and is_label(value)
            if seen[name] and value not in (None, ""):
                filled.add(name)
    return [name for name, ok in seen.items() if ok and name in filled]


def _head_name(name: str) -> bool:
    try:
        check_head(name)
    except InputError:
        return False
    return True


def to_record(row: dict[str, Any], *, source: str, line: int,
              heads: Sequence[str] = DEFAULT_HEADS) -> Record:
    """Validate one raw row into a Record (text must be a non-empty string)."""
    if "text" not in row:
        raise RecordError(
            f"no 'text' field; found {sorted(row)}. Rename the message column to 'text'",
            source=source, line=line,
        )
    text = row["text"]
    if not isinstance(text, str):
        raise RecordError(
            f"'text' is {type(text).__name__}, expected a string", source=source, line=line
        )
    if not text.strip():
        raise RecordError("'text' is empty", source=source, line=line)
    labels = {h: parse_label(row.get(h), h, source=source, line=line) for h in heads}
    fields = {k: v for k, v in row.items() if k != "text" and k not in labels}
    return Record(text=text, labels=labels, fields=fields, line=line)


def iter_rows(
    path: str | Path, fmt: str | None = None, *,
    on_bad_line: Callable[[RecordError], None] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, raw_row)` from a JSONL or CSV file, streaming.

    With `on_bad_line`, a JSONL line that is not a JSON object is passed to it (the error's
    `detail` holds `{"raw": line}`) and reading goes on; otherwise it raises RecordError.
    """
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        yield from iter_parquet(path)
        return
    with open_text(path) as handle:
        yield from iter_handle(handle, fmt, str(path), on_bad_line=on_bad_line)


def iter_handle(
    handle: IO[str], fmt: str, source: str, *,
    on_bad_line: Callable[[RecordError], None] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """`iter_rows` over an open text handle (JSONL or CSV), e.g. a remote file's stream."""
    try:
        if fmt == "jsonl":
            yield from _iter_jsonl(handle, source, on_bad_line)
        else:
            yield from _iter_csv(handle, source)
    except UnicodeDecodeError as exc:
        raise RecordError(f"invalid UTF-8 ({exc.reason}); {_guess_encoding(exc.object)}",
                          source=source, hint=_convert_hint(exc.object, source)) from exc
    except (EOFError, OSError) as exc:
        raise RecordError(f"file is truncated or corrupt ({exc})", source=source) from exc


def _iter_jsonl(
    handle: IO[str], source: str, on_bad_line: Callable[[RecordError], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        row = _parse_json_line(raw, source, number)
        if isinstance(row, dict):
            yield number, row
        elif on_bad_line is None:
            raise row
        else:
            on_bad_line(row)


def _parse_json_line(raw: str, source: str, number: int) -> dict[str, Any] | RecordError:
    detail = {"raw": raw.rstrip("\r\n")}
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        return BrokenJson(f"broken JSON ({exc.msg})", source=source, line=number, detail=detail)
    if not isinstance(row, dict):
        return NotAnObject("expected a JSON object per line", source=source, line=number,
                           detail=detail)
    return row


def _guess_encoding(raw: bytes) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:200]:
        return "the file looks like UTF-16; save it as UTF-8"
    return "the file looks like Latin-1 / Windows-1252; save it as UTF-8"


def _convert_hint(raw: bytes, source: str) -> str:
    utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:200]
    encoding = "utf-16" if utf16 else "cp1252"
    return (f"convert it first, e.g. `iconv -f {encoding} -t utf-8 {source} > "
            f"utf8-{Path(source).name}`, and score the converted file")


def _rename_hint(found: Sequence[str]) -> str:
    guess = next((f for f in found if f.lower() in ("body", "message", "content", "comment",
                                                     "description", "msg")), None)
    column = repr(guess) if guess else "the message column"
    return (f"rename {column} to 'text' in the header row (every row lacks 'text', so "
            "--on-error skip would skip them all)")


def _iter_csv(handle: IO[str], source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None:
        raise RecordError("the file is empty; expected a CSV header row with a 'text' column",
                          source=source, line=1, hint="check that the export finished")
    if "text" not in reader.fieldnames:
        raise RecordError(
            f"no 'text' column; found {reader.fieldnames}. Rename the message column to 'text'",
            source=source, line=1, hint=_rename_hint(reader.fieldnames),
        )
    for row in reader:
        yield reader.line_num, dict(row)


def iter_parquet(
    path: str | Path | IO[bytes], source: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(row_number, row)` from a Parquet file given by path or open binary file."""
    import pyarrow.parquet as pq

    source = source or str(path)
    try:
        parquet = pq.ParquetFile(path if not isinstance(path, (str, Path)) else str(path))
    except Exception as exc:  # pyarrow raises several unrelated types
        raise RecordError(f"cannot read Parquet ({exc})", source=source) from exc
    if "text" not in parquet.schema_arrow.names:
        raise RecordError(
            f"no 'text' column; found {parquet.schema_arrow.names}", source=source, line=1
        )
    number = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            number += 1
            yield number, row


@dataclass
class ReadReport:
    """What reading a labelled file kept and what it skipped, with reasons."""

    kept: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def read_records(
    path: str | Path, *, fmt: str | None = None, on_error: str = "stop",
    report: ReadReport | None = None, heads: Sequence[str] = DEFAULT_HEADS,
) -> list[Record]:
    """Read a whole labelled-ticket file, with labels for `heads`.

    `on_error="skip"` counts bad rows in `report` instead of stopping at the first.
    """
    report = report if report is not None else ReadReport()
    records: list[Record] = []
    for number, row in iter_rows(path, fmt):
        try:
            records.append(to_record(row, source=str(path), line=number, heads=heads))
        except RecordError as exc:
            if on_error == "stop":
                raise
            report.skipped.append((number, exc.message))
    report.kept = len(records)
    return records
