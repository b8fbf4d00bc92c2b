"""The OpenAPI pages and their assets come from this server (routes/docs.py); the browser
test (test_page_browser.py) checks that they render with no outside request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.api.routes.docs import ASSETS
from triage.scoring import Scorer
from triage.settings import Settings


@pytest.fixture
def client(tmp_path: Path, keyword_scorer: Scorer) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path, sweep_seconds=0), scorer=keyword_scorer)
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_name_no_outside_url(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and "img-src 'self' data:" in r.headers["content-security-policy"]
    assert re.findall(r"(?:src|href)=\"(https?:[^\"]*)\"", r.text) == []
    assert "/docs/assets/" in r.text and "fonts.googleapis" not in r.text


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_docs_assets_are_served(client: TestClient, name: str) -> None:
    r = client.get(f"/docs/assets/{name}")
    assert r.status_code == 200 and r.headers["content-type"] == ASSETS[name]
    assert len(r.content) > 1000


def test_docs_unknown_asset_is_404(client: TestClient) -> None:
    assert client.get("/docs/assets/..%2Fcore.py").status_code == 404
    assert client.get("/docs/assets/secret.js").json()["error_type"] == "NotFound"
