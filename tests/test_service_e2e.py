"""End to end: a real `triage serve` (uvicorn subprocess, tiny ONNX model) runs the README
scenario over HTTP: keys, three tickets, the queue, a claim, resolution, feedback, export."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from triage.records import read_records

TRIAGE = Path(sys.executable).with_name("triage")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = subprocess.run([str(TRIAGE), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@contextlib.contextmanager
def running_server(tmp_path: Path, model_dir: Path, env_extra: dict[str, str] | None = None
                   ) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`triage serve` on a free loopback port; yields (base URL, env, log file)."""
    port = free_port()
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"),
           "TRIAGE_MODEL_DIR": str(model_dir), "TRIAGE_PORT": str(port),
           "TRIAGE_HOST": "127.0.0.1", "TRIAGE_THREADS": "1", "TRIAGE_SWEEP_SECONDS": "1",
           "TRIAGE_LOG_LEVEL": "info", **(env_extra or {})}
    env.pop("TRIAGE_DATABASE_URL", None)
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(TRIAGE), "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc, log_path)
        yield base, env, log_path
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def server(tmp_path: Path, tiny_model_dir: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`triage serve` over the tiny model; yields (base URL, env, log file)."""
    with running_server(tmp_path, tiny_model_dir) as running:
        yield running


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"triage serve exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"triage serve did not become ready:\n{log_path.read_text()}")


def test_service_e2e_readme_scenario(server: tuple[str, dict[str, str], Path],
                                     tmp_path: Path) -> None:
    base, env, log_path = server
    admin = cli(env, "keys", "create", "--role", "admin", "--name", "root")[0]["key"]
    with httpx.Client(base_url=base, timeout=30,
                      headers={"Authorization": f"Bearer {admin}"}) as http:
        made = http.post("/v1/keys", json={"name": "alice", "role": "agent"})
        assert made.status_code == 201
        agent = {"Authorization": f"Bearer {made.json()['key']}"}

        since = date.today().replace(year=date.today().year - 8, day=1).isoformat()
        tickets = [
            {"text": "This is the third time I write. I am furious, nothing works and "
                     "after eight years I am ready to cancel.", "channel": "email",
             "external_id": "zd-4711",
             "customer": {"customer_id": "c-42", "customer_since": since, "tier": "gold"}},
            {"text": "Hi, could you tell me how to update my billing address? Thanks!",
             "channel": "chat", "customer": {"customer_id": "c-7",
                                             "customer_since": date.today().isoformat()}},
            {"text": "URGENT: our whole store is down, checkout fails for every customer.",
             "channel": "phone", "customer": {"customer_id": "c-9", "tier": "platinum"}},
        ]
        cases = []
        for body in tickets:
            r = http.post("/v1/tickets", json=body, headers=agent)
            assert r.status_code == 201, r.text
            assert r.json()["case_number"].startswith(f"CS-{date.today().year}-")
            assert r.json()["scorable"] and r.json()["model_version"]
            cases.append(r.json()["case_number"])
        replay = http.post("/v1/tickets", json=tickets[0], headers=agent)
        assert replay.status_code == 200 and replay.json()["case_number"] == cases[0]

        queue = http.get("/v1/queue", headers=agent).json()
        entries = queue["entries"]
        assert sorted(e["case_number"] for e in entries) == sorted(cases)
        positions = [e["position"] for e in entries]
        assert positions == sorted(positions, reverse=True)
        assert all("waiting" in e["explanation"] for e in entries)
        loyal = next(e for e in entries if e["case_number"] == cases[0])
        assert f"customer since {since[:4]}" in loyal["explanation"]
        assert sum(queue["depth"].values()) == 3

        claimed = http.post("/v1/queue/claim", headers=agent).json()
        assert claimed["case_number"] == entries[0]["case_number"]
        assert claimed["lease"]["holder"] == "alice"
        number = claimed["case_number"]
        assert http.post(f"/v1/tickets/{number}/heartbeat", headers=agent).status_code == 200
        assert http.post(f"/v1/tickets/{number}/resolve", headers=agent).json()["status"] \
            == "resolved"
        feedback = http.post(f"/v1/tickets/{cases[1]}/feedback", headers=agent,
                             json={"labels": {"frustration": 0, "urgency": 0}, "csat": 5})
        assert feedback.status_code == 201

        case = http.get(f"/v1/tickets/{number}", headers=agent).json()
        assert [a["action"] for a in case["audit"]][-2:] == ["status", "resolved"]
        assert len(http.get("/v1/queue", headers=agent).json()["entries"]) == 2
        assert http.get("/v1/model", headers=agent).json()["policy"]["version"] == "priority.v3"
        assert http.post("/v1/score", json={"text": ""}, headers=agent).status_code == 422
        metrics = http.get("/metrics").text
        assert "triage_request_duration_seconds_bucket" in metrics
        assert 'triage_queue_depth{lane="standard"}' in metrics

    out = tmp_path / "labels.jsonl"
    cli(env, "export-labels", "-o", str(out))
    records = read_records(out)
    assert [(r.labels["frustration"], r.labels["churn_risk"]) for r in records] == [(0, None)]
    assert "Bearer" not in log_path.read_text()


def test_service_e2e_long_urls_do_not_stall_health_and_secrets_stay_out_of_the_log(
        server: tuple[str, dict[str, str], Path]) -> None:
    """A 64,000-character URL used to hold the event loop for 28 s in log masking; now it is
    refused before routing and its access-log line is masked over a bounded prefix."""
    import threading

    base, _, log_path = server
    secret = "trg_" + "s3cr3t" * 4
    statuses: list[int] = []

    def attack() -> None:
        with httpx.Client(timeout=60) as client:
            for _ in range(10):
                r = client.get(f"{base}/{'a.' * 32_000}?q=1&key={secret}")
                statuses.append(r.status_code)

    attacker = threading.Thread(target=attack)
    attacker.start()
    with httpx.Client(timeout=5) as client:  # each answer within 5 s, or the test fails
        while attacker.is_alive():
            assert client.get(f"{base}/healthz").status_code == 200
        assert client.get(f"{base}/v1/queue?key={secret}").status_code == 401
    attacker.join()
    assert statuses and set(statuses) <= {414, 400}
    log = log_path.read_text()
    assert secret not in log
    assert max(len(line) for line in log.splitlines()) < 20_000
