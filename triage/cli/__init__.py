"""The `triage` command: one Typer app; each sub-command is a thin wrapper over a function.

Sub-commands live in modules by concern (`model`: train/eval/score; `server`: serve, keys,
labels export; `batch`: backlog scoring and queue re-scoring; `connectors`: the helpdesk
outbox and setup checks). Errors from the `triage`
error tree become a one-line message on stderr and the error's exit code.
"""

from __future__ import annotations

import typer

from triage.cli.common import Group

app = typer.Typer(
    cls=Group,
    name="triage",
    help="Score customer messages for frustration, churn risk and urgency; run the queue.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    import importlib

    for name in ("model", "server", "batch", "connectors"):
        try:
            module = importlib.import_module(f"triage.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"triage.cli.{name}":
                raise
            continue
        module.register(app)


_register()

__all__ = ["app"]
