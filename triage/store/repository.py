"""Reading and writing cases: customers, tickets, messages, score history, audit, feedback.

Every function takes the `Session` of a `Database.read()` or `.write()` block, so the caller
decides what one transaction holds. Rows come back as the table classes of `tables.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from triage.store.tables import (
    AuditEntry,
    CaseCounter,
    Customer,
    Feedback,
    Message,
    ScoreHistory,
    Ticket,
)

CASE_PREFIX = "CS"
_CASE = re.compile(r"^CS-(\d{4})-(\d{1,12})$", re.IGNORECASE)
_ID = re.compile(r"[0-9]{1,18}")


def next_case_number(s: Session, year: int) -> str:
    """The next case number of `year`, e.g. CS-2026-000123 (one counter row per year)."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    s.execute(insert(CaseCounter).values(year=year, last=0).on_conflict_do_nothing())
    number = s.execute(
        update(CaseCounter).where(CaseCounter.year == year)
        .values(last=CaseCounter.last + 1).returning(CaseCounter.last)
    ).scalar_one()
    return f"{CASE_PREFIX}-{year}-{number:06d}"


def normalise_case_number(ref: str) -> str | None:
    """`cs-2026-123` -> `CS-2026-000123`; None when `ref` is not a case number."""
    m = _CASE.match(ref.strip())
    return None if m is None else f"{CASE_PREFIX}-{m.group(1)}-{int(m.group(2)):06d}"


def find_ticket(s: Session, ref: str, *, lock: bool = False) -> Ticket | None:
    """A ticket by case number (CS-2026-000123) or numeric id; `lock` holds its row."""
    case = normalise_case_number(ref)
    if case is not None:
        query = select(Ticket).where(Ticket.case_number == case)
    elif _ID.fullmatch(ref.strip()):  # ASCII digits only: "²" is a digit to isdigit()
        query = select(Ticket).where(Ticket.id == int(ref))
    else:
        return None
    if lock:
        query = query.with_for_update(of=Ticket)
    return s.scalars(query).first()


def find_by_external_id(s: Session, source: str, external_id: str, *,
                        lock: bool = False) -> Ticket | None:
    query = select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id)
    if lock:
        query = query.with_for_update(of=Ticket)
    return s.scalars(query).first()


def upsert_customer(s: Session, customer_id: str, now: datetime, *,
                    customer_since: date | None = None, tier: str | None = None,
                    plan: str | None = None, lifetime_value: float | None = None) -> Customer:
    """The customer row, created or updated with the facts given (None keeps what we had)."""
    row = s.scalars(select(Customer).where(Customer.customer_id == customer_id)
                    .with_for_update()).first()
    if row is None:
        row = Customer(customer_id=customer_id, created_at=now, updated_at=now)
        s.add(row)
    facts = {"customer_since": customer_since, "tier": tier, "plan": plan,
             "lifetime_value": lifetime_value}
    for name, value in facts.items():
        if value is not None and getattr(row, name) != value:
            setattr(row, name, value)
            row.updated_at = now
    s.flush()
    return row


def repeat_contacts(s: Session, customer_pk: int, since: datetime,
                    exclude_id: int | None = None) -> int:
    """Tickets the customer opened since `since` (other than `exclude_id`)."""
    query = select(func.count(Ticket.id)).where(Ticket.customer_pk == customer_pk,
                                                Ticket.created_at >= since)
    if exclude_id is not None:
        query = query.where(Ticket.id != exclude_id)
    return int(s.scalar(query) or 0)


def add_ticket(s: Session, **fields: Any) -> Ticket:
    ticket = Ticket(**fields)
    s.add(ticket)
    s.flush()
    return ticket


def update_ticket(s: Session, ticket: Ticket, **fields: Any) -> Ticket:
    for name, value in fields.items():
        setattr(ticket, name, value)
    s.flush()
    return ticket


def add_message(s: Session, ticket: Ticket, **fields: Any) -> Message:
    message = Message(ticket_id=ticket.id, **fields)
    s.add(message)
    s.flush()
    return message


def unresolved_ticket_ids(s: Session, *, after: int = 0, limit: int = 500) -> list[int]:
    """Ids of tickets not resolved, ascending, the first `limit` greater than `after`."""
    query = (select(Ticket.id).where(Ticket.status != "resolved", Ticket.id > after)
             .order_by(Ticket.id).limit(limit))
    return list(s.scalars(query))


def messages(s: Session, ticket_id: int) -> list[Message]:
    """The transcript, oldest first."""
    return list(s.scalars(select(Message).where(Message.ticket_id == ticket_id)
                          .order_by(Message.id)))


def recent_customer_messages(s: Session, ticket_id: int, limit: int) -> list[Message]:
    """The newest `limit` customer messages, newest first."""
    return list(s.scalars(
        select(Message).where(Message.ticket_id == ticket_id, Message.author == "customer")
        .order_by(Message.id.desc()).limit(limit)
    ))


def find_message(s: Session, ticket_id: int, message_id: int) -> Message | None:
    return s.scalars(select(Message).where(Message.ticket_id == ticket_id,
                                           Message.id == message_id)).first()


def add_history(s: Session, ticket: Ticket, at: datetime, message_id: int | None) -> None:
    s.add(ScoreHistory(
        ticket_id=ticket.id, message_id=message_id, at=at, scores=ticket.scores,
        trend=ticket.trend,
        lane=ticket.lane, boost_minutes=ticket.boost_minutes,
        model_version=ticket.model_version, policy_version=ticket.policy_version,
    ))


def history(s: Session, ticket_id: int) -> list[ScoreHistory]:
    return list(s.scalars(select(ScoreHistory).where(ScoreHistory.ticket_id == ticket_id)
                          .order_by(ScoreHistory.id)))


def add_audit(s: Session, ticket_id: int | None, at: datetime, actor: str, action: str,
              detail: dict[str, Any] | None = None) -> None:
    s.add(AuditEntry(ticket_id=ticket_id, at=at, actor=actor, action=action, detail=detail))


def audit(s: Session, ticket_id: int) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
                          .order_by(AuditEntry.id)))


def count_actions(s: Session, action: str) -> int:
    return int(s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))
               or 0)


def add_feedback(s: Session, ticket: Ticket, **fields: Any) -> Feedback:
    row = Feedback(ticket_id=ticket.id, **fields)
    s.add(row)
    s.flush()
    return row


def feedback(s: Session, ticket_id: int) -> list[Feedback]:
    return list(s.scalars(select(Feedback).where(Feedback.ticket_id == ticket_id)
                          .order_by(Feedback.id)))


def feedback_for_export(s: Session, batch: int = 1000) -> Sequence[tuple[Feedback, Message,
                                                                         Ticket]]:
    """Every feedback row that points at a message, with the message and its ticket."""
    query = (select(Feedback, Message, Ticket)
             .join(Message, Feedback.message_id == Message.id)
             .join(Ticket, Feedback.ticket_id == Ticket.id)
             .order_by(Feedback.id).execution_options(yield_per=batch))
    return [(f, m, t) for f, m, t in s.execute(query).tuples()]
