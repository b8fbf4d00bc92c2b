"""Liveness, readiness and Prometheus metrics (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from triage.api.deps import ServiceDep
from triage.api.handlers import error_body
from triage.errors import TriageError

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Model not loaded or being built "
                                          "(`state`, `progress`, `eta_s`), or store down."}})
def readyz(service: ServiceDep) -> Any:
    """Ready to serve: the model is loaded and the store answers.

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
        problems["model"] = service.model_error
    try:
        service.db.ping()
    except TriageError as exc:
        problems["store"] = exc.message
    if problems:
        reasons = "; ".join(f"{part}: {why}" for part, why in problems.items())
        return JSONResponse(error_body(f"not ready: {reasons}", "NotReady", problems),
                            status_code=503)
    return {"status": "ready", "model_version": service.scorer.version,
            "policy": service.policy.version, "database": service.db.dialect}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = request.app.state.telemetry.scrape_registry()
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
