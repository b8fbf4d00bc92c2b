"""`rescore-queue`: unresolved tickets re-scored with a new model, history and audit kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from triage.cases import Cases, CustomerFacts, NewTicket
from triage.cases.rescore import RescoreReport
from triage.cli import app
from triage.scoring import Scorer
from triage.store import Database

WAITED = "I need a refund for the order, I have waited three weeks for it"
ANGRY = "I am furious, this is unacceptable, cancel everything"
CALM = "Hello, how do I change the delivery address on my order please"


class NewModel:
    """The 'promoted' model: it reads refunds and long waits as urgent and frustrating."""

    heads = ("frustration", "churn_risk", "urgency")
    version = "keyword-test-2"

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        rows = [[0.9 if "waited" in t else 0.3, 0.1, 0.97 if "refund" in t else 0.1]
                for t in texts]
        return np.array(rows, dtype=np.float32).reshape(len(texts), 3)


@pytest.fixture
def cases(db: Database, keyword_scorer: Scorer, clock: Any) -> Cases:
    return Cases(db, keyword_scorer, clock=clock, explain_top=0)


def _open_three(cases: Cases) -> dict[str, str]:
    numbers = {}
    for name, text in (("waited", WAITED), ("angry", ANGRY), ("calm", CALM)):
        numbers[name] = cases.intake(NewTicket(text, customer=CustomerFacts(f"c-{name}")),
                                     "test").case["case_number"]
    resolved = cases.intake(NewTicket("refund please, I waited a month"), "test")
    cases.resolve(resolved.case["case_number"], "test")
    numbers["resolved"] = resolved.case["case_number"]
    return numbers


def _rescore(cases: Cases, **kw: Any) -> RescoreReport:
    return cases.rescore_queue(scorer=Scorer(NewModel()), explain_top=0, page=2, **kw)


def test_batch_rescore_dry_run_reports_moves_and_changes_nothing(cases: Cases, clock: Any) -> None:
    numbers = _open_three(cases)
    before = {n: cases.get(c) for n, c in numbers.items()}
    report = _rescore(cases, dry_run=True)
    assert report.tickets == 3 and report.rescored == 3
    assert dict(report.lane_changes) == {"standard->supervisor": 1}
    top = report.largest_moves[0]
    assert top.case_number == numbers["waited"] and top.delta > 0
    assert top.scores_to == {"frustration": 0.9, "churn_risk": 0.1, "urgency": 0.97}
    after = {n: cases.get(c) for n, c in numbers.items()}
    assert after == before


def test_batch_rescore_records_version_history_and_audit(cases: Cases, clock: Any) -> None:
    numbers = _open_three(cases)
    clock.advance(minutes=5)
    report = _rescore(cases)
    assert report.rescored == 3 and not report.dry_run
    case = cases.get(numbers["waited"])
    assert case["lane"] == "supervisor" and case["model_version"] == "keyword-test-2"
    assert case["scores"]["urgency"] == pytest.approx(0.97)
    assert [h["model_version"] for h in case["score_history"]] == ["keyword-test-1",
                                                                   "keyword-test-2"]
    audit = next(a for a in case["audit"] if a["action"] == "rescored")
    assert audit["actor"] == "rescore-queue"
    assert audit["detail"]["model_version"] == {"from": "keyword-test-1", "to": "keyword-test-2"}
    assert audit["detail"]["lane"] == {"from": "standard", "to": "supervisor"}
    assert audit["detail"]["scores"]["from"]["urgency"] == pytest.approx(0.05)
    assert case["messages"][0]["model_version"] == "keyword-test-2"
    resolved = cases.get(numbers["resolved"])
    assert resolved["model_version"] == "keyword-test-1"
    assert cases.queue()["entries"][0]["case_number"] == numbers["waited"]


def test_batch_rescore_skips_tickets_already_current(cases: Cases, clock: Any) -> None:
    _open_three(cases)
    _rescore(cases)
    again = _rescore(cases)
    assert again.rescored == 0 and again.current == 3
    forced = _rescore(cases, everything=True)
    assert forced.rescored == 3 and not forced.lane_changes


def test_batch_rescore_queue_cli(keyword_scorer: Scorer, tiny_model_dir: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    db = Database(url)
    db.migrate()
    cases = Cases(db, keyword_scorer, clock=lambda: datetime.now(UTC), explain_top=0)
    _open_three(cases)
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["rescore-queue", "--dry-run", "--model",
                                      str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["rescored"] == 3
    assert len(report["largest_moves"]) == 3
    assert "would move" in result.stderr
    assert cases.get(cases.queue()["entries"][0]["case_number"])["model_version"] == \
        "keyword-test-1"
    db.close()


class FourHeadModel(NewModel):
    """A data scientist's model: our three heads and `legal_threat`."""

    heads = ("frustration", "churn_risk", "urgency", "legal_threat")
    version = "keyword-legal-1"

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        three = super().predict_proba(texts)
        legal = np.array([[0.9 if "lawyer" in t else 0.05] for t in texts], dtype=np.float32)
        return np.hstack([three, legal])


def test_batch_rescore_dry_run_reports_other_heads(cases: Cases, clock: Any) -> None:
    numbers = _open_three(cases)
    before = {n: cases.get(c) for n, c in numbers.items()}
    report = cases.rescore_queue(scorer=Scorer(FourHeadModel()), dry_run=True, explain_top=0)
    assert report.rescored == 3
    assert dict(report.head_changes) == {"-none +legal_threat": 3}
    assert "3 tickets scored with other heads: heads -none +legal_threat" in report.text()
    assert report.largest_moves[0].scores_to is not None
    assert "legal_threat" in report.largest_moves[0].scores_to
    assert {n: cases.get(c) for n, c in numbers.items()} == before
    report = cases.rescore_queue(scorer=Scorer(FourHeadModel()), explain_top=0)
    case = cases.get(numbers["angry"])
    assert set(case["scores"]) == {"frustration", "churn_risk", "urgency", "legal_threat"}
    assert case["score_history"][0]["scores"].keys() == {"frustration", "churn_risk", "urgency"}
