"""Audit of a labelled data set: label balance, lengths, channels, and near-duplicates.

Near-duplicates teach nothing and inflate held-out scores when one copy lands in each split.
They are found with TF-IDF over word 1-3-grams and character 3-5-grams and cosine
similarity: a pair above `threshold` (0.8 by default) counts as a near-duplicate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

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
    variety: Variety | None = None

    @property
    def near_duplicate_share(self) -> float:
        return self.rows_with_near_duplicate / max(self.rows, 1)


@dataclass(frozen=True)
class Variety:
    """How varied the writing is, so that "more" cannot mean "the same template again".

    - `distinct_openings`: distinct first-three-word openings (lower case, no punctuation)
      per message: 1.0 when every message opens differently.
    - `top_opening_share`: share of messages that start with the single most common opening.
    - `vocabulary_per_1000`: distinct words in consecutive 1,000-word stretches of the
      shuffled text, averaged (a type-token ratio that does not fall just because the set
      grows); a set written from one template scores low.
    - `length_quartiles` and `length_iqr_ratio`: words per message at the 10th, 25th, 50th,
      75th and 90th percentiles, and (Q3 - Q1) / median: near 0 when every message has the
      same length.
    """

    distinct_openings: float
    top_opening: str
    top_opening_share: float
    vocabulary_per_1000: float
    length_quantiles: tuple[int, int, int, int, int]
    length_iqr_ratio: float


_TOKEN = re.compile(r"[\w'’]+")


def variety(texts: Sequence[str], seed: int = 0) -> Variety:
    """The variety measures of `texts` (see `Variety`)."""
    openings = Counter(" ".join(_TOKEN.findall(t.lower())[:3]) for t in texts)
    top, top_n = openings.most_common(1)[0] if openings else ("", 0)
    words = [w for t in texts for w in _TOKEN.findall(t.lower())]
    order = np.random.default_rng(seed).permutation(len(texts)) if texts else []
    shuffled = [w for i in order for w in _TOKEN.findall(texts[int(i)].lower())]
    stretches = [shuffled[i:i + 1000] for i in range(0, len(shuffled) - 999, 1000)]
    per_1000 = float(np.mean([len(set(s)) for s in stretches])) if stretches else \
        float(len(set(words)))
    lengths = np.array([len(_TOKEN.findall(t)) for t in texts]) if texts else np.zeros(1)
    q = np.percentile(lengths, [10, 25, 50, 75, 90])
    return Variety(
        distinct_openings=len(openings) / max(len(texts), 1), top_opening=top,
        top_opening_share=top_n / max(len(texts), 1), vocabulary_per_1000=per_1000,
        length_quantiles=tuple(round(v) for v in q),  # type: ignore[arg-type]
        length_iqr_ratio=float((q[3] - q[1]) / max(q[2], 1.0)))


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
        variety=variety(texts),
    )


def to_markdown(result: Audit) -> str:
    lines = [f"Rows: {result.rows}. Positives: "
             + ", ".join(f"{h} {n} ({n / max(result.rows, 1):.0%})" for h, n in result.positives.items()),
             f"Missing labels: {result.missing}",
             (f"Words per message: median {result.median_words:.0f}, max {result.max_words}; "
             f"under 12 words: {result.short_share:.0%}"),
             f"Channels: {result.channels}",
             f"Industries ({len(result.industries)}): {result.industries}",
             (f"Near-duplicates (TF-IDF cosine >= {result.threshold}): {result.near_duplicate_pairs} "
             f"pairs, {result.rows_with_near_duplicate} rows ({result.near_duplicate_share:.1%})")]
    for v, a, b in result.examples:
        lines.append(f"  {v:.2f}: {a!r} ~ {b!r}")
    if result.variety is not None:
        var = result.variety
        lines.append(
            f"Variety: distinct openings (first 3 words) {var.distinct_openings:.0%}, most "
            f"common {var.top_opening!r} {var.top_opening_share:.1%}; "
            f"{var.vocabulary_per_1000:.0f} distinct words per 1,000; words per message "
            f"p10/p25/p50/p75/p90 {'/'.join(map(str, var.length_quantiles))} "
            f"(IQR / median {var.length_iqr_ratio:.2f})")
    return "\n".join(lines)
