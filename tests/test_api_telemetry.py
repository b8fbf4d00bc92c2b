"""Prometheus metrics (api/telemetry.py): build info, process and platform collectors, and
a real 2-worker `triage serve` whose every scrape adds up both workers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from triage import __version__
from triage.api import create_app
from triage.scoring import Scorer
from triage.settings import Settings


@pytest.fixture
def client(tmp_path: Path, keyword_scorer: Scorer) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path, sweep_seconds=0), scorer=keyword_scorer)
    with TestClient(app) as c:
        yield c


def test_telemetry_build_info_process_and_platform(client: TestClient) -> None:
    text = client.get("/metrics").text
    assert (f'triage_build_info{{model_version="keyword-test-1",policy="priority.v3",'
            f'version="{__version__}"}} 1.0') in text
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total",
                 "process_open_fds", "python_info", "triage_queue_depth"):
        assert re.search(rf"^{name}[{{ ]", text, re.MULTILINE), name


def _count(text: str, route: str) -> float:
    pattern = rf'^triage_request_duration_seconds_count{{[^}}]*route="{re.escape(route)}"[^}}]*}} (\S+)'
    return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))


@pytest.fixture
def two_workers(tmp_path: Path, tiny_model_dir: Path) -> Iterator[tuple[str, Path]]:
    from test_service_e2e import TRIAGE, _wait_ready, free_port

    port = free_port()
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_PORT": str(port),
           "TRIAGE_MODEL_DIR": str(tiny_model_dir), "TRIAGE_THREADS": "1",
           "TRIAGE_SWEEP_SECONDS": "0", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    env.pop("TRIAGE_DATABASE_URL", None)
    (tmp_path / "prom").mkdir()
    (tmp_path / "prom" / "counter_999999.db").write_bytes(b"stale")  # from a previous run
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(TRIAGE), "serve", "--workers", "2"], env=env,
                                stdout=log, stderr=log)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc, log_path)
        yield f"http://127.0.0.1:{port}", tmp_path / "prom"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _worker_pids(base: str) -> set[str]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return set(re.findall(r'^process_resident_memory_bytes{pid="(\d+)"}', text, re.MULTILINE))


def _hit(base: str, n: int) -> None:
    for _ in range(n):  # a new connection each time, so either worker may take it
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200


def test_telemetry_two_workers_add_up_in_every_scrape(two_workers: tuple[str, Path]) -> None:
    base, folder = two_workers
    assert not (folder / "counter_999999.db").exists()  # cleaned on start
    deadline = time.monotonic() + 90
    while len(pids := _worker_pids(base)) < 2:  # the second worker may still be starting
        assert time.monotonic() < deadline, pids
        time.sleep(0.5)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _hit(base, 10), range(8)))
    served = {p.name.split("_")[-1][:-3] for p in folder.glob("histogram_*.db")}
    assert served == pids  # both workers handled some of the requests...
    for _ in range(6):  # ...and whichever answers the scrape reports all 80
        text = httpx.get(f"{base}/metrics", timeout=10).text
        assert _count(text, "/healthz") == 80
        assert "triage_build_info{" in text


def test_telemetry_waits_and_sla_breaches_per_lane(tmp_path: Path, database_url: str,
                                                   keyword_scorer: Scorer, clock: Any) -> None:
    from datetime import timedelta

    from triage.keys import create_key

    settings = Settings(home=tmp_path, database_url=database_url, sweep_seconds=0,
                        auto_migrate=False)
    app = create_app(settings, scorer=keyword_scorer, clock=clock)
    with TestClient(app) as client:
        key = create_key(client.app.state.service.db, "alice", "agent")[0]  # type: ignore[attr-defined]
        auth = {"Authorization": f"Bearer {key}"}
        for hours, tier in ((3, "gold"), (0, "standard")):
            created = (clock.now - timedelta(hours=hours)).isoformat()
            r = client.post("/v1/tickets", headers=auth, json={
                "text": "Where is my parcel? It was due on Monday.", "created_at": created,
                "customer": {"customer_id": f"c-{hours}", "tier": tier}})
            assert r.status_code == 201, r.text
        text = client.get("/metrics").text
    oldest = {lane: float(v) for lane, v in re.findall(
        r'^triage_queue_oldest_wait_seconds{lane="(\w+)"} (\S+)', text, re.MULTILINE)}
    breached = {lane: float(v) for lane, v in re.findall(
        r'^triage_queue_sla_breached{lane="(\w+)"} (\S+)', text, re.MULTILINE)}
    assert max(oldest.values()) == 3 * 3600
    assert sum(breached.values()) == 1
