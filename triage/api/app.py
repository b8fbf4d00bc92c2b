"""The FastAPI application: `create_app(settings)` builds one; `triage serve` runs it.

The model and the store are opened once, in the lifespan, and put on `app.state.service`.
A background task returns expired leases to the queue and re-evaluates tickets whose SLA
clock moved them (every TRIAGE_SWEEP_SECONDS; 0 turns it off).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from triage import __version__
from triage.api import handlers
from triage.api.middleware import middleware_stack
from triage.api.routes import ROUTERS
from triage.api.schemas import ErrorOut
from triage.api.service import Service, start
from triage.api.telemetry import Telemetry
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
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    """A new app. `scorer` replaces loading the model from `settings` (tests, embedding)."""
    settings = settings or Settings()
    telemetry = Telemetry()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await run_in_threadpool(start, settings, scorer, telemetry, clock)
        app.state.service = service
        sweeper = _start_sweeper(service, settings.sweep_seconds)
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            app.state.service = None
            service.close()

    app = FastAPI(title="triage", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, responses=EVERYWHERE)
    app.state.telemetry = telemetry
    app.state.service = None
    handlers.install(app)
    middleware_stack(app, settings=settings, telemetry=telemetry)
    for router in ROUTERS:
        app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """The app for `uvicorn --factory triage.api.app:app_from_env` (settings from env)."""
    return create_app(Settings())


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
