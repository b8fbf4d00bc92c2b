"""Zendesk: the webhook of a ticket-event subscription (`ticket.comment_added`, and
`ticket.created`) in, priority, tag and custom fields back.

In: Zendesk's fixed event schema (no template to write): `type`, `id` (the event id),
`detail` (the ticket: id, subject, requester_id, tags, ...) and `event.comment` (id, body,
is_public, author.is_staff). Only public comments by non-staff authors are taken in.
Proof: `X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp + raw body))`
with `X-Zendesk-Webhook-Signature-Timestamp`, stale timestamps refused. Dedupe on the
event id and the comment id.

Back: one `PUT /api/v2/tickets/<id>.json` with `priority` (urgent/high/normal/low),
`additional_tags: [needs-triage]` when a person must read it, and `custom_fields` for the
field ids in TRIAGE_ZENDESK_FIELDS (e.g. {"frustration": 360001, "reason": 360004}). The
update adds no comment, so it raises no `comment_added` event.
"""

from __future__ import annotations

import base64
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
    hmac_b64,
    parse_time,
    refuse,
    require_fresh,
    same,
)
from triage.connectors.mapping import Level
from triage.connectors.text import plain_text

COMMENT = "zen:event-type:ticket.comment_added"
CREATED = "zen:event-type:ticket.created"
CHANNELS = {"email": "email", "web": "web", "voice": "phone", "chat": "chat",
            "native_messaging": "chat", "api": "api", "web_service": "api"}


class Zendesk(Connector):
    name = "zendesk"
    title = "Zendesk"

    def verify(self, hook: Webhook) -> None:
        signature = hook.header("x-zendesk-webhook-signature")
        stamp = hook.header("x-zendesk-webhook-signature-timestamp")
        if not signature:
            raise refuse(self.name)
        require_fresh(stamp, hook.received, "X-Zendesk-Webhook-Signature-Timestamp")
        if not same(signature, hmac_b64(self.secret, stamp.encode() + hook.body)):
            raise refuse(self.name)

    def parse(self, payload: dict[str, Any], hook: Webhook) -> Inbound | Ignored:
        kind = payload.get("type")
        detail = payload.get("detail") or {}
        number = as_id(dig(detail, "id"))
        if kind not in (COMMENT, CREATED) or number is None:
            return Ignored(f"event {kind!r} is not a comment or a new ticket")
        if kind == COMMENT:
            comment = dig(payload, "event", "comment") or {}
            if not comment.get("is_public", True):
                return Ignored("a private comment")
            if dig(comment, "author", "is_staff"):
                return Ignored("a comment by an agent")
            text, key = comment.get("body"), f"comment:{comment.get('id')}"
        else:
            text, key = detail.get("description"), f"ticket:{number}"
        requester = as_id(detail.get("requester_id"))
        keys = tuple(k for k in (f"event:{payload.get('id')}" if payload.get("id") else "",
                                 key) if k)
        return Inbound(
            source="zendesk", conversation=number, text=plain_text(text), keys=keys,
            channel=CHANNELS.get(str(dig(detail, "via", "channel") or ""), "web"),
            subject=detail.get("subject"),
            customer=CustomerFacts(f"zendesk:{requester}") if requester else None,
            created_at=parse_time(payload.get("time")),
            context={"tags": list(detail.get("tags") or [])})

    def write_back(self, inbound: Inbound, level: Level, case: dict[str, Any]
                   ) -> list[dict[str, Any]]:
        ticket: dict[str, Any] = {"priority": level.level}
        if level.needs_triage:
            ticket["additional_tags"] = [level.tag]
        values = case_fields(case)
        fields = [{"id": fid, "value": values.get(name)}
                  for name, fid in self.settings.zendesk_fields.items() if name in values]
        if fields:
            ticket["custom_fields"] = fields
        return [{"method": "PUT", "path": f"/api/v2/tickets/{inbound.conversation}.json",
                 "json": {"ticket": ticket}}]

    def headers(self) -> dict[str, str]:
        email = self.settings.zendesk_email
        if not email:
            return {"authorization": f"Bearer {self.token}"}
        raw = f"{email}/token:{self.token}".encode()
        return {"authorization": f"Basic {base64.b64encode(raw).decode()}"}

    def probe(self) -> str:
        return "/api/v2/users/me.json"

    def setup(self, webhook_url: str) -> str:
        return (f"Zendesk: Admin Center > Apps and integrations > Webhooks > Create webhook > "
                "Zendesk events: 'Ticket comment added' and 'Ticket created'; Endpoint URL "
                f"{webhook_url}, method POST, JSON. After creating it, 'Reveal secret' and "
                "put it in TRIAGE_ZENDESK_WEBHOOK_SECRET.")
