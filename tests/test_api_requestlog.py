"""Request ids and JSON logs (api/requestlog.py): the id in the response and on every log
line, the caller's id kept only when sane, PII still masked; then a real `triage serve`
with TRIAGE_LOG_FORMAT=json whose every stderr line is JSON."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.api.requestlog import JsonFormatter, current
from triage.scoring import Scorer
from triage.settings import Settings


@pytest.fixture
def client(tmp_path: Path, keyword_scorer: Scorer) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path, sweep_seconds=0), scorer=keyword_scorer)
    with TestClient(app) as c:
        yield c


def test_requestlog_new_id_in_every_response(client: TestClient) -> None:
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    refused = client.get("/v1/queue")  # errors carry it too
    assert refused.status_code == 401 and "x-request-id" in refused.headers


@pytest.mark.parametrize(("sent", "kept"), [
    ("abc-123", True), ("zd:4711/retry.2@edge+x=y", True), ("a" * 128, True),
    ("a" * 129, False), ("two words", False), ("nul\x01", False), ("", False),
    ("<script>", False), ("ü-ümlaut", False),
])
def test_requestlog_caller_id_kept_only_when_sane(client: TestClient, sent: str,
                                                  kept: bool) -> None:
    got = client.get("/healthz", headers={"X-Request-ID": sent.encode("utf-8")}
                     ).headers["x-request-id"]
    assert (got == sent) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", got)


def test_requestlog_json_line_has_id_and_masks_pii() -> None:
    record = logging.LogRecord("triage.api", logging.WARNING, __file__, 1,
                               "mail %s or call +49 170 1234567", ("ann@example.com",), None)
    token = current.set("req-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        current.reset(token)
    assert line["request_id"] == "req-1" and line["level"] == "warning"
    assert line["message"] == "mail [email] or call [phone]"
    access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4:5", "GET", "/v1/tickets/ann@example.com", "1.1", 404),
                               None)
    line = json.loads(JsonFormatter().format(access))
    assert line["request_id"] is None and line["status"] == 404
    assert "ann@example.com" not in json.dumps(line)


@pytest.fixture
def json_server(tmp_path: Path, tiny_model_dir: Path) -> Iterator[tuple[str, Path]]:
    from test_service_e2e import TRIAGE, _wait_ready, free_port

    port = free_port()
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_PORT": str(port),
           "TRIAGE_MODEL_DIR": str(tiny_model_dir), "TRIAGE_THREADS": "1",
           "TRIAGE_SWEEP_SECONDS": "0", "TRIAGE_LOG_FORMAT": "json"}
    env.pop("TRIAGE_DATABASE_URL", None)
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(TRIAGE), "serve"], env=env, stdout=log, stderr=log)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc, log_path)
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_requestlog_serve_writes_json_lines(json_server: tuple[str, Path]) -> None:
    base, log_path = json_server
    r = httpx.get(f"{base}/v1/tickets/ann@example.com", headers={"X-Request-ID": "trace-42"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "trace-42"
    httpx.get(f"{base}/healthz")
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(a["request_id"] == "trace-42" and a["status"] == 401 for a in access)
    assert all(a["request_id"] for a in access)
    assert "ann@example.com" not in log_path.read_text()
