"""The labelled-ticket format: parsing, partial labels, pass-through fields, bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from triage.errors import RecordError
from triage.records import ReadReport, detect_format, read_records


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_records_jsonl_partial_labels_and_extra_fields(tmp_path: Path) -> None:
    rows = [{"text": "where is my card", "urgency": 1, "team": "cards"},
            {"text": "close my account", "churn_risk": "1", "frustration": ""}]
    path = write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in rows))
    records = read_records(path)
    assert records[0].labels == {"frustration": None, "churn_risk": None, "urgency": 1}
    assert records[0].fields == {"team": "cards"}
    assert records[1].labels["churn_risk"] == 1 and records[1].labels["frustration"] is None


def test_records_csv_and_gzip(tmp_path: Path) -> None:
    csv_text = "id,text,frustration\n7,\"hello, there\",0\n8,\"multi\nline\",1\n"
    records = read_records(write(tmp_path / "a.csv", csv_text))
    assert [r.text for r in records] == ["hello, there", "multi\nline"]
    assert records[1].id == "8"
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress(b'{"text": "hi"}\n'))
    assert read_records(gz)[0].text == "hi"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "ok", "urgency": 2}\n', "line 1: label 'urgency' is 2"),
        ('{"text": "ok"}\n{"text": \n', "line 2: broken JSON"),
        ('{"text": "   "}\n', "'text' is empty"),
        ('{"text": 42}\n', "'text' is int"),
        ('{"body": "x"}\n', "no 'text' field"),
    ],
)
def test_records_bad_rows_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        read_records(write(tmp_path / "bad.jsonl", content))


def test_records_skip_counts_bad_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.jsonl", '{"text": "ok"}\n{"text": ""}\n{"text": "fine", "urgency": "x"}\n')
    report = ReadReport()
    records = read_records(path, on_error="skip", report=report)
    assert len(records) == 1 and report.kept == 1
    assert [line for line, _ in report.skipped] == [2, 3]


def test_records_csv_without_text_column(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="no 'text' column"):
        read_records(write(tmp_path / "a.csv", "body,urgency\nhi,1\n"))


def test_records_invalid_utf8_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "caf\xe9"}\n')
    with pytest.raises(RecordError, match="invalid UTF-8"):
        read_records(bad)
    with pytest.raises(RecordError, match="file not found"):
        read_records(tmp_path / "nope.jsonl")


def test_records_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(b'{"text": "hello"}\n' * 2000)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordError, match="truncated or corrupt"):
        read_records(path)


def test_records_detect_format() -> None:
    assert detect_format("x.CSV.gz") == "csv"
    assert detect_format("x.parquet") == "parquet"
    with pytest.raises(RecordError, match="cannot tell the format"):
        detect_format("x.txt")
