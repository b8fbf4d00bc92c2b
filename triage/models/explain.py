"""Why did a message score high? Leave-one-phrase-out attributions.

The message is cut into phrases (clauses at punctuation, long clauses into windows of at
most eight words). Each phrase is removed in turn and the message re-scored; a phrase's
weight for a head is how much the probability drops without it. All copies are scored in
one batch, so an explanation costs about as much as scoring 1 + #phrases short messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_CLAUSE = re.compile(r"[^.!?;:,\n]+[.!?;:,]*|\n")
MAX_WORDS = 8
MAX_PHRASES = 32


@dataclass(frozen=True)
class Phrase:
    """A phrase of the message and how much it raised one head's probability."""

    text: str
    weight: float


def phrases(text: str) -> list[tuple[int, int]]:
    """Character spans of the phrases of `text` (at most MAX_PHRASES)."""
    spans: list[tuple[int, int]] = []
    for clause in _CLAUSE.finditer(text):
        words = list(re.finditer(r"\S+", clause.group()))
        for start in range(0, len(words), MAX_WORDS):
            chunk = words[start:start + MAX_WORDS]
            if chunk:
                spans.append((clause.start() + chunk[0].start(), clause.start() + chunk[-1].end()))
    return spans[:MAX_PHRASES]


def explain(text: str, predict: Callable[[list[str]], np.ndarray], heads: tuple[str, ...],
            top_k: int = 3) -> dict[str, list[Phrase]]:
    """Per head, the `top_k` phrases whose removal lowers that head's probability most."""
    spans = phrases(text)
    if len(spans) < 2:
        return {h: [] for h in heads}
    copies = [text] + [text[:a] + text[b:] for a, b in spans]
    probs = predict(copies)
    drops = probs[0] - probs[1:]
    out: dict[str, list[Phrase]] = {}
    for j, head in enumerate(heads):
        order = np.argsort(-drops[:, j])[:top_k]
        out[head] = [Phrase(text[spans[i][0]:spans[i][1]], round(float(drops[i, j]), 4))
                     for i in order if drops[i, j] > 0.01]
    return out
