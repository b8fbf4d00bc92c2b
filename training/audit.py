"""Audit of a labelled data set: label balance, lengths, channels, and near-duplicates.

Near-duplicates teach nothing and inflate held-out scores when one copy lands in each split.
They are found with TF-IDF over word 1-3-grams and character 3-5-grams and cosine
similarity: a pair above `threshold` (0.8 by default) counts as a near-duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from scipy.sparse import hstack

from triage.records import Record


@dataclass
class Audit:
    """What `audit` found."""

    rows: int
    positives: dict[str, int]
    missing: dict[str, int]
    short_share: float
    median_words: float
    max_words: int
    channels: dict[str, int]
    industries: dict[str, int]
    near_duplicate_pairs: int
    rows_with_near_duplicate: int
    threshold: float
    examples: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def near_duplicate_share(self) -> float:
        return self.rows_with_near_duplicate / max(self.rows, 1)


def similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Index pairs (i < j) whose TF-IDF cosine similarity is at least `threshold`."""
    if len(texts) < 2:
        return []
    words = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, lowercase=True).fit_transform(texts)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)
    matrix = normalize(hstack([words, chars]).tocsr())
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, matrix.shape[0], 1000):
        block = (matrix[start:start + 1000] @ matrix.T).tocoo()
        for i, j, v in zip(block.row, block.col, block.data, strict=True):
            a = start + int(i)
            if a < int(j) and v >= threshold:
                pairs.append((a, int(j), float(v)))
    return pairs


def audit(records: Sequence[Record], threshold: float = 0.8) -> Audit:
    """Balance, variety and near-duplicate measures of `records` (for the heads they label)."""
    heads = list(dict.fromkeys(h for r in records for h in r.labels))
    texts = [r.text for r in records]
    lengths = np.array([len(t.split()) for t in texts]) if texts else np.zeros(1)
    pairs = similar_pairs(texts, threshold)
    involved = {i for i, _, _ in pairs} | {j for _, j, _ in pairs}
    pairs.sort(key=lambda p: -p[2])
    return Audit(
        rows=len(records),
        positives={h: sum(1 for r in records if r.labels.get(h) == 1) for h in heads},
        missing={h: sum(1 for r in records if r.labels.get(h) is None) for h in heads},
        short_share=float((lengths < 12).mean()),
        median_words=float(np.median(lengths)),
        max_words=int(lengths.max()),
        channels=dict(Counter(str(r.fields.get("channel")) for r in records).most_common()),
        industries=dict(Counter(str(r.fields.get("industry")) for r in records).most_common()),
        near_duplicate_pairs=len(pairs),
        rows_with_near_duplicate=len(involved),
        threshold=threshold,
        examples=[(v, texts[i][:120], texts[j][:120]) for i, j, v in pairs[:10]],
    )


def to_markdown(result: Audit) -> str:
    lines = [f"Rows: {result.rows}. Positives: "
             + ", ".join(f"{h} {n} ({n / max(result.rows, 1):.0%})" for h, n in result.positives.items()),
             f"Missing labels: {result.missing}",
             f"Words per message: median {result.median_words:.0f}, max {result.max_words}; "
             f"under 12 words: {result.short_share:.0%}",
             f"Channels: {result.channels}",
             f"Industries ({len(result.industries)}): {result.industries}",
             f"Near-duplicates (TF-IDF cosine >= {result.threshold}): {result.near_duplicate_pairs} "
             f"pairs, {result.rows_with_near_duplicate} rows ({result.near_duplicate_share:.1%})"]
    for v, a, b in result.examples:
        lines.append(f"  {v:.2f}: {a!r} ~ {b!r}")
    return "\n".join(lines)
