"""A data scientist's own heads: every label column is learned (or the --heads asked for),
described in the manifest, and scored by `triage score` and measured by `triage eval`.

The fast tests check the head discovery, the options and the head-agnostic eval and batch
output without torch; the slow ones train a small model with a fourth head, `legal_threat`
(the session's `legal_model_dir`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import LEGAL_DESCRIPTION, require_training
from training.data import Split, choose_heads, found_heads, load_rows
from triage.cli import app
from triage.cli.model import parse_descriptions, parse_heads
from triage.errors import InputError, RecordError
from triage.heads import DESCRIPTIONS

runner = CliRunner()
FOUR = ["frustration", "churn_risk", "urgency", "legal_threat"]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_training_heads_are_every_label_column(legal_data: Path) -> None:
    assert found_heads(legal_data) == FOUR
    assert choose_heads(legal_data) == tuple(FOUR)
    assert choose_heads(legal_data, ["legal_threat", "urgency"]) == ("legal_threat", "urgency")


def test_training_heads_absent_head_names_what_exists(legal_data: Path) -> None:
    with pytest.raises(InputError, match=r"\['fraud_report'\] have no label column.*"
                                         r"'urgency', 'legal_threat'\]"):
        choose_heads(legal_data, ["urgency", "fraud_report"])


def test_training_heads_need_a_label_column(tmp_path: Path) -> None:
    data = write(tmp_path / "d.jsonl", [{"text": "hello", "channel": "chat"}])
    with pytest.raises(RecordError, match="no label columns"):
        choose_heads(data)


def test_training_heads_missing_in_one_file_are_masked(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "a.jsonl", [{"id": "a", "text": "my lawyer will call", "legal_threat": 1}])
    write(folder / "b.jsonl", [{"id": "b", "text": "card stolen", "urgency": 1}])
    heads = choose_heads(folder)
    assert heads == ("legal_threat", "urgency")
    split = Split.of(load_rows(folder, heads=heads), heads)
    assert split.heads == heads
    np.testing.assert_array_equal(split.labels, [[1, np.nan], [np.nan, 1]])


def test_cli_train_options_parse_heads_and_descriptions() -> None:
    assert parse_heads(None) is None
    assert parse_heads(" frustration, legal_threat ") == ("frustration", "legal_threat")
    with pytest.raises(InputError, match="listed twice"):
        parse_heads("urgency,urgency")
    assert parse_descriptions(['legal_threat=threatens legal action']) == {
        "legal_threat": "threatens legal action"}
    with pytest.raises(InputError, match="not NAME=TEXT"):
        parse_descriptions(["legal_threat"])


def test_cli_train_unknown_head_is_one_line_error(legal_data: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(legal_data), "--out", str(tmp_path / "m"),
                                 "--heads", "frustration,fraud_report"])
    assert result.exit_code == 2
    assert "['fraud_report'] have no label column" in result.output
    assert "legal_threat" in result.output
    result = runner.invoke(app, ["train", str(legal_data), "--out", str(tmp_path / "m"),
                                 "--heads", "urgency", "--head-description", "legal_threat=x"])
    assert result.exit_code == 2
    assert "description(s) given for ['legal_threat']" in result.output


class FourHeads:
    """A fake model at the Scorer seam with a fourth head: legal_threat follows "lawyer"."""

    heads = tuple(FOUR)
    version = "four-heads-test"

    def predict_proba(self, texts):  # type: ignore[no-untyped-def]
        return np.array([[0.3, 0.2, 0.1, 0.9 if "lawyer" in t else 0.1] for t in texts])


def test_evaluation_measures_whatever_heads_the_model_has(tmp_path: Path) -> None:
    from triage.evaluation import evaluate, write_reports
    from triage.records import Record
    from triage.scoring import Scorer

    texts = ["my lawyer will be in touch about this", "where is my parcel please",
             "my lawyer says you owe me money", "thanks for the quick help today"]
    records = [Record(t, {"legal_threat": int("lawyer" in t), "urgency": None}, {})
               for t in texts]
    result = evaluate(Scorer(FourHeads()), records, parity_rows=1)
    assert list(result.overall) == FOUR
    assert result.overall["legal_threat"]["auroc"] == 1.0
    assert result.labelled_heads == ["legal_threat"]
    paths = write_reports(result, "rows", tmp_path)
    report = paths[0].read_text()
    assert "| all | legal_threat | 4 |" in report
    assert "Not labelled in this file (no metrics): frustration, churn_risk, urgency." in report
    assert paths[2].read_bytes()[:4] == b"\x89PNG"


def test_batch_empty_parquet_output_has_the_model_heads(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from triage.batch.sinks import open_sink

    sink = open_sink(tmp_path / "o.parquet", "parquet", heads=tuple(FOUR))
    sink.publish()
    assert pq.read_schema(tmp_path / "o.parquet").names == [
        *FOUR, "scorable", "reason", "model_version"]


# --- slow: a model trained with a fourth head ---


@pytest.mark.slow
def test_training_fourth_head_is_in_the_manifest(legal_model_dir: Path) -> None:
    manifest = json.loads((legal_model_dir / "manifest.json").read_text())
    assert manifest["heads"] == FOUR
    assert manifest["head_descriptions"] == {**DESCRIPTIONS, "legal_threat": LEGAL_DESCRIPTION}
    for key in ("calibration", "thresholds", "parity"):
        assert "legal_threat" in (manifest[key]["auroc"] if key == "parity" else manifest[key])
    assert list(manifest["metrics"]["heldout"]) == FOUR
    hf = json.loads((legal_model_dir / "hf" / "config.json").read_text())
    assert list(hf["id2label"].values()) == FOUR
    assert "`legal_threat` (threatens legal action)" in (legal_model_dir / "report.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_cli_score_output_has_the_fourth_head(legal_model_dir: Path, tmp_path: Path,
                                              fmt: str) -> None:
    src = write(tmp_path / "in.jsonl", [{"id": "1", "text": "my lawyer will call you Monday"},
                                        {"id": "2", "text": "thanks, that fixed it"}])
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["score", str(src), "-o", str(out), "--model",
                                 str(legal_model_dir), "--threads", "1"])
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        with open(out, newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2"]
    for row in rows:
        assert 0.0 < float(row["legal_threat"]) < 1.0
        assert set(FOUR) <= set(row)


@pytest.mark.slow
def test_cli_eval_reports_the_fourth_head(legal_model_dir: Path, legal_data: Path,
                                          tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(legal_data), "--model", str(legal_model_dir),
                                 "--out", str(tmp_path / "r"), "--parity-rows", "1"])
    assert result.exit_code == 0, result.output
    body = json.loads((tmp_path / "r" / "eval.json").read_text())
    assert body["heads"] == FOUR
    assert body["overall"]["legal_threat"]["positives"] > 0
    assert "| all | legal_threat |" in (tmp_path / "r" / "eval.md").read_text()


@pytest.mark.slow
def test_cli_train_heads_picks_a_subset(legal_data: Path, legal_model_dir: Path,
                                        tmp_path: Path) -> None:
    require_training()
    out = tmp_path / "m"
    result = runner.invoke(app, [
        "train", str(legal_data), "--out", str(out), "--base", "tiny", "--max-steps", "2",
        "--heads", "frustration,urgency,legal_threat",
        "--head-description", "legal_threat=threatens to sue", "--compare",
        str(legal_model_dir)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["heads"] == ["frustration", "urgency", "legal_threat"]
    assert manifest["head_descriptions"]["legal_threat"] == "threatens to sue"
    assert set(manifest["calibration"]) - {"method"} == set(manifest["heads"])
    report = json.loads((out / "report.json").read_text())
    assert set(report["current"]) == {"frustration", "urgency", "legal_threat"}
