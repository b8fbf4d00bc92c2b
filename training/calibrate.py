"""Calibration of each head on the validation split, and decision thresholds.

Platt scaling (a logistic regression on the head's logit) so that a calibrated 0.8 means
80 %. The threshold of each head maximises F1 on the validation split. Column `j` of the
logit, probability and label matrices is head `heads[j]`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score


def fit_platt(logits: np.ndarray, labels: np.ndarray,
              heads: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per head `{a, b}` with p = sigmoid(a * logit + b); identity where a head lacks data."""
    out: dict[str, dict[str, float]] = {}
    for j, head in enumerate(heads):
        keep = ~np.isnan(labels[:, j])
        y = labels[keep, j].astype(int)
        if keep.sum() < 10 or y.min() == y.max():
            out[head] = {"a": 1.0, "b": 0.0}
            continue
        lr = LogisticRegression(C=100.0).fit(logits[keep, j].reshape(-1, 1), y)
        out[head] = {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    return out


def apply_platt(logits: np.ndarray, params: dict[str, dict[str, float]],
                heads: Sequence[str]) -> np.ndarray:
    """Calibrated probabilities for an (n, heads) logit matrix."""
    a = np.array([params[h]["a"] for h in heads])
    b = np.array([params[h]["b"] for h in heads])
    return 1.0 / (1.0 + np.exp(-(logits * a + b)))


def best_thresholds(probs: np.ndarray, labels: np.ndarray,
                    heads: Sequence[str]) -> dict[str, float]:
    """Per head, the probability cut-off with the best F1 on these rows (0.5 if undefined)."""
    out: dict[str, float] = {}
    for j, head in enumerate(heads):
        keep = ~np.isnan(labels[:, j])
        y = labels[keep, j].astype(int)
        if y.sum() == 0:
            out[head] = 0.5
            continue
        grid = np.linspace(0.05, 0.95, 91)
        scores = [f1_score(y, (probs[keep, j] >= t).astype(int), zero_division=0) for t in grid]
        out[head] = round(float(grid[int(np.argmax(scores))]), 2)
    return out
