"""Payloads, signatures and a running app for the connector tests.

Each vendor's payload starts from its fixture (tests/fixtures/connectors/<name>.json,
written from the vendor's documented webhook schema); `message()` sets the text, the
message id and the conversation; `agent()` and `echo()` make what must be ignored;
`sign()` adds the vendor's proof headers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "connectors"
SECRET = "whsec-test-0123456789"
TOKEN = "api-token-abcdef"
NAMES = ("chatwoot", "zammad", "zendesk", "freshdesk")


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def message(name: str, text: str, *, msg: int = 1, convo: int = 128,
            html: bool = False) -> dict[str, Any]:
    """The vendor's customer-message payload with this text, message id and conversation."""
    p = copy.deepcopy(fixture(name))
    body = f"<div>{text}</div>" if html else text
    if name == "chatwoot":
        p.update(content=body, id=msg)
        p["conversation"]["id"] = convo
    elif name == "zammad":
        p["article"].update(body=body, id=msg, content_type="text/html" if html else "text/plain")
        p["ticket"]["id"] = p["article"]["ticket_id"] = convo
    elif name == "zendesk":
        p["event"]["comment"].update(body=body, id=str(msg))
        p["detail"]["id"] = str(convo)
        p["id"] = f"evt-{msg}"
    else:
        p["freshdesk_webhook"].update(ticket_latest_public_comment=body, ticket_id=convo)
    return p


def agent(name: str, text: str = "We refunded you, sorry!", **kw: Any) -> dict[str, Any]:
    """An agent's reply or note on the conversation: must be ignored."""
    p = message(name, text, **kw)
    if name == "chatwoot":
        p.update(message_type="outgoing")
        p["sender"] = {"id": 2, "name": "Agent Smith", "type": "user"}
    elif name == "zammad":
        p["article"].update(sender="Agent", internal=True, type="note")
    elif name == "zendesk":
        p["event"]["comment"]["author"]["is_staff"] = True
    else:  # Freshdesk: the rule only fires for customers; a reply without text is empty
        p["freshdesk_webhook"].update(ticket_latest_public_comment="", ticket_description="")
    return p


def echo(name: str, **kw: Any) -> dict[str, Any]:
    """Our own write-back coming back in (a note starting with the marker)."""
    from triage.connectors.base import MARKER

    return message(name, f"{MARKER} CS-2026-000001: priority urgent", **kw)


def sign(name: str, body: bytes, *, secret: str = SECRET, at: float | None = None,
         delivery: str | None = None) -> dict[str, str]:
    """The proof headers the vendor sends with `body`."""
    ts = str(int(at if at is not None else time.time()))
    delivery = delivery or uuid.uuid4().hex
    headers = {"content-type": "application/json"}
    if name == "chatwoot":
        mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers.update({"x-chatwoot-signature": f"sha256={mac}", "x-chatwoot-timestamp": ts,
                        "x-chatwoot-delivery": delivery})
    elif name == "zammad":
        mac = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        headers.update({"x-hub-signature": f"sha1={mac}", "x-zammad-delivery": delivery,
                        "x-zammad-trigger": "triage"})
    elif name == "zendesk":
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))
        mac = hmac.new(secret.encode(), iso.encode() + body, hashlib.sha256).digest()
        headers.update({"x-zendesk-webhook-signature": base64.b64encode(mac).decode(),
                        "x-zendesk-webhook-signature-timestamp": iso,
                        "x-zendesk-webhook-id": "01GXYZ"})
    else:
        headers["x-triage-key"] = secret
    return headers


def settings_for(tmp_path: Path, database_url: str, url: str, **kw: Any) -> Any:
    """Settings with every connector pointed at the stand-in, worker left to the test."""
    from triage.settings import Settings

    conf: dict[str, Any] = {}
    for name in NAMES:
        conf.update({f"{name}_url": url, f"{name}_api_token": TOKEN,
                     f"{name}_webhook_secret": SECRET})
    conf.update(kw)
    return Settings(home=tmp_path, database_url=database_url, sweep_seconds=0,
                    auto_migrate=False, connector_worker=False, connector_timeout_seconds=5.0,
                    outbox_retry_seconds=1.0, **conf)


class Hooks:
    """Posts vendor webhooks to a running app and reads back what the store holds."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.service = client.app.state.service

    def post(self, name: str, payload: dict[str, Any] | bytes, **sign_kw: Any) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = sign(name, body, **sign_kw)
        return self.client.post(f"/v1/connectors/{name}", content=body, headers=headers)

    def deliver(self) -> int:
        return int(self.service.worker.run_once())

    def counts(self) -> tuple[int, int, int, int]:
        """(tickets, messages, outbox rows, delivery keys) in the store."""
        from sqlalchemy import func, select

        from triage.store.tables import ConnectorDelivery, Message, OutboxEntry, Ticket

        with self.service.db.read() as s:
            return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[return-value]
                         for t in (Ticket, Message, OutboxEntry, ConnectorDelivery))

    def outbox(self) -> list[Any]:
        from triage.store import outbox

        with self.service.db.read() as s:
            return outbox.entries(s)
