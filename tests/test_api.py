"""The HTTP API through TestClient (lifespan included), on both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.keys import create_key
from triage.scoring import Scorer
from triage.settings import Settings

if TYPE_CHECKING:
    from conftest import Clock

ANGRY = "I am furious, this is unacceptable. After eight years I will cancel my account."
CALM = "Hello, could you tell me how to change the delivery address on my order?"
OUTAGE = "Our whole shop is down since this morning, outage for all customers, urgent!"


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'triage.db'}"


def settings_for(tmp_path: Path, database_url: str, **kw: Any) -> Settings:
    """Settings for a test app; `auto_migrate` is on unless the store came migrated."""
    return Settings(home=tmp_path, database_url=database_url, sweep_seconds=0, **kw)


class Api:
    """A running app with an agent key and an admin key."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        db = client.app.state.service.db  # type: ignore[attr-defined]
        self.agent_key = create_key(db, "alice", "agent")[0]
        self.admin_key = create_key(db, "root", "admin")[0]
        self.other_key = create_key(db, "bob", "agent")[0]

    def call(self, method: str, url: str, *, key: str | None = "agent", **kw: Any) -> Any:
        token = {"agent": self.agent_key, "admin": self.admin_key,
                 "bob": self.other_key}.get(key or "", key)
        headers = {"Authorization": f"Bearer {token}"} if key else {}
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, url, headers=headers, **kw)

    def ticket(self, text: str, **kw: Any) -> dict[str, Any]:
        r = self.call("POST", "/v1/tickets", json={"text": text, **kw})
        assert r.status_code in (200, 201), r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def api(tmp_path: Path, database_url: str, keyword_scorer: Scorer,
        clock: Clock) -> Iterator[Api]:
    """The app on each store (for anything that reads or writes cases)."""
    settings = settings_for(tmp_path, database_url, auto_migrate=False)
    app = create_app(settings, scorer=keyword_scorer, clock=clock)
    with TestClient(app) as client:
        yield Api(client)


@pytest.fixture
def lone_api(tmp_path: Path, keyword_scorer: Scorer) -> Iterator[Api]:
    """The app on a SQLite file only, for stateless requests (scoring, validation)."""
    app = create_app(settings_for(tmp_path, sqlite_url(tmp_path)), scorer=keyword_scorer)
    with TestClient(app) as client:
        yield Api(client)


def assert_error(r: Any, status: int, error_type: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "error_type", "detail"}
    assert isinstance(body["error"], str) and body["error"]
    if error_type:
        assert body["error_type"] == error_type
    return body  # type: ignore[no-any-return]


# --- health, docs, auth ------------------------------------------------------------------


def test_api_health_ready_and_docs(lone_api: Api) -> None:
    assert lone_api.call("GET", "/healthz", key=None).json() == {"status": "ok"}
    ready = lone_api.call("GET", "/readyz", key=None).json()
    assert ready["status"] == "ready" and ready["model_version"] == "keyword-test-1"
    assert lone_api.call("GET", "/docs", key=None).status_code == 200
    paths = lone_api.call("GET", "/openapi.json", key=None).json()["paths"]
    assert {"/v1/score", "/v1/tickets", "/v1/queue", "/v1/queue/claim",
            "/v1/tickets/{ref}/feedback", "/v1/model"} <= set(paths)


@pytest.mark.parametrize("key, status", [(None, 401), ("trg_not-a-key", 401)])
def test_api_needs_a_valid_key(lone_api: Api, key: str | None, status: int) -> None:
    r = lone_api.call("POST", "/v1/score", key=key, json={"text": CALM})
    body = assert_error(r, status, "AuthError")
    assert "Bearer" in body["error"] or "unknown API key" in body["error"]


def test_api_roles_guard_key_management(api: Api) -> None:
    assert_error(api.call("GET", "/v1/keys"), 403, "Forbidden")
    made = api.call("POST", "/v1/keys", key="admin", json={"name": "carol", "role": "agent"})
    assert made.status_code == 201
    new = made.json()
    assert new["key"].startswith("trg_") and new["role"] == "agent"
    assert api.call("POST", "/v1/score", key=new["key"], json={"text": CALM}).status_code == 200
    listed = api.call("GET", "/v1/keys", key="admin").json()
    assert [k["name"] for k in listed] == ["alice", "root", "bob", "carol"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert api.call("DELETE", f"/v1/keys/{new['id']}", key="admin").json()["revoked_at"]
    body = assert_error(api.call("POST", "/v1/score", key=new["key"], json={"text": CALM}),
                        401, "AuthError")
    assert "revoked" in body["error"]
    assert_error(api.call("DELETE", "/v1/keys/999", key="admin"), 404, "NotFound")


# --- scoring ---------------------------------------------------------------------------------


def test_api_scores_one_message_and_a_batch(lone_api: Api) -> None:
    one = lone_api.call("POST", "/v1/score", json={"text": ANGRY}).json()
    assert one["model_version"] == "keyword-test-1"
    assert one["results"][0]["frustration"] == pytest.approx(0.95)
    assert one["results"][0]["explanation"] is None
    batch = lone_api.call("POST", "/v1/score?explain=true",
                          json={"texts": [CALM, OUTAGE, "🙂🙂"]})
    results = batch.json()["results"]
    assert [r["scorable"] for r in results] == [True, True, False]
    assert results[2]["reason"] == "no_words" and results[2]["urgency"] is None
    assert results[1]["explanation"]["urgency"][0]["phrase"]


@pytest.mark.parametrize("body, status, error_type", [
    ({"text": ""}, 422, "ValidationError"),  # the schema's minLength and pattern say so
    ({"text": "  \n "}, 422, "ValidationError"),
    ({"text": "x" * 20_001}, 422, "TextTooLong"),
    ({"text": 42}, 422, "ValidationError"),
    ({"text": None}, 422, "ValidationError"),
    ({"texts": "not a list"}, 422, "ValidationError"),
    ({"texts": []}, 422, "ValidationError"),
    ({"texts": [CALM, ""]}, 422, "ValidationError"),
    ({"text": CALM, "texts": [CALM]}, 422, "ValidationError"),
    ({"text": CALM, "colour": "red"}, 422, "ValidationError"),
    ({"text": "nul \x00 byte"}, 422, "ValidationError"),
    ([CALM], 422, "ValidationError"),
])
def test_api_score_rejects_bad_input_with_an_error_body(lone_api: Api, body: Any, status: int,
                                                        error_type: str) -> None:
    assert_error(lone_api.call("POST", "/v1/score", json=body), status, error_type)


def test_api_score_refuses_an_oversize_batch(tmp_path: Path,
                                            keyword_scorer: Scorer) -> None:
    settings = settings_for(tmp_path, sqlite_url(tmp_path), max_batch=3)
    app = create_app(settings, scorer=keyword_scorer)
    with TestClient(app) as client:
        api = Api(client)
        body = assert_error(api.call("POST", "/v1/score", json={"texts": [CALM] * 4}), 422,
                            "InputError")
        assert "limit is 3" in body["error"] and body["detail"] == {"size": 4, "limit": 3}
        assert api.call("POST", "/v1/score", json={"texts": [CALM] * 3}).status_code == 200


@pytest.mark.parametrize("raw", [b'{"text": "unterminated', b'\xff\xfe{"text": 1}',
                                 b'{"text": "\\ud800 lone surrogate"}'])
def test_api_malformed_json_is_a_422_not_a_500(lone_api: Api, raw: bytes) -> None:
    r = lone_api.call("POST", "/v1/score", content=raw,
                      headers={"content-type": "application/json"})
    assert_error(r, 422)


def test_api_request_body_size_is_limited(tmp_path: Path,
                                         keyword_scorer: Scorer) -> None:
    app = create_app(settings_for(tmp_path, sqlite_url(tmp_path), max_body_bytes=1000),
                     scorer=keyword_scorer)
    with TestClient(app) as client:
        api = Api(client)
        body = assert_error(api.call("POST", "/v1/score", json={"text": "a " * 600}), 413,
                            "PayloadTooLarge")
        assert "limit is 1000" in body["error"]

        def chunks() -> Iterator[bytes]:  # no content-length: counted while streaming
            yield b'{"text": "'
            yield b"a" * 1200
            yield b'"}'

        r = api.call("POST", "/v1/score", content=chunks(),
                     headers={"content-type": "application/json"})
        assert_error(r, 413, "PayloadTooLarge")
        assert 'reason="too_large"' in client.get("/metrics").text


class BlockingModel:
    """Holds every predict_proba until released, to keep a request in flight."""

    heads = ("frustration", "churn_risk", "urgency")
    version = "blocking-1"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict_proba(self, texts: Any) -> np.ndarray:
        self.entered.set()
        self.release.wait(timeout=30)
        return np.full((len(texts), 3), 0.5, dtype=np.float32)


def test_api_overload_is_a_429_not_a_queue(tmp_path: Path) -> None:
    model = BlockingModel()
    app = create_app(settings_for(tmp_path, sqlite_url(tmp_path), max_in_flight=1),
                     scorer=Scorer(model))
    with TestClient(app) as client:
        api = Api(client)
        first: list[int] = []
        worker = threading.Thread(target=lambda: first.append(
            api.call("POST", "/v1/score", json={"text": CALM}).status_code))
        worker.start()
        assert model.entered.wait(timeout=30)
        r = api.call("POST", "/v1/score", json={"text": CALM})
        assert_error(r, 429, "Overloaded")
        assert r.headers["retry-after"] == "1"
        assert api.call("GET", "/healthz", key=None).status_code == 200  # never refused
        model.release.set()
        worker.join()
        assert first == [200]


class BrokenModel:
    heads = ("frustration", "churn_risk", "urgency")
    version = "broken-1"

    def predict_proba(self, texts: Any) -> np.ndarray:
        raise RuntimeError("secret internals: jane@example.com")


def test_api_unexpected_error_is_a_500_body_without_internals(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, sqlite_url(tmp_path)), scorer=Scorer(BrokenModel()))
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client)
        body = assert_error(api.call("POST", "/v1/score", json={"text": CALM}), 500,
                            "InternalError")
        assert "secret" not in body["error"] and "jane" not in str(body)


def test_api_missing_model_answers_503_but_the_queue_works(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, sqlite_url(tmp_path), model_dir=tmp_path / "no-model")
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        ready = assert_error(api.call("GET", "/readyz", key=None), 503, "NotReady")
        assert "model" in ready["detail"]
        assert_error(api.call("POST", "/v1/score", json={"text": CALM}), 503, "ModelError")
        assert_error(api.call("POST", "/v1/tickets", json={"text": CALM}), 503, "ModelError")
        assert api.call("GET", "/v1/queue").status_code == 200
        assert api.call("POST", "/v1/queue/claim").status_code == 204
        assert_error(api.call("POST", "/v1/tickets/CS-2026-000001/messages",
                              json={"text": "On it.", "author": "agent"}), 404, "NotFound")


def test_api_model_reports_manifest_and_policy(lone_api: Api) -> None:
    body = lone_api.call("GET", "/v1/model").json()
    assert body["model_version"] == "keyword-test-1"
    assert body["policy"]["version"] == "priority.v3"
    assert body["policy"]["config"]["frustration_minutes"] > 0


def test_api_model_gives_the_page_its_ticket_links(tmp_path: Path,
                                                   keyword_scorer: Scorer) -> None:
    links = {"zendesk": "https://acme.zendesk.com/agent/tickets/{external_id}"}
    settings = settings_for(tmp_path, sqlite_url(tmp_path), ticket_url_templates=links)
    with TestClient(create_app(settings, scorer=keyword_scorer)) as client:
        api = Api(client)
        assert api.call("GET", "/v1/model").json()["ticket_url_templates"] == links
        assert api.call("GET", "/v1/model", key=None).status_code == 401
        case = api.ticket(ANGRY, source="zendesk", external_id="zd-4711",
                          customer={"customer_id": "c-1", "tier": "gold"})
    assert (case["source"], case["external_id"]) == ("zendesk", "zd-4711")
    assert case["summary"] == case["priority"]["summary"]
    assert case["summary"].endswith("waiting 0 min") and "(+" not in case["summary"]
    due = datetime.fromisoformat(case["priority"]["sla_due_at"])
    near = datetime.fromisoformat(case["priority"]["sla_near_breach_at"])
    assert due - near == timedelta(minutes=15)  # a quarter of gold's 60-minute target


# --- tickets and the queue ----------------------------------------------------------------------


def test_api_intake_is_idempotent_on_external_id(api: Api) -> None:
    body = {"text": ANGRY, "channel": "email", "external_id": "zd-4711",
            "customer": {"customer_id": "c-42", "customer_since": "2018-03-01", "tier": "gold"}}
    first = api.call("POST", "/v1/tickets", json=body)
    again = api.call("POST", "/v1/tickets", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["created"] and not again.json()["created"]
    assert first.json()["case_number"] == again.json()["case_number"] == "CS-2026-000001"
    assert first.headers["location"] == "/v1/tickets/CS-2026-000001"
    assert first.json()["lane"] == "supervisor"
    assert "customer since 2018" in first.json()["explanation"]


def test_api_position_ignores_names_and_regions(api: Api) -> None:
    facts = {"customer_since": "2020-01-01", "tier": "silver", "lifetime_value": 1200}
    a = api.ticket(CALM, customer={"customer_id": "c-1", "name": "Anna Schmidt",
                                   "region": "Bavaria", "language": "de", **facts})
    b = api.ticket(CALM, customer={"customer_id": "c-2", "name": "Kwame Mensah",
                                   "region": "Accra", "dialect": "en-GH", **facts})
    assert a["priority"]["boost_minutes"] == b["priority"]["boost_minutes"]
    assert a["explanation"] == b["explanation"]
    assert "name" not in a["customer"] and "region" not in a["customer"]


@pytest.mark.parametrize("body", [
    {"text": ""},
    {"text": CALM, "customer": {"customer_since": "2020-01-01"}},
    {"text": CALM, "customer": {"customer_id": "c", "customer_since": "not a date"}},
    {"text": CALM, "customer": {"customer_id": "c", "customer_since": "2999-01-01"}},
    {"text": CALM, "customer": {"customer_id": "c", "lifetime_value": -5}},
    {"text": CALM, "customer": {"customer_id": "c", "tier": "diamond"}},
    {"text": CALM, "created_at": "2026-03-02T09:00:00"},
    {"text": CALM, "created_at": "2030-01-01T00:00:00Z"},
    {"text": CALM, "external_id": "x" * 201},
    {"text": CALM, "channel": ""},
    {"text": ["a list"]},
    {"text": CALM, "customer": "c-42"},
])
def test_api_intake_rejects_bad_tickets_with_422(api: Api, body: dict[str, Any]) -> None:
    assert_error(api.call("POST", "/v1/tickets", json=body), 422)
    assert api.call("GET", "/v1/queue").json()["entries"] == []


def test_api_case_reads_by_case_number_or_id(api: Api) -> None:
    made = api.ticket(CALM)
    for ref in ("CS-2026-000001", "cs-2026-1", str(made["id"])):
        got = api.call("GET", f"/v1/tickets/{ref}")
        assert got.status_code == 200 and got.json()["case_number"] == "CS-2026-000001"
    detail = got.json()
    assert [m["text"] for m in detail["messages"]] == [CALM]
    assert detail["score_history"][0]["scores"]["frustration"] == 0.05
    assert [a["action"] for a in detail["audit"]][:3] == ["created", "message", "scored"]
    assert_error(api.call("GET", "/v1/tickets/CS-2026-000404"), 404, "NotFound")
    assert_error(api.call("GET", "/v1/tickets/" + "9" * 30), 404, "NotFound")
    for odd in ("\u00b2", "\u0661\u0662"):  # a superscript two, Arabic-Indic digits (found
        assert_error(api.call("GET", f"/v1/tickets/{odd}"), 404, "NotFound")  # by schemathesis)


def test_api_queue_order_filters_and_explanations(api: Api, clock: Clock) -> None:
    api.ticket(CALM, customer={"customer_id": "c-7", "customer_since": "2026-02-20"})
    api.ticket(OUTAGE)
    api.ticket(ANGRY, customer={"customer_id": "c-42", "customer_since": "2018-03-01"})
    clock.advance(minutes=3)
    view = api.call("GET", "/v1/queue").json()
    assert [e["case_number"][-1] for e in view["entries"]] == ["3", "2", "1"]
    assert view["depth"] == {"supervisor": 1, "needs_triage": 0, "standard": 2}
    assert all(e["explanation"].endswith("waiting 3 min") for e in view["entries"])
    std = api.call("GET", "/v1/queue?lane=standard&lane=needs_triage&limit=1").json()
    assert [e["case_number"] for e in std["entries"]] == ["CS-2026-000002"]
    assert std["depth"]["supervisor"] == 1  # the supervisor lane is always visible
    assert_error(api.call("GET", "/v1/queue?lane=vip"), 422, "ValidationError")
    assert_error(api.call("GET", "/v1/queue?status=done"), 422, "ValidationError")
    assert_error(api.call("GET", "/v1/queue?limit=0"), 422, "ValidationError")
    assert_error(api.call("GET", "/v1/queue?limit=abc"), 422, "ValidationError")


def test_api_claim_heartbeat_release_resolve(api: Api, clock: Clock) -> None:
    api.ticket(CALM)
    claimed = api.call("POST", "/v1/queue/claim")
    assert claimed.status_code == 200
    case = claimed.json()["case_number"]
    assert claimed.json()["lease"]["holder"] == "alice"
    assert api.call("POST", "/v1/queue/claim", key="bob").status_code == 204
    assert_error(api.call("POST", f"/v1/tickets/{case}/heartbeat", key="bob"), 409, "Conflict")
    clock.advance(seconds=200)
    beat = api.call("POST", f"/v1/tickets/{case}/heartbeat").json()
    assert beat["lease"]["expires_at"] == "2026-03-02T09:08:20+00:00"
    assert_error(api.call("POST", f"/v1/tickets/{case}/resolve", key="bob"), 409, "Conflict")
    assert api.call("POST", f"/v1/tickets/{case}/release").json()["status"] == "open"
    again = api.call("POST", "/v1/queue/claim", key="bob", json={"lanes": ["standard"]})
    assert again.json()["lease"]["holder"] == "bob"
    done = api.call("POST", f"/v1/tickets/{case}/resolve", key="bob", json={"note": "fixed"})
    assert done.json()["status"] == "resolved"
    assert_error(api.call("POST", "/v1/queue/claim", json={"lanes": ["vip"]}), 422)


def test_api_admin_can_release_a_stuck_claim(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    api.call("POST", "/v1/queue/claim", key="bob")
    assert api.call("POST", f"/v1/tickets/{case}/release", key="admin").json()["lease"] is None


def test_api_expired_lease_returns_to_queue_and_is_counted(api: Api, clock: Clock) -> None:
    case = api.ticket(CALM)["case_number"]
    api.call("POST", "/v1/queue/claim")
    clock.advance(seconds=301)
    view = api.call("GET", "/v1/queue").json()
    assert [e["case_number"] for e in view["entries"]] == [case]
    metrics = api.call("GET", "/metrics", key=None).text
    assert "triage_lease_expiries_total 1.0" in metrics
    assert 'triage_queue_depth{lane="standard"} 1.0' in metrics


def test_api_messages_rescore_and_agent_replies_wait(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    worse = api.call("POST", f"/v1/tickets/{case}/messages",
                     json={"text": "Still nothing, I am furious!"})
    assert worse.status_code == 201
    assert worse.json()["trend"] == "worsening"
    assert worse.json()["scores"]["frustration"] == pytest.approx(0.95)
    reply = api.call("POST", f"/v1/tickets/{case}/messages",
                     json={"text": "Sorry! Fixed it for you.", "author": "agent"})
    assert reply.json()["status"] == "waiting_on_customer"
    assert_error(api.call("POST", f"/v1/tickets/{case}/messages",
                          json={"text": "hi", "author": "bot"}), 422, "ValidationError")
    assert_error(api.call("POST", "/v1/tickets/CS-2026-000009/messages",
                          json={"text": "hi"}), 404, "NotFound")


def test_api_escalate_by_hand(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    out = api.call("POST", f"/v1/tickets/{case}/escalate", json={"reason": "legal threat"})
    assert (out.json()["lane"], out.json()["status"]) == ("supervisor", "escalated")
    audit = api.call("GET", f"/v1/tickets/{case}").json()["audit"]
    assert any(a["action"] == "escalated" and a["detail"]["reason"] == "legal threat"
               for a in audit)


def test_api_feedback_and_its_validation(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    made = api.call("POST", f"/v1/tickets/{case}/feedback",
                    json={"labels": {"frustration": 1}, "csat": 2, "comment": "slow reply"})
    assert made.status_code == 201
    assert made.json()["labels"] == {"frustration": 1}
    for bad in ({"labels": {"frustration": 2}}, {"labels": {"anger": 1}}, {"csat": 6},
                {"labels": {"frustration": False}}, {"labels": {"Urgency": 1}},
                {"csat": 0}, {}, {"message_id": 0, "csat": 3}):
        assert_error(api.call("POST", f"/v1/tickets/{case}/feedback", json=bad), 422)
    assert_error(api.call("POST", f"/v1/tickets/{case}/feedback",
                          json={"csat": 3, "message_id": 99}), 404, "NotFound")
    assert api.call("GET", f"/v1/tickets/{case}").json()["feedback"][0]["csat"] == 2


def test_api_metrics_count_latency_and_scores(api: Api) -> None:
    api.call("POST", "/v1/score", json={"texts": [ANGRY, CALM]})
    api.ticket(OUTAGE)
    text = api.call("GET", "/metrics", key=None).text
    assert 'triage_request_duration_seconds_count{method="POST",route="/v1/score",' \
           'status="200"} 1.0' in text
    assert 'triage_score_count{head="frustration"} 3.0' in text
    assert 'triage_queue_depth{lane="supervisor"} 0.0' in text


@pytest.mark.parametrize("workers, threads, slots, cores, expected", [
    (1, 0, 0, 2, (1, 2)),   # default: one thread per call, one call per core
    (2, 0, 0, 2, (1, 1)),   # two workers share the cores
    (4, 0, 0, 2, (1, 1)),   # never fewer than one slot
    (1, 2, 0, 2, (2, 1)),   # TRIAGE_THREADS=2: one call uses both cores
    (1, 0, 3, 2, (1, 3)),   # TRIAGE_INFERENCE_SLOTS wins
])
def test_api_inference_shape_fits_the_cores(monkeypatch: pytest.MonkeyPatch, workers: int,
                                            threads: int, slots: int, cores: int,
                                            expected: tuple[int, int]) -> None:
    from triage.api import state as service_module

    monkeypatch.setattr(service_module.os, "sched_getaffinity", lambda _pid: set(range(cores)))
    settings = Settings(workers=workers, threads=threads, inference_slots=slots)
    assert service_module.inference_shape(settings) == expected


# --- who may act on a claim --------------------------------------------------------------


def test_api_agents_cannot_reply_on_a_case_another_agent_holds(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    api.call("POST", "/v1/queue/claim", key="bob")
    reply = {"text": "Sorry, fixed it.", "author": "agent"}
    body = assert_error(api.call("POST", f"/v1/tickets/{case}/messages", json=reply), 409,
                        "Conflict")
    assert "held by 'bob'" in body["error"]
    held = api.call("GET", f"/v1/tickets/{case}").json()
    assert held["status"] == "claimed" and held["lease"]["holder"] == "bob"
    own = api.call("POST", f"/v1/tickets/{case}/messages", key="bob", json=reply)
    assert own.status_code == 201 and own.json()["status"] == "waiting_on_customer"
    customer = api.call("POST", f"/v1/tickets/{case}/messages", json={"text": "Thanks!"})
    assert customer.status_code == 201  # a customer message is never blocked by a claim


def test_api_a_reply_is_written_by_the_key_holder(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    spoof = {"text": "Closing this.", "author": "agent", "author_name": "bob"}
    body = assert_error(api.call("POST", f"/v1/tickets/{case}/messages", json=spoof), 422,
                        "InputError")
    assert "'alice'" in body["error"]
    api.call("POST", f"/v1/tickets/{case}/messages",
             json={"text": "On it.", "author": "agent"})
    messages = api.call("GET", f"/v1/tickets/{case}").json()["messages"]
    assert messages[-1]["author_name"] == "alice"


def test_api_claims_are_held_by_the_key_not_its_name(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    claimed = api.call("POST", "/v1/queue/claim", key="bob").json()
    assert claimed["lease"]["holder"] == "bob" and claimed["lease"]["key_id"] is not None
    namesake = api.call("POST", "/v1/keys", key="admin", json={"name": "bob"}).json()["key"]
    for action in ("heartbeat", "release", "resolve", "escalate"):
        assert_error(api.call("POST", f"/v1/tickets/{case}/{action}", key=namesake), 409,
                     "Conflict")
    assert api.call("POST", f"/v1/tickets/{case}/heartbeat", key="bob").status_code == 200


def test_api_a_supervisor_may_act_on_others_claims(api: Api) -> None:
    case = api.ticket(CALM)["case_number"]
    api.call("POST", "/v1/queue/claim", key="bob")
    made = api.call("POST", "/v1/keys", key="admin", json={"name": "sue", "role": "supervisor"})
    sue = made.json()["key"]
    assert_error(api.call("GET", "/v1/keys", key=sue), 403, "Forbidden")
    reply = api.call("POST", f"/v1/tickets/{case}/messages", key=sue,
                     json={"text": "Taking this over.", "author": "agent"})
    assert reply.status_code == 201 and reply.json()["status"] == "waiting_on_customer"


# --- input that must be refused -----------------------------------------------------------


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00Z", "2024-01-01T00:00:00Z",
                                        "2026-03-02T11:00:00Z", 0, 1_700_000_000, True])
def test_api_created_at_must_be_a_recent_iso_time(api: Api, created_at: Any) -> None:
    body = assert_error(api.call("POST", "/v1/tickets",
                                 json={"text": CALM, "created_at": created_at}), 422)
    assert "created_at" in body["error"]
    case = api.ticket(CALM)["case_number"]
    assert_error(api.call("POST", f"/v1/tickets/{case}/messages",
                          json={"text": "again", "created_at": created_at}), 422)


def test_api_created_at_in_the_last_year_is_taken(api: Api) -> None:
    from datetime import UTC, datetime

    made = api.ticket(CALM, created_at="2025-06-01T08:00:00+02:00")
    since = datetime.fromisoformat(made["waiting_since"])
    assert since == datetime(2025, 6, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize("bad", [{"labels": {"frustration": False}},
                                 {"labels": {"urgency": True}}, {"labels": {"urgency": "1"}},
                                 {"csat": "5"}, {"csat": True}, {"csat": 4.0},
                                 {"message_id": "1", "csat": 3}])
def test_api_feedback_types_are_strict(api: Api, bad: dict[str, Any]) -> None:
    case = api.ticket(CALM)["case_number"]
    assert_error(api.call("POST", f"/v1/tickets/{case}/feedback", json=bad), 422,
                 "ValidationError")


def test_api_unreadable_accent_stack_goes_to_human_triage(api: Api) -> None:
    text = "a" + "\u0301" * 19_000
    scored = api.call("POST", "/v1/score", json={"text": text}).json()["results"][0]
    assert scored["scorable"] is False and scored["frustration"] is None
    assert api.ticket(text)["lane"] == "needs_triage"


def test_api_model_shows_no_absolute_paths(tmp_path: Path, tiny_model_dir: Path) -> None:
    app = create_app(settings_for(tmp_path, sqlite_url(tmp_path), model_dir=tiny_model_dir))
    with TestClient(app) as client:
        text = client.get("/v1/model", headers={
            "Authorization": f"Bearer {Api(client).agent_key}"}).text
    assert str(tmp_path) not in text and str(tiny_model_dir) not in text
    assert '"/' not in text


def test_api_readyz_is_503_while_the_store_takes_no_writes(tmp_path: Path,
                                                         keyword_scorer: Scorer) -> None:
    import sqlite3

    app = create_app(settings_for(tmp_path, sqlite_url(tmp_path)), scorer=keyword_scorer)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        holder = sqlite3.connect(tmp_path / "triage.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            body = assert_error(client.get("/readyz"), 503, "NotReady")
            assert "store" in body["detail"] and "write" in body["detail"]["store"]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert client.get("/readyz").status_code == 200


# --- metrics ---------------------------------------------------------------------------------


def test_api_metrics_read_the_store_once_per_interval() -> None:
    from prometheus_client import generate_latest

    from triage.api.telemetry import Telemetry

    reads: list[str] = []

    def depth() -> dict[str, int]:
        reads.append("depth")
        return {"standard": 3}

    telemetry = Telemetry()
    telemetry.watch_store(depth, lambda: 0, cache_seconds=60)
    scrapes = [generate_latest(telemetry.scrape_registry()).decode() for _ in range(50)]
    assert reads == ["depth"]  # 50 scrapes, one store reading
    assert all('triage_queue_depth{lane="standard"} 3.0' in text for text in scrapes)


def test_api_metrics_reading_is_renewed_after_the_interval() -> None:
    from triage.api.telemetry import _StoreCollector

    now = [0.0]
    depths = iter([{"standard": 1}, {"standard": 2}])
    collector = _StoreCollector(lambda: next(depths), lambda: 0, 5.0, clock=lambda: now[0])
    assert collector.read()[0] == {"standard": 1}
    now[0] = 4.9
    assert collector.read()[0] == {"standard": 1}
    now[0] = 5.0
    assert collector.read()[0] == {"standard": 2}


def test_api_metrics_can_require_a_key(tmp_path: Path, keyword_scorer: Scorer) -> None:
    settings = settings_for(tmp_path, sqlite_url(tmp_path), metrics_need_key=True)
    with TestClient(create_app(settings, scorer=keyword_scorer)) as client:
        api = Api(client)
        assert_error(api.call("GET", "/metrics", key=None), 401, "AuthError")
        assert "triage_requests_in_flight" in api.call("GET", "/metrics").text
