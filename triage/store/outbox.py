"""The connectors' outbox and delivery ledger in SQL.

An outbox row is written in the transaction of the case change it reports, so a write-back
exists exactly when the change committed. Workers claim one due row at a time with a lease
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the write transaction is exclusive), so
two workers never hold the same row; a worker killed mid-send leaves a lease that expires,
and the row is claimed again. Rows of one target go out in order: a row is not claimed
while an older row of its target is still being sent, and a new row supersedes the older
rows of its target that have not started.

    pending --claim--> sending --all calls answered--> done
       ^                  |--failed, attempts left--> pending (next_attempt_at later)
       |                  '--failed, no attempts left--> dead --retry--> pending
    superseded  (a newer write-back of the same target replaced it before it was sent)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from triage.store.tables import ConnectorDelivery, OutboxEntry

STATES = ("pending", "sending", "done", "dead", "superseded")
OPEN = ("pending", "sending")


def seen(s: Session, connector: str, keys: list[str]) -> bool:
    """Whether any of `keys` (delivery or message ids) was taken in before."""
    if not keys:
        return False
    query = select(ConnectorDelivery.delivery_id).where(
        ConnectorDelivery.connector == connector, ConnectorDelivery.delivery_id.in_(keys))
    return s.scalars(query.limit(1)).first() is not None


def remember(s: Session, connector: str, keys: list[str], now: datetime) -> None:
    """Record delivery keys; a key already recorded raises DuplicateRow at commit."""
    for key in dict.fromkeys(keys):
        s.add(ConnectorDelivery(connector=connector, delivery_id=key, received_at=now))
    s.flush()


def last_priority(s: Session, connector: str, target: str) -> str | None:
    """The priority of the newest write-back to `target` (any state but superseded)."""
    query = (select(OutboxEntry.priority)
             .where(OutboxEntry.connector == connector, OutboxEntry.target == target,
                    OutboxEntry.state != "superseded")
             .order_by(OutboxEntry.id.desc()).limit(1))
    return s.scalars(query).first()


def enqueue(s: Session, *, connector: str, target: str, ticket_id: int | None,
            priority: str, requests: list[dict[str, Any]], now: datetime) -> OutboxEntry:
    """Add a write-back; older not-yet-started rows of the same target are superseded."""
    s.execute(update(OutboxEntry)
              .where(OutboxEntry.connector == connector, OutboxEntry.target == target,
                     OutboxEntry.state == "pending", OutboxEntry.step == 0)
              .values(state="superseded", updated_at=now))
    row = OutboxEntry(connector=connector, target=target, ticket_id=ticket_id,
                      priority=priority, requests=requests, step=0, state="pending",
                      attempts=0, next_attempt_at=now, created_at=now, updated_at=now)
    s.add(row)
    s.flush()
    return row


def claim(s: Session, now: datetime, holder: str, lease: timedelta) -> OutboxEntry | None:
    """Lease the oldest due row (pending and due, or sending with an expired lease)."""
    older = aliased(OutboxEntry)
    blocked = exists().where(older.connector == OutboxEntry.connector,
                             older.target == OutboxEntry.target, older.id < OutboxEntry.id,
                             older.state.in_(OPEN))
    due = or_(and_(OutboxEntry.state == "pending", OutboxEntry.next_attempt_at <= now),
              and_(OutboxEntry.state == "sending", OutboxEntry.lease_expires_at <= now))
    query = (select(OutboxEntry).where(due, ~blocked).order_by(OutboxEntry.id).limit(1)
             .with_for_update(skip_locked=True, of=OutboxEntry))
    row = s.scalars(query).first()
    if row is None:
        return None
    row.state, row.lease_holder, row.lease_expires_at = "sending", holder, now + lease
    row.updated_at = now
    s.flush()
    return row


def held(s: Session, entry_id: int, holder: str) -> OutboxEntry | None:
    """The row, locked, if `holder` still holds its lease (else another worker took it)."""
    query = (select(OutboxEntry).where(OutboxEntry.id == entry_id,
                                       OutboxEntry.state == "sending",
                                       OutboxEntry.lease_holder == holder)
             .with_for_update(of=OutboxEntry))
    return s.scalars(query).first()


def next_due(s: Session) -> datetime | None:
    """When the earliest pending row becomes due (None when nothing is pending)."""
    return s.scalar(select(func.min(OutboxEntry.next_attempt_at))
                    .where(OutboxEntry.state == "pending"))


def counts(s: Session) -> dict[str, dict[str, int]]:
    """Rows per connector and state."""
    query = (select(OutboxEntry.connector, OutboxEntry.state, func.count(OutboxEntry.id))
             .group_by(OutboxEntry.connector, OutboxEntry.state))
    out: dict[str, dict[str, int]] = {}
    for connector, state, n in s.execute(query).tuples():
        out.setdefault(connector, {})[state] = int(n)
    return out


def dead_letters(s: Session, limit: int = 50) -> list[OutboxEntry]:
    return list(s.scalars(select(OutboxEntry).where(OutboxEntry.state == "dead")
                          .order_by(OutboxEntry.id.desc()).limit(limit)))


def retry_dead(s: Session, now: datetime, connector: str | None = None) -> int:
    """Put dead rows back to pending with fresh attempts, due at once; returns how many.

    (Due from their creation time, so any worker's clock finds them due.)"""
    query = update(OutboxEntry).where(OutboxEntry.state == "dead")
    if connector is not None:
        query = query.where(OutboxEntry.connector == connector)
    result = s.execute(query.values(state="pending", attempts=0,
                                    next_attempt_at=OutboxEntry.created_at,
                                    lease_holder=None, lease_expires_at=None, updated_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def entries(s: Session, target: str | None = None) -> list[OutboxEntry]:
    query = select(OutboxEntry).order_by(OutboxEntry.id)
    if target is not None:
        query = query.where(OutboxEntry.target == target)
    return list(s.scalars(query))


def prune(s: Session, before: datetime) -> int:
    """Forget delivery keys and finished rows older than `before`; returns rows deleted.

    The newest row of each target stays (it holds the last priority written there)."""
    keys = s.execute(delete(ConnectorDelivery).where(ConnectorDelivery.received_at < before))
    newer = aliased(OutboxEntry)
    has_newer = exists().where(newer.connector == OutboxEntry.connector,
                               newer.target == OutboxEntry.target, newer.id > OutboxEntry.id)
    rows = s.execute(delete(OutboxEntry).where(
        OutboxEntry.state.in_(("done", "superseded")), OutboxEntry.updated_at < before,
        has_newer))
    return int(getattr(keys, "rowcount", 0) or 0) + int(getattr(rows, "rowcount", 0) or 0)
