"""`Cases`: every state change of a case, each one store transaction with its audit rows."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from triage.cases.conversation import WINDOW, conversation, message_fields
from triage.cases.inputs import (
    Labels,
    NewTicket,
    Outcome,
    check_created_at,
    check_labels,
    check_lanes,
    check_reply,
    check_statuses,
    holds_text,
)
from triage.cases.labels import export_labels
from triage.cases.placement import Placement
from triage.cases.rescore import QueueRescorer, RescoreReport
from triage.cases.views import (
    audit_view,
    case_view,
    feedback_view,
    history_view,
    iso,
    message_view,
    scores_of,
)
from triage.errors import Conflict, InputError, NotFound
from triage.priority import PolicyConfig
from triage.scoring import Score, Scorer
from triage.store import Database
from triage.store import queue as q
from triage.store import repository as repo
from triage.store.database import DuplicateRow
from triage.store.tables import Message, Ticket
from triage.vocabulary import LANES

REPEAT_DAYS = 7
SYSTEM = "system"
Effect = Callable[[Any, Ticket, dict[str, Any]], None]
CLAIM_TRIES = 25  # a claim that finds only rows locked by other transactions looks again


def utcnow() -> datetime:
    return datetime.now(UTC)


class Cases:
    """Intake, re-scoring, the queue and its leases, feedback and label export.

    Args:
        db: the store.
        scorer: the loaded model behind the language gate.
        policy: the priority policy's version and weights; the defaults when None.
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
        self.placement = Placement(self.policy, timedelta(seconds=review_seconds))
        self.clock = clock
        self.on_score = on_score

    # --- intake and messages -----------------------------------------------------------

    def intake(self, new: NewTicket, actor: str, *, then: Effect | None = None) -> Outcome:
        """Open a case, or return the existing one for a known (source, external_id).

        A known external id with a text the case already holds is a replay (nothing
        changes); with a new text it is the customer's next message on that case.
        `then(session, ticket, case_view)` runs inside the transaction that created or
        appended (never on a replay), so what it writes commits or rolls back with the case
        (the connectors' outbox).
        """
        self.scorer.check(new.text)
        check_created_at(new.created_at, self.clock())
        if new.external_id is not None:
            known = self._replay(new)
            if known is not None:
                return Outcome(known)
        score = self._score(new.text)
        return self._retry_once(lambda: self._intake(new, score, actor, then))

    def add_message(self, ref: str, text: str, author: str, actor: str, *,
                    author_name: str | None = None, created_at: datetime | None = None,
                    key_id: int | None = None, admin: bool = False) -> Outcome:
        """Add a customer message (re-scores the case) or an agent reply (waits on customer).

        An agent reply on a case another agent holds needs that holder, or `admin` (a
        supervisor's or admin's key): a reply ends the holder's claim.
        """
        if author not in ("customer", "agent"):
            raise InputError(f"author is {author!r}; expected 'customer' or 'agent'")
        if author == "customer":
            self.scorer.check(text)
        else:
            check_reply(text, getattr(self.scorer, "max_chars", 20_000))
        score = self._score(text) if author == "customer" else None
        now = self.clock()
        check_created_at(created_at, now)
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            if author == "agent":
                self._check_not_held_by_other(t, actor, now, admin, key_id)
            self._append(s, t, text, author, score, now, actor, author_name, created_at)
            return Outcome(self._view(s, t, now))

    def _intake(self, new: NewTicket, score: Score, actor: str,
                then: Effect | None = None) -> Outcome:
        now = self.clock()
        with self.db.write() as s:
            if new.external_id is not None:
                t = repo.find_by_external_id(s, new.source, new.external_id, lock=True)
                if t is not None:
                    if holds_text(repo.recent_customer_messages(s, t.id, WINDOW), new.text):
                        return Outcome(self._view(s, t, now))
                    self._append(s, t, new.text, "customer", score, now, actor, None,
                                 new.created_at)
                    return self._then(s, t, now, then, appended=True)
            t = self._open(s, new, now, actor)
            self._append(s, t, new.text, "customer", score, now, actor, None, new.created_at)
            return self._then(s, t, now, then, created=True)

    def _then(self, s: Any, t: Ticket, now: datetime, then: Effect | None, *,
              created: bool = False, appended: bool = False) -> Outcome:
        view = self._view(s, t, now)
        if then is not None:
            then(s, t, view)
        return Outcome(view, created=created, appended=appended)

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
            repeat_contacts=repeat, policy_version=self.policy.version,
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
                             created_at=at, **message_fields(score))
        repo.add_audit(s, t.id, now, actor, "message", {"message_id": m.id, "author": author})
        if author == "agent":
            self._agent_replied(s, t, now, actor)
            return
        if t.status in ("waiting_on_customer", "resolved"):
            reopened = t.status == "resolved"
            self._move(s, t, now, actor, "open", waiting_since=at, resolved_at=None,
                       **NO_LEASE)
            if reopened:
                repo.add_audit(s, t.id, now, actor, "reopened", {"message_id": m.id})
        self._rescore(s, t, now, actor, m.id)

    def _agent_replied(self, s: Any, t: Ticket, now: datetime, actor: str) -> None:
        if t.status in ("open", "escalated", "claimed"):
            self._move(s, t, now, actor, "waiting_on_customer", review_at=None, **NO_LEASE)

    def _rescore(self, s: Any, t: Ticket, now: datetime, actor: str, message_id: int) -> None:
        recent = repo.recent_customer_messages(s, t.id, WINDOW)
        convo = conversation(recent)
        repo.update_ticket(s, t, **convo, model_version=_model_version(recent, self.scorer))
        p = self.placement.place(s, t, now, actor)
        repo.add_history(s, t, now, message_id)
        repo.add_audit(s, t.id, now, actor, "scored", {
            "message_id": message_id, "scores": scores_of(t), "scorable": t.scorable,
            "reason": t.unscorable_reason, "trend": t.trend,
            "frustration_rise": t.frustration_rise, "lane": p.lane,
            "boost_minutes": round(p.boost_minutes, 2), "model_version": t.model_version,
            "policy": p.policy})

    # --- the queue -----------------------------------------------------------------------

    def queue(self, *, lanes: Sequence[str] | None = None,
              statuses: Sequence[str] | None = None, limit: int = 50) -> dict[str, Any]:
        """The queue in claim order, with each entry's position and explanation at `now`."""
        lanes, statuses = check_lanes(lanes), check_statuses(statuses)
        now = self.sweep()
        with self.db.read() as s:
            rows = q.list_queue(s, lanes=lanes, statuses=statuses, limit=limit)
            depth = q.depth_by_lane(s)
            entries = [self._view(s, t, now) for t in rows]
        return {"policy": self.policy.version, "now": now.isoformat(),
                "depth": {lane: depth.get(lane, 0) for lane in LANES}, "entries": entries}

    def claim(self, actor: str, lanes: Sequence[str] | None = None, *,
              key_id: int | None = None) -> dict[str, Any] | None:
        """Atomically take the top queued ticket with a lease; None when nothing is queued.

        The claim is held by `key_id` (the API key) when given, else by the name `actor`.
        Due work is swept in its own transaction first, so its row locks are gone before
        the claim; a claim that finds only rows other transactions hold (PostgreSQL skips
        locked rows) looks again, so it answers None only when nothing is queued.
        """
        lanes = check_lanes(lanes)
        self.sweep()
        for attempt in range(CLAIM_TRIES):
            now = self.clock()
            with self.db.write() as s:
                t = q.claim_next(s, lanes)
                if t is not None:
                    return self._take(s, t, now, actor, key_id)
                if not q.has_queued(s, lanes):
                    return None
            time.sleep(0.005 * (attempt + 1))
        return None

    def _take(self, s: Any, t: Ticket, now: datetime, actor: str,
              key_id: int | None) -> dict[str, Any]:
        expires = now + self.lease
        self._move(s, t, now, actor, "claimed", lease_holder=actor, lease_key_id=key_id,
                   lease_expires_at=expires)
        repo.add_audit(s, t.id, now, actor, "claimed",
                       {"lease_expires_at": expires.isoformat(), "key_id": key_id})
        return self._view(s, t, now)

    def heartbeat(self, ref: str, actor: str, *, key_id: int | None = None) -> dict[str, Any]:
        """Extend the caller's lease on a ticket it holds."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            self._check_holder(t, actor, now, admin=False, key_id=key_id)
            repo.update_ticket(s, t, lease_expires_at=now + self.lease, updated_at=now)
            return self._view(s, t, now)

    def release(self, ref: str, actor: str, *, admin: bool = False,
                key_id: int | None = None) -> dict[str, Any]:
        """Give a claimed ticket back to the queue at its place (its wait keeps counting)."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            self._check_holder(t, actor, now, admin=admin, key_id=key_id)
            self._requeue(s, t, now, actor, "released", {"holder": t.lease_holder})
            return self._view(s, t, now)

    def resolve(self, ref: str, actor: str, *, admin: bool = False,
                note: str | None = None, key_id: int | None = None) -> dict[str, Any]:
        """Close a case. Resolving a resolved case changes nothing."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            if t.status != "resolved":
                self._check_not_held_by_other(t, actor, now, admin, key_id)
                self._move(s, t, now, actor, "resolved", review_at=None, resolved_at=now,
                           **NO_LEASE)
                repo.add_audit(s, t.id, now, actor, "resolved", {"note": note} if note else None)
            return self._view(s, t, now)

    def escalate(self, ref: str, actor: str, reason: str | None = None, *,
                 admin: bool = False, key_id: int | None = None) -> dict[str, Any]:
        """Send a case to the supervisor lane by hand (it stays there until resolved)."""
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            if t.status == "resolved":
                raise Conflict(f"{t.case_number} is resolved; a new customer message reopens it")
            self._check_not_held_by_other(t, actor, now, admin, key_id)
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
                    "holder": t.lease_holder, "expired_at": iso(t.lease_expires_at)})
            else:
                self.placement.place(s, t, now, SYSTEM)

    def rescore_queue(self, *, scorer: Scorer | None = None, dry_run: bool = False,
                      top: int = 10, page: int = 200, everything: bool = False,
                      explain_top: int | None = None,
                      log: Callable[[str], None] | None = None) -> RescoreReport:
        """Re-score unresolved cases with `scorer` (this service's model by default).

        See `triage.cases.rescore`; `dry_run` reports what would change and changes nothing.
        """
        rescorer = QueueRescorer(
            self.db, scorer or self.scorer, self.placement, clock=self.clock, page=page,
            everything=everything,
            explain_top=self.explain_top if explain_top is None else explain_top)
        return rescorer.run(dry_run=dry_run, top=top, log=log)

    # --- reading -------------------------------------------------------------------------

    def get(self, ref: str) -> dict[str, Any]:
        """A case with its transcript, score history, audit log and feedback."""
        now = self.clock()
        with self.db.read() as s:
            t = self._find(s, ref)
            view = self._view(s, t, now)
            view["messages"] = [message_view(m) for m in repo.messages(s, t.id)]
            view["score_history"] = [history_view(h) for h in repo.history(s, t.id)]
            view["audit"] = [audit_view(a) for a in repo.audit(s, t.id)]
            view["feedback"] = [feedback_view(f) for f in repo.feedback(s, t.id)]
            return view

    def lease_expiries(self) -> int:
        with self.db.read() as s:
            return repo.count_actions(s, "lease_expired")

    def depth(self) -> dict[str, int]:
        with self.db.read() as s:
            depth = q.depth_by_lane(s)
        return {lane: depth.get(lane, 0) for lane in LANES}

    def waits(self) -> dict[str, tuple[float, int]]:
        """Per lane: the longest wait of a queued ticket in seconds, and how many queued
        tickets are past their SLA due time (for the metrics)."""
        now = self.clock()
        with self.db.read() as s:
            waits = q.lane_waits(s, now)
        out = {}
        for lane in LANES:
            since, breached = waits.get(lane, (None, 0))
            out[lane] = (max(0.0, (now - since).total_seconds()) if since else 0.0, breached)
        return out

    # --- feedback and labels -------------------------------------------------------------

    def feedback(self, ref: str, labels: Labels, actor: str) -> dict[str, Any]:
        """Record an agent's label corrections and/or the customer's CSAT on a case."""
        if labels.empty():
            raise InputError("feedback is empty; send labels (frustration, churn_risk, "
                             "urgency: 0 or 1) and/or csat (1-5) with an optional comment")
        now = self.clock()
        with self.db.write() as s:
            t = self._find(s, ref, lock=True)
            given = check_labels(labels, [*self.scorer.heads, *(t.scores or {})])
            m = self._feedback_message(s, t, labels.message_id)
            row = repo.add_feedback(s, t, message_id=m.id if m else None, at=now, actor=actor,
                                    csat=labels.csat, comment=labels.comment,
                                    labels=given or None)
            repo.add_audit(s, t.id, now, actor, "feedback", {"feedback_id": row.id,
                           "message_id": row.message_id, "labels": given,
                           "csat": labels.csat})
            return feedback_view(row)

    def export_labels(self, out: IO[str], *, csat_as_frustration: bool = False) -> int:
        """Write corrected messages as labelled-ticket JSONL (`triage train` reads it)."""
        return export_labels(self.db, out, csat_as_frustration=csat_as_frustration,
                             heads=self.scorer.heads)

    # --- internals -------------------------------------------------------------------------

    def _requeue(self, s: Any, t: Ticket, now: datetime, actor: str, action: str,
                 detail: dict[str, Any], **fields: Any) -> None:
        repo.update_ticket(s, t, status="open", **NO_LEASE, **fields)
        repo.add_audit(s, t.id, now, actor, action, detail)
        self.placement.place(s, t, now, actor)

    def _move(self, s: Any, t: Ticket, now: datetime, actor: str, status: str,
              **fields: Any) -> None:
        if status != t.status:
            repo.add_audit(s, t.id, now, actor, "status", {"from": t.status, "to": status})
        repo.update_ticket(s, t, status=status, updated_at=now, **fields)

    def _check_holder(self, t: Ticket, actor: str, now: datetime, *, admin: bool,
                      key_id: int | None = None) -> None:
        if t.status != "claimed":
            raise Conflict(f"{t.case_number} is {t.status}, not claimed; claim it first "
                           "(POST /v1/queue/claim)")
        if not holds(t, actor, key_id) and not admin:
            raise Conflict(f"{t.case_number} is held by {t.lease_holder!r}, not by {actor!r}")
        if t.lease_expires_at is not None and t.lease_expires_at <= now and not admin:
            raise Conflict(f"the lease on {t.case_number} expired at "
                           f"{t.lease_expires_at.isoformat()}; it is back in the queue, "
                           "claim again")

    def _check_not_held_by_other(self, t: Ticket, actor: str, now: datetime,
                                 admin: bool, key_id: int | None = None) -> None:
        live = t.status == "claimed" and t.lease_expires_at is not None \
            and t.lease_expires_at > now
        if live and not holds(t, actor, key_id) and not admin:
            raise Conflict(f"{t.case_number} is held by {t.lease_holder!r} until "
                           f"{iso(t.lease_expires_at)}; ask them, or a supervisor")

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

    def _view(self, s: Any, t: Ticket, now: datetime) -> dict[str, Any]:
        return case_view(t, self.placement.at(t, now))

    def _score(self, text: str) -> Score:
        score = self.scorer.score([text], explain_top=self.explain_top)[0]
        if self.on_score is not None:
            self.on_score(score)
        return score

    def _replay(self, new: NewTicket) -> dict[str, Any] | None:
        now = self.clock()
        with self.db.read() as s:
            t = repo.find_by_external_id(s, new.source, new.external_id or "")
            if t is None or not holds_text(repo.recent_customer_messages(s, t.id, WINDOW),
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


NO_LEASE: dict[str, Any] = {"lease_holder": None, "lease_key_id": None,
                            "lease_expires_at": None}


def holds(t: Ticket, actor: str, key_id: int | None) -> bool:
    """Whether the caller holds `t`'s claim: by key id when the claim and the caller have
    one (names are not unique), else by name (claims made without a key, e.g. the CLI)."""
    if key_id is not None and t.lease_key_id is not None:
        return t.lease_key_id == key_id
    return t.lease_holder == actor


def _model_version(recent: Sequence[Message], scorer: Scorer) -> str:
    return next((m.model_version for m in recent if m.model_version), scorer.version)
