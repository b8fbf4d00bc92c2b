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
from pathlib import Path
from typing import Any

from triage import connectors
from triage.api.admission import Admission, limits_for
from triage.api.telemetry import Telemetry
from triage.assembly import build_cases, build_policy, build_scorer, build_store
from triage.cases import Cases, utcnow
from triage.connectors import Gateway, OutboxWorker
from triage.errors import ModelBuilding, ModelError, StoreError, TriageError
from triage.keys import KeyCache
from triage.models.default import is_valid
from triage.models.progress import BUILDING, duration, read_status
from triage.priority import PolicyConfig
from triage.scoring import Score, Scorer
from triage.settings import Settings
from triage.store import Database, outbox

log = logging.getLogger("triage.api")


class UnavailableScorer:
    """Stands in for a model that failed to load: every use raises ModelError (503)."""

    version = "unavailable"
    heads: tuple[str, ...] = ()

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def check(self, text: Any) -> str:
        raise ModelError(f"the model is not loaded: {self.reason}")

    def score(self, texts: Sequence[str], *, explain_top: int = 0) -> list[Score]:
        raise ModelError(f"the model is not loaded: {self.reason}")


class PendingScorer:
    """Stands in while the default model is built: every use raises ModelBuilding (503).

    The refusal carries the build's progress and a Retry-After from its ETA; the app's
    model watch swaps the real scorer in when the build is done.
    """

    version = "building"
    heads: tuple[str, ...] = ()

    def __init__(self, target: Path) -> None:
        self.target = target

    def status(self) -> dict[str, Any]:
        """The build's state, progress (0..1) and ETA in seconds (None when not known)."""
        status = read_status(self.target) or {"state": BUILDING, "progress": 0.0}
        return {"state": status["state"], "phase": status.get("phase"),
                "progress": status.get("progress", 0.0), "eta_s": status.get("eta_s"),
                **({"error": status["error"]} if "error" in status else {})}

    def refusal(self) -> ModelBuilding:
        status = self.status()
        eta = status["eta_s"]
        left = "time left not known yet" if eta is None else f"about {duration(eta)} left"
        return ModelBuilding(
            f"the model is being built (first start): {status['progress']:.0%} done, {left}; "
            "retry later (GET /readyz shows progress)",
            retry_after=30 if eta is None else int(min(60, max(5, eta))), detail=status)

    def check(self, text: Any) -> str:
        raise self.refusal()

    def score(self, texts: Sequence[str], *, explain_top: int = 0) -> list[Score]:
        raise self.refusal()


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
    gateway: Gateway | None = None
    worker: OutboxWorker | None = None
    admission: Admission = field(default_factory=lambda: Admission(limits_for(1, 0, 2.0, 0)))

    @property
    def building(self) -> bool:
        """True while the default model is still being built (first start)."""
        return isinstance(self.scorer, PendingScorer)

    def use_scorer(self, scorer: Any, error: str | None = None) -> None:
        """Serve with `scorer` from now on (the build finished, or failed with `error`)."""
        self.scorer = scorer
        self.cases.scorer = scorer
        self.model_error = error

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
        self.db.close()


def start(settings: Settings, scorer: Scorer | None, telemetry: Telemetry,
          clock: Callable[[], datetime] | None = None) -> Service:
    """Open (and migrate) the store, load the model, build the case service."""
    policy = build_policy(settings)
    db = build_store(settings)
    if settings.auto_migrate:
        _migrate(db)
    model_error = None
    if scorer is None:
        scorer, model_error = _load_scorer(settings)
    cases = build_cases(settings, db, scorer, policy=policy, clock=clock,
                        on_score=telemetry.observe_score)
    telemetry.watch_store(cases.depth, cases.lease_expiries, settings.metrics_cache_seconds)
    gateway = connectors.gateway(settings, cases, clock=clock or utcnow,
                                 on_result=telemetry.observe_webhook)
    worker = connectors.worker(settings, db, clock=clock or utcnow)
    telemetry.watch_outbox(lambda: _outbox_counts(db))
    telemetry.watch_waits(cases.waits)
    return Service(settings, db, scorer, cases, policy, model_error, telemetry,
                   KeyCache(settings.key_cache_seconds), gateway, worker,
                   admission_for(settings))


def _outbox_counts(db: Database) -> dict[str, dict[str, int]]:
    with db.read() as s:
        return outbox.counts(s)


def admission_for(settings: Settings) -> Admission:
    """The scoring admission of one process, sized by its inference slots."""
    slots = inference_shape(settings)[1]
    return Admission(limits_for(slots, settings.score_queue, settings.score_wait_seconds,
                                settings.max_per_key))


def _load_scorer(settings: Settings) -> tuple[Any, str | None]:
    path = settings.resolved_model_dir()
    if not is_valid(path) and (read_status(path) or {}).get("state") == BUILDING:
        log.info("model at %s is being built; scoring answers 503 until it is ready", path)
        return PendingScorer(path), None
    return load_scorer(settings)


def load_scorer(settings: Settings) -> tuple[Any, str | None]:
    """The model of `settings`, or a stand-in that answers 503 with the reason."""
    path = settings.resolved_model_dir()
    threads, slots = inference_shape(settings)
    try:
        scorer = build_scorer(settings, model_dir=path, threads=threads, slots=slots)
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
