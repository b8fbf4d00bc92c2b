"""The local batch engine: formats, field pass-through, order, bad input, bounded memory."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import threading
from pathlib import Path

import pytest
from batch_helpers import FakeModel, expected_scores, messages, read_jsonl, read_rows, write_rows

from triage.batch import BatchOptions, score_file
from triage.batch.pipeline import Pipeline
from triage.batch.progress import Progress, Summary, estimate_rows
from triage.batch.rows import Item, chunked
from triage.errors import InputError, RecordError
from triage.scoring import Scorer

ADDED = {"frustration", "churn_risk", "urgency", "scorable", "reason", "model_version"}


@pytest.fixture()
def fake_scorer() -> Scorer:
    return Scorer(FakeModel())


def run(scorer: Scorer, src: Path, out: Path | None, **kw) -> Summary:  # type: ignore[no-untyped-def]
    logs: list[str] = []
    summary = score_file(BatchOptions(str(src), None if out is None else str(out), **kw),
                         scorer, log=logs.append)
    summary.logs = logs  # type: ignore[attr-defined]
    return summary


@pytest.mark.parametrize(("src_name", "out_name"), [
    ("in.jsonl", "out.jsonl"), ("in.jsonl.gz", "out.csv"), ("in.csv", "out.parquet"),
    ("in.parquet", "out.jsonl.gz"), ("in.csv.gz", "out.csv.gz"), ("in.parquet", "out.parquet"),
])
def test_batch_formats_round_trip_with_real_scores(
        tiny_scorer: Scorer, tmp_path: Path, src_name: str, out_name: str) -> None:
    rows = messages(40)
    src, out = write_rows(tmp_path / src_name, rows), tmp_path / out_name
    summary = run(tiny_scorer, src, out)
    got = read_rows(out)
    assert summary.rows == summary.scored == 40
    assert [r["id"] for r in got] == [r["id"] for r in rows]
    expected = tiny_scorer.score([r["text"] for r in rows])
    for row, score in zip(got, expected, strict=True):
        assert ADDED <= set(row) and {"id", "text", "channel", "meta"} <= set(row)
        assert float(row["frustration"]) == score.get("frustration")
        assert float(row["urgency"]) == score.get("urgency")
        assert str(row["model_version"]) == tiny_scorer.version
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.journal"))


def test_batch_keeps_unknown_fields_and_overwrites_old_scores(
        fake_scorer: Scorer, tmp_path: Path) -> None:
    rows = [{"text": "please refund my order", "zz_custom": [1, {"x": "ü"}], "frustration": 0.9,
             "when": "2024-01-01"}]
    out = tmp_path / "o.jsonl"
    run(fake_scorer, write_rows(tmp_path / "i.jsonl", rows), out)
    (got,) = read_jsonl(out)
    assert list(got)[:4] == ["text", "zz_custom", "frustration", "when"]
    assert got["zz_custom"] == [1, {"x": "ü"}]
    assert got["frustration"] == round(expected_scores("please refund my order")[0], 4)


def test_batch_order_is_input_order_with_many_workers(tmp_path: Path) -> None:
    rows = messages(300, seed=3)
    out = tmp_path / "o.jsonl"
    run(Scorer(FakeModel(delay=True)), write_rows(tmp_path / "i.jsonl", rows), out,
        workers=4, chunk_rows=7)
    got = read_jsonl(out)
    assert [r["id"] for r in got] == [r["id"] for r in rows]
    assert all(r["churn_risk"] == round(expected_scores(r["text"])[1], 4) for r in got)


def test_batch_unscorable_rows_are_kept_with_reason(tiny_scorer: Scorer, tmp_path: Path) -> None:
    rows = [{"text": "🙂🙂🙂"}, {"text": "Je voudrais annuler mon abonnement, merci beaucoup"},
            {"text": "my parcel never came"}]
    out = tmp_path / "o.jsonl"
    summary = run(tiny_scorer, write_rows(tmp_path / "i.jsonl", rows), out)
    got = read_jsonl(out)
    assert [(r["scorable"], r["reason"], r["urgency"] is None) for r in got] == [
        (False, "no_words", True), (False, "language:fr", True), (True, None, False)]
    assert summary.unscorable == {"no_words": 1, "language:fr": 1}


def test_batch_stdout_when_no_output(fake_scorer: Scorer, tmp_path: Path,
                                     capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    run(fake_scorer, write_rows(tmp_path / "i.csv", messages(3)), None)
    lines = capsysbinary.readouterr().out.decode().splitlines()
    assert lines[0].startswith("id,text,channel,meta,frustration")
    assert len(lines) == 4


BAD_JSONL = [
    '{"id": 1, "text": "fine message"}',
    '{"id": 2, "text": "broken',
    '{"id": 3, "text": ""}',
    '{"id": 4, "text": 42}',
    '{"id": 5}',
    '["not", "an", "object"]',
    '{"id": 7, "text": "another fine message"}',
]


def test_batch_bad_rows_stop_at_first_with_line(fake_scorer: Scorer, tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(BAD_JSONL) + "\n")
    with pytest.raises(RecordError, match=r"bad.jsonl, line 2: broken JSON"):
        run(fake_scorer, src, tmp_path / "o.jsonl")
    assert not (tmp_path / "o.jsonl").exists()


def test_batch_bad_rows_skipped_into_rejects(fake_scorer: Scorer, tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(BAD_JSONL) + "\n")
    out, rejects = tmp_path / "o.jsonl", tmp_path / "rejects.jsonl"
    summary = run(fake_scorer, src, out, on_error="skip", rejects=str(rejects))
    assert [r["id"] for r in read_jsonl(out)] == [1, 7]
    got = read_jsonl(rejects)
    assert [(r["line"], r["error"]) for r in got] == [
        (2, "broken_json"), (3, "empty_text"), (4, "text_not_string"), (5, "no_text"),
        (6, "not_an_object")]
    assert got[0]["raw"] == '{"id": 2, "text": "broken'
    assert got[2]["row"] == {"id": 4, "text": 42}
    assert summary.skipped == {"broken_json": 1, "empty_text": 1, "text_not_string": 1,
                               "no_text": 1, "not_an_object": 1}
    assert "5 skipped" in summary.text() and any("line 2" in m for m in summary.logs)  # type: ignore[attr-defined]


def test_batch_text_too_long_is_a_bad_row(tmp_path: Path) -> None:
    scorer = Scorer(FakeModel(), max_chars=50)
    src = write_rows(tmp_path / "i.jsonl", [{"text": "x " * 40}, {"text": "short one here"}])
    summary = run(scorer, src, tmp_path / "o.jsonl", on_error="skip")
    assert summary.skipped == {"text_too_long": 1} and summary.scored == 1


def test_batch_csv_without_text_column_stops_in_both_modes(
        fake_scorer: Scorer, tmp_path: Path) -> None:
    src = tmp_path / "i.csv"
    src.write_text("id,message\n1,hello there\n")
    for mode in ("stop", "skip"):
        with pytest.raises(RecordError, match="no 'text' column; found \\['id', 'message'\\]"):
            run(fake_scorer, src, tmp_path / "out" / "o.jsonl", on_error=mode)
    assert list((tmp_path / "out").iterdir()) == []  # nothing to resume: nothing left behind


def test_batch_missing_input_file(fake_scorer: Scorer, tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="file not found"):
        run(fake_scorer, tmp_path / "nope.jsonl", tmp_path / "o.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_batch_empty_input_gives_empty_output(fake_scorer: Scorer, tmp_path: Path) -> None:
    src = tmp_path / "empty.jsonl"
    src.write_text("")
    for name in ("o.jsonl", "o.parquet"):
        summary = run(fake_scorer, src, tmp_path / name)
        assert summary.rows == 0 and read_rows(tmp_path / name) == []


def test_batch_csv_row_with_extra_fields_is_rejected(fake_scorer: Scorer, tmp_path: Path) -> None:
    src = tmp_path / "i.csv"
    src.write_text("id,text\n1,hello there friend\n2,hello, again friend\n")
    summary = run(fake_scorer, src, tmp_path / "o.csv", on_error="skip")
    assert summary.skipped == {"bad_csv_row": 1} and summary.scored == 1


def _truncated_gzip(path: Path, rows: int) -> Path:
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in messages(rows)).encode())
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def test_batch_truncated_gzip_stops_or_keeps_what_was_readable(
        fake_scorer: Scorer, tmp_path: Path) -> None:
    src = _truncated_gzip(tmp_path / "cut.jsonl.gz", 400)
    with pytest.raises(RecordError, match="truncated or corrupt"):
        run(fake_scorer, src, tmp_path / "a.jsonl")
    rejects = tmp_path / "r.jsonl"
    summary = run(fake_scorer, src, tmp_path / "b.jsonl", on_error="skip", rejects=str(rejects))
    kept = read_jsonl(tmp_path / "b.jsonl")
    assert 0 < len(kept) < 400
    (reject,) = read_jsonl(rejects)
    assert reject["error"] == "truncated" and reject["line"] == len(kept) + 1
    assert summary.skipped == {"truncated": 1}


def test_batch_rejects_must_be_jsonl(fake_scorer: Scorer, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "i.jsonl", messages(2))
    with pytest.raises(InputError, match="rejects are written as JSONL"):
        run(fake_scorer, src, tmp_path / "o.jsonl", rejects=str(tmp_path / "r.csv"))


def test_batch_csv_output_refuses_fields_missing_from_header(
        fake_scorer: Scorer, tmp_path: Path) -> None:
    rows = [{"text": "first message here"}, {"text": "second message here", "late": 1}]
    with pytest.raises(InputError, match="write JSONL or Parquet instead"):
        run(fake_scorer, write_rows(tmp_path / "i.jsonl", rows), tmp_path / "o.csv",
            chunk_rows=1)


def test_batch_parquet_output_reconciles_drifting_types(fake_scorer: Scorer, tmp_path: Path) -> None:
    rows = [{"text": "first message here", "n": None, "v": 1},
            {"text": "second message here", "n": "x", "v": "one"},
            {"text": "third message here", "n": "y", "v": 2.5}]
    out = tmp_path / "o.parquet"
    run(fake_scorer, write_rows(tmp_path / "i.jsonl", rows), out, chunk_rows=1)
    got = read_rows(out)
    assert [r["n"] for r in got] == [None, "x", "y"]
    assert [r["v"] for r in got] == ["1", "one", "2.5"]


def test_batch_pipeline_keeps_a_bounded_number_of_chunks_in_flight() -> None:
    produced = consumed = peak = 0
    lock = threading.Lock()

    def produce():  # type: ignore[no-untyped-def]
        nonlocal produced, peak
        for i in range(200):
            with lock:
                produced += 1
                peak = max(peak, produced - consumed)
            yield i

    for n, value in enumerate(Pipeline(produce, lambda x: x * 2, workers=3, depth=2)):
        assert value == n * 2
        with lock:
            consumed += 1
    assert consumed == 200 and peak <= 2 + 3 + 2


def test_batch_chunks_are_read_lazily_from_an_endless_stream() -> None:
    endless = (Item(i, {"text": "x"}) for i in itertools.count(1))
    first = list(itertools.islice(chunked(endless, 5), 3))
    assert [c.rows_end for c in first] == [5, 10, 15]
    assert len({c.digest for c in first}) == 3


def test_batch_pipeline_passes_reader_errors_after_earlier_results() -> None:
    def produce():  # type: ignore[no-untyped-def]
        yield from range(5)
        raise RecordError("bad", line=6)

    seen: list[int] = []
    with pytest.raises(RecordError):
        for value in Pipeline(produce, lambda x: x, workers=2):
            seen.append(value)  # noqa: PERF402 (a list() would lose the values seen)
    assert seen == [0, 1, 2, 3, 4]


def test_batch_progress_logs_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    now = [0.0]
    progress = Progress(1000, log_every=10, stream=stream, clock=lambda: now[0])
    now[0] = 5.0
    progress.update(100)
    now[0] = 20.0
    progress.update(300)
    assert stream.getvalue() == "scored 400 rows of ~1,000 (40%), 20 rows/s, ETA 0:00:30\n"


@pytest.mark.parametrize("name", ["e.jsonl", "e.jsonl.gz", "e.csv", "e.parquet"])
def test_batch_estimate_rows_is_close(tmp_path: Path, name: str) -> None:
    src = write_rows(tmp_path / name, messages(500))
    fmt = "parquet" if "parquet" in name else ("csv" if ".csv" in name else "jsonl")
    estimate = estimate_rows(src, fmt)
    assert estimate is not None and 450 <= estimate <= 550
    assert estimate_rows("-", "jsonl") is None


def test_batch_summary_counts_and_text() -> None:
    summary = Summary(rows=10, elapsed=2.0, output="o.jsonl", rejects="r.jsonl")
    summary.counts.update({"scored": 7, "unscorable:no_words": 1, "skipped:empty_text": 2})
    assert summary.as_dict()["skipped_reasons"] == {"empty_text": 2}
    assert summary.text() == ("done: 10 rows in 2.0s (5 rows/s), 7 scored, 1 unscorable "
                              "(no_words 1), 2 skipped (empty_text 2) -> o.jsonl; "
                              "rejects -> r.jsonl")
