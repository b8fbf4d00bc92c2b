"""Zammad (self-hosted): a trigger's webhook with the default `{ticket, article}` payload in,
priority, tag and an internal note back.

In: the article of a trigger such as "Action is updated/created, Article sender is
Customer"; only articles with `sender` Customer that are not `internal` and not notes.
The HTML body is stripped (quoted history dropped). The ticket's `id` (not its number) is
the case's external id. Proof: `X-Hub-Signature: sha1=<hex HMAC-SHA1(secret, raw body)>`
(the webhook's "HMAC SHA1 Signature Token"), or `Authorization: Bearer <secret>` (its
"Bearer Token"). Dedupe on `X-Zammad-Delivery` and the article id.

Back: `PUT /api/v1/tickets/<id>` with `priority_id` (TRIAGE_ZAMMAD_PRIORITY_IDS, default
low 1, normal 2, high 3, urgent 3) and, unless TRIAGE_ZAMMAD_NOTE=false, an internal note
(sender Agent, starting with "[triage]") with the scores and reason; `POST
/api/v1/tags/add` with `needs-triage`. The note's sender is Agent, so a trigger limited to
customer articles does not fire on it (and its marker is ignored if it does).
"""

from __future__ import annotations

from typing import Any

from triage.cases import CustomerFacts
from triage.connectors.base import (
    MARKER,
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
    same,
)
from triage.connectors.mapping import Level
from triage.connectors.text import plain_text

CHANNELS = {"email": "email", "phone": "phone", "web": "web", "chat": "chat", "sms": "sms"}


class Zammad(Connector):
    name = "zammad"
    title = "Zammad"

    def verify(self, hook: Webhook) -> None:
        signature = hook.header("x-hub-signature")
        if signature:
            expected = hmac_hex(self.secret, hook.body, "sha1")
            if same(signature.removeprefix("sha1="), expected):
                return
            raise refuse(self.name)
        bearer = hook.header("authorization")
        if not (bearer.lower().startswith("bearer ") and same(bearer[7:].strip(), self.secret)):
            raise refuse(self.name)

    def parse(self, payload: dict[str, Any], hook: Webhook) -> Inbound | Ignored:
        ticket, article = payload.get("ticket"), payload.get("article")
        if not isinstance(ticket, dict) or not isinstance(article, dict) or not article:
            return Ignored("no article (a ticket change without a message)")
        if article.get("sender") != "Customer":
            return Ignored(f"article sender is {article.get('sender')!r}, not Customer")
        if article.get("internal") or article.get("type") == "note":
            return Ignored("an internal note")
        number = as_id(ticket.get("id"))
        if number is None:
            return Ignored("no ticket id")
        html = "html" in str(article.get("content_type", "")).lower()
        customer = as_id(ticket.get("customer_id")) or as_id(dig(ticket, "customer", "id"))
        keys = [f"article:{article['id']}"] if as_id(article.get("id")) else []
        if hook.header("x-zammad-delivery"):
            keys.insert(0, f"delivery:{hook.header('x-zammad-delivery')}")
        return Inbound(
            source="zammad", conversation=number,
            text=plain_text(article.get("body"), html=html), keys=tuple(keys),
            channel=CHANNELS.get(str(article.get("type") or ""), "web"),
            subject=ticket.get("title"),
            customer=CustomerFacts(f"zammad:{customer}") if customer else None,
            created_at=parse_time(article.get("created_at")))

    def write_back(self, inbound: Inbound, level: Level, case: dict[str, Any]
                   ) -> list[dict[str, Any]]:
        ticket = int(inbound.conversation) if inbound.conversation.isdigit() \
            else inbound.conversation
        ids = self.settings.zammad_priority_ids
        update: dict[str, Any] = {"priority_id": ids.get(level.level, ids.get("normal", 2))}
        if self.settings.zammad_note:
            update["article"] = {"body": note(case, level), "type": "note", "internal": True,
                                 "content_type": "text/plain", "sender": "Agent"}
        calls = [{"method": "PUT", "path": f"/api/v1/tickets/{inbound.conversation}",
                  "json": update}]
        if level.needs_triage:
            calls.append({"method": "POST", "path": "/api/v1/tags/add",
                          "json": {"object": "Ticket", "o_id": ticket, "item": level.tag}})
        return calls

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Token token={self.token}"}

    def probe(self) -> str:
        return "/api/v1/users/me"

    def setup(self, webhook_url: str) -> str:
        return (f"Zammad: Settings > Manage > Webhook > New Webhook; Endpoint {webhook_url}; "
                "HMAC SHA1 Signature Token = TRIAGE_ZAMMAD_WEBHOOK_SECRET. Then Settings > "
                "Manage > Trigger > New Trigger: Conditions 'Action is updated' (and a second "
                "trigger with 'Action is created'), 'Article sender is Customer', 'Article "
                "visibility is public'; Execute: Webhook = the one above.")


def note(case: dict[str, Any], level: Level) -> str:
    """The internal note's text: case, level, scores and reason on a few lines."""
    fields = case_fields(case)
    scores = ", ".join(f"{k} {v:.2f}" for k, v in fields.items()
                       if isinstance(v, float))
    lines = [f"{MARKER} {fields['case']}: priority {level.level}"
             + (f" ({level.tag})" if level.needs_triage else ""),
             f"scores: {scores}" if scores else "scores: none (the message was not readable)",
             f"reason: {fields['reason']}" if fields.get("reason") else ""]
    return "\n".join(line for line in lines if line)
