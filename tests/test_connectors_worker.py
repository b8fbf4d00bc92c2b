"""The outbox worker against the stand-in helpdesk: retries with backoff, Retry-After,
timeouts, dead letters and their retry, ordering per target, metrics and the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from connector_helpers import Hooks, message
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.connectors.worker import retry_after

if TYPE_CHECKING:
    from conftest import Clock
    from helpdesk_standin import Standin

from helpdesk_standin import Answer

ANGRY = "Our whole shop is down, outage for all customers! I am furious, this is unacceptable."
CALM = "Hello, could you tell me how to change the delivery address on my order?"
runner = CliRunner()


def test_connectors_worker_retries_a_failed_call_with_backoff_and_resumes(
        hooks: Hooks, standin: Standin, clock: Clock) -> None:
    hooks.post("chatwoot", message("chatwoot", ANGRY))
    standin.plan(Answer(200), Answer(500))  # toggle_priority ok, custom_attributes fails
    assert hooks.deliver() == 1
    (row,) = hooks.outbox()
    assert (row.state, row.step, row.attempts, row.last_status) == ("pending", 1, 1, 500)
    assert row.next_attempt_at > clock.now
    assert hooks.deliver() == 0  # not due yet
    clock.advance(seconds=30)
    assert hooks.deliver() == 1
    (row,) = hooks.outbox()
    assert row.state == "done"
    paths = [r.path.rsplit("/", 1)[1] for r in standin.answered]
    assert paths == ["toggle_priority", "custom_attributes"]  # the answered call not resent


def test_connectors_worker_honours_retry_after(hooks: Hooks, standin: Standin,
                                               clock: Clock) -> None:
    hooks.post("chatwoot", message("chatwoot", ANGRY))
    standin.plan(Answer(429, {"Retry-After": "120"}))
    hooks.deliver()
    (row,) = hooks.outbox()
    assert row.state == "pending" and row.last_status == 429
    assert row.next_attempt_at >= clock.now + timedelta(seconds=120)
    clock.advance(seconds=60)
    assert hooks.deliver() == 0
    clock.advance(seconds=61)
    assert hooks.deliver() == 1 and hooks.outbox()[0].state == "done"


def test_connectors_worker_gives_up_on_a_hanging_helpdesk_and_retries(
        hooks: Hooks, standin: Standin, clock: Clock) -> None:
    hooks.post("chatwoot", message("chatwoot", ANGRY))
    standin.plan(Answer(200, hang=6.5))  # the client's timeout is 5 s (loaded CI machines)
    hooks.deliver()
    (row,) = hooks.outbox()
    assert row.state == "pending" and "Timeout" in (row.last_error or "")
    clock.advance(minutes=5)
    hooks.deliver()
    assert hooks.outbox()[0].state == "done"


def test_connectors_dead_letters_after_max_attempts_then_retry(
        hooks: Hooks, standin: Standin, clock: Clock) -> None:
    hooks.post("chatwoot", message("chatwoot", ANGRY))
    worker = hooks.service.worker
    standin.plan(*[Answer(503)] * worker.max_attempts)
    for _ in range(worker.max_attempts):
        hooks.deliver()
        clock.advance(hours=1)
    (row,) = hooks.outbox()
    assert row.state == "dead" and row.attempts == worker.max_attempts
    metrics = hooks.client.get("/metrics").text
    assert 'triage_connector_outbox{connector="chatwoot",state="dead"} 1.0' in metrics
    env = {"TRIAGE_DATABASE_URL": hooks.service.db.url, "TRIAGE_AUTO_MIGRATE": "false"}
    status = runner.invoke(cli, ["connectors", "status"], env=env)
    assert status.exit_code == 0 and '"dead": 1' in status.stdout
    assert '"last_status": 503' in status.stdout
    retried = runner.invoke(cli, ["connectors", "retry"], env=env)
    assert retried.exit_code == 0 and '"retried": 1' in retried.stdout
    hooks.deliver()
    assert hooks.outbox()[0].state == "done"


def test_connectors_a_refusal_retrying_cannot_fix_is_dead_at_once(
        hooks: Hooks, standin: Standin) -> None:
    hooks.post("zendesk", message("zendesk", ANGRY))
    standin.plan(Answer(404))
    hooks.deliver()
    (row,) = hooks.outbox()
    assert row.state == "dead" and row.attempts == 1 and row.last_status == 404


def test_connectors_a_newer_write_back_supersedes_an_unsent_one(
        hooks: Hooks, standin: Standin) -> None:
    hooks.post("freshdesk", message("freshdesk", CALM, msg=1))
    hooks.post("freshdesk", message("freshdesk", ANGRY, msg=2))
    assert [r.state for r in hooks.outbox()] == ["superseded", "pending"]
    hooks.deliver()
    assert [r.json["priority"] for r in standin.answered] == [4]


def test_connectors_metrics_count_webhooks_and_outbox(hooks: Hooks) -> None:
    hooks.post("chatwoot", message("chatwoot", ANGRY))
    hooks.post("chatwoot", message("chatwoot", ANGRY))
    hooks.post("chatwoot", message("chatwoot", ANGRY), secret="wrong")
    hooks.deliver()
    text = hooks.client.get("/metrics").text
    assert 'triage_connector_webhooks_total{connector="chatwoot",result="refused"} 1.0' in text
    assert 'triage_connector_webhooks_total{connector="chatwoot",result="accepted"} 1.0' in text
    assert 'triage_connector_webhooks_total{connector="chatwoot",result="duplicate"} 1.0' in text
    assert 'triage_connector_outbox{connector="chatwoot",state="done"} 1.0' in text


@pytest.mark.parametrize("answer, ok", [(200, True), (401, False)])
def test_connectors_check_probes_the_api_and_names_the_url(
        standin: Standin, answer: int, ok: bool) -> None:
    standin.plan(Answer(answer))
    env = {"TRIAGE_ZAMMAD_URL": standin.url, "TRIAGE_ZAMMAD_API_TOKEN": "t",
           "TRIAGE_ZAMMAD_WEBHOOK_SECRET": "s", "TRIAGE_PUBLIC_URL": "http://triage:8000"}
    r = runner.invoke(cli, ["connectors", "check", "zammad"], env=env)
    assert r.exit_code == (0 if ok else 1)
    assert "http://triage:8000/v1/connectors/zammad" in r.stdout
    assert standin.requests[0].path == "/api/v1/users/me"
    assert standin.requests[0].headers["authorization"] == "Token token=t"
    assert '"s"' not in r.stdout and "token=t" not in r.stdout  # secrets never printed
    if not ok:
        assert "API token is wrong" in r.stdout


def test_connectors_retry_after_reads_seconds_and_dates(clock: Clock) -> None:
    assert retry_after("30", clock.now) == 30.0
    assert retry_after("Mon, 02 Mar 2026 09:01:00 GMT", clock.now) == 60.0
    assert retry_after("soon", clock.now) is None and retry_after(None, clock.now) is None


def test_connectors_secrets_are_never_logged_or_stored(
        hooks: Hooks, standin: Standin, caplog: pytest.LogCaptureFixture) -> None:
    from connector_helpers import SECRET, TOKEN

    caplog.set_level("DEBUG")
    hooks.post("zendesk", message("zendesk", ANGRY), secret="wrong")
    hooks.post("zendesk", message("zendesk", ANGRY))
    standin.plan(Answer(500))
    hooks.deliver()
    stored = repr([(r.requests, r.last_error) for r in hooks.outbox()])
    for secret in (SECRET, TOKEN):
        assert secret not in caplog.text and secret not in stored
    assert repr(hooks.service.settings).count("**********") >= 8


def test_connectors_secrets_can_come_from_a_secrets_dir(
        tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from triage.connectors import connectors
    from triage.settings import Settings

    folder = Path(str(tmp_path))
    for name, value in {"url": "http://cw:3000", "api_token": "t", "webhook_secret": "s"}.items():
        (folder / f"triage_chatwoot_{name}").write_text(value)
    monkeypatch.setenv("TRIAGE_SECRETS_DIR", str(folder))
    assert connectors(Settings())["chatwoot"].enabled


def test_connectors_outbox_state_in_the_api_is_for_admins(hooks: Hooks,
                                                          standin: Standin) -> None:
    from triage.keys import create_key

    admin = create_key(hooks.service.db, "root", "admin")[0]
    agent = create_key(hooks.service.db, "alice", "agent")[0]
    hooks.post("chatwoot", message("chatwoot", ANGRY))
    standin.plan(Answer(404))
    hooks.deliver()
    seen = hooks.client.get("/v1/connectors/outbox", headers={"Authorization": f"Bearer {admin}"})
    assert seen.status_code == 200
    assert seen.json()["counts"] == {"chatwoot": {"dead": 1}}
    assert seen.json()["dead"][0]["last_status"] == 404
    denied = hooks.client.get("/v1/connectors/outbox",
                              headers={"Authorization": f"Bearer {agent}"})
    assert denied.status_code == 403


def test_connectors_old_keys_and_rows_are_pruned_but_the_last_level_kept(
        hooks: Hooks, clock: Clock) -> None:
    hooks.post("freshdesk", message("freshdesk", CALM, msg=1))
    hooks.deliver()
    hooks.post("freshdesk", message("freshdesk", ANGRY, msg=2))
    hooks.deliver()
    clock.advance(days=31)
    assert hooks.service.worker.prune() == 3  # two delivery keys, the older row
    assert hooks.service.worker.prune() == 0  # not again within the hour
    (row,) = hooks.outbox()
    assert row.priority == "urgent"
