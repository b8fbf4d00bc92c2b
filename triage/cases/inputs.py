"""What callers hand to `Cases`, and the checks on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from triage.errors import InputError, TextTooLong
from triage.heads import check_head
from triage.store.tables import Message
from triage.vocabulary import LANES, QUEUED, STATUSES


@dataclass(frozen=True)
class CustomerFacts:
    """What a helpdesk tells us about the customer (names and regions are never stored)."""

    customer_id: str
    customer_since: date | None = None
    tier: str | None = None
    plan: str | None = None
    lifetime_value: float | None = None


@dataclass(frozen=True)
class NewTicket:
    """An intake request: the customer's first message and where it came from."""

    text: str
    channel: str = "api"
    subject: str | None = None
    source: str = "api"
    external_id: str | None = None
    created_at: datetime | None = None
    customer: CustomerFacts | None = None


@dataclass(frozen=True)
class Labels:
    """An agent's correction of the model (head -> 0/1; a head left out: no opinion) and/or
    the customer's CSAT."""

    heads: dict[str, int] = field(default_factory=dict)
    csat: int | None = None
    comment: str | None = None
    message_id: int | None = None

    def empty(self) -> bool:
        return not self.heads and self.csat is None and self.comment is None


def check_labels(labels: Labels, heads: Sequence[str]) -> dict[str, int]:
    """The labelled heads, each one the model scores (or the case was scored with), 0 or 1."""
    unknown = sorted(set(labels.heads) - set(heads))
    if unknown:
        raise InputError(f"unknown head(s) {unknown} in labels; this case's model scores "
                         f"{list(heads)}")
    bad = {h: v for h, v in labels.heads.items() if isinstance(v, bool) or v not in (0, 1)}
    if bad:
        raise InputError(f"labels must be 0 or 1, found {bad}")
    return {check_head(h): int(v) for h, v in labels.heads.items()}


@dataclass
class Outcome:
    """A case as the API returns it, plus whether this call created it."""

    case: dict[str, Any]
    created: bool = False
    appended: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


OLDEST = timedelta(days=366)
NEWEST = timedelta(hours=1)


def check_created_at(created_at: datetime | None, now: datetime) -> None:
    """A message's own time must be plausible: not over a year old (it would sit at the top
    of the queue for good) and not more than an hour ahead of our clock."""
    if created_at is None:
        return
    if created_at < now - OLDEST:
        raise InputError(f"created_at {created_at.isoformat()} is more than {OLDEST.days} "
                         f"days before now ({now.isoformat()}); send the message's real "
                         "time, or leave created_at out to use the time of arrival")
    if created_at > now + NEWEST:
        raise InputError(f"created_at {created_at.isoformat()} is in the future (now is "
                         f"{now.isoformat()}); check the sender's clock and time zone, or "
                         "leave created_at out")


def check_reply(text: str, max_chars: int) -> None:
    """An agent reply is not scored, but must still be a sane message."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("text is empty; send the agent's reply in 'text'")
    if len(text) > max_chars:
        raise TextTooLong(f"text has {len(text)} characters, the limit is {max_chars}")


def holds_text(recent: Sequence[Message], text: str) -> bool:
    return any(m.text.strip() == text.strip() for m in recent)


def check_lanes(lanes: Sequence[str] | None) -> list[str]:
    if not lanes:
        return list(LANES)
    unknown = sorted(set(lanes) - set(LANES))
    if unknown:
        raise InputError(f"unknown lane(s) {unknown}; expected some of {list(LANES)}")
    return list(lanes)


def check_statuses(statuses: Sequence[str] | None) -> list[str]:
    if not statuses:
        return list(QUEUED)
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise InputError(f"unknown status(es) {unknown}; expected some of {list(STATUSES)}")
    return list(statuses)
