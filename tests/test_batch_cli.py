"""`triage score` through the real Typer app: one message, files, stdin, errors, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_helpers import messages, read_jsonl, write_rows
from typer.testing import CliRunner

from triage.cli import app
from triage.cli.batch import parallelism

runner = CliRunner()


def _score(model: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["score", *args, "--model", str(model)], input=stdin)


def test_batch_cli_text_prints_one_json_result(tiny_model_dir: Path) -> None:
    result = _score(tiny_model_dir, "--text", "Third time asking. Cancel my account now.")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["scorable"] is True and 0 < out["churn_risk"] < 1
    assert "explanation" not in out


def test_batch_cli_text_explain_adds_phrases(tiny_model_dir: Path) -> None:
    result = _score(tiny_model_dir, "--text", "my card was stolen, block it today please",
                    "--explain")
    assert result.exit_code == 0, result.output
    explanation = json.loads(result.stdout)["explanation"]
    assert set(explanation) == {"frustration", "churn_risk", "urgency"}


@pytest.mark.parametrize("args", [[], ["--text", "hi there", "some.jsonl"],
                                  ["f.jsonl", "--explain"], ["--text", "   "],
                                  ["f.jsonl", "--engine", "spark"]])
def test_batch_cli_usage_errors_exit_2(tiny_model_dir: Path, args: list[str]) -> None:
    result = _score(tiny_model_dir, *args)
    assert result.exit_code == 2
    assert result.output.startswith("error: ")


def test_batch_cli_file_to_stdout_keeps_rows_in_order(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = messages(12)
    result = _score(tiny_model_dir, str(write_rows(tmp_path / "in.jsonl", rows)))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in out] == [r["id"] for r in rows]
    assert all(r["meta"] == row["meta"] for r, row in zip(out, rows, strict=True))
    assert "done: 12 rows" in result.stderr


def test_batch_cli_stdin_csv_to_file_prints_summary(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", messages(5))
    out = tmp_path / "out.jsonl"
    result = _score(tiny_model_dir, "-", "--format", "csv", "-o", str(out),
                    stdin=src.read_text())
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 5 and summary["output"] == str(out)
    assert [r["id"] for r in read_jsonl(out)] == ["t0", "t1", "t2", "t3", "t4"]


def test_batch_cli_bad_line_stops_with_message_and_hint(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "fine message here"}\n{"text": oops}\n')
    result = _score(tiny_model_dir, str(src), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2
    assert f"error: {src}, line 2: broken JSON" in result.stderr
    assert "--on-error skip" in result.stderr


def test_batch_cli_skip_with_rejects(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "fine message here"}\n{"text": null}\n')
    result = _score(tiny_model_dir, str(src), "-o", str(tmp_path / "o.jsonl"),
                    "--on-error", "skip", "--rejects", str(tmp_path / "rejects.jsonl"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["skipped_reasons"] == {"text_not_string": 1}
    assert read_jsonl(tmp_path / "rejects.jsonl")[0]["line"] == 2


def test_batch_cli_resume_needs_output_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.jsonl", messages(2))
    result = _score(tiny_model_dir, str(src), "--resume")
    assert result.exit_code == 2 and "stdout cannot be resumed" in result.stderr


def test_batch_cli_ray_refuses_stdin_without_starting_ray(tiny_model_dir: Path) -> None:
    result = _score(tiny_model_dir, "-", "--engine", "ray", "-o", "x.jsonl", stdin="")
    assert result.exit_code == 2 and "reads and writes files" in result.stderr


@pytest.mark.parametrize(("asked", "cores", "expected"), [
    ((0, 0), 2, (2, 1)), ((1, 0), 2, (1, 2)), ((0, 2), 4, (2, 2)), ((3, 3), 2, (3, 3)),
    ((4, 0), 2, (4, 1)),
])
def test_batch_cli_parallelism_shares_out_cores(asked: tuple[int, int], cores: int,
                                                expected: tuple[int, int]) -> None:
    assert parallelism(*asked, cores=cores) == expected


@pytest.mark.parametrize(("content", "said", "fix"), [
    (b"id,body\n1,my order is late\n", "no 'text' column; found ['id', 'body']",
     "Rename 'body' to 'text'"),
    (b"id,text\n1,caf\xe9 order late\n", "invalid UTF-8", "iconv -f cp1252 -t utf-8"),
    ("id,text\n1,hello there\n".encode("utf-16"), "looks like UTF-16",
     "iconv -f utf-16 -t utf-8"),
    (b"", "the file is empty", "export finished"),
])
def test_batch_cli_unreadable_file_gets_advice_that_fits(tiny_model_dir: Path, tmp_path: Path,
                                                         content: bytes, said: str,
                                                         fix: str) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(content)
    result = _score(tiny_model_dir, str(src), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2, result.output
    assert said in result.stderr and fix in result.stderr
    assert "--resume" not in result.stderr and "pass --on-error skip" not in result.stderr


def test_batch_cli_unknown_output_name_points_at_out_format(tiny_model_dir: Path,
                                                            tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.jsonl", messages(2))
    result = _score(tiny_model_dir, str(src), "-o", str(tmp_path / "out.xlsx"))
    assert result.exit_code == 2
    assert "pass --out-format" in result.stderr and "pass --format" not in result.stderr


def test_batch_cli_help_shows_no_bool_placeholders() -> None:
    for command in ([], ["score"], ["rescore-queue"], ["model"], ["export-labels"], ["keys"],
                    ["keys", "create"]):
        result = runner.invoke(app, [*command, "--help"], terminal_width=100)
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output
    assert "--explain" in runner.invoke(app, ["score", "--help"]).output
