"""What one API process holds: the store, the scorer, the case service and the metrics.

Built once in the app's lifespan (never at import). A model that cannot be loaded does not
stop the process: scoring answers 503 with the reason, `/readyz` reports it, and the queue
keeps working for the agents.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from triage.api.admission import Admission, limits_for
from triage.api.telemetry import Telemetry
from triage.cases import Cases, utcnow
from triage.errors import ModelError, StoreError, TriageError
from triage.keys import KeyCache
from triage.priority import PolicyConfig
from triage.scoring import Score, Scorer
from triage.settings import Settings
from triage.store import Database

log = logging.getLogger("triage.api")


class UnavailableScorer:
    """Stands in for a model that failed to load: every use raises ModelError (503)."""

    version = "unavailable"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def check(self, text: Any) -> str:
        raise ModelError(f"the model is not loaded: {self.reason}")

    def score(self, texts: Sequence[str], *, explain_top: int = 0) -> list[Score]:
        raise ModelError(f"the model is not loaded: {self.reason}")


@dataclass
class Service:
    settings: Settings
    db: Database
    scorer: Scorer
    cases: Cases
    policy: PolicyConfig
    model_error: str | None
    telemetry: Telemetry
    keys: KeyCache = field(default_factory=lambda: KeyCache(0))
    admission: Admission = field(default_factory=lambda: Admission(limits_for(1, 0, 2.0, 0)))

    def close(self) -> None:
        self.db.close()


def start(settings: Settings, scorer: Scorer | None, telemetry: Telemetry,
          clock: Callable[[], datetime] | None = None) -> Service:
    """Open (and migrate) the store, load the model, build the case service."""
    policy = PolicyConfig.from_dict(settings.priority_policy or {})
    db = Database(settings.resolved_database_url())
    if settings.auto_migrate:
        _migrate(db)
    model_error = None
    if scorer is None:
        scorer, model_error = _load_scorer(settings)
    cases = Cases(db, scorer, policy=policy, lease_seconds=settings.lease_seconds,
                  explain_top=settings.explain_top, review_seconds=settings.review_seconds,
                  clock=clock or utcnow, on_score=telemetry.observe_score)
    telemetry.watch_store(cases.depth, cases.lease_expiries, settings.metrics_cache_seconds)
    return Service(settings, db, scorer, cases, policy, model_error, telemetry,
                   KeyCache(settings.key_cache_seconds), admission_for(settings))


def admission_for(settings: Settings) -> Admission:
    """The scoring admission of one process, sized by its inference slots."""
    slots = inference_shape(settings)[1]
    return Admission(limits_for(slots, settings.score_queue, settings.score_wait_seconds,
                                settings.max_per_key))


def _load_scorer(settings: Settings) -> tuple[Any, str | None]:
    path = settings.resolved_model_dir()
    threads, slots = inference_shape(settings)
    try:
        scorer = Scorer.from_dir(path, threads=threads, batch_size=settings.batch_size,
                                 max_chars=settings.max_text_chars, slots=slots)
    except TriageError as exc:
        log.error("model not loaded from %s: %s", path, exc.message)
        return UnavailableScorer(exc.message), exc.message
    log.info("model %s loaded from %s (%d inference slot(s) of %d thread(s))",
             scorer.version, path, slots, threads)
    return scorer, None


def inference_shape(settings: Settings) -> tuple[int, int]:
    """(intra-op threads per call, concurrent calls) for one server process.

    A request scores one or a few short messages, which a second intra-op thread barely
    speeds up, so by default each call gets one thread and the process runs as many calls
    at once as it has cores (divided among the workers). TRIAGE_THREADS and
    TRIAGE_INFERENCE_SLOTS override either.
    """
    threads = settings.threads or 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    slots = settings.inference_slots or max(1, cores // max(1, settings.workers) // threads)
    return threads, slots


def _migrate(db: Database, attempts: int = 15, pause: float = 2.0) -> None:
    """Migrate, waiting for a database that is still starting (compose, k8s)."""
    for attempt in range(1, attempts + 1):
        try:
            revision = db.migrate()
        except StoreError as exc:
            if attempt == attempts:
                raise
            log.warning("database not ready (%s); retrying in %.0f s", exc.message, pause)
            time.sleep(pause)
        else:
            log.info("database at migration %s", revision)
            return
