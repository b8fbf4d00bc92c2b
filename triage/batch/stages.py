"""Scoring a chunk in two stages, so that reading and tokenizing overlap with inference.

`encode_chunk` (reader thread) validates each row's text and hands the valid ones to
`Scorer.encode` (the language gate, then tokenizing what the model can read); `infer` (an
inference thread) hands that to `Scorer.score_encoded` and turns the scores into output
rows. Together they give exactly what `Scorer.score` gives for the same texts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from triage.errors import EmptyText, NotText, RecordError, TextTooLong
from triage.scoring import Encoded, Score, Scorer

from .rows import Chunk, Item, short_reason


def added_columns(heads: tuple[str, ...]) -> tuple[str, ...]:
    """The columns scoring adds to every row: one per head, then the verdict."""
    return (*heads, "scorable", "reason", "model_version")


@dataclass
class Prepared:
    """A chunk after validation, the language gate and tokenization."""

    valid: list[int]
    encoded: Encoded


@dataclass
class Result:
    """What a chunk produced: output rows, rejected rows, and counts."""

    chunk: Chunk
    rows: list[dict[str, Any]]
    rejects: list[dict[str, Any]]
    counts: Counter[str] = field(default_factory=Counter)


def validate(item: Item, scorer: Scorer, source: str) -> None:
    """Reject an item whose text is missing, not a string, empty or too long."""
    if item.error is not None or item.row is None:
        return
    if "text" not in item.row:
        item.reject("no_text", RecordError(
            f"no 'text' field; found {sorted(item.row)}", source=source, line=item.line))
        return
    try:
        scorer.check(item.row["text"])
    except TextTooLong as exc:
        item.reject("text_too_long", RecordError(exc.message, source=source, line=item.line))
    except NotText as exc:
        item.reject("text_not_string", RecordError(exc.message, source=source, line=item.line))
    except EmptyText as exc:
        item.reject("empty_text", RecordError(exc.message, source=source, line=item.line))


def encode_chunk(chunk: Chunk, scorer: Scorer, *, stop_on_error: bool,
                 source: str = "-") -> Chunk:
    """Validate, gate and tokenize a chunk (raises the first bad row's error if stopping)."""
    valid: list[int] = []
    for index, item in enumerate(chunk.items):
        validate(item, scorer, source)
        if item.error is not None:
            if stop_on_error:
                raise item.error
            continue
        valid.append(index)
    texts = [chunk.items[i].row["text"] for i in valid]  # type: ignore[index]
    chunk.prepared = Prepared(valid, scorer.encode(texts))
    return chunk


def infer(chunk: Chunk, scorer: Scorer) -> Result:
    """Run the model on an encoded chunk and build its output and reject rows."""
    prepared: Prepared = chunk.prepared
    scores = dict(zip(prepared.valid, scorer.score_encoded(prepared.encoded), strict=True))
    result = Result(chunk, [], [])
    for index, item in enumerate(chunk.items):
        if item.error is not None:
            result.rejects.append(reject_row(item))
            result.counts[f"skipped:{item.kind}"] += 1
            continue
        score = scores[index]
        result.rows.append(output_row(item.row or {}, score))
        result.counts["scored" if score.scorable else f"unscorable:{score.reason}"] += 1
    chunk.prepared = None
    return result


def output_row(row: dict[str, Any], score: Score) -> dict[str, Any]:
    """The input row with every field kept, plus a column per head, `scorable`, `reason`,
    and the model version."""
    out = dict(row)
    for head in score.heads:
        out[head] = score.get(head)
    out.update(scorable=score.scorable, reason=score.reason, model_version=score.model_version)
    return out


def reject_row(item: Item) -> dict[str, Any]:
    """A line of the rejects file: where, why, and what the row was."""
    assert item.error is not None
    out: dict[str, Any] = {"line": item.line, "error": item.kind,
                           "reason": short_reason(item.error)}
    if item.row is not None:
        out["row"] = item.row
    elif isinstance(item.error.detail, dict) and "raw" in item.error.detail:
        out["raw"] = item.error.detail["raw"]
    return out
