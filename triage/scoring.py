"""Scoring a message: can the model read it, and if so, its calibrated score per head.

`Scorer` is what the API, the CLI and the batch engines call. It puts the language gate in
front of the model: a message the model cannot read is returned with `scorable=False`, a
`reason`, and no scores (never silently scored as calm); the queue sends it to human triage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from triage.errors import EmptyText, NotText, TextTooLong
from triage.language import LanguageGate, Readability, vocabulary_words
from triage.models.explain import Phrase, explain


class Model(Protocol):
    """What a scorer needs of a model (`triage.models.runtime.ScoringModel` provides it).

    A model may also offer the two halves of `predict_proba`, `encode(texts)` (prepare and
    tokenize) and `score_encoded(encoded)` (run, calibrate, combine windows); the scorer
    then tokenizes in `Scorer.encode` and runs the model in `Scorer.score_encoded`, so a
    pipeline can do the two in different threads. A model without them (a test double) is
    called with the texts in `score_encoded`.
    """

    heads: tuple[str, ...]

    @property
    def version(self) -> str: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Score:
    """The model's verdict on one message: a score per head, or why there is none."""

    scores: dict[str, float] | None
    scorable: bool
    reason: str | None
    language: str | None
    model_version: str
    explanation: dict[str, list[Phrase]] | None = field(default=None)
    heads: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.heads and self.scores is not None:
            object.__setattr__(self, "heads", tuple(self.scores))

    def get(self, head: str) -> float | None:
        return None if self.scores is None else self.scores.get(head)

    def as_dict(self) -> dict[str, Any]:
        """Each head's score as a top-level key (None when unscorable), `scores`, the verdict."""
        out: dict[str, Any] = {h: self.get(h) for h in self.heads}
        out.update(scores=self.scores, scorable=self.scorable, reason=self.reason,
                   language=self.language, model_version=self.model_version)
        if self.explanation is not None:
            out["explanation"] = {h: [{"phrase": p.text, "weight": p.weight} for p in ps]
                                  for h, ps in self.explanation.items()}
        return out


@dataclass
class Encoded:
    """`Scorer.encode`'s output: the gate's verdicts, and the model input of the readable."""

    verdicts: list[Readability]
    readable: list[int]
    inputs: Any


class Scorer:
    """The language gate and the model together: the only door to the model.

    Args:
        model: a loaded model (ScoringModel, or a test double through the same interface).
        gate: the language gate; by default one built from the model's vocabulary.
        max_chars: messages longer than this raise TextTooLong.
        preload: load the gate's language model now (a server), not on first need (a
            one-off `triage score --text`).
    """

    def __init__(self, model: Model, gate: LanguageGate | None = None,
                 max_chars: int = 20_000, *, preload: bool = True) -> None:
        self.model = model
        self.gate = gate or _gate_for(model, preload)
        self.max_chars = max_chars
        self._halves = callable(getattr(model, "encode", None)) and \
            callable(getattr(model, "score_encoded", None))

    @classmethod
    def from_dir(cls, model_dir: str | Path, *, threads: int = 0, batch_size: int = 32,
                 max_chars: int = 20_000, slots: int = 0, preload: bool = True) -> Scorer:
        from triage.models.runtime import ScoringModel

        return cls(ScoringModel(model_dir, threads=threads, batch_size=batch_size,
                                slots=slots, max_chars=max_chars), max_chars=max_chars,
                   preload=preload)

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def heads(self) -> tuple[str, ...]:
        """The heads the model scores, in its order (from the manifest)."""
        return tuple(self.model.heads)

    def check(self, text: Any) -> str:
        """The text if it can be scored at all; an InputError subclass otherwise."""
        if not isinstance(text, str):
            raise NotText(f"text must be a string, got {type(text).__name__}")
        if not text.strip():
            raise EmptyText("text is empty; send the customer's message in 'text'")
        if len(text) > self.max_chars:
            raise TextTooLong(
                f"text has {len(text)} characters, the limit is {self.max_chars}; "
                "send the newest message only, or raise TRIAGE_MAX_TEXT_CHARS"
            )
        return text

    def encode(self, texts: Sequence[str]) -> Encoded:
        """The first half of `score`: the language gate, then tokenizing what it lets through.

        The texts must have passed `check`.
        """
        verdicts = [self.gate.check(t) for t in texts]
        readable = [i for i, v in enumerate(verdicts) if v.scorable]
        kept = [texts[i] for i in readable]
        inputs = self.model.encode(kept) if self._halves and kept else kept  # type: ignore[attr-defined]
        return Encoded(verdicts, readable, inputs)

    def score_encoded(self, encoded: Encoded) -> list[Score]:
        """The second half of `score`: run the model on `encode`'s output."""
        probs = self._run(encoded)
        row = {i: k for k, i in enumerate(encoded.readable)}
        heads = self.heads
        results: list[Score] = []
        for i, verdict in enumerate(encoded.verdicts):
            scores = None
            if verdict.scorable:
                p = probs[row[i]]
                scores = {h: round(float(p[j]), 4) for j, h in enumerate(heads)}
            results.append(Score(scores, verdict.scorable, verdict.reason, verdict.language,
                                 self.version, heads=heads))
        return results

    def score(self, texts: Sequence[str], *, explain_top: int = 0) -> list[Score]:
        """Score many messages in one model call; `explain_top>0` adds phrase attributions."""
        for text in texts:
            self.check(text)
        results = self.score_encoded(self.encode(texts))
        if not explain_top:
            return results
        return [replace(r, explanation=self.explain(t, top_k=explain_top)) if r.scorable else r
                for t, r in zip(texts, results, strict=True)]

    def score_one(self, text: str, *, explain_top: int = 0) -> Score:
        return self.score([text], explain_top=explain_top)[0]

    def explain(self, text: str, top_k: int = 3) -> dict[str, list[Phrase]]:
        """Per head, the phrases that moved the score most."""
        return explain(text, lambda ts: self.model.predict_proba(ts), self.heads, top_k)

    def _run(self, encoded: Encoded) -> np.ndarray:
        if not encoded.readable:
            return np.zeros((0, len(self.heads)), dtype=np.float32)
        if self._halves:
            return np.asarray(self.model.score_encoded(encoded.inputs))  # type: ignore[attr-defined]
        return np.asarray(self.model.predict_proba(encoded.inputs)).reshape(
            len(encoded.readable), len(self.heads))


def _gate_for(model: Model, preload: bool = True) -> LanguageGate:
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        return LanguageGate(preload=preload)
    return LanguageGate(vocabulary_words(tokenizer.get_vocab()), preload=preload)
