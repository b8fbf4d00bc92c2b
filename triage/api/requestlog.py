"""A request id on every request and every log line; JSON log lines on request.

`RequestId` (ASGI middleware, outermost) takes the caller's `X-Request-ID` when it is a
sane token (1-128 of `A-Za-z0-9._:@/+=-`), else makes one, keeps it in a context variable
for the request's whole life (worker threads included: they copy the context) and sends it
back as `X-Request-ID`. `JsonFormatter` (`TRIAGE_LOG_FORMAT=json`) writes one JSON object
per line with that id, PII masked like the text format (`redact.mask`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage.api.redact import mask

HEADER = b"x-request-id"
VALID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                      default=None)


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID if it is a sane token, else a new random id."""
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text = value.decode("latin-1")
            if VALID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestId:
    """Give each HTTP request an id: in the context (for logs) and in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(scope)
        token = current.set(rid)

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            current.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (PII masked)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": mask(record.getMessage()), "request_id": current.get(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
                and len(record.args) == 5:
            client, method, path, _, status = record.args
            line.update(client=str(client), method=method, path=mask(str(path)),
                        status=status)
        if record.exc_info:
            line["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)
