"""ASGI middleware: URL, header and body limits, bounded work in flight (429), latency.

Pure ASGI (no BaseHTTPMiddleware), so streaming and background work are untouched. The URL
and header limits run first, before routing, so an oversize request costs nothing else.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage.api.telemetry import Telemetry
from triage.settings import Settings

EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})


async def send_error(send: Send, status: int, error: str, error_type: str,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": error, "error_type": error_type, "detail": None}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class UrlLimit:
    """Refuse a URL over `max_chars` (414) or headers over `max_header_bytes` (431)."""

    def __init__(self, app: ASGIApp, max_chars: int, max_header_bytes: int,
                 telemetry: Telemetry) -> None:
        self.app = app
        self.max_chars = max_chars
        self.max_header_bytes = max_header_bytes
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = len(scope.get("raw_path") or scope["path"]) + len(scope.get("query_string", b""))
        if url > self.max_chars:
            self.telemetry.rejected.labels(reason="url_too_long").inc()
            await send_error(send, 414, f"the URL is {url} characters, the limit is "
                             f"{self.max_chars} (TRIAGE_MAX_URL_CHARS); send data in the "
                             "body", "URITooLong")
            return
        headers = sum(len(name) + len(value) for name, value in scope["headers"])
        if headers > self.max_header_bytes:
            self.telemetry.rejected.labels(reason="headers_too_large").inc()
            await send_error(send, 431, f"the request headers are {headers} bytes, the "
                             f"limit is {self.max_header_bytes} (TRIAGE_MAX_HEADER_BYTES)",
                             "HeadersTooLarge")
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, by header or while streaming.

    Bodies are JSON in UTF-8: one that starts with a UTF-16/32 byte-order mark or holds a
    NUL byte (UTF-16 text always does; UTF-8 JSON never does) is refused with 422 here,
    since the JSON parser would otherwise guess the encoding and accept it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, telemetry: Telemetry) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            self.telemetry.rejected.labels(reason="too_large").inc()
            await send_error(send, 413, self._message(declared), "PayloadTooLarge")
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            body = message.get("body", b"")
            if b"\x00" in body or (seen == 0 and body[:2] in (b"\xff\xfe", b"\xfe\xff")):
                raise HTTPException(422, "the request body is not UTF-8 (UTF-16 or NUL "
                                    "bytes); send JSON encoded as UTF-8")
            seen += len(body)
            if seen > self.max_bytes:
                self.telemetry.rejected.labels(reason="too_large").inc()
                raise HTTPException(413, self._message(seen))
            return message

        return wrapped

    def _message(self, size: int) -> str:
        return (f"request body is {size} bytes or more, the limit is {self.max_bytes}; "
                "send fewer messages per request or raise TRIAGE_MAX_BODY_BYTES")


class InFlightLimit:
    """At most `limit` requests at once; more get 429 with Retry-After instead of queuing."""

    def __init__(self, app: ASGIApp, limit: int, telemetry: Telemetry) -> None:
        self.app = app
        self.limit = limit
        self.telemetry = telemetry
        self.current = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        if self.current >= self.limit:
            self.telemetry.rejected.labels(reason="overloaded").inc()
            await send_error(send, 429, f"server busy: {self.current} requests in flight "
                             f"(limit {self.limit}); retry in a second", "Overloaded",
                             [(b"retry-after", b"1")])
            return
        self.current += 1
        self.telemetry.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.current -= 1
            self.telemetry.in_flight.dec()


class Timing:
    """Observe each request's latency by method, route template and status."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.telemetry.latency.labels(method=scope["method"], route=path,
                                          status=str(status[0])).observe(
                time.perf_counter() - start)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def middleware_stack(app: Any, *, settings: Settings, telemetry: Telemetry) -> None:
    """Install the middleware on a FastAPI app (outermost first: URL, timing, limit, size)."""
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, telemetry=telemetry)
    app.add_middleware(InFlightLimit, limit=settings.max_in_flight, telemetry=telemetry)
    app.add_middleware(Timing, telemetry=telemetry)
    app.add_middleware(UrlLimit, max_chars=settings.max_url_chars,
                       max_header_bytes=settings.max_header_bytes, telemetry=telemetry)
