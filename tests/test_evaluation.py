"""`triage eval`: per-source metrics, reports, reliability PNG, parity check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from triage.evaluation import evaluate, write_reports
from triage.metrics import expected_calibration_error, head_metrics
from triage.records import Record
from triage.scoring import Scorer


def rows() -> list[Record]:
    texts = [("my card was stolen!!", 1, "bank"), ("what is the exchange rate", 0, "bank"),
             ("flight delayed again, awful", 1, "air"), ("great crew today", 0, "air"),
             ("Je suis très fâché contre vous", 1, "air")]
    return [Record(t, {"frustration": y, "churn_risk": None, "urgency": y},
                   {"source": s}) for t, y, s in texts]


def test_evaluation_reports_per_source(tiny_scorer: Scorer, tmp_path: Path) -> None:
    result = evaluate(tiny_scorer, rows(), parity_rows=2)
    assert set(result.by_source) == {"air", "bank"}
    assert result.by_source["air"]["frustration"]["n"] == 3
    assert result.overall["churn_risk"]["n"] == 0
    assert result.unscorable == {"air": 1}
    paths = write_reports(result, "rows", tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    assert paths[2].read_bytes()[:4] == b"\x89PNG"
    body = json.loads(paths[1].read_text())
    assert body["parity"]["messages"] == 2
    assert "| bank | frustration |" in paths[0].read_text()


def test_metrics_known_values() -> None:
    y = np.array([0, 0, 1, 1, np.nan])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.5])
    m = head_metrics(y, p)
    assert m.n == 4 and m.positives == 2
    assert m.auroc == pytest.approx(0.75)
    assert m.brier == pytest.approx(np.mean([0.01, 0.16, 0.4225, 0.04]))
    assert expected_calibration_error(np.array([1, 0]), np.array([1.0, 0.0])) == 0.0
    assert head_metrics(np.array([1.0, 1.0]), np.array([0.2, 0.9])).auroc is None
