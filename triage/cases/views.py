"""Cases, messages, history, audit and feedback as the plain dicts the API returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from triage.cases.conversation import direction
from triage.priority import Priority
from triage.store.tables import Message, Ticket


def case_view(t: Ticket, p: Priority | None) -> dict[str, Any]:
    c = t.customer
    return {
        "id": t.id, "case_number": t.case_number, "source": t.source,
        "external_id": t.external_id, "channel": t.channel, "subject": t.subject,
        "status": t.status, "lane": t.lane,
        "customer": None if c is None else {
            "customer_id": c.customer_id, "customer_since": iso(c.customer_since),
            "tier": c.tier, "plan": c.plan, "lifetime_value": c.lifetime_value},
        "scores": scores_of(t), "scorable": t.scorable,
        "unscorable_reason": t.unscorable_reason, "model_version": t.model_version,
        "trend": t.trend, "frustration_trend": frustration_trend(t.frustration_rise),
        "repeat_contacts_7d": t.repeat_contacts,
        "position": None if p is None else round(p.position, 2),
        "explanation": None if p is None else p.explanation(),
        "summary": None if p is None else p.summary(),
        "priority": None if p is None else p.as_dict(),
        "lease": None if t.lease_holder is None else {
            "holder": t.lease_holder, "key_id": t.lease_key_id,
            "expires_at": iso(t.lease_expires_at)},
        "waiting_since": iso(t.waiting_since), "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at), "resolved_at": iso(t.resolved_at),
    }


def message_view(m: Message) -> dict[str, Any]:
    return {"id": m.id, "author": m.author, "author_name": m.author_name, "text": m.text,
            "created_at": iso(m.created_at), "scores": scores_of(m),
            "scorable": m.scorable, "unscorable_reason": m.unscorable_reason,
            "language": m.language, "model_version": m.model_version, "phrases": m.phrases}


def history_view(h: Any) -> dict[str, Any]:
    return {"at": iso(h.at), "message_id": h.message_id, "scores": scores_of(h),
            "trend": h.trend, "lane": h.lane, "boost_minutes": round(h.boost_minutes, 2),
            "model_version": h.model_version, "policy": h.policy_version}


def audit_view(a: Any) -> dict[str, Any]:
    return {"at": iso(a.at), "actor": a.actor, "action": a.action, "detail": a.detail}


def feedback_view(f: Any) -> dict[str, Any]:
    return {"id": f.id, "at": iso(f.at), "actor": f.actor, "message_id": f.message_id,
            "labels": dict(f.labels or {}), "csat": f.csat, "comment": f.comment}


def frustration_trend(change: float | None) -> dict[str, Any] | None:
    """How frustration moved across the customer's messages: direction and change."""
    if change is None:
        return None
    return {"direction": direction(change), "change": change}


def scores_of(row: Any) -> dict[str, float] | None:
    """A row's stored scores (head -> score), or None when it has none."""
    return dict(row.scores) if row.scores else None


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()
