"""The outbox worker: sends write-backs to the helpdesks, with backoff and dead letters.

One row at a time: claim it with a lease (store/outbox.py), send its calls in order with
httpx, record each answered call (`step`) so a retry resumes after it, and finish the row.
A failed call puts the row back with an exponential, jittered delay (tenacity's
`wait_exponential_jitter`), or the helpdesk's `Retry-After` when that is longer; after
`max_attempts` failures, or at once on an answer that retrying cannot fix (4xx other than
408 and 429), the row is dead until `triage connectors retry`.

A worker killed mid-send leaves its lease to expire; another worker (or the same after a
restart) claims the row again and resumes at the first unanswered call. Every write-back
is idempotent on the helpdesk side (it sets a priority, attributes, tags) except Zammad's
optional internal note, which a send cut off after the helpdesk applied it repeats once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, wait_exponential_jitter

from triage.cases import utcnow
from triage.connectors.base import Connector
from triage.errors import TriageError
from triage.store import Database, outbox

log = logging.getLogger("triage.connectors")
PERMANENT = frozenset(range(400, 500)) - {408, 425, 429}
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Job:
    """A claimed row, detached from its session."""

    id: int
    connector: str
    requests: list[dict[str, Any]]
    step: int
    attempts: int


class OutboxWorker:
    """Delivers due outbox rows. `run_once` for one pass; `run` until `stop` is set."""

    def __init__(self, db: Database, connectors: Mapping[str, Connector], *,
                 max_attempts: int = 10, lease_seconds: float = 60.0,
                 timeout: float = 10.0, retry_seconds: float = 2.0, keep_days: float = 30.0,
                 clock: Callable[[], datetime] = utcnow,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.db = db
        self.connectors = connectors
        self.max_attempts = max_attempts
        # a lease outlives one call's timeouts, so no other worker claims a row mid-send
        self.lease = timedelta(seconds=max(lease_seconds, 2 * timeout + 5))
        self.clock = clock
        self.holder = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.wait = wait_exponential_jitter(initial=retry_seconds, max=900, jitter=retry_seconds)
        self.client = httpx.Client(timeout=timeout, transport=transport,
                                   headers={"user-agent": "triage-connector"})
        self.sent = 0
        self.keep = timedelta(days=keep_days)
        self.pruned_at: datetime | None = None

    def run_once(self, limit: int = 100) -> int:
        """Deliver up to `limit` due rows; returns how many were handled."""
        handled = 0
        while handled < limit:
            job = self._claim()
            if job is None:
                break
            self.deliver(job)
            handled += 1
        return handled

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Deliver until `stop` is set, polling every `poll` seconds when idle."""
        while not stop.is_set():
            try:
                self.prune()
                busy = self.run_once()
            except TriageError as exc:  # the store is down: wait and try again
                log.warning("outbox: %s", exc.message)
                busy = 0
            except Exception:  # never let one bad row stop the worker thread
                log.exception("outbox: unexpected error; retrying after %.1f s", poll)
                busy = 0
            if not busy:
                stop.wait(poll)

    def prune(self, every: timedelta = timedelta(hours=1)) -> int:
        """Forget old delivery keys and finished rows, at most once per `every`."""
        now = self.clock()
        if self.pruned_at is not None and now - self.pruned_at < every:
            return 0
        self.pruned_at = now
        with self.db.write() as s:
            return outbox.prune(s, now - self.keep)

    def close(self) -> None:
        self.client.close()

    def deliver(self, job: Job) -> None:
        connector = self.connectors.get(job.connector)
        if connector is None or not connector.enabled:
            self._failed(job, None, f"the {job.connector} connector is not configured", None)
            return
        for step in range(job.step, len(job.requests)):
            call = job.requests[step]
            try:
                answer = self.client.request(call["method"], connector.url + call["path"],
                                             json=call.get("json"), headers=connector.headers())
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                self._failed(job, None, f"{type(exc).__name__}: {exc}", None)
                return
            if not answer.is_success:
                self._failed(job, answer.status_code, answer.text[:500],
                             retry_after(answer.headers.get("retry-after"), self.clock()))
                return
            if not self._advance(job, step + 1, answer.status_code):
                return
        self.sent += 1

    # --- store steps ---------------------------------------------------------------------

    def _claim(self) -> Job | None:
        with self.db.write() as s:
            row = outbox.claim(s, self.clock(), self.holder, self.lease)
            if row is None:
                return None
            return Job(row.id, row.connector, list(row.requests), row.step, row.attempts)

    def _advance(self, job: Job, step: int, status: int) -> bool:
        """Record an answered call (and the row done after its last); False if lease lost."""
        now = self.clock()
        with self.db.write() as s:
            row = outbox.held(s, job.id, self.holder)
            if row is None:
                log.warning("outbox row %d: lease lost; another worker has it", job.id)
                return False
            row.step, row.last_status, row.updated_at = step, status, now
            row.lease_expires_at = now + self.lease
            if step >= len(job.requests):
                row.state, row.delivered_at, row.lease_holder = "done", now, None
                row.lease_expires_at = None
        return True

    def _failed(self, job: Job, status: int | None, error: str, wait: float | None) -> None:
        now = self.clock()
        attempts = job.attempts + 1
        dead = attempts >= self.max_attempts or status in PERMANENT
        delay = max(self._backoff(attempts), min(wait or 0.0, MAX_RETRY_AFTER))
        with self.db.write() as s:
            row = outbox.held(s, job.id, self.holder)
            if row is None:
                return
            row.attempts, row.last_status, row.last_error = attempts, status, error
            row.state = "dead" if dead else "pending"
            row.next_attempt_at = now + timedelta(seconds=delay)
            row.lease_holder, row.lease_expires_at, row.updated_at = None, None, now
        log.warning("outbox row %d to %s: attempt %d failed (%s)%s", job.id, job.connector,
                    attempts, status or "no answer",
                    "; dead letter" if dead else f"; next in {delay:.1f} s")

    def _backoff(self, attempt: int) -> float:
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        return float(self.wait(state))


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (at - now).total_seconds()) if at.tzinfo else None
