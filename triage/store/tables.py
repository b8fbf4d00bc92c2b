"""The tables of the queue store, as SQLAlchemy 2 declarative models.

Times are stored in UTC (`UTCDateTime`): `timestamptz` on PostgreSQL, naive UTC on SQLite,
always returned timezone-aware. Scores are data, not columns: `scores` holds head -> score
for whatever heads the model that scored a message has (`feedback.labels` head -> 0/1), so
a model with other heads needs no migration; the queue sorts on `queue_key`, never on a
head. The Alembic migrations under `migrations/versions/` create exactly these tables; a
test compares the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ID = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), unique=True)
    customer_since: Mapped[date | None] = mapped_column(Date)
    tier: Mapped[str | None] = mapped_column(String(64))
    plan: Mapped[str | None] = mapped_column(String(64))
    lifetime_value: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseCounter(Base):
    """The last case number handed out per year (CS-<year>-<n>)."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_tickets_source_external_id"),
        Index("ix_tickets_queue", "status", "lane", "queue_key"),
        Index("ix_tickets_customer_created", "customer_pk", "created_at"),
        Index("ix_tickets_review", "review_at"),
        Index("ix_tickets_lease", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(24))
    lane: Mapped[str] = mapped_column(String(24))
    customer_pk: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    scorable: Mapped[bool] = mapped_column(Boolean, default=True)
    unscorable_reason: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(128))
    trend: Mapped[str | None] = mapped_column(String(16))
    frustration_rise: Mapped[float | None] = mapped_column(Float)
    phrases: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    repeat_contacts: Mapped[int] = mapped_column(Integer, default=0)
    escalated_by_agent: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    policy_version: Mapped[str] = mapped_column(String(32))
    boost_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    queue_key: Mapped[float] = mapped_column(Float)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    lease_key_id: Mapped[int | None] = mapped_column(Integer)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer | None] = relationship(lazy="selectin")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    scorable: Mapped[bool | None] = mapped_column(Boolean)
    unscorable_reason: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(128))
    phrases: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ScoreHistory(Base):
    __tablename__ = "score_history"
    __table_args__ = (Index("ix_score_history_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    trend: Mapped[str | None] = mapped_column(String(16))
    lane: Mapped[str] = mapped_column(String(24))
    boost_minutes: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(128))
    policy_version: Mapped[str] = mapped_column(String(32))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_ticket", "ticket_id", "id"),
        Index("ix_audit_action", "action"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, int] | None] = mapped_column(JSON)
    csat: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxEntry(Base):
    """A write-back to a helpdesk, written in the transaction of the case change it reports.

    `requests` is the list of HTTP calls (method, path, json) without base URL or
    credentials (those come from settings at send time); `step` counts the calls already
    answered, so a retry resumes after them. States: pending, sending (leased), done, dead.
    """

    __tablename__ = "connector_outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_target", "connector", "target", "id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    connector: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(32))
    requests: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_holder: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConnectorDelivery(Base):
    """A webhook delivery (or message) id a connector has already taken in: dedupe."""

    __tablename__ = "connector_deliveries"

    connector: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
