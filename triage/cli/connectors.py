"""`triage connectors status|retry|check|work`: the helpdesk connectors' outbox and setup."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer

from triage.cli.common import emit, errors_to_exit, log, settings
from triage.settings import Settings

connectors_app = typer.Typer(help="Helpdesk connectors: outbox state, dead letters, setup "
                             "checks, the write-back worker.", no_args_is_help=True)


@errors_to_exit
def status_cmd(
    limit: Annotated[int, typer.Option(help="Dead letters to list.")] = 20,
) -> None:
    """Write-backs per connector and state, the newest dead letters, what is configured."""
    emit(status(settings(), limit=limit))


@errors_to_exit
def retry_cmd(
    connector: Annotated[str | None, typer.Option(help="Only this connector's.")] = None,
) -> None:
    """Send the dead letters again (fresh attempts, due now)."""
    emit({"retried": retry(settings(), connector)})


@errors_to_exit
def check_cmd(name: Annotated[str, typer.Argument(help="chatwoot, zammad, zendesk, "
                                                  "freshdesk")]) -> None:
    """Does the helpdesk API answer with the configured credentials; which URL goes where."""
    result = check(settings(), name)
    emit(result)
    if not result["ok"]:
        raise typer.Exit(1)


@errors_to_exit
def work_cmd(
    once: Annotated[bool, typer.Option(help="Send what is due now, then exit.")] = False,
) -> None:
    """Run the outbox worker in the foreground (also runs inside `triage serve`)."""
    sent = work(settings(), once=once)
    log(f"outbox worker stopped after {sent} write-back(s)")


def status(s: Settings, *, limit: int = 20) -> dict[str, Any]:
    from triage import connectors
    from triage.connectors.gateway import outbox_state

    db = _database(s)
    try:
        state = outbox_state(db, limit)
    finally:
        db.close()
    enabled = {n: c.enabled for n, c in connectors.connectors(s).items()}
    return {"enabled": enabled, "outbox": state["counts"], "dead_letters": state["dead"]}


def retry(s: Settings, connector: str | None = None) -> int:
    from triage.cases import utcnow
    from triage.store import outbox

    db = _database(s)
    try:
        with db.write() as session:
            return outbox.retry_dead(session, utcnow(), connector)
    finally:
        db.close()


def check(s: Settings, name: str) -> dict[str, Any]:
    """The connector's settings, an authenticated GET on its API, and the setup line."""
    import httpx

    from triage import connectors
    from triage.errors import NotFound

    found = connectors.connectors(s)
    if name not in found:
        raise NotFound(f"no connector {name!r}; expected one of {sorted(found)}")
    c = found[name]
    base = (s.public_url or f"http://{s.host}:{s.port}").rstrip("/")
    out: dict[str, Any] = {"connector": name, "enabled": c.enabled, "missing": c.missing(),
                           "webhook_url": f"{base}/v1/connectors/{name}",
                           "setup": c.setup(f"{base}/v1/connectors/{name}")}
    out["api"] = _probe(c, s.connector_timeout_seconds, httpx) if c.url and c.token else None
    out["ok"] = c.enabled and bool(out["api"] and out["api"]["ok"])
    return out


def work(s: Settings, *, once: bool = False) -> int:
    from triage import connectors

    db = _database(s)
    worker = connectors.worker(s, db)
    try:
        if once:
            while worker.run_once():
                pass
        else:
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            log(f"outbox worker {worker.holder} running (poll {s.outbox_poll_seconds} s)")
            worker.run(stop, s.outbox_poll_seconds)
        return worker.sent
    finally:
        worker.close()
        db.close()


def _probe(c: Any, timeout: float, httpx: Any) -> dict[str, Any]:
    url = c.url + c.probe()
    try:
        r = httpx.get(url, headers=c.headers(), timeout=timeout)
    except httpx.HTTPError as exc:
        return {"url": url, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    hint = {401: "the API token is wrong or expired", 403: "the token may not read this",
            404: "the URL is not this helpdesk's base URL"}.get(r.status_code)
    return {"url": url, "ok": r.is_success, "status": r.status_code,
            **({"hint": hint} if hint else {})}


def _database(s: Settings) -> Any:
    from triage.assembly import build_store

    return build_store(s, migrate=s.auto_migrate)


def register(app: typer.Typer) -> None:
    connectors_app.command("status")(status_cmd)
    connectors_app.command("retry")(retry_cmd)
    connectors_app.command("check")(check_cmd)
    connectors_app.command("work")(work_cmd)
    app.add_typer(connectors_app, name="connectors")
