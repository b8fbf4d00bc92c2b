"""Calibration of each head on the validation split, and decision thresholds.

Platt scaling (a logistic regression on the head's logit) so that a calibrated 0.8 means
80 %. The threshold of each head maximises F1 on the validation split.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from triage.heads import DEFAULT_HEADS as HEADS


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float]]:
    """Per head `{a, b}` with p = sigmoid(a * logit + b); identity where a head lacks data."""
    out: dict[str, dict[str, float]] = {}
    for j, head in enumerate(HEADS):
        keep = ~np.isnan(labels[:, j])
        y = labels[keep, j].astype(int)
        if keep.sum() < 10 or y.min() == y.max():
            out[head] = {"a": 1.0, "b": 0.0}
            continue
        lr = LogisticRegression(C=100.0).fit(logits[keep, j].reshape(-1, 1), y)
        out[head] = {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    return out


def apply_platt(logits: np.ndarray, params: dict[str, dict[str, float]]) -> np.ndarray:
    """Calibrated probabilities for a (n, 3) logit matrix."""
    a = np.array([params[h]["a"] for h in HEADS])
    b = np.array([params[h]["b"] for h in HEADS])
    return 1.0 / (1.0 + np.exp(-(logits * a + b)))


def best_thresholds(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per head, the probability cut-off with the best F1 on these rows (0.5 if undefined)."""
    out: dict[str, float] = {}
    for j, head in enumerate(HEADS):
        keep = ~np.isnan(labels[:, j])
        y = labels[keep, j].astype(int)
        if y.sum() == 0:
            out[head] = 0.5
            continue
        grid = np.linspace(0.05, 0.95, 91)
        scores = [f1_score(y, (probs[keep, j] >= t).astype(int), zero_division=0) for t in grid]
        out[head] = round(float(grid[int(np.argmax(scores))]), 2)
    return out
