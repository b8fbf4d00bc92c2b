"""The data scientist's commands through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import require_training
from triage.cli import app

runner = CliRunner()


def test_cli_eval_writes_reports(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in [
        {"text": "my card was stolen", "urgency": 1, "source": "s"},
        {"text": "what is your address", "urgency": 0, "source": "s"}]))
    result = runner.invoke(app, ["eval", str(data), "--model", str(tiny_model_dir),
                                 "--out", str(tmp_path / "r"), "--parity-rows", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "eval.md").exists()


def test_cli_eval_bad_file_is_one_line_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "ok", "urgency": 7}\n')
    result = runner.invoke(app, ["eval", str(data), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "line 1: label 'urgency' is 7" in result.output


def test_cli_model_reports_missing_model(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(tmp_path / "none"))
    result = runner.invoke(app, ["model"])
    assert result.exit_code == 3
    assert "does not exist" in result.output


@pytest.mark.slow
def test_cli_train_writes_model_and_report(tmp_path: Path, tiny_model_dir: Path) -> None:
    require_training()
    data = Path(__file__).resolve().parents[1] / "data" / "samples" / "parts"
    out = tmp_path / "m"
    result = runner.invoke(app, ["train", str(data), "--out", str(out), "--base", "tiny",
                                 "--max-steps", "3", "--compare", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["compared_with"] == str(tiny_model_dir)
    assert report["verdict"].split()[0] in {"better", "worse", "no"}


def test_cli_model_prints_the_manifest_indented_on_a_terminal(
        tiny_model_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from triage.cli import common

    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(tiny_model_dir))
    piped = runner.invoke(app, ["model"])
    assert piped.exit_code == 0 and len(piped.stdout.strip().splitlines()) == 1
    monkeypatch.setattr(common, "terminal", lambda: True)
    shown = runner.invoke(app, ["model"])
    assert shown.stdout.startswith("{\n  ")
    assert json.loads(shown.stdout) == json.loads(piped.stdout)
