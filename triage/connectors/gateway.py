"""Webhooks in: verify, drop redeliveries, parse, take the message into its case, and put the
write-back in the outbox in the same transaction.

    webhook -> connector.verify (401) -> seen delivery? (duplicate)
            -> connector.parse (ignored: agent reply, note, other event, our own echo)
            -> Cases.intake(..., then=record)  -- one transaction:
                   case + message + scores, delivery keys, outbox row if the level changed

The write-back itself never runs here: the worker (`worker.py`) sends it, so the webhook
is answered as soon as the message is scored and stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from triage.cases import Cases, NewTicket, utcnow
from triage.connectors.base import MARKER, Connector, Ignored, Inbound, Webhook
from triage.connectors.mapping import PriorityMap
from triage.errors import AuthError, InputError, NotFound
from triage.store import Database, outbox
from triage.store.database import DuplicateRow

log = logging.getLogger("triage.connectors")


class Gateway:
    """The connectors of one process, and what happens to their webhooks.

    Args:
        connectors: every registered connector, configured or not.
        cases: the case service (its store holds the outbox too).
        mapping: lane and position to helpdesk priority level.
        max_chars: longer messages are cut to this (the helpdesk cannot shorten them).
        on_result: called with (connector, result) for every webhook (metrics).
    """

    def __init__(self, connectors: Iterable[Connector], cases: Cases, mapping: PriorityMap,
                 *, max_chars: int = 20_000,
                 clock: Callable[[], datetime] = utcnow,
                 on_result: Callable[[str, str], None] | None = None) -> None:
        self.connectors = {c.name: c for c in connectors}
        self.cases = cases
        self.db: Database = cases.db
        self.mapping = mapping
        self.max_chars = max_chars
        self.clock = clock
        self.on_result = on_result

    def get(self, name: str) -> Connector:
        """An enabled connector, or NotFound saying what to configure."""
        connector = self.connectors.get(name)
        if connector is None:
            raise NotFound(f"no connector {name!r}; expected one of {sorted(self.connectors)}")
        if not connector.enabled:
            raise NotFound(f"the {name} connector is off; set {', '.join(connector.missing())}")
        return connector

    def receive(self, name: str, hook: Webhook) -> dict[str, Any]:
        """Handle one webhook; returns {"status": accepted|duplicate|ignored, ...}."""
        connector = self.get(name)
        try:
            connector.verify(hook)
        except AuthError:
            self._count(name, "refused")
            raise
        result = self._receive(connector, hook)
        self._count(name, result["status"])
        return result

    def _count(self, name: str, result: str) -> None:
        if self.on_result is not None:
            self.on_result(name, result)

    def _receive(self, connector: Connector, hook: Webhook) -> dict[str, Any]:
        parsed = connector.parse(_json(hook.body), hook)
        if isinstance(parsed, Ignored):
            return {"status": "ignored", "reason": parsed.reason}
        if parsed.text.startswith(MARKER):
            return {"status": "ignored", "reason": "our own write-back"}
        if not parsed.text.strip():
            return {"status": "ignored", "reason": "no text (attachments only)"}
        with self.db.read() as s:
            if outbox.seen(s, connector.name, list(parsed.keys)):
                return {"status": "duplicate"}
        return self._intake(connector, parsed)

    def _intake(self, connector: Connector, inbound: Inbound) -> dict[str, Any]:
        queued: list[int] = []
        new = NewTicket(text=inbound.text[:self.max_chars], channel=inbound.channel,
                        subject=inbound.subject, source=inbound.source,
                        external_id=inbound.conversation, created_at=inbound.created_at,
                        customer=inbound.customer)

        def record(s: Any, ticket: Any, case: dict[str, Any]) -> None:
            queued.extend(self._record(s, connector, inbound, ticket.id, case))

        try:
            out = self.cases.intake(new, f"connector:{connector.name}", then=record)
        except DuplicateRow:  # the same delivery, taken in by a concurrent request
            return {"status": "duplicate"}
        status = "accepted" if out.created or out.appended else "duplicate"
        return {"status": status, "case_number": out.case["case_number"],
                "created": out.created, "write_back": bool(queued)}

    def _record(self, s: Any, connector: Connector, inbound: Inbound, ticket_id: int,
                case: dict[str, Any]) -> list[int]:
        now = self.clock()
        outbox.remember(s, connector.name, list(inbound.keys), now)
        level = self.mapping.level(case)
        if outbox.last_priority(s, connector.name, inbound.target) == level.key:
            return []
        calls = connector.write_back(inbound, level, case)
        row = outbox.enqueue(s, connector=connector.name, target=inbound.target,
                             ticket_id=ticket_id, priority=level.key, requests=calls, now=now)
        return [row.id]


def outbox_state(db: Database, limit: int = 50) -> dict[str, Any]:
    """Write-backs per connector and state, and the newest dead letters (API, CLI)."""
    with db.read() as s:
        dead = [{"id": r.id, "connector": r.connector, "target": r.target,
                 "attempts": r.attempts, "last_status": r.last_status,
                 "last_error": r.last_error, "updated_at": r.updated_at.isoformat()}
                for r in outbox.dead_letters(s, limit)]
        return {"counts": outbox.counts(s), "dead": dead}


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the webhook body is not JSON ({exc}); send the helpdesk's "
                         "default payload") from None
    if not isinstance(payload, dict):
        raise InputError(f"the webhook body is a JSON {type(payload).__name__}; expected an "
                         "object")
    return payload
