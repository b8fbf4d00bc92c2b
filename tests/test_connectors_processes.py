"""The outbox across processes: a worker killed with SIGKILL mid-send loses nothing and the
write-back is applied once after restart (both stores); two worker processes on one
PostgreSQL never send one write-back twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
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
