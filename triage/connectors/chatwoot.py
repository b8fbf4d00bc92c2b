"""Chatwoot (self-hosted): the account webhook `message_created` in, priority and custom
attributes back.

In: `message_type` `incoming` (or 0) and not `private`, from a contact. The conversation's
`id` in the payload is its display id (what the API takes); with the account id it names
the case (source `chatwoot:<account>`). Proof: `X-Chatwoot-Signature: sha256=<hex
HMAC-SHA256(secret, "<X-Chatwoot-Timestamp>.<raw body>")>`, timestamps older than 5
minutes refused; installs that do not sign may put the secret in the URL (`?token=`).
Dedupe on `X-Chatwoot-Delivery` and the message id.

Back: `POST .../conversations/<id>/toggle_priority` (urgent/high/medium/low),
`POST .../custom_attributes` (scores, case, lane, reason), and the conversation's labels
plus `needs-triage` when a person must read it. None of these creates a message, so none
comes back as `message_created`.
"""

from __future__ import annotations

from typing import Any

from triage.cases import CustomerFacts
from triage.connectors.base import (
    Connector,
    Ignored,
    Inbound,
    Webhook,
    as_id,
    case_fields,
    dig,
    hmac_hex,
    parse_time,
    refuse,
    require_fresh,
    same,
)
from triage.connectors.mapping import Level
from triage.connectors.text import plain_text

PRIORITIES = {"low": "low", "normal": "medium", "high": "high", "urgent": "urgent"}
INCOMING = ("incoming", 0, "0")


class Chatwoot(Connector):
    name = "chatwoot"
    title = "Chatwoot"

    def verify(self, hook: Webhook) -> None:
        signature = hook.header("x-chatwoot-signature")
        if not signature:
            if not same(hook.query.get("token", ""), self.secret):
                raise refuse(self.name)
            return
        stamp = hook.header("x-chatwoot-timestamp")
        require_fresh(stamp, hook.received, "X-Chatwoot-Timestamp")
        expected = hmac_hex(self.secret, stamp.encode() + b"." + hook.body, "sha256")
        if not same(signature.removeprefix("sha256="), expected):
            raise refuse(self.name)

    def parse(self, payload: dict[str, Any], hook: Webhook) -> Inbound | Ignored:
        if payload.get("event") != "message_created":
            return Ignored(f"event {payload.get('event')!r} is not message_created")
        if payload.get("message_type") not in INCOMING:
            return Ignored("not an incoming message (agent, bot or activity)")
        if payload.get("private"):
            return Ignored("a private note")
        if dig(payload, "sender", "type") not in (None, "contact"):
            return Ignored("not sent by a contact")
        account = as_id(dig(payload, "account", "id"))
        convo = payload.get("conversation") or {}
        number = as_id(convo.get("display_id", convo.get("id")))
        if account is None or number is None:
            return Ignored("no account or conversation id")
        return Inbound(
            source=f"chatwoot:{account}", conversation=number,
            text=plain_text(payload.get("content")), keys=_keys(payload, hook),
            channel="email" if "Email" in str(convo.get("channel", "")) else "chat",
            customer=_customer(account, payload), created_at=parse_time(
                payload.get("created_at")),
            context={"account": account, "labels": list(convo.get("labels") or [])})

    def write_back(self, inbound: Inbound, level: Level, case: dict[str, Any]
                   ) -> list[dict[str, Any]]:
        base = (f"/api/v1/accounts/{inbound.context['account']}/conversations/"
                f"{inbound.conversation}")
        attributes = {f"triage_{k}": v for k, v in case_fields(case).items()}
        calls = [
            {"method": "POST", "path": f"{base}/toggle_priority",
             "json": {"priority": PRIORITIES[level.level]}},
            {"method": "POST", "path": f"{base}/custom_attributes",
             "json": {"custom_attributes": attributes}},
        ]
        if level.needs_triage:
            labels = sorted({*inbound.context.get("labels", []), level.tag})
            calls.append({"method": "POST", "path": f"{base}/labels",
                          "json": {"labels": labels}})
        return calls

    def headers(self) -> dict[str, str]:
        return {"api_access_token": self.token}

    def probe(self) -> str:
        return "/api/v1/profile"

    def setup(self, webhook_url: str) -> str:
        return (f"Chatwoot: Settings > Integrations > Webhooks > Add new webhook; URL "
                f"{webhook_url}; events: Message created. Copy the webhook's secret into "
                "TRIAGE_CHATWOOT_WEBHOOK_SECRET.")


def _keys(payload: dict[str, Any], hook: Webhook) -> tuple[str, ...]:
    keys = []
    if hook.header("x-chatwoot-delivery"):
        keys.append(f"delivery:{hook.header('x-chatwoot-delivery')}")
    if as_id(payload.get("id")):
        keys.append(f"message:{dig(payload, 'account', 'id')}:{payload['id']}")
    return tuple(keys)


def _customer(account: str, payload: dict[str, Any]) -> CustomerFacts | None:
    contact = as_id(dig(payload, "sender", "id")) or as_id(
        dig(payload, "conversation", "contact_inbox", "contact_id"))
    return CustomerFacts(f"chatwoot:{account}:{contact}") if contact else None
