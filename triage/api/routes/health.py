"""Liveness, readiness and Prometheus metrics (no key needed, unless
TRIAGE_METRICS_NEED_KEY asks for one on `/metrics`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from triage.api.deps import ServiceDep, bearer, caller
from triage.api.handlers import error_body
from triage.api.routes.scoring import without_paths
from triage.errors import TriageError

router = APIRouter(tags=["health"])


@router.get("/healthz")
@router.head("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Model not loaded or being built "
                                          "(`state`, `progress`, `eta_s`), or the store "
                                          "does not answer or takes no writes."}})
@router.head("/readyz", include_in_schema=False)
def readyz(service: ServiceDep) -> Any:
    """Ready to serve: the model is loaded and the store answers and takes writes.

    While the default model is built (first start) it answers 503 with
    `{"state": "building model", "progress": 0..1, "eta_s": ...}` beside the error fields.
    """
    if service.building:
        status = service.scorer.status()  # type: ignore[attr-defined]
        refusal = service.scorer.refusal()  # type: ignore[attr-defined]
        return JSONResponse({**error_body("not ready: " + refusal.message, "ModelBuilding",
                                          status), **status}, status_code=503,
                            headers={"Retry-After": str(refusal.retry_after)})
    problems: dict[str, str] = {}
    if service.model_error:
        problems["model"] = without_paths(service.model_error)
    try:
        service.db.ping()
        service.db.ping_write()
    except TriageError as exc:
        problems["store"] = exc.message
    if problems:
        reasons = "; ".join(f"{part}: {why}" for part, why in problems.items())
        return JSONResponse(error_body(f"not ready: {reasons}", "NotReady", problems),
                            status_code=503)
    return {"status": "ready", "model_version": service.scorer.version,
            "policy": service.policy.version, "database": service.db.dialect}


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, service: ServiceDep) -> Response:
    """Prometheus metrics; the store-backed gauges are cached (TRIAGE_METRICS_CACHE_SECONDS)."""
    if service.settings.metrics_need_key:
        creds: HTTPAuthorizationCredentials | None = await bearer(request)
        await caller(service, creds)
    registry = request.app.state.telemetry.scrape_registry()
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
