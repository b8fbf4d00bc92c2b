"""A data scientist's own head (`legal_threat`) flows through the whole service: scoring,
intake, the queue and its policy, feedback, the label export and the metrics.

The fast tests use a four-head model at the Scorer seam; the slow one serves a model
trained with a fourth label column (`legal_model_dir`) through a real `triage serve`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from conftest import KeywordModel
from fastapi.testclient import TestClient
from test_api import Api, settings_for, sqlite_url
from test_service_e2e import cli, running_server

from triage.api import create_app
from triage.scoring import Scorer

HEADS = ("frustration", "churn_risk", "urgency", "legal_threat")
THREAT = "I am angry. My lawyer will take you to court over this bill."
CALM = "Hello, how do I change the delivery address on my order please?"


class LegalKeywordModel:
    """KeywordModel's three heads and a fourth: `legal_threat` from lawyer and court."""

    heads = HEADS
    version = "keyword-legal-1"

    def predict_proba(self, texts):  # type: ignore[no-untyped-def]
        if isinstance(texts, str):
            texts = [texts]
        three = KeywordModel().predict_proba(texts)
        legal = [[0.95 if "lawyer" in t.lower() or "court" in t.lower() else 0.05]
                 for t in texts]
        return np.hstack([three, np.array(legal, dtype=np.float32)])


@pytest.fixture
def legal_api(tmp_path: Path) -> Any:
    settings = settings_for(tmp_path, sqlite_url(tmp_path),
                            priority_policy={"head_minutes": {"legal_threat": 45}})
    with TestClient(create_app(settings, scorer=Scorer(LegalKeywordModel()))) as client:
        yield Api(client)


def test_heads_a_fourth_head_in_score_intake_queue_feedback_and_export(legal_api: Api) -> None:
    scored = legal_api.call("POST", "/v1/score", json={"texts": [THREAT, CALM]}).json()
    threat, calm = scored["results"]
    assert threat["scores"]["legal_threat"] == pytest.approx(0.95)
    assert threat["legal_threat"] == pytest.approx(0.95)  # also top level, like our heads
    assert calm["legal_threat"] == pytest.approx(0.05)

    number = legal_api.ticket(THREAT)["case_number"]
    legal_api.ticket(CALM)
    queue = legal_api.call("GET", "/v1/queue").json()
    first = queue["entries"][0]
    assert first["case_number"] == number and set(first["scores"]) == set(HEADS)
    terms = {t["name"]: t["minutes"] for t in first["priority"]["terms"]}
    assert terms["legal_threat"] == pytest.approx(45 * (0.95 - 0.2) / 0.8, abs=0.01)
    assert "legal threat 0.95" in first["explanation"]

    made = legal_api.call("POST", f"/v1/tickets/{number}/feedback",
                          json={"labels": {"legal_threat": 0, "frustration": 1}})
    assert made.status_code == 201 and made.json()["labels"] == {"legal_threat": 0,
                                                                 "frustration": 1}
    cases = legal_api.client.app.state.service.cases  # type: ignore[attr-defined]
    out = io.StringIO()
    assert cases.export_labels(out) == 1
    row = json.loads(out.getvalue())
    assert {h: row[h] for h in HEADS} == {"frustration": 1, "churn_risk": None,
                                          "urgency": None, "legal_threat": 0}

    model = legal_api.call("GET", "/v1/model").json()
    assert model["manifest"]["heads"] == list(HEADS)
    assert model["policy"]["config"]["head_minutes"] == {"legal_threat": 45}
    metrics = legal_api.call("GET", "/metrics", key=None).text
    assert 'triage_score_count{head="legal_threat"}' in metrics


def test_heads_an_unconfigured_head_does_not_reorder_the_queue(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, sqlite_url(tmp_path))
    with TestClient(create_app(settings, scorer=Scorer(LegalKeywordModel()))) as client:
        api = Api(client)
        api.ticket(THREAT)
        entry = api.call("GET", "/v1/queue").json()["entries"][0]
    assert entry["scores"]["legal_threat"] == pytest.approx(0.95)
    assert "legal_threat" not in {t["name"] for t in entry["priority"]["terms"]}


@pytest.mark.slow
def test_heads_a_trained_fourth_head_is_served_by_a_real_server(tmp_path: Path,
                                                                legal_model_dir: Path) -> None:
    env_extra = {"TRIAGE_PRIORITY_POLICY": json.dumps({"head_minutes": {"legal_threat": 45}})}
    with running_server(tmp_path, legal_model_dir, env_extra) as (base, env, _):
        key = cli(env, "keys", "create", "--role", "agent", "--name", "lee")[0]["key"]
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                            timeout=30)
        model = http.get("/v1/model").json()["manifest"]
        assert model["heads"] == list(HEADS)
        assert model["head_descriptions"]["legal_threat"] == "threatens legal action"
        result = http.post("/v1/score", json={"text": THREAT}).json()["results"][0]
        assert 0.0 <= result["scores"]["legal_threat"] <= 1.0
        case = http.post("/v1/tickets", json={"text": THREAT}).json()
        assert set(case["scores"]) == set(HEADS)
        entry = http.get("/v1/queue").json()["entries"][0]
        names = {t["name"] for t in entry["priority"]["terms"]}
        assert ("legal_threat" in names) == (entry["scores"]["legal_threat"] > 0.2)
        number = case["case_number"]
        assert http.post(f"/v1/tickets/{number}/feedback",
                         json={"labels": {"legal_threat": 1}}).status_code == 201
        rows = cli(env, "export-labels")
        assert rows[0]["legal_threat"] == 1 and rows[0]["frustration"] is None
