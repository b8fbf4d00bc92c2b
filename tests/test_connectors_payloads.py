"""Vendor payloads as they come: HTML, attachments only, emoji, very long text, optional
fields missing, unknown fields added; and the pure parts (text, proofs, mapping)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from connector_helpers import NAMES, Hooks, fixture, message

from triage.connectors.base import Webhook, parse_time, require_fresh
from triage.connectors.mapping import PriorityMap
from triage.connectors.text import plain_text
from triage.errors import AuthError, InputError

LONG = "I am annoyed. " + "The parcel never came and nobody answers my emails. " * 1000


def attachments_only(name: str) -> dict[str, Any]:
    p = message(name, "", convo=2, msg=2)
    if name == "chatwoot":
        p.update(content=None, attachments=[{"id": 9, "file_type": "image",
                                             "data_url": "https://cw.example/a.png"}])
    elif name == "zammad":
        p["article"]["attachments"] = [{"id": 9, "filename": "a.png", "size": "1234"}]
    elif name == "freshdesk":
        p["freshdesk_webhook"]["ticket_description"] = ""
    return p


def sparse(name: str) -> dict[str, Any]:
    """Only what the connector cannot do without."""
    p = message(name, "Hi, my order is late, can you check it please?", convo=4, msg=4)
    if name == "chatwoot":
        p = {"event": p["event"], "id": p["id"], "content": p["content"],
             "message_type": "incoming", "conversation": {"id": 4}, "account": {"id": 1}}
    elif name == "zammad":
        p = {"ticket": {"id": 4}, "article": {"id": p["article"]["id"], "sender": "Customer",
                                              "body": p["article"]["body"]}}
    elif name == "zendesk":
        p = {"type": p["type"], "detail": {"id": "4"},
             "event": {"comment": {"id": "77", "body": p["event"]["comment"]["body"]}}}
    else:
        p = {"freshdesk_webhook": {"ticket_id": 4, "ticket_latest_public_comment":
                                   p["freshdesk_webhook"]["ticket_latest_public_comment"]}}
    return p


def extra(name: str) -> dict[str, Any]:
    p = message(name, "Hello, is there an update on my refund?", convo=5, msg=5)
    p["zz_added_in_a_later_version"] = {"nested": [1, 2, {"x": None}]}
    inner = {"chatwoot": "conversation", "zammad": "ticket", "zendesk": "detail",
             "freshdesk": "freshdesk_webhook"}[name]
    p[inner]["zz_new_field"] = "whatever"
    return p


@pytest.mark.parametrize("name", NAMES)
def test_connectors_payload_variants(name: str, hooks: Hooks) -> None:
    html = hooks.post(name, message(name, "I am <b>furious</b> &amp; upset", html=True,
                                    convo=1)).json()
    assert _last_text(hooks, html) == "I am furious & upset"
    assert hooks.post(name, attachments_only(name)).json()["status"] == "ignored"
    emoji = hooks.post(name, message(name, "Still waiting 😡😡 for my refund 💸", convo=3,
                                     msg=3)).json()
    assert _last_text(hooks, emoji) == "Still waiting 😡😡 for my refund 💸"
    for payload in (sparse(name), extra(name)):
        r = hooks.post(name, payload)
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    long = hooks.post(name, message(name, LONG, convo=6, msg=6)).json()
    assert len(_last_text(hooks, long)) == hooks.service.settings.max_text_chars
    tickets, messages, _, _ = hooks.counts()
    assert (tickets, messages) == (5, 5)


def test_connectors_zammad_drops_quoted_history(hooks: Hooks) -> None:
    out = hooks.post("zammad", fixture("zammad")).json()
    assert _last_text(hooks, out) == ("I am furious, this is unacceptable.\n"
                                      "I will cancel my subscription.")


def test_connectors_chatwoot_accepts_the_url_token_for_unsigned_installs(hooks: Hooks) -> None:
    body = b'{"event": "message_created", "id": 1, "content": "Where is my order?", ' \
           b'"message_type": "incoming", "conversation": {"id": 9}, "account": {"id": 1}}'
    ok = hooks.client.post("/v1/connectors/chatwoot?token=whsec-test-0123456789",
                           content=body)
    bad = hooks.client.post("/v1/connectors/chatwoot?token=guess", content=body)
    assert ok.json()["status"] == "accepted" and bad.status_code == 401


@pytest.mark.parametrize("html, text", [
    ("<p>Hello<br>world</p><script>alert(1)</script>", "Hello\nworld"),
    ("<div>a &lt; b &amp; c</div>", "a < b & c"),
    ("plain <3 text", "plain <3 text"),
    ("", ""),
])
def test_connectors_plain_text(html: str, text: str) -> None:
    assert plain_text(html) == text


def test_connectors_timestamps_must_be_fresh() -> None:
    now = time.time()
    require_fresh(str(int(now) - 10), now, "ts")
    require_fresh(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 10)), now, "ts")
    for stale in (str(int(now) - 301), "", "yesterday", str(int(now) + 400)):
        with pytest.raises(AuthError):
            require_fresh(stale, now, "ts")
    assert parse_time("2026-03-02 08:59:30 UTC") is not None


def test_connectors_webhook_headers_are_case_insensitive() -> None:
    hook = Webhook({"x-a": "1"}, {}, b"", 0.0)
    assert hook.header("X-A") == "1" and hook.header("x-b") == ""


@pytest.mark.parametrize("case, level, tagged", [
    ({"lane": "supervisor", "scorable": True, "priority": {"lane": "supervisor",
                                                            "boost_minutes": 0}}, "urgent", False),
    ({"lane": "needs_triage", "scorable": False, "priority": {"lane": "needs_triage",
                                                               "boost_minutes": 0}}, "normal", True),
    ({"lane": "standard", "scorable": True, "priority": {"lane": "standard",
                                                          "boost_minutes": 75}}, "high", False),
    ({"lane": "standard", "scorable": True, "priority": {"lane": "standard",
                                                          "boost_minutes": 30}}, "normal", False),
    ({"lane": "standard", "scorable": True, "priority": {"lane": "standard",
                                                          "boost_minutes": 5}}, "low", False),
])
def test_connectors_priority_mapping(case: dict[str, Any], level: str, tagged: bool) -> None:
    got = PriorityMap().level(case)
    assert (got.level, got.needs_triage) == (level, tagged)


def test_connectors_priority_mapping_is_configurable_and_checked() -> None:
    custom = PriorityMap.from_dict({"high_minutes": 10, "normal_minutes": 5,
                                   "unscorable_level": "high"})
    assert custom.level({"lane": "standard", "scorable": True,
                         "priority": {"boost_minutes": 12}}).level == "high"
    with pytest.raises(InputError, match="never gets the lowest"):
        PriorityMap.from_dict({"unscorable_level": "low"})
    with pytest.raises(InputError, match="unknown"):
        PriorityMap.from_dict({"hihg_minutes": 3})


def _last_text(hooks: Hooks, out: dict[str, Any]) -> str:
    assert out["status"] == "accepted", out
    case = hooks.service.cases.get(out["case_number"])
    return str(case["messages"][-1]["text"])


def test_connectors_zendesk_ticket_created_takes_the_description(hooks: Hooks) -> None:
    p = fixture("zendesk")
    p.update(type="zen:event-type:ticket.created", id="evt-created")
    del p["event"]
    p["detail"]["description"] = "<p>Where is my <i>parcel</i>?</p>"
    out = hooks.post("zendesk", p).json()
    assert _last_text(hooks, out) == "Where is my parcel?"
    # the first comment of the same ticket, sent as comment_added too, is the same message
    again = message("zendesk", "Where is my parcel?", convo=5158, msg=9)
    assert hooks.post("zendesk", again).json()["status"] == "duplicate"


def test_connectors_zammad_accepts_its_bearer_token(hooks: Hooks) -> None:
    import json as _json

    body = _json.dumps(message("zammad", "Hello, my invoice is wrong.")).encode()
    ok = hooks.client.post("/v1/connectors/zammad", content=body,
                           headers={"authorization": "Bearer whsec-test-0123456789"})
    bad = hooks.client.post("/v1/connectors/zammad", content=body,
                            headers={"authorization": "Bearer nope"})
    assert ok.json()["status"] == "accepted" and bad.status_code == 401
