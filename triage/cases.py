"""The service layer: cases from intake to resolution, on top of the scorer, policy and store.

A case (ticket) holds a transcript. Each customer message is scored, and the ticket's scores
are the **recency-weighted max** over its last `WINDOW` scorable customer messages: the
k-th newest counts `DECAY**k` times its score, so one furious message keeps a ticket warm
for a while after the customer calms down, but not forever. The **trend** compares the two
newest scorable customer messages: `worsening` when some head rose by `TREND_DELTA` or more
(and more than any head fell), `improving` in the opposite case, else `steady`.

**Positions** come from the pure policy (`triage.priority`). The store keeps, per ticket,
the policy's boost as of the last evaluation and the sort key `waiting_since - boost`, so the
database orders and claims tickets by position. The boost changes on its own only around the
first-response SLA (the ramp before the due time, and escalation after a breach): each
evaluation stores `review_at`, the next moment the policy's answer can change by itself, and
a sweep (before every queue read and claim, and in the API's background task) re-evaluates
due tickets, at most every `review_seconds` during a ramp. Positions shown in responses are
always recomputed at the moment of the request. Expired leases are returned to the queue by
the same sweep.

Every state change is one store transaction and writes the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

from triage.errors import Conflict, InputError, NotFound, TextTooLong
from triage.priority import LANES, POLICY_VERSION, PolicyConfig, Priority, TicketFacts, prioritize
from triage.records import HEADS
from triage.scoring import Score, Scorer
from triage.store import QUEUED, STATUSES, Database
from triage.store import queue as q
from triage.store import repository as repo
from triage.store.database import DuplicateRow
from triage.store.tables import Message, Ticket

DECAY = 0.75
WINDOW = 10
TREND_DELTA = 0.15
REPEAT_DAYS = 7
SYSTEM = "system"


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    """An agent's correction of the model (per head 0/1, None = no opinion) and/or CSAT."""

    frustration: int | None = None
    churn_risk: int | None = None
    urgency: int | None = None
    csat: int | None = None
    comment: str | None = None
    message_id: int | None = None

    def heads(self) -> dict[str, int | None]:
        return {h: getattr(self, h) for h in HEADS}


@dataclass
class Outcome:
    """A case as the API returns it, plus whether this call created it."""

    case: dict[str, Any]
    created: bool = False
    appended: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Cases:
    """Intake, re-scoring, the queue and its leases, feedback and label export.

    Args:
        db: the store.
        scorer: the loaded model behind the language gate.
        policy: `priority.v1` weights; the documented defaults when None.
        lease_seconds: how long a claim holds a ticket without a heartbeat.
        explain_top: phrases per head kept from `explain()` (0: none, faster intake).
        review_seconds: how often a ticket near its SLA due time is re-evaluated.
        clock: the time source (tests pass a fake one).
        on_score: called with every message score (the API counts them in its metrics).
    """

    def __init__(self, db: Database, scorer: Scorer, *, policy: PolicyConfig | None = None,
                 lease_seconds: int = 300, explain_top: int = 3, review_seconds: int = 60,
                 clock: Callable[[], datetime] = utcnow,
                 on_score: Callable[[Score], None] | None = None) -> None:
        self.db = db
        self.scorer = scorer
        self.policy = policy or PolicyConfig()
        self.lease = timedelta(seconds=lease_seconds)
        self.explain_top = explain_top
        self.review_step = timedelta(seconds=review_seconds)
        self.clock = clock
        self.on_score = on_score

    # --- intake and messages -----------------------------------------------------------

    def intake(self, new: NewTicket, actor: str) -> Outcome:
        """Open a case, or return the existing one for a known (source, external_id).

        A known external id with a text the case already holds is a replay (nothing
        changes); with a new text it is the customer's next message on that case.
        """
        self.scorer.check(new.text)
        if new.external_id is not None:
            known = self._replay(new)
            if known is not None:
                return Outcome(known)
        score = self._score(new.text)
        return self._retry_once(lambda: self._intake(new, score, actor))

    def add_message(self, ref: str, text: str, author: str, actor: str, *,
                    author_name: str | None = None, created_at: datetime | None = None) -> Outcome:
        """Add a customer message (re-scores the case) or an agent reply (waits on customer)."""
        if author not in ("customer", "agent"):
            raise InputError(f"author is {author!r}; expected 'customer' or 'agent'")
        if author == "customer":
            self.scorer.check(text)
        else:
            _check_reply(text, getattr(self.scorer, "max_chars", 20_000))
        score = self._score(text) if author == "customer" else None
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            self._append(s, t, text, author, score, now, actor, author_name, created_at)
            return Outcome(self._view(s, t, now))

    def _intake(self, new: NewTicket, score: Score, actor: str) -> Outcome:
        now = self.clock()
        with self.db.write() as s:
            if new.external_id is not None:
                t = repo.find_by_external_id(s, new.source, new.external_id, lock=True)
                if t is not None:
                    if _holds_text(repo.recent_customer_messages(s, t.id, WINDOW), new.text):
                        return Outcome(self._view(s, t, now))
                    self._append(s, t, new.text, "customer", score, now, actor, None,
                                 new.created_at)
                    return Outcome(self._view(s, t, now), appended=True)
            t = self._open(s, new, now, actor)
            self._append(s, t, new.text, "customer", score, now, actor, None, new.created_at)
            return Outcome(self._view(s, t, now), created=True)

    def _open(self, s: Any, new: NewTicket, now: datetime, actor: str) -> Ticket:
        customer = None
        repeat = 0
        if new.customer is not None:
            c = new.customer
            customer = repo.upsert_customer(
                s, c.customer_id, now, customer_since=c.customer_since,
                tier=c.tier.strip().lower() if c.tier else None, plan=c.plan,
                lifetime_value=c.lifetime_value)
            repeat = repo.repeat_contacts(s, customer.id, now - timedelta(days=REPEAT_DAYS))
        since = new.created_at or now
        t = repo.add_ticket(
            s, case_number=repo.next_case_number(s, now.year), source=new.source,
            external_id=new.external_id, channel=new.channel, subject=new.subject,
            status="open", lane="standard", customer_pk=customer.id if customer else None,
            repeat_contacts=repeat, policy_version=POLICY_VERSION,
            queue_key=q.queue_key(since, 0.0), waiting_since=since, created_at=now,
            updated_at=now, scorable=True, escalated_by_agent=False, boost_minutes=0.0)
        repo.add_audit(s, t.id, now, actor, "created", {
            "case_number": t.case_number, "source": t.source, "external_id": t.external_id,
            "channel": t.channel, "repeat_contacts_7d": repeat})
        return t

    def _append(self, s: Any, t: Ticket, text: str, author: str, score: Score | None,
                now: datetime, actor: str, author_name: str | None,
                created_at: datetime | None) -> None:
        at = created_at or now
        m = repo.add_message(s, t, author=author, author_name=author_name, text=text,
                             created_at=at, **_message_scores(score))
        repo.add_audit(s, t.id, now, actor, "message", {"message_id": m.id, "author": author})
        if author == "agent":
            self._agent_replied(s, t, now, actor)
            return
        if t.status in ("waiting_on_customer", "resolved"):
            reopened = t.status == "resolved"
            self._move(s, t, now, actor, "open", waiting_since=at, lease_holder=None,
                       lease_expires_at=None, resolved_at=None)
            if reopened:
                repo.add_audit(s, t.id, now, actor, "reopened", {"message_id": m.id})
        self._rescore(s, t, now, actor, m.id)

    def _agent_replied(self, s: Any, t: Ticket, now: datetime, actor: str) -> None:
        if t.status in ("open", "escalated", "claimed"):
            self._move(s, t, now, actor, "waiting_on_customer", lease_holder=None,
                       lease_expires_at=None, review_at=None)

    def _rescore(self, s: Any, t: Ticket, now: datetime, actor: str, message_id: int) -> None:
        recent = repo.recent_customer_messages(s, t.id, WINDOW)
        convo = conversation(recent)
        repo.update_ticket(s, t, **convo, model_version=_model_version(recent, self.scorer))
        p = self._evaluate(s, t, now, actor)
        repo.add_history(s, t, now, message_id)
        repo.add_audit(s, t.id, now, actor, "scored", {
            "message_id": message_id, "scores": _scores_of(t), "scorable": t.scorable,
            "reason": t.unscorable_reason, "trend": t.trend, "lane": p.lane,
            "boost_minutes": round(p.boost_minutes, 2), "model_version": t.model_version,
            "policy": p.policy})

    # --- the queue -----------------------------------------------------------------------

    def queue(self, *, lanes: Sequence[str] | None = None,
              statuses: Sequence[str] | None = None, limit: int = 50) -> dict[str, Any]:
        """The queue in claim order, with each entry's position and explanation at `now`."""
        lanes, statuses = _check_lanes(lanes), _check_statuses(statuses)
        now = self.sweep()
        with self.db.read() as s:
            rows = q.list_queue(s, lanes=lanes, statuses=statuses, limit=limit)
            depth = q.depth_by_lane(s)
            entries = [self._view(s, t, now) for t in rows]
        return {"policy": POLICY_VERSION, "now": now.isoformat(),
                "depth": {lane: depth.get(lane, 0) for lane in LANES}, "entries": entries}

    def claim(self, actor: str, lanes: Sequence[str] | None = None) -> dict[str, Any] | None:
        """Atomically take the top queued ticket with a lease; None when nothing is queued."""
        lanes = _check_lanes(lanes)
        now = self.clock()
        with self.db.write() as s:
            self._sweep(s, now)
            t = q.claim_next(s, lanes)
            if t is None:
                return None
            expires = now + self.lease
            self._move(s, t, now, actor, "claimed", lease_holder=actor, lease_expires_at=expires)
            repo.add_audit(s, t.id, now, actor, "claimed",
                           {"lease_expires_at": expires.isoformat()})
            return self._view(s, t, now)

    def heartbeat(self, ref: str, actor: str) -> dict[str, Any]:
        """Extend the caller's lease on a ticket it holds."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            self._check_holder(t, actor, now, admin=False)
            repo.update_ticket(s, t, lease_expires_at=now + self.lease, updated_at=now)
            return self._view(s, t, now)

    def release(self, ref: str, actor: str, *, admin: bool = False) -> dict[str, Any]:
        """Give a claimed ticket back to the queue at its place (its wait keeps counting)."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            self._check_holder(t, actor, now, admin=admin)
            self._requeue(s, t, now, actor, "released", {"holder": t.lease_holder})
            return self._view(s, t, now)

    def resolve(self, ref: str, actor: str, *, admin: bool = False,
                note: str | None = None) -> dict[str, Any]:
        """Close a case. Resolving a resolved case changes nothing."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            if t.status != "resolved":
                self._check_not_held_by_other(t, actor, now, admin)
                self._move(s, t, now, actor, "resolved", lease_holder=None,
                           lease_expires_at=None, review_at=None, resolved_at=now)
                repo.add_audit(s, t.id, now, actor, "resolved", {"note": note} if note else None)
            return self._view(s, t, now)

    def escalate(self, ref: str, actor: str, reason: str | None = None, *,
                 admin: bool = False) -> dict[str, Any]:
        """Send a case to the supervisor lane by hand (it stays there until resolved)."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            if t.status == "resolved":
                raise Conflict(f"{t.case_number} is resolved; a new customer message reopens it")
            self._check_not_held_by_other(t, actor, now, admin)
            why = reason or f"escalated by {actor}"
            repo.update_ticket(s, t, escalated_by_agent=True, escalation_reason=why)
            since = now if t.status == "waiting_on_customer" else t.waiting_since
            self._requeue(s, t, now, actor, "escalated", {"reason": why}, waiting_since=since)
            return self._view(s, t, now)

    def sweep(self) -> datetime:
        """Return expired leases to the queue and re-evaluate due tickets; returns `now`."""
        now = self.clock()
        with self.db.read() as s:
            due = q.has_due_work(s, now)
        if due:
            with self.db.write() as s:
                self._sweep(s, now)
        return now

    def _sweep(self, s: Any, now: datetime) -> None:
        for t in q.lock_due_work(s, now):
            if t.status == "claimed":
                self._requeue(s, t, now, SYSTEM, "lease_expired", {
                    "holder": t.lease_holder, "expired_at": _iso(t.lease_expires_at)})
            else:
                self._evaluate(s, t, now, SYSTEM)

    # --- reading -------------------------------------------------------------------------

    def get(self, ref: str) -> dict[str, Any]:
        """A case with its transcript, score history, audit log and feedback."""
        now = self.clock()
        with self.db.read() as s:
            t = self._find(s, ref)
            view = self._view(s, t, now)
            view["messages"] = [_message_view(m) for m in repo.messages(s, t.id)]
            view["score_history"] = [_history_view(h) for h in repo.history(s, t.id)]
            view["audit"] = [_audit_view(a) for a in repo.audit(s, t.id)]
            view["feedback"] = [_feedback_view(f) for f in repo.feedback(s, t.id)]
            return view

    def lease_expiries(self) -> int:
        with self.db.read() as s:
            return repo.count_actions(s, "lease_expired")

    def depth(self) -> dict[str, int]:
        with self.db.read() as s:
            depth = q.depth_by_lane(s)
        return {lane: depth.get(lane, 0) for lane in LANES}

    # --- feedback and labels -------------------------------------------------------------

    def feedback(self, ref: str, labels: Labels, actor: str) -> dict[str, Any]:
        """Record an agent's label corrections and/or the customer's CSAT on a case."""
        if all(v is None for v in (*labels.heads().values(), labels.csat, labels.comment)):
            raise InputError("feedback is empty; send labels (frustration, churn_risk, "
                             "urgency: 0 or 1) and/or csat (1-5) with an optional comment")
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            m = self._feedback_message(s, t, labels.message_id)
            row = repo.add_feedback(s, t, message_id=m.id if m else None, at=now, actor=actor,
                                    csat=labels.csat, comment=labels.comment, **labels.heads())
            repo.add_audit(s, t.id, now, actor, "feedback", {"feedback_id": row.id,
                           "message_id": row.message_id, "labels": labels.heads(),
                           "csat": labels.csat})
            return _feedback_view(row)

    def export_labels(self, out: IO[str], *, csat_as_frustration: bool = False) -> int:
        """Write corrected messages as labelled-ticket JSONL (`triage train` reads it)."""
        return export_labels(self.db, out, csat_as_frustration=csat_as_frustration)

    # --- internals -------------------------------------------------------------------------

    def _evaluate(self, s: Any, t: Ticket, now: datetime, actor: str) -> Priority:
        p = prioritize(self._facts(t), now, self.policy)
        status = t.status
        if status in QUEUED:
            status = "escalated" if p.lane == "supervisor" else "open"
        if p.lane != t.lane:
            repo.add_audit(s, t.id, now, actor, "lane", {
                "from": t.lane, "to": p.lane, "reason": p.escalation_reason})
        repo.update_ticket(
            s, t, lane=p.lane, status=status, boost_minutes=p.boost_minutes,
            queue_key=q.queue_key(t.waiting_since, p.boost_minutes), sla_due_at=p.sla_due_at,
            review_at=self._review_at(p, t, now) if status in QUEUED else None,
            policy_version=p.policy, updated_at=now)
        return p

    def _review_at(self, p: Priority, t: Ticket, now: datetime) -> datetime | None:
        """The next moment `prioritize` can give another answer without new input."""
        cfg = self.policy
        ramp = max(p.sla_due_at - timedelta(minutes=cfg.sla_near_breach_minutes),
                   t.waiting_since)
        if ramp <= now < p.sla_due_at:
            return min(now + self.review_step, p.sla_due_at)
        marks = [ramp, p.sla_due_at]
        if cfg.escalate_sla_breach_minutes is not None:
            marks.append(p.sla_due_at + timedelta(minutes=cfg.escalate_sla_breach_minutes,
                                                  seconds=1))
        later = [m for m in marks if m > now]
        return min(later) if later else None

    def _requeue(self, s: Any, t: Ticket, now: datetime, actor: str, action: str,
                 detail: dict[str, Any], **fields: Any) -> None:
        repo.update_ticket(s, t, status="open", lease_holder=None, lease_expires_at=None,
                           **fields)
        repo.add_audit(s, t.id, now, actor, action, detail)
        self._evaluate(s, t, now, actor)

    def _move(self, s: Any, t: Ticket, now: datetime, actor: str, status: str,
              **fields: Any) -> None:
        if status != t.status:
            repo.add_audit(s, t.id, now, actor, "status", {"from": t.status, "to": status})
        repo.update_ticket(s, t, status=status, updated_at=now, **fields)

    def _check_holder(self, t: Ticket, actor: str, now: datetime, *, admin: bool) -> None:
        if t.status != "claimed":
            raise Conflict(f"{t.case_number} is {t.status}, not claimed; claim it first "
                           "(POST /v1/queue/claim)")
        if t.lease_holder != actor and not admin:
            raise Conflict(f"{t.case_number} is held by {t.lease_holder!r}, not by {actor!r}")
        if t.lease_expires_at is not None and t.lease_expires_at <= now and not admin:
            raise Conflict(f"the lease on {t.case_number} expired at "
                           f"{t.lease_expires_at.isoformat()}; it is back in the queue, "
                           "claim again")

    def _check_not_held_by_other(self, t: Ticket, actor: str, now: datetime,
                                 admin: bool) -> None:
        live = t.status == "claimed" and t.lease_expires_at is not None \
            and t.lease_expires_at > now
        if live and t.lease_holder != actor and not admin:
            raise Conflict(f"{t.case_number} is held by {t.lease_holder!r} until "
                           f"{_iso(t.lease_expires_at)}; ask them, or an admin")

    def _find(self, s: Any, ref: str, *, lock: bool = False) -> Ticket:
        t = repo.find_ticket(s, ref, lock=lock)
        if t is None:
            raise NotFound(f"no case {ref!r}; expected a case number like CS-2026-000123 "
                           "or a numeric id")
        return t

    def _feedback_message(self, s: Any, t: Ticket, message_id: int | None) -> Message | None:
        if message_id is not None:
            m = repo.find_message(s, t.id, message_id)
            if m is None:
                raise NotFound(f"{t.case_number} has no message {message_id}")
            return m
        recent = repo.recent_customer_messages(s, t.id, 1)
        return recent[0] if recent else None

    def _facts(self, t: Ticket) -> TicketFacts:
        c = t.customer
        return TicketFacts(
            waiting_since=t.waiting_since, scores=_scores_of(t) if t.scorable else None,
            scorable=t.scorable, unscorable_reason=t.unscorable_reason,
            customer_since=c.customer_since if c else None, tier=c.tier if c else None,
            lifetime_value=c.lifetime_value if c else None,
            repeat_contacts_7d=t.repeat_contacts, trend=t.trend,
            escalated_by_agent=t.escalated_by_agent, phrases=t.phrases)

    def _view(self, s: Any, t: Ticket, now: datetime) -> dict[str, Any]:
        waiting = t.status not in ("resolved", "waiting_on_customer")
        p = prioritize(self._facts(t), now, self.policy) if waiting else None
        return case_view(t, p)

    def _score(self, text: str) -> Score:
        score = self.scorer.score([text], explain_top=self.explain_top)[0]
        if self.on_score is not None:
            self.on_score(score)
        return score

    def _replay(self, new: NewTicket) -> dict[str, Any] | None:
        now = self.clock()
        with self.db.read() as s:
            t = repo.find_by_external_id(s, new.source, new.external_id or "")
            if t is None or not _holds_text(repo.recent_customer_messages(s, t.id, WINDOW),
                                            new.text):
                return None
            return self._view(s, t, now)

    @staticmethod
    def _retry_once(fn: Callable[[], Outcome]) -> Outcome:
        """Two first intakes of one external id (or customer) at once: the loser re-reads."""
        try:
            return fn()
        except DuplicateRow:
            return fn()


# --- conversation scores -----------------------------------------------------------------


def conversation(recent: Sequence[Message]) -> dict[str, Any]:
    """Ticket-level scores from its customer messages (newest first)."""
    newest = recent[0]
    scored = [m for m in recent if m.scorable and m.frustration is not None]
    out: dict[str, Any] = {"scorable": bool(newest.scorable),
                           "unscorable_reason": None if newest.scorable else
                           newest.unscorable_reason, "trend": trend(scored)}
    phrases: dict[str, list[str]] = {}
    for head in HEADS:
        weighted = [(getattr(m, head) * DECAY ** k, m) for k, m in enumerate(scored)]
        best = max(weighted, key=lambda x: x[0], default=None)
        out[head] = None if best is None else round(best[0], 4)
        if best is not None and best[1].phrases:
            phrases[head] = list(best[1].phrases.get(head, []))
    out["phrases"] = phrases or None
    return out


def trend(scored: Sequence[Message]) -> str | None:
    """`worsening`/`improving`/`steady` from the two newest scored messages; None for one."""
    if len(scored) < 2:
        return None
    deltas = [getattr(scored[0], h) - getattr(scored[1], h) for h in HEADS]
    rise, fall = max(deltas), -min(deltas)
    if rise >= TREND_DELTA and rise >= fall:
        return "worsening"
    if fall >= TREND_DELTA:
        return "improving"
    return "steady"


def export_labels(db: Database, out: IO[str], *, csat_as_frustration: bool = False) -> int:
    """Write agents' label corrections as labelled-ticket JSONL; returns the rows written."""
    with db.read() as s:
        rows = repo.feedback_for_export(s)
    written = 0
    for record in label_records(rows, csat_as_frustration=csat_as_frustration):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    return written


def label_records(rows: Iterable[tuple[Any, Message, Ticket]], *,
                  csat_as_frustration: bool = False) -> list[dict[str, Any]]:
    """One labelled row per corrected message; the latest correction of each head wins.

    With `csat_as_frustration`, a CSAT of 1 or 2 with no explicit frustration label marks
    the message frustration=1 (off by default: a low CSAT judges the service, not always
    the customer's tone).
    """
    merged: dict[int, dict[str, Any]] = {}
    for f, m, t in rows:
        rec = merged.setdefault(m.id, {"id": f"{t.case_number}/{m.id}", "text": m.text,
                                       **{h: None for h in HEADS}, "channel": t.channel,
                                       "created_at": _iso(m.created_at),
                                       "source": "feedback", "_csat": None})
        for head in HEADS:
            if getattr(f, head) is not None:
                rec[head] = getattr(f, head)
        if f.csat is not None:
            rec["_csat"] = f.csat
    out = []
    for rec in merged.values():
        csat = rec.pop("_csat")
        if csat_as_frustration and csat is not None and csat <= 2 and rec["frustration"] is None:
            rec["frustration"] = 1
        if any(rec[h] is not None for h in HEADS):
            out.append(rec)
    return out


# --- views -------------------------------------------------------------------------------


def case_view(t: Ticket, p: Priority | None) -> dict[str, Any]:
    c = t.customer
    return {
        "id": t.id, "case_number": t.case_number, "source": t.source,
        "external_id": t.external_id, "channel": t.channel, "subject": t.subject,
        "status": t.status, "lane": t.lane,
        "customer": None if c is None else {
            "customer_id": c.customer_id, "customer_since": _iso(c.customer_since),
            "tier": c.tier, "plan": c.plan, "lifetime_value": c.lifetime_value},
        "scores": _scores_of(t), "scorable": t.scorable,
        "unscorable_reason": t.unscorable_reason, "model_version": t.model_version,
        "trend": t.trend, "repeat_contacts_7d": t.repeat_contacts,
        "position": None if p is None else round(p.position, 2),
        "explanation": None if p is None else p.explanation(),
        "priority": None if p is None else p.as_dict(),
        "lease": None if t.lease_holder is None else {
            "holder": t.lease_holder, "expires_at": _iso(t.lease_expires_at)},
        "waiting_since": _iso(t.waiting_since), "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at), "resolved_at": _iso(t.resolved_at),
    }


def _message_view(m: Message) -> dict[str, Any]:
    return {"id": m.id, "author": m.author, "author_name": m.author_name, "text": m.text,
            "created_at": _iso(m.created_at), "scores": _scores_of(m),
            "scorable": m.scorable, "unscorable_reason": m.unscorable_reason,
            "language": m.language, "model_version": m.model_version, "phrases": m.phrases}


def _history_view(h: Any) -> dict[str, Any]:
    return {"at": _iso(h.at), "message_id": h.message_id, "scores": _scores_of(h),
            "trend": h.trend, "lane": h.lane, "boost_minutes": round(h.boost_minutes, 2),
            "model_version": h.model_version, "policy": h.policy_version}


def _audit_view(a: Any) -> dict[str, Any]:
    return {"at": _iso(a.at), "actor": a.actor, "action": a.action, "detail": a.detail}


def _feedback_view(f: Any) -> dict[str, Any]:
    return {"id": f.id, "at": _iso(f.at), "actor": f.actor, "message_id": f.message_id,
            "labels": {h: getattr(f, h) for h in HEADS}, "csat": f.csat, "comment": f.comment}


def _scores_of(row: Any) -> dict[str, float] | None:
    values = {h: getattr(row, h) for h in HEADS}
    return None if any(v is None for v in values.values()) else values


def _message_scores(score: Score | None) -> dict[str, Any]:
    if score is None:
        return {}
    phrases = None
    if score.explanation:
        phrases = {h: [p.text for p in ps] for h, ps in score.explanation.items() if ps}
    return {**{h: score.get(h) for h in HEADS}, "scorable": score.scorable,
            "unscorable_reason": score.reason, "language": score.language,
            "model_version": score.model_version, "phrases": phrases or None}


def _model_version(recent: Sequence[Message], scorer: Scorer) -> str:
    return next((m.model_version for m in recent if m.model_version), scorer.version)


def _check_reply(text: str, max_chars: int) -> None:
    """An agent reply is not scored, but must still be a sane message."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("text is empty; send the agent's reply in 'text'")
    if len(text) > max_chars:
        raise TextTooLong(f"text has {len(text)} characters, the limit is {max_chars}")


def _holds_text(recent: Sequence[Message], text: str) -> bool:
    return any(m.text.strip() == text.strip() for m in recent)


def _check_lanes(lanes: Sequence[str] | None) -> list[str]:
    if not lanes:
        return list(LANES)
    unknown = sorted(set(lanes) - set(LANES))
    if unknown:
        raise InputError(f"unknown lane(s) {unknown}; expected some of {list(LANES)}")
    return list(lanes)


def _check_statuses(statuses: Sequence[str] | None) -> list[str]:
    if not statuses:
        return list(QUEUED)
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise InputError(f"unknown status(es) {unknown}; expected some of {list(STATUSES)}")
    return list(statuses)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()
