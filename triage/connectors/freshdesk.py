"""Freshdesk: an automation rule's webhook in, priority, tag and custom fields back.

In: the rule's "Trigger webhook" action with Content "Simple" (Freshdesk builds the JSON and
escapes it): `{"freshdesk_webhook": {"ticket_id", "ticket_subject", "ticket_description",
"ticket_latest_public_comment", "ticket_tags", ...}}`. The message is the latest public
comment, or the description for a new ticket. Freshdesk does not sign webhooks: the rule
sends a custom header `X-Triage-Key: <TRIAGE_FRESHDESK_WEBHOOK_SECRET>`. Dedupe on the
ticket id and the text (Freshdesk sends no message id).

Back: `PUT /api/v2/tickets/<id>` with `priority` (1 low .. 4 urgent), the ticket's tags
plus `needs-triage` when a person must read it, and `custom_fields` named in
TRIAGE_FRESHDESK_FIELDS (e.g. {"frustration": "cf_triage_frustration"}). The rule's
condition "Performed by: Customer" keeps our update (performed by the API agent) out.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from triage.connectors.base import (
    Connector,
    Ignored,
    Inbound,
    Webhook,
    as_id,
    case_fields,
    refuse,
    same,
)
from triage.connectors.mapping import Level
from triage.connectors.text import plain_text

PRIORITIES = {"low": 1, "normal": 2, "high": 3, "urgent": 4}


class Freshdesk(Connector):
    name = "freshdesk"
    title = "Freshdesk"

    def verify(self, hook: Webhook) -> None:
        key = hook.header("x-triage-key")
        bearer = hook.header("authorization")
        if not key and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        if not key or not same(key, self.secret):
            raise refuse(self.name)

    def parse(self, payload: dict[str, Any], hook: Webhook) -> Inbound | Ignored:
        data = payload.get("freshdesk_webhook")
        if not isinstance(data, dict):
            return Ignored("no freshdesk_webhook object (use the rule's Simple content)")
        number = as_id(data.get("ticket_id"))
        if number is None:
            return Ignored("no ticket_id")
        text = plain_text(data.get("ticket_latest_public_comment")) or plain_text(
            data.get("ticket_description"))
        digest = hashlib.sha256(text.encode()).hexdigest()[:24]
        tags = data.get("ticket_tags") or []
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        return Inbound(source="freshdesk", conversation=number, text=text,
                       keys=(f"ticket:{number}:{digest}",), channel="email",
                       subject=data.get("ticket_subject"), context={"tags": list(tags)})

    def write_back(self, inbound: Inbound, level: Level, case: dict[str, Any]
                   ) -> list[dict[str, Any]]:
        update: dict[str, Any] = {"priority": PRIORITIES[level.level]}
        if level.needs_triage:
            update["tags"] = sorted({*inbound.context.get("tags", []), level.tag})
        values = case_fields(case)
        fields = {name: values.get(key) for key, name in self.settings.freshdesk_fields.items()
                  if key in values}
        if fields:
            update["custom_fields"] = fields
        return [{"method": "PUT", "path": f"/api/v2/tickets/{inbound.conversation}",
                 "json": update}]

    def headers(self) -> dict[str, str]:
        raw = f"{self.token}:X".encode()
        return {"authorization": f"Basic {base64.b64encode(raw).decode()}"}

    def probe(self) -> str:
        return "/api/v2/agents/me"

    def setup(self, webhook_url: str) -> str:
        return ("Freshdesk: Admin > Workflows > Automations > Ticket updates (and Ticket "
                "creation) > New rule; When 'Reply is sent' / 'Ticket is created', Performed by "
                "'Customer'; Action 'Trigger webhook': POST "
                f"{webhook_url}, Custom headers: X-Triage-Key: <TRIAGE_FRESHDESK_WEBHOOK_"
                "SECRET>, Content: Simple, with Ticket ID, Subject, Description, Latest public "
                "comment, Tags.")
