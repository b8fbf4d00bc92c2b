"""What every sub-command shares: settings, error mapping, output helpers."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from triage.errors import TriageError
from triage.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def _no_bool_placeholders(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # an on/off flag takes no value: show none
    return params


class Command(TyperCommand):
    """A command whose on/off flags (--help included) show no `<bool>` placeholder in help."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _no_bool_placeholders(super().get_params(ctx))


class Group(TyperGroup):
    """A command group whose --help shows no `<bool>` placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _no_bool_placeholders(super().get_params(ctx))


def settings() -> Settings:
    """Settings from the environment (every option's default comes from TRIAGE_* too)."""
    return Settings()


def errors_to_exit(func: F) -> F:
    """Turn a TriageError into `error: <message>` on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TriageError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def log(message: str) -> None:
    """Progress and log lines go to stderr; results go to stdout."""
    print(message, file=sys.stderr, flush=True)


def emit(obj: Any) -> None:
    """One JSON result on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def show(obj: Any) -> None:
    """One JSON document on stdout: indented for a person at a terminal, one line when piped."""
    indent = 2 if terminal() else None
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def terminal() -> bool:
    return sys.stdout.isatty()
