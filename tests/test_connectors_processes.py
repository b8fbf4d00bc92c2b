"""The outbox across processes: a worker killed with SIGKILL mid-send loses nothing and the
write-back is applied once after restart (both stores); two worker processes on one
PostgreSQL never send one write-back twice."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from connector_helpers import SECRET, TOKEN, Hooks, message
from helpdesk_standin import Answer

from triage import connectors
from triage.cases import utcnow
from triage.connectors import OutboxWorker
from triage.settings import Settings
from triage.store import Database, outbox

if TYPE_CHECKING:
    from helpdesk_standin import Standin

ROOT = Path(__file__).resolve().parents[1]
ANGRY = "Our whole shop is down, outage for all customers! I am furious, this is unacceptable."


def worker_process(database_url: str, url: str, *extra: str,
                   timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """`triage connectors work` in its own process, pointed at the stand-in."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGE_DATABASE_URL": database_url,
           "TRIAGE_AUTO_MIGRATE": "false", "TRIAGE_CHATWOOT_URL": url,
           "TRIAGE_CHATWOOT_API_TOKEN": TOKEN, "TRIAGE_CHATWOOT_WEBHOOK_SECRET": SECRET,
           "TRIAGE_CONNECTOR_TIMEOUT_SECONDS": str(timeout), "TRIAGE_OUTBOX_POLL_SECONDS": "0.1"}
    code = "from triage.cli import app; app()"
    return subprocess.Popen([sys.executable, "-c", code, "connectors", "work", *extra],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_connectors_outbox_survives_kill_9_mid_send(hooks: Hooks, standin: Standin) -> None:
    assert hooks.post("chatwoot", message("chatwoot", ANGRY)).json()["write_back"]
    standin.plan(Answer(503, hang=4.0))  # the helpdesk stalls, then fails the first call
    proc = worker_process(hooks.service.db.url, standin.url)
    try:
        standin.wait_for(1)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    (row,) = hooks.outbox()
    assert row.state == "sending" and row.step == 0  # claimed, nothing answered
    # a restarted worker, once the dead one's lease has run out (its clock moved on)
    later = OutboxWorker(hooks.service.db, hooks.service.worker.connectors,
                         clock=lambda: utcnow() + timedelta(minutes=10))
    try:
        assert later.run_once() == 1
        assert later.run_once() == 0
    finally:
        later.close()
    (row,) = hooks.outbox()
    assert row.state == "done"
    applied = Counter(r.path.rsplit("/", 1)[1] for r in standin.answered)
    assert applied == {"toggle_priority": 1, "custom_attributes": 1}


@pytest.mark.postgres
def test_connectors_two_worker_processes_never_send_one_write_back_twice(
        migrated_pg_url: str, standin: Standin) -> None:
    db = Database(migrated_pg_url)
    with db.write() as s:
        s.execute(outbox.OutboxEntry.__table__.delete())
        for i in range(40):
            outbox.enqueue(s, connector="chatwoot", target=f"chatwoot:1#{i}", ticket_id=None,
                           priority="high", requests=[{"method": "POST", "path": f"/t/{i}",
                                                       "json": {"n": i}}], now=utcnow())
    standin.plan(*[Answer(200, hang=0.1)] * 40)
    procs = [worker_process(migrated_pg_url, standin.url, "--once") for _ in range(2)]
    shares = []
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
        shares.append(int(re.search(rb"after (\d+) write-back", err).group(1)))  # type: ignore[union-attr]
    assert sum(shares) == 40 and min(shares) > 0, shares  # both worked, none twice
    sent = Counter(r.path for r in standin.requests)
    assert sent == {f"/t/{i}": 1 for i in range(40)}
    with db.read() as s:
        assert outbox.counts(s) == {"chatwoot": {"done": 40}}
    db.close()


def test_connectors_worker_factory_reads_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, outbox_max_attempts=3, connector_timeout_seconds=2.0)
    db = Database(settings.resolved_database_url())
    worker = connectors.worker(settings, db)
    assert worker.max_attempts == 3 and worker.lease >= timedelta(seconds=9)
    worker.close()
    db.close()


SERVER = """
import sys, uvicorn
sys.path.insert(0, {tests!r})
from conftest import KeywordModel
from triage.api import create_app
from triage.scoring import Scorer
from triage.settings import Settings
app = create_app(Settings(), scorer=Scorer(KeywordModel()))
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""


def server_process(database_url: str, url: str, port: int) -> subprocess.Popen[bytes]:
    """The API with its in-process outbox worker, as `triage serve` runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGE_DATABASE_URL": database_url,
           "TRIAGE_AUTO_MIGRATE": "false", "TRIAGE_CHATWOOT_URL": url,
           "TRIAGE_CHATWOOT_API_TOKEN": TOKEN, "TRIAGE_CHATWOOT_WEBHOOK_SECRET": SECRET,
           "TRIAGE_CONNECTOR_TIMEOUT_SECONDS": "1", "TRIAGE_OUTBOX_LEASE_SECONDS": "1",
           "TRIAGE_OUTBOX_POLL_SECONDS": "0.1", "TRIAGE_SWEEP_SECONDS": "0"}
    code = SERVER.format(tests=str(ROOT / "tests"), port=port)
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    for _ in range(300):
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_connectors_kill_9_of_the_server_between_intake_and_write_back(
        database_url: str, standin: Standin) -> None:
    """A webhook taken in, the server killed while the write-back hangs, a new server
    started: the write-back is applied once."""
    import httpx
    from connector_helpers import sign

    standin.plan(Answer(503, hang=3.0))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = server_process(database_url, standin.url, port)
    try:
        wait_until_up(base, first)
        body = json.dumps(message("chatwoot", ANGRY)).encode()
        r = httpx.post(f"{base}/v1/connectors/chatwoot", content=body,
                       headers=sign("chatwoot", body))
        assert r.status_code == 200 and r.json()["write_back"], r.text
        standin.wait_for(1)  # the write-back is on its way, and hangs
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    second = server_process(database_url, standin.url, port)
    try:
        wait_until_up(base, second)
        deadline = time.monotonic() + 30
        while len(standin.answered) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # nothing more may arrive
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    applied = Counter(r.path.rsplit("/", 1)[1] for r in standin.answered)
    assert applied == {"toggle_priority": 1, "custom_attributes": 1}
    db = Database(database_url)
    with db.read() as s:
        assert outbox.counts(s) == {"chatwoot": {"done": 1}}
    db.close()
