"""The FastAPI application: `create_app(settings)` builds one; `triage serve` runs it.

The model and the store are opened once, in the lifespan, and put on `app.state.service`.
The connectors' outbox worker (write-backs to helpdesks) runs on a thread when a connector
is configured (TRIAGE_CONNECTOR_WORKER=false leaves it to `triage connectors work`).
While the default model is still being built (first start), scoring and intake answer 503
with Retry-After and a watch task starts serving the model when it is ready. A background
task returns expired leases to the queue and re-evaluates tickets whose SLA
clock moved them (every TRIAGE_SWEEP_SECONDS; 0 turns it off).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from triage import __version__
from triage.api import handlers
from triage.api.middleware import middleware_stack
from triage.api.requestlog import RequestId
from triage.api.routes import ROUTERS
from triage.api.schemas import ErrorOut
from triage.api.state import Service, UnavailableScorer, load_scorer, start
from triage.api.telemetry import Telemetry
from triage.api.tracing import Tracing
from triage.models.default import is_valid
from triage.models.progress import FAILED
from triage.scoring import Scorer
from triage.settings import Settings

log = logging.getLogger("triage.api")
DESCRIPTION = """Scores customer messages for frustration, churn risk and urgency, and keeps
one explainable queue for human agents. Send `Authorization: Bearer <key>` (create keys with
`triage keys create --role agent|supervisor|admin`). Errors are `{"error", "error_type", "detail"}`."""

# answers any request can get before routing (see middleware.py)
EVERYWHERE: dict[int | str, dict[str, object]] = {
    414: {"model": ErrorOut, "description": "The URL is over TRIAGE_MAX_URL_CHARS."},
    431: {"model": ErrorOut, "description": "The headers are over TRIAGE_MAX_HEADER_BYTES."},
}


def create_app(settings: Settings | None = None, *, scorer: Scorer | None = None,
               clock: Callable[[], datetime] | None = None,
               span_exporter: Any = None) -> FastAPI:
    """A new app. `scorer` replaces loading the model from `settings` (tests, embedding);
    `span_exporter` turns tracing on with that OpenTelemetry exporter (else OTEL_* decide).
    """
    settings = settings or Settings()
    telemetry = Telemetry()
    tracing = Tracing(span_exporter)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await run_in_threadpool(start, settings, scorer, telemetry, clock)
        app.state.service = service
        tracing.trace_engine(service.db.engine)
        telemetry.watch_build(lambda: {"version": __version__, "policy": service.policy.version,
                                       "model_version": service.scorer.version})
        tasks = [t for t in (_start_sweeper(service, settings.sweep_seconds),
                             _start_model_watch(service)) if t is not None]
        outbox = _start_outbox(service, settings)
        try:
            yield
        finally:
            if outbox is not None:
                outbox[0].set()
                await run_in_threadpool(outbox[1].join, settings.connector_timeout_seconds + 5)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            app.state.service = None
            service.close()
            telemetry.worker_exited()
            tracing.close()

    app = FastAPI(title="triage", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, responses=EVERYWHERE,
                  docs_url=None, redoc_url=None)  # routes/docs.py
    app.state.telemetry = telemetry
    app.state.service = None
    handlers.install(app)
    middleware_stack(app, settings=settings, telemetry=telemetry)
    app.add_middleware(RequestId)  # outermost: every response and log line has the id
    for router in ROUTERS:
        app.include_router(router)
    tracing.install(app)
    return app


def app_from_env() -> FastAPI:
    """The app for `uvicorn --factory triage.api.app:app_from_env` (settings from env)."""
    return create_app(Settings())


def _start_outbox(service: Service, settings: Settings
                  ) -> tuple[threading.Event, threading.Thread] | None:
    """The connectors' outbox worker on a thread, when a connector is configured."""
    worker = service.worker
    if worker is None or not settings.connector_worker or \
            not any(c.enabled for c in worker.connectors.values()):
        return None
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop, settings.outbox_poll_seconds),
                              name="triage-outbox", daemon=True)
    thread.start()
    return stop, thread


def _start_sweeper(service: Service, every: float) -> asyncio.Task[None] | None:
    if every <= 0:
        return None

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await run_in_threadpool(service.cases.sweep)
            except Exception:  # keep sweeping; the next round may succeed
                log.exception("queue sweep failed")

    return asyncio.create_task(loop(), name="triage-sweeper")


def _start_model_watch(service: Service, every: float = 1.0) -> asyncio.Task[None] | None:
    """While the default model is built elsewhere, wait for it and start serving it."""
    if not service.building:
        return None

    async def loop() -> None:
        while service.building:
            await asyncio.sleep(every)
            path = service.settings.resolved_model_dir()
            status = service.scorer.status()  # type: ignore[attr-defined]
            if is_valid(path):
                scorer, error = await run_in_threadpool(load_scorer, service.settings)
                service.use_scorer(scorer, error)
                log.info("model %s ready: scoring and intake open", scorer.version)
            elif status["state"] == FAILED:
                error = f"the model build failed: {status.get('error', 'see the server log')}"
                service.use_scorer(UnavailableScorer(error), error)
                log.error("%s", error)

    return asyncio.create_task(loop(), name="triage-model-watch")
