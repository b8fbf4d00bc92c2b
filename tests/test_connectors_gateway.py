"""Each connector end to end against the stand-in helpdesk, on both stores: a vendor
webhook in, scored, its case kept, the priority written back; redeliveries, bad
signatures, our own echoes and agent replies change nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from connector_helpers import NAMES, SECRET, TOKEN, Hooks, agent, echo, message, settings_for
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.scoring import Scorer

if TYPE_CHECKING:
    from helpdesk_standin import Standin

ANGRY = "Our whole shop is down, outage for all customers! I am furious, this is unacceptable."
CALM = "Hello, could you tell me how to change the delivery address on my order?"
CALM_2 = "Thanks. Also, where can I find last month's invoice please?"
UNREADABLE = "🙂🙂🙂 ... !!!"

EXPECTED_URGENT = {
    "chatwoot": ("POST", "/api/v1/accounts/1/conversations/128/toggle_priority",
                 {"priority": "urgent"}),
    "zammad": ("PUT", "/api/v1/tickets/128", {"priority_id": 3}),
    "zendesk": ("PUT", "/api/v2/tickets/128.json", {"ticket": {"priority": "urgent"}}),
    "freshdesk": ("PUT", "/api/v2/tickets/128", {"priority": 4}),
}
AUTH = {
    "chatwoot": ("api_access_token", TOKEN),
    "zammad": ("authorization", f"Token token={TOKEN}"),
    "zendesk": ("authorization", f"Bearer {TOKEN}"),
    "freshdesk": ("authorization", "Basic YXBpLXRva2VuLWFiY2RlZjpY"),
}


@pytest.mark.parametrize("name", NAMES)
def test_connectors_message_in_scored_case_kept_written_back(
        name: str, hooks: Hooks, standin: Standin) -> None:
    r = hooks.post(name, message(name, ANGRY))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "accepted" and out["created"] and out["write_back"]
    case = hooks.service.cases.get(out["case_number"])
    assert case["external_id"] == "128" and case["source"].startswith(name)
    assert case["lane"] == "supervisor" and case["scores"]["frustration"] > 0.9
    assert hooks.deliver() == 1
    method, path, body = EXPECTED_URGENT[name]
    first = standin.answered[0]
    assert (first.method, first.path) == (method, path)
    assert _contains(first.json, body), first.json
    header, value = AUTH[name]
    assert first.headers[header] == value
    (row,) = hooks.outbox()
    assert row.state == "done" and row.step == len(row.requests)


@pytest.mark.parametrize("name", NAMES)
def test_connectors_redelivery_and_replays_change_nothing(name: str, hooks: Hooks) -> None:
    payload = message(name, ANGRY)
    assert hooks.post(name, payload, delivery="d-1").json()["status"] == "accepted"
    before = hooks.counts()
    again = hooks.post(name, payload, delivery="d-1")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    resent = hooks.post(name, payload, delivery="d-2")  # the helpdesk sends it again
    assert resent.json()["status"] == "duplicate"
    assert hooks.counts() == before


@pytest.mark.parametrize("name", NAMES)
def test_connectors_bad_or_missing_proof_is_401_and_stores_nothing(
        name: str, hooks: Hooks) -> None:
    body = json.dumps(message(name, ANGRY)).encode()
    wrong = hooks.post(name, body, secret="not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error_type"] == "AuthError"
    bare = hooks.client.post(f"/v1/connectors/{name}", content=body,
                             headers={"content-type": "application/json"})
    assert bare.status_code == 401
    assert SECRET not in wrong.text and SECRET not in bare.text
    assert hooks.counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("name", ["chatwoot", "zendesk"])
def test_connectors_stale_timestamps_are_refused(name: str, hooks: Hooks) -> None:
    r = hooks.post(name, message(name, ANGRY), at=time.time() - 301)
    assert r.status_code == 401 and "300 s" in r.json()["error"]
    assert hooks.counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("name", NAMES)
def test_connectors_agent_replies_and_our_echoes_store_nothing(
        name: str, hooks: Hooks) -> None:
    for payload in (agent(name), echo(name)):
        r = hooks.post(name, payload)
        assert r.status_code == 200 and r.json()["status"] == "ignored", r.text
    assert hooks.counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("name", NAMES)
def test_connectors_later_messages_join_the_case_and_write_back_on_change(
        name: str, hooks: Hooks, standin: Standin) -> None:
    first = hooks.post(name, message(name, CALM, msg=1)).json()
    hooks.deliver()  # sent before the next change (else the newer one supersedes it)
    second = hooks.post(name, message(name, CALM_2, msg=2)).json()
    assert second["status"] == "accepted" and not second["created"]
    assert second["case_number"] == first["case_number"]
    assert first["write_back"] and not second["write_back"]  # still low: nothing to write
    third = hooks.post(name, message(name, ANGRY, msg=3)).json()
    assert third["case_number"] == first["case_number"] and third["write_back"]
    case = hooks.service.cases.get(first["case_number"])
    assert [m["author"] for m in case["messages"]] == ["customer"] * 3
    assert case["trend"] == "worsening"
    hooks.deliver()
    priorities = [_priority(name, r.json) for r in standin.answered]
    assert [p for p in priorities if p is not None] == (
        ["low", "urgent"] if name in ("chatwoot", "zendesk") else
        {"zammad": [1, 3], "freshdesk": [1, 4]}[name])


@pytest.mark.parametrize("name", NAMES)
def test_connectors_unreadable_message_gets_needs_triage_never_lowest(
        name: str, hooks: Hooks, standin: Standin) -> None:
    out = hooks.post(name, message(name, UNREADABLE)).json()
    assert out["status"] == "accepted"
    hooks.deliver()
    sent = json.dumps([r.json for r in standin.answered])
    assert "needs-triage" in sent
    priorities = [_priority(name, r.json) for r in standin.answered]
    assert any(p in ("medium", "normal", 2) for p in priorities), priorities


@pytest.mark.parametrize("name", NAMES)
def test_connectors_unconfigured_connector_is_off(name: str, tmp_path: Path,
                                                  database_url: str,
                                                  keyword_scorer: Scorer) -> None:
    settings = settings_for(tmp_path, database_url, "http://127.0.0.1:9",
                            **{f"{name}_webhook_secret": None})
    with TestClient(create_app(settings, scorer=keyword_scorer)) as client:
        r = Hooks(client).post(name, message(name, ANGRY))
    assert r.status_code == 404
    assert f"TRIAGE_{name.upper()}_WEBHOOK_SECRET" in r.json()["error"]


def _contains(got: Any, want: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _contains(got[k], v)
                                             for k, v in want.items())
    return bool(got == want)


def _priority(name: str, body: Any) -> Any:
    if not isinstance(body, dict):
        return None
    if name == "zendesk":
        return body.get("ticket", {}).get("priority")
    return body.get({"chatwoot": "priority", "zammad": "priority_id",
                     "freshdesk": "priority"}[name])
