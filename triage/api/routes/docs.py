"""The OpenAPI pages, `/docs` (Swagger UI) and `/redoc`, with their assets served from here.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so offline they are blank. The
same files ship in the `fastapi-offline` package (MIT; Swagger UI is Apache-2.0, ReDoc MIT,
their licence headers are inside the files); this router serves them under `/docs/assets/`
and renders both pages with no outside URL (no Google fonts, no validator badge).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from triage.errors import NotFound

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
PREFIX = "/docs/assets"
OPENAPI_URL = "/openapi.json"
TITLE = "triage API"

# Only this origin (the pages' inline start-up script and styles aside): ReDoc's side menu
# shows a logo from its vendor's CDN, which this keeps from loading (it hides itself).
CSP = {"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                                  "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                  "font-src 'self' data:; worker-src 'self' blob:; "
                                  "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"}

router = APIRouter(include_in_schema=False)


def asset_dir() -> Path:
    """Where the installed `fastapi-offline` package keeps the Swagger UI and ReDoc files."""
    return Path(str(files("fastapi_offline") / "static"))


@router.get("/docs")
def swagger() -> HTMLResponse:
    return _strict(get_swagger_ui_html(
        openapi_url=OPENAPI_URL, title=TITLE,
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png",
        oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_ui_parameters={"validatorUrl": None}))


@router.get("/docs/oauth2-redirect")
def swagger_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _strict(get_redoc_html(openapi_url=OPENAPI_URL, title=TITLE,
                                  redoc_js_url=f"{PREFIX}/redoc.standalone.js",
                                  redoc_favicon_url=f"{PREFIX}/favicon.png",
                                  with_google_fonts=False))


@router.get(f"{PREFIX}/{{name}}")
def asset(name: str) -> FileResponse:
    """One of the four files the two pages load."""
    if name not in ASSETS:
        raise NotFound(f"no docs asset {name!r}; there are {sorted(ASSETS)}")
    return FileResponse(asset_dir() / name, media_type=ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})


def _strict(response: HTMLResponse) -> HTMLResponse:
    response.headers.update(CSP)
    return response
