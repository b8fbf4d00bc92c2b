"""Helpdesk connectors: a helpdesk's own webhook in, the priority and scores written back.

A connector is one module with one `Connector` subclass (base.py), registered in
`CONNECTORS` below: a new helpdesk is one module and one line. `Gateway` takes webhooks in
(verify, dedupe, parse, intake and outbox in one transaction); `OutboxWorker` sends the
write-backs. docs/connectors.md has the setup per helpdesk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from triage.cases import Cases, utcnow
from triage.connectors.base import Connector, Ignored, Inbound, Webhook
from triage.connectors.chatwoot import Chatwoot
from triage.connectors.freshdesk import Freshdesk
from triage.connectors.gateway import Gateway
from triage.connectors.mapping import Level, PriorityMap
from triage.connectors.worker import OutboxWorker
from triage.connectors.zammad import Zammad
from triage.connectors.zendesk import Zendesk
from triage.settings import Settings
from triage.store import Database

CONNECTORS: tuple[type[Connector], ...] = (Chatwoot, Zammad, Zendesk, Freshdesk)


def connectors(settings: Settings) -> dict[str, Connector]:
    """Every registered connector, built from settings (enabled or not)."""
    return {cls.name: cls(settings) for cls in CONNECTORS}


def gateway(settings: Settings, cases: Cases, *,
            clock: Callable[[], datetime] = utcnow,
            on_result: Callable[[str, str], None] | None = None) -> Gateway:
    return Gateway(connectors(settings).values(), cases,
                   PriorityMap.from_dict(settings.connector_priority),
                   max_chars=settings.max_text_chars, clock=clock, on_result=on_result)


def worker(settings: Settings, db: Database, *,
           clock: Callable[[], datetime] = utcnow) -> OutboxWorker:
    return OutboxWorker(db, connectors(settings),
                        max_attempts=settings.outbox_max_attempts,
                        lease_seconds=settings.outbox_lease_seconds,
                        timeout=settings.connector_timeout_seconds,
                        retry_seconds=settings.outbox_retry_seconds,
                        keep_days=settings.outbox_keep_days, clock=clock)


__all__ = ["CONNECTORS", "Connector", "Gateway", "Ignored", "Inbound", "Level",
           "OutboxWorker", "PriorityMap", "Webhook", "connectors", "gateway", "worker"]
