"""Scoring a message: can the model read it, and if so, its three calibrated scores.

`Scorer` is what the API, the CLI and the batch engines call. It puts the language gate in
front of the model: a message the model cannot read is returned with `scorable=False`, a
`reason`, and no scores (never silently scored as calm); the queue sends it to human triage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from triage.errors import InputError, TextTooLong
from triage.language import LanguageGate, vocabulary_words
from triage.models.explain import Phrase, explain
from triage.records import HEADS


class Model(Protocol):
    """What a scorer needs of a model (`triage.models.runtime.ScoringModel` provides it)."""

    heads: tuple[str, ...]

    @property
    def version(self) -> str: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Score:
    """The model's verdict on one message."""

    scores: dict[str, float] | None
    scorable: bool
    reason: str | None
    language: str | None
    model_version: str
    explanation: dict[str, list[Phrase]] | None = field(default=None)

    def get(self, head: str) -> float | None:
        return None if self.scores is None else self.scores[head]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {h: self.get(h) for h in HEADS}
        out.update(scorable=self.scorable, reason=self.reason, language=self.language,
                   model_version=self.model_version)
        if self.explanation is not None:
            out["explanation"] = {h: [{"phrase": p.text, "weight": p.weight} for p in ps]
                                  for h, ps in self.explanation.items()}
        return out


class Scorer:
    """The language gate and the model together.

    Args:
        model: a loaded model (ScoringModel, or a test double through the same interface).
        gate: the language gate; by default one built from the model's vocabulary.
        max_chars: messages longer than this raise TextTooLong.
    """

    def __init__(self, model: Model, gate: LanguageGate | None = None,
                 max_chars: int = 20_000) -> None:
        self.model = model
        self.gate = gate or _gate_for(model)
        self.max_chars = max_chars

    @classmethod
    def from_dir(cls, model_dir: str | Path, *, threads: int = 0, batch_size: int = 32,
                 max_chars: int = 20_000, slots: int = 0) -> Scorer:
        from triage.models.runtime import ScoringModel

        return cls(ScoringModel(model_dir, threads=threads, batch_size=batch_size,
                                slots=slots), max_chars=max_chars)

    @property
    def version(self) -> str:
        return self.model.version

    def check(self, text: Any) -> str:
        """The text if it can be scored at all; InputError otherwise."""
        if not isinstance(text, str):
            raise InputError(f"text must be a string, got {type(text).__name__}")
        if not text.strip():
            raise InputError("text is empty; send the customer's message in 'text'")
        if len(text) > self.max_chars:
            raise TextTooLong(
                f"text has {len(text)} characters, the limit is {self.max_chars}; "
                "send the newest message only, or raise TRIAGE_MAX_TEXT_CHARS"
            )
        return text

    def score(self, texts: Sequence[str], *, explain_top: int = 0) -> list[Score]:
        """Score many messages in one model call; `explain_top>0` adds phrase attributions."""
        for text in texts:
            self.check(text)
        verdicts = [self.gate.check(t) for t in texts]
        readable = [i for i, v in enumerate(verdicts) if v.scorable]
        probs = self.model.predict_proba([texts[i] for i in readable]) if readable else None
        results: list[Score] = []
        row = {i: k for k, i in enumerate(readable)}
        for i, verdict in enumerate(verdicts):
            scores = None
            explanation = None
            if verdict.scorable and probs is not None:
                p = probs[row[i]]
                scores = {h: round(float(p[j]), 4) for j, h in enumerate(self.model.heads)}
                if explain_top:
                    explanation = self.explain(texts[i], top_k=explain_top)
            results.append(Score(scores, verdict.scorable, verdict.reason, verdict.language,
                                 self.version, explanation))
        return results

    def score_one(self, text: str, *, explain_top: int = 0) -> Score:
        return self.score([text], explain_top=explain_top)[0]

    def explain(self, text: str, top_k: int = 3) -> dict[str, list[Phrase]]:
        """Per head, the phrases that moved the score most."""
        return explain(text, lambda ts: self.model.predict_proba(ts), self.model.heads, top_k)


def _gate_for(model: Model) -> LanguageGate:
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        return LanguageGate()
    return LanguageGate(vocabulary_words(tokenizer.get_vocab()))
