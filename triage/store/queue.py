"""The queue in SQL: ordering, claims with leases, expiries and due re-evaluations.

Queue order is `queue_key` ascending, where `queue_key = waiting_since - boost` in epoch
seconds: the same order as `position = waiting_minutes + boost_minutes` descending, at any
moment, so the database can sort and claim without computing positions. A claim locks the
first unlocked queued row (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the write
transaction itself is exclusive, see `database.py`), so two agents never get the same ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from triage.store.tables import Ticket
from triage.vocabulary import QUEUED


def queue_key(waiting_since: datetime, boost_minutes: float) -> float:
    """The sort key of a ticket: earlier is served first."""
    return waiting_since.timestamp() - boost_minutes * 60.0


def claim_next(s: Session, lanes: Sequence[str]) -> Ticket | None:
    """Lock and return the first queued ticket in `lanes`, skipping rows others hold."""
    query = (select(Ticket).where(Ticket.status.in_(QUEUED), Ticket.lane.in_(lanes))
             .order_by(Ticket.queue_key, Ticket.id).limit(1)
             .with_for_update(skip_locked=True, of=Ticket))
    return s.scalars(query).first()


def has_queued(s: Session, lanes: Sequence[str]) -> bool:
    """Whether any ticket is queued in `lanes` (locked by another transaction or not)."""
    query = select(Ticket.id).where(Ticket.status.in_(QUEUED), Ticket.lane.in_(lanes)).limit(1)
    return s.scalars(query).first() is not None


def list_queue(s: Session, *, lanes: Sequence[str], statuses: Sequence[str],
               limit: int) -> list[Ticket]:
    """Tickets in queue order (highest position first)."""
    query = (select(Ticket).where(Ticket.status.in_(statuses), Ticket.lane.in_(lanes))
             .order_by(Ticket.queue_key, Ticket.id).limit(limit))
    return list(s.scalars(query))


def depth_by_lane(s: Session) -> dict[str, int]:
    """How many queued (unclaimed, unresolved) tickets each lane holds."""
    query = (select(Ticket.lane, func.count(Ticket.id)).where(Ticket.status.in_(QUEUED))
             .group_by(Ticket.lane))
    return {lane: int(n) for lane, n in s.execute(query).tuples()}


def lane_waits(s: Session, now: datetime) -> dict[str, tuple[datetime | None, int]]:
    """Per lane: when its longest-waiting queued ticket started waiting, and how many queued
    tickets are past their SLA due time."""
    breached = func.sum(case((Ticket.sla_due_at <= now, 1), else_=0))
    query = (select(Ticket.lane, func.min(Ticket.waiting_since), breached)
             .where(Ticket.status.in_(QUEUED)).group_by(Ticket.lane))
    return {lane: (since, int(n or 0)) for lane, since, n in s.execute(query).tuples()}


def depth_by_status(s: Session) -> dict[str, int]:
    query = select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status)
    return {status: int(n) for status, n in s.execute(query).tuples()}


def has_due_work(s: Session, now: datetime) -> bool:
    """Whether any lease has expired or any queued ticket is due a re-evaluation."""
    return s.scalars(_due(now).limit(1)).first() is not None


def lock_due_work(s: Session, now: datetime, limit: int = 500) -> list[Ticket]:
    """Lock expired claims and queued tickets due for review (skipping rows others hold)."""
    return list(s.scalars(_due(now).order_by(Ticket.id).limit(limit)
                          .with_for_update(skip_locked=True, of=Ticket)))


def _due(now: datetime):  # type: ignore[no-untyped-def]
    expired = (Ticket.status == "claimed") & (Ticket.lease_expires_at <= now)
    review = Ticket.status.in_(QUEUED) & (Ticket.review_at <= now)
    return select(Ticket).where(or_(expired, review))
