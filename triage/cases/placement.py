"""Where a ticket stands: the policy applied to a stored ticket, and when to look again.

`place` evaluates the priority policy for a ticket and stores its lane, status, boost and sort key
(`queue_key = waiting_since - boost`); `review_at` is the next moment the policy can give
another answer without new input (the SLA ramp and the breach escalation), when the sweep
places the ticket again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from triage.cases.views import scores_of
from triage.priority import PolicyConfig, Priority, TicketFacts, prioritize
from triage.store import queue as q
from triage.store import repository as repo
from triage.store.tables import Ticket
from triage.vocabulary import QUEUED

WAITING = ("open", "claimed", "escalated")


class Placement:
    """The policy and the review step, applied to stored tickets."""

    def __init__(self, policy: PolicyConfig, review_step: timedelta) -> None:
        self.policy = policy
        self.review_step = review_step

    def at(self, t: Ticket, now: datetime) -> Priority | None:
        """The ticket's priority now; None when nobody is waiting on us (resolved, replied)."""
        return prioritize(self.facts(t), now, self.policy) if t.status in WAITING else None

    def place(self, s: Any, t: Ticket, now: datetime, actor: str) -> Priority:
        """Apply the policy now and store the result (lane, status, boost, sort key)."""
        p = prioritize(self.facts(t), now, self.policy)
        status = t.status
        if status in QUEUED:
            status = "escalated" if p.lane == "supervisor" else "open"
        if p.lane != t.lane:
            repo.add_audit(s, t.id, now, actor, "lane", {
                "from": t.lane, "to": p.lane, "reason": p.escalation_reason})
        repo.update_ticket(
            s, t, lane=p.lane, status=status, boost_minutes=p.boost_minutes,
            queue_key=q.queue_key(t.waiting_since, p.boost_minutes), sla_due_at=p.sla_due_at,
            review_at=self.review_at(p, t, now) if status in QUEUED else None,
            policy_version=p.policy, updated_at=now)
        return p

    def review_at(self, p: Priority, t: Ticket, now: datetime) -> datetime | None:
        """The next moment `prioritize` can give another answer without new input."""
        cfg = self.policy
        ramp = max(p.sla_near_breach_at, t.waiting_since)
        if ramp <= now < p.sla_due_at:
            return min(now + self.review_step, p.sla_due_at)
        marks = [ramp, p.sla_due_at]
        if cfg.escalate_sla_breach_minutes is not None:
            marks.append(p.sla_due_at + timedelta(minutes=cfg.escalate_sla_breach_minutes,
                                                  seconds=1))
        later = [m for m in marks if m > now]
        return min(later) if later else None

    def facts(self, t: Ticket) -> TicketFacts:
        c = t.customer
        return TicketFacts(
            waiting_since=t.waiting_since, scores=scores_of(t) if t.scorable else None,
            scorable=t.scorable, unscorable_reason=t.unscorable_reason,
            customer_since=c.customer_since if c else None, tier=c.tier if c else None,
            lifetime_value=c.lifetime_value if c else None,
            repeat_contacts_7d=t.repeat_contacts, trend=t.trend,
            frustration_rise=t.frustration_rise,
            escalated_by_agent=t.escalated_by_agent, phrases=t.phrases)
