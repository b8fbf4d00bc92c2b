"""Scoring a chunk in two stages, so that reading and tokenizing overlap with inference.

`prepare` (reader thread) validates each row's text, runs the language gate and tokenizes
what the model can read; `infer` (an inference thread) runs the ONNX session on the
prepared windows and turns probabilities into output rows. Together they give exactly what
`Scorer.score` gives for the same texts in the same batch.

The split uses the runtime's two halves, `ScoringModel.encode` (prepare and tokenize into
length-capped windows) and `ScoringModel.score_encoded` (run the model, calibrate, maximum
over windows). `Encoder` uses them for a `ScoringModel` and falls back to `predict_proba` for any other
model behind the `Scorer` seam (test doubles), which then tokenizes at inference time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from triage.errors import InputError, RecordError, TextTooLong
from triage.language import Readability
from triage.records import HEADS
from triage.scoring import Score, Scorer

from .rows import Chunk, Item, short_reason

ADDED = (*HEADS, "scorable", "reason", "model_version")


class Encoder:
    """Tokenize now, run later: the two halves of `ScoringModel.predict_proba`."""

    def __init__(self, model: Any) -> None:
        from triage.models.runtime import ScoringModel

        self.model = model
        self.split = isinstance(model, ScoringModel)

    def encode(self, texts: list[str]) -> Any:
        if not self.split or not texts:
            return texts
        return self.model.encode(texts)

    def run(self, encoded: Any) -> np.ndarray:
        if not self.split or not encoded:
            return np.asarray(self.model.predict_proba(encoded)) if encoded else np.zeros((0, 3))
        return np.asarray(self.model.score_encoded(encoded))


@dataclass
class Prepared:
    """A chunk after validation, the language gate and tokenization."""

    verdicts: dict[int, Readability]
    readable: list[int]
    encoded: Any


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
    except InputError as exc:
        kind = "text_not_string" if "must be a string" in exc.message else "empty_text"
        item.reject(kind, RecordError(exc.message, source=source, line=item.line))


def prepare(chunk: Chunk, scorer: Scorer, encoder: Encoder, *, stop_on_error: bool,
            source: str = "-") -> Chunk:
    """Validate, gate and tokenize a chunk (raises the first bad row's error if stopping)."""
    verdicts: dict[int, Readability] = {}
    for index, item in enumerate(chunk.items):
        validate(item, scorer, source)
        if item.error is not None:
            if stop_on_error:
                raise item.error
            continue
        assert item.row is not None
        verdicts[index] = scorer.gate.check(item.row["text"])
    readable = [i for i, v in verdicts.items() if v.scorable]
    texts = [chunk.items[i].row["text"] for i in readable]  # type: ignore[index]
    chunk.prepared = Prepared(verdicts, readable, encoder.encode(texts))
    return chunk


def infer(chunk: Chunk, scorer: Scorer, encoder: Encoder) -> Result:
    """Run the model on a prepared chunk and build its output and reject rows."""
    prepared: Prepared = chunk.prepared
    probs = encoder.run(prepared.encoded)
    position = {index: k for k, index in enumerate(prepared.readable)}
    heads = scorer.model.heads
    result = Result(chunk, [], [])
    for index, item in enumerate(chunk.items):
        if item.error is not None:
            result.rejects.append(reject_row(item))
            result.counts[f"skipped:{item.kind}"] += 1
            continue
        verdict = prepared.verdicts[index]
        scores = None
        if verdict.scorable:
            p = probs[position[index]]
            scores = {h: round(float(p[j]), 4) for j, h in enumerate(heads)}
        score = Score(scores, verdict.scorable, verdict.reason, verdict.language, scorer.version)
        result.rows.append(output_row(item.row or {}, score))
        result.counts["scored" if verdict.scorable else f"unscorable:{verdict.reason}"] += 1
    chunk.prepared = None
    return result


def output_row(row: dict[str, Any], score: Score) -> dict[str, Any]:
    """The input row with every field kept, plus the scores, `scorable`, `reason`, version."""
    out = dict(row)
    for head in HEADS:
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
