"""Quality metrics for one head: ranking, threshold and calibration measures."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score


@dataclass(frozen=True)
class HeadMetrics:
    """Metrics of one head on one set of labelled rows (None where undefined)."""

    n: int
    positives: int
    auroc: float | None
    average_precision: float | None
    f1: float | None
    brier: float | None
    ece: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE with equal-width bins: the mean |accuracy - confidence| weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() * abs(float(y[sel].mean()) - float(p[sel].mean()))
    return total / max(len(y), 1)


def reliability_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per-bin mean confidence, observed rate and count, for a reliability diagram."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            out.append({"confidence": float(p[sel].mean()), "observed": float(y[sel].mean()),
                        "count": int(sel.sum())})
    return out


def head_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> HeadMetrics:
    """All metrics for labels `y` (0/1) and probabilities `p`; rows with NaN labels dropped."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    keep = ~np.isnan(y)
    y, p = y[keep].astype(int), p[keep]
    n, pos = len(y), int(y.sum())
    if n == 0:
        return HeadMetrics(0, 0, None, None, None, None, None)
    both = 0 < pos < n
    return HeadMetrics(
        n=n,
        positives=pos,
        auroc=float(roc_auc_score(y, p)) if both else None,
        average_precision=float(average_precision_score(y, p)) if both else None,
        f1=float(f1_score(y, (p >= threshold).astype(int), zero_division=0)) if pos else None,
        brier=float(np.mean((p - y) ** 2)),
        ece=float(expected_calibration_error(y, p)),
    )
