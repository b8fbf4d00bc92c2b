"""`triage serve`, `migrate`, `keys ...` and `export-labels`: running the service."""

from __future__ import annotations

import logging
import logging.config
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from triage.cli.common import Command, Group, emit, errors_to_exit, log, settings
from triage.errors import ModelError
from triage.settings import Settings

if TYPE_CHECKING:
    from triage.store import Database

serve_log = logging.getLogger("triage.serve")
keys_app = typer.Typer(cls=Group, help="Create, list and revoke API keys (stored hashed).",
                       no_args_is_help=True)


@errors_to_exit
def serve_cmd(
    host: Annotated[str | None, typer.Option(envvar="TRIAGE_HOST", help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(envvar="TRIAGE_PORT")] = None,
    workers: Annotated[int | None, typer.Option(envvar="TRIAGE_WORKERS",
                                                help="uvicorn worker processes.")] = None,
    model_dir: Annotated[Path | None, typer.Option(envvar="TRIAGE_MODEL_DIR")] = None,
    database_url: Annotated[str | None, typer.Option(envvar="TRIAGE_DATABASE_URL")] = None,
    log_level: Annotated[str | None, typer.Option(envvar="TRIAGE_LOG_LEVEL")] = None,
) -> None:
    """Run the HTTP API (uvicorn) on the configured store and model.

    On a first start without a model, the default model is built in the background while
    the API answers (`/readyz` shows progress; scoring and intake answer 503 until ready).
    """
    import uvicorn

    from triage.api.redact import log_config

    overrides = {"model_dir": model_dir, "database_url": database_url}
    s = settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    level = log_level or s.log_level
    logging.config.dictConfig(log_config(level, s.log_format))  # the build's lines too
    revision = _database(s).migrate()
    serve_log.info("database %s at migration %s", _safe_url(s.resolved_database_url()),
                   revision)
    build = _start_model(s)
    workers = workers or s.workers
    if workers > 1:
        _multiprocess_metrics(s)
    # each worker process reads these; TRIAGE_WORKERS lets it size its inference slots
    os.environ.update(TRIAGE_MODEL_DIR=str(s.resolved_model_dir()), TRIAGE_AUTO_MIGRATE="false",
                      TRIAGE_DATABASE_URL=s.resolved_database_url(),
                      TRIAGE_WORKERS=str(workers))
    try:
        uvicorn.run("triage.api.app:app_from_env", factory=True, host=host or s.host,
                    port=port or s.port, workers=workers,
                    log_config=log_config(level, s.log_format),
                    log_level=level, timeout_graceful_shutdown=10, server_header=False,
                    # a worker importing onnxruntime on a busy machine can miss uvicorn's
                    # 5 s ping and be killed and restarted over and over
                    timeout_worker_healthcheck=30)
    finally:
        if build is not None:
            build.stop()


@errors_to_exit
def migrate_cmd() -> None:
    """Create or upgrade the database tables (also done by `serve` at startup)."""
    s = settings()
    db = _database(s)
    emit({"database": _safe_url(s.resolved_database_url()), "revision": db.migrate()})
    db.close()


@errors_to_exit
def keys_create_cmd(
    role: Annotated[str, typer.Option(help="agent (score, work the queue), supervisor (also "
                                      "act on cases others hold) or admin (also manage "
                                      "keys).")] = "agent",
    name: Annotated[str | None, typer.Option(help="Who holds it; shown as the agent's name "
                                             "on claims and in the audit log.")] = None,
) -> None:
    """Create an API key. The key is printed once: store it now."""
    from triage.keys import create_key

    db = _database(settings(), migrate=True)
    key, described = create_key(db, name or f"{role}-{secrets.token_hex(3)}", role)
    log("the key below is shown once; store it now (only its hash is kept)")
    emit({"key": key, **described})
    db.close()


@errors_to_exit
def keys_list_cmd() -> None:
    """List keys (never the keys themselves), one JSON line each."""
    from triage.keys import list_keys

    db = _database(settings(), migrate=True)
    for described in list_keys(db):
        emit(described)
    db.close()


@errors_to_exit
def keys_revoke_cmd(key_id: Annotated[int, typer.Argument(help="The id from keys list.")]) -> None:
    """Revoke a key. Running servers refuse it within TRIAGE_KEY_CACHE_SECONDS (default 5 s).

    Servers cache keys found valid for that long, so until then a revoked key still works
    there; set TRIAGE_KEY_CACHE_SECONDS=0 on the servers to refuse it at once (every request
    then queries the database).
    """
    from triage.keys import revoke_key

    db = _database(settings(), migrate=True)
    emit(revoke_key(db, key_id))
    db.close()


@errors_to_exit
def export_labels_cmd(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="JSONL file (default: "
                                             "stdout).")] = None,
    csat_as_frustration: Annotated[bool, typer.Option(
        help="Also mark messages whose case got CSAT 1-2 as frustration=1 (when no agent "
             "labelled frustration).")] = False,
) -> None:
    """Write agents' label corrections as a labelled-ticket file for `triage train`.

    Each row has a column for every head of the model in use (TRIAGE_MODEL_DIR) and every
    head an agent labelled; empty where nobody gave an opinion.
    """
    from triage.cases import export_labels

    s = settings()
    db = _database(s, migrate=True)
    heads = _model_heads(s)
    if out is None:
        n = export_labels(db, sys.stdout, csat_as_frustration=csat_as_frustration,
                          heads=heads)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".partial")
        with open(tmp, "w", encoding="utf-8") as handle:
            n = export_labels(db, handle, csat_as_frustration=csat_as_frustration,
                              heads=heads)
        tmp.replace(out)
    db.close()
    log(f"exported {n} labelled message(s)" + (f" to {out}" if out else ""))


def _model_heads(s: Settings) -> tuple[str, ...]:
    """The heads of the model in use, from its manifest; none when there is no model yet."""
    from triage.errors import ManifestError
    from triage.models.manifest import load_manifest

    try:
        return load_manifest(s.resolved_model_dir(), verify_hashes=False).heads
    except ManifestError:
        return ()


def _database(s: Settings, *, migrate: bool = False) -> Database:
    from triage.assembly import build_store

    return build_store(s, migrate=migrate)


def _start_model(s: Settings):  # type: ignore[no-untyped-def]
    """Start building the default model in the background if it is missing (else None)."""
    from triage.models import build
    from triage.models.default import needs_build

    try:
        if not needs_build(s):
            return None
    except ModelError as exc:
        path = s.resolved_model_dir()
        raise ModelError(f"no usable model at {path} ({exc.message.rstrip('.')}). Build one "
                         f"with: triage train data/samples --out {path}, or set "
                         "TRIAGE_MODEL_DIR to a built model directory") from exc
    return build.start(s, logging.getLogger("triage.build").info)


def _multiprocess_metrics(s: Settings) -> None:
    """Let every worker's metrics add up in one scrape: a metrics folder, emptied now.

    PROMETHEUS_MULTIPROC_DIR when set (its *.db files are removed: they belong to the
    previous run), else `<home>/metrics`.
    """
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or s.home / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    serve_log.info("metrics of all workers add up through %s", folder)


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    app.command("serve", cls=Command)(serve_cmd)
    app.command("migrate", cls=Command)(migrate_cmd)
    app.command("export-labels", cls=Command)(export_labels_cmd)
    keys_app.command("create", cls=Command)(keys_create_cmd)
    keys_app.command("list", cls=Command)(keys_list_cmd)
    keys_app.command("revoke", cls=Command)(keys_revoke_cmd)
    app.add_typer(keys_app, name="keys")
