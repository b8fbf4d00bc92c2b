"""The input side of a batch run: rows read from a file, grouped into numbered chunks.

Every input row becomes an `Item`, in input order, including rows that cannot be used (a
broken JSON line, a truncated file's tail): those carry the error instead of dropping out,
so that `--on-error stop|skip` is decided in one place and line numbers stay right.

Chunks are the unit of work, of output and of resuming: chunk boundaries depend only on
`chunk_rows`, and each chunk carries a digest chained over every row read so far, which a
resumed run recomputes to prove that it is reading the same input as the interrupted one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.errors import BrokenJson, RecordError
from triage.records import iter_rows

EMPTY_DIGEST = "0" * 32


@dataclass
class Item:
    """One input row (or the remains of one that could not be read)."""

    line: int
    row: dict[str, Any] | None
    error: RecordError | None = None
    kind: str | None = None

    def reject(self, kind: str, error: RecordError) -> None:
        """Mark the row as unusable, with a short machine-readable `kind`."""
        self.kind, self.error = kind, error


@dataclass
class Chunk:
    """Consecutive input rows processed, written and checkpointed together."""

    seq: int
    items: list[Item]
    rows_end: int
    digest: str
    prepared: Any = field(default=None, repr=False)


def short_reason(error: RecordError) -> str:
    """The error message without its `file, line N: ` prefix."""
    prefix = ""
    if error.source is not None:
        prefix = error.source + (f", line {error.line}" if error.line is not None else "") + ": "
    return error.message.removeprefix(prefix)


RowSource = Callable[[Callable[[RecordError], None]], Iterator[tuple[int, dict[str, Any]]]]


def read_items(path: str | Path, fmt: str | None = None) -> Iterator[Item]:
    """Every row of `path` as an Item, bad JSONL lines and a truncated tail included.

    A file that cannot be read at all (missing `text` column, not Parquet, nothing readable
    before the damage) raises RecordError: there is nothing to skip to.
    """
    return items_of(lambda on_bad: iter_rows(path, fmt, on_bad_line=on_bad), str(path))


def items_of(rows: RowSource, source: str) -> Iterator[Item]:
    """Items from `rows(on_bad_line)`, a row reader such as `records.iter_rows`."""
    bad: list[RecordError] = []
    last = 0
    try:
        for line, row in rows(bad.append):
            yield from _bad_items(bad)
            last = line
            yield _checked(Item(line, row), source)
        yield from _bad_items(bad)
    except RecordError as exc:
        if last == 0 and not bad:
            exc.whole_file = True
            raise
        yield from _bad_items(bad)
        item = Item(last + 1, None)
        item.reject("truncated", RecordError(
            f"{short_reason(exc)}; rows after line {last} could not be read",
            source=exc.source, line=last + 1))
        yield item


def _bad_items(bad: list[RecordError]) -> Iterator[Item]:
    while bad:
        error = bad.pop(0)
        item = Item(error.line or 0, None)
        kind = "broken_json" if isinstance(error, BrokenJson) else "not_an_object"
        item.reject(kind, error)
        yield item


def _checked(item: Item, source: str) -> Item:
    """Reject a CSV row with more fields than its header (csv puts them under key None)."""
    if item.row is not None and None in item.row:
        extra = item.row.pop(None)  # type: ignore[call-overload]
        item.reject("bad_csv_row", RecordError(
            f"row has {len(extra)} more field(s) than the header; quote fields with commas",
            source=source, line=item.line))
    return item


def chunked(items: Iterator[Item], chunk_rows: int) -> Iterator[Chunk]:
    """Group items into chunks of `chunk_rows`, each with the chained digest so far."""
    digest, rows, seq = EMPTY_DIGEST, 0, 0
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == chunk_rows:
            rows += len(batch)
            digest = chain_digest(digest, batch)
            yield Chunk(seq, batch, rows, digest)
            seq, batch = seq + 1, []
    if batch:
        rows += len(batch)
        yield Chunk(seq, batch, rows, chain_digest(digest, batch))


def chain_digest(previous: str, items: list[Item]) -> str:
    """A digest of `previous` and the content of `items`, in order."""
    h = hashlib.blake2b(previous.encode(), digest_size=16)
    for item in items:
        h.update(canonical(item).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def canonical(item: Item) -> str:
    """A stable text form of an item's content (its row, or the raw text that failed)."""
    if item.row is not None:
        return json.dumps(item.row, sort_keys=True, default=str, ensure_ascii=False)
    raw = item.error.detail.get("raw") if item.error and isinstance(item.error.detail, dict) else None
    return f"!{item.line}:{raw if raw is not None else item.kind}"
