"""One mapping from errors to HTTP: every error body is `{"error", "error_type", "detail"}`.

`TriageError` subclasses carry their status; request validation is 422 with the failing
fields (without echoing their values: they may be huge or personal); anything unexpected is
a 500 with no internals in the body (the server log has the traceback, PII masked).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from triage.errors import ModelBuilding, Overloaded, TriageError

log = logging.getLogger("triage.api")
_HTTP_TYPES = {400: "BadRequest", 401: "AuthError", 403: "Forbidden", 404: "NotFound",
               405: "MethodNotAllowed", 413: "PayloadTooLarge", 415: "UnsupportedMediaType",
               422: "ValidationError", 429: "Overloaded"}


def error_body(error: str, error_type: str, detail: Any = None) -> dict[str, Any]:
    return {"error": error, "error_type": error_type, "detail": detail}


async def triage_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TriageError)
    headers = {"Retry-After": "1"} if isinstance(exc, Overloaded) else None
    if isinstance(exc, ModelBuilding):
        headers = {"Retry-After": str(exc.retry_after)}
    if exc.status_code in (401, 403):
        headers = {"WWW-Authenticate": "Bearer"}
    if exc.status_code >= 500:
        log.warning("%s: %s", type(exc).__name__, exc.message)
    return JSONResponse(error_body(exc.message, type(exc).__name__, exc.detail),
                        status_code=exc.status_code, headers=headers)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(e) for e in exc.errors()]
    first = problems[0] if problems else {"field": "request", "message": "invalid"}
    summary = f"invalid request: {first['field']}: {first['message']}"
    if len(problems) > 1:
        summary += f" (and {len(problems) - 1} more)"
    return JSONResponse(error_body(summary, "ValidationError", problems), status_code=422)


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # FastAPI could not decode the body
        return JSONResponse(error_body(_unreadable(exc), "ValidationError"), status_code=422)
    kind = _HTTP_TYPES.get(exc.status_code, "HTTPError")
    return JSONResponse(error_body(str(exc.detail), kind), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal error; the server log has the details",
                                   "InternalError"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(TriageError, triage_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)


def _unreadable(exc: HTTPException) -> str:
    if isinstance(exc.__cause__, RecursionError):
        return ("the request body nests JSON arrays or objects too deeply for the parser; "
                "send a flat JSON object (the API's bodies nest 3 levels at most)")
    return "the request body is not valid JSON in UTF-8; send a JSON object"


def _problem(error: Any) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    where = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path") else loc)
    return {"field": where or "body", "location": loc[0] if loc else None,
            "message": str(error.get("msg", "invalid")), "type": error.get("type")}
