"""The agents' queue page: `GET /` and its three static files (no build step, no CDN).

The page holds no secrets: it asks for an API key and calls the same `/v1` endpoints as any
client. A strict Content-Security-Policy allows only this origin's script and styles, so
customer text that slipped into the DOM as markup could still not run.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from triage.errors import NotFound

STATIC = Path(__file__).resolve().parent.parent / "static"
MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ASSETS = ("app.js", "app.css")

router = APIRouter(include_in_schema=False)


def _file(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type=MEDIA_TYPES[name], headers=HEADERS)


@router.get("/")
def page() -> FileResponse:
    """The queue page for agents and supervisors."""
    return _file("index.html")


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    """The page's script or stylesheet (only these two names exist)."""
    if name not in ASSETS:
        raise NotFound(f"no static file {name!r}; the page uses only {list(ASSETS)}")
    return _file(name)
