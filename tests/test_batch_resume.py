"""Resuming: an interrupted or killed run, resumed, gives the uninterrupted run's exact bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_helpers import FakeModel, messages, write_rows

from triage.batch import BatchOptions, score_file
from triage.batch.journal import Journal
from triage.errors import InputError, RecordError
from triage.scoring import Scorer

ROWS = messages(230, seed=5)


def _options(src: Path, out: Path, **kw) -> BatchOptions:  # type: ignore[no-untyped-def]
    kw.setdefault("chunk_rows", 20)
    return BatchOptions(str(src), str(out), **kw)


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def _with_bad_rows(path: Path) -> Path:
    lines = [json.dumps(r) for r in ROWS]
    lines[33] = '{"text": "broken'
    lines[150] = '{"text": ""}'
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("out_name", ["o.jsonl", "o.csv.gz", "o.parquet"])
def test_batch_resume_after_interrupt_is_identical(tmp_path: Path, out_name: str) -> None:
    src = _with_bad_rows(tmp_path / "in.jsonl")
    clean, out = tmp_path / "clean" / out_name, tmp_path / "run" / out_name
    clean.parent.mkdir()
    out.parent.mkdir()
    skip = {"on_error": "skip"}
    score_file(_options(src, clean, rejects=str(clean.parent / "r.jsonl"), **skip),
               Scorer(FakeModel()))
    with pytest.raises(KeyboardInterrupt):
        score_file(_options(src, out, rejects=str(out.parent / "r.jsonl"), **skip),
                   Scorer(FakeModel(interrupt_after=4)))
    assert not out.exists() and Journal.load(out) is not None
    journal = Journal.load(out)
    assert journal is not None and 0 < journal.rows < len(ROWS)
    _tear_last_write(out)
    summary = score_file(_options(src, out, rejects=str(out.parent / "r.jsonl"), resume=True,
                                  **skip), Scorer(FakeModel()))
    assert _bytes(out) == _bytes(clean)
    assert _bytes(out.parent / "r.jsonl") == _bytes(clean.parent / "r.jsonl")
    assert summary.rows == len(ROWS) and summary.skipped == {"broken_json": 1, "empty_text": 1}
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([out_name, "r.jsonl"])


def _tear_last_write(out: Path) -> None:
    """What a kill in the middle of writing a chunk leaves: bytes or a segment past the journal."""
    part = out.with_name(out.name + ".part")
    if part.exists():
        with open(part, "ab") as handle:
            handle.write(b'{"half a row')
    else:
        parts = out.with_name(out.name + ".parts")
        (parts / "99999999.parquet").write_bytes(b"PAR1 torn")


def test_batch_resume_after_stop_at_bad_row_and_fix(tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in ROWS]
    src, fixed = tmp_path / "in.jsonl", tmp_path / "fixed.jsonl"
    fixed.write_text("\n".join(lines) + "\n")
    lines[99] = '{"text": 7}'
    src.write_text("\n".join(lines) + "\n")
    out, clean = tmp_path / "o.jsonl", tmp_path / "clean.jsonl"
    with pytest.raises(RecordError, match="line 100"):
        score_file(_options(src, out), Scorer(FakeModel()))
    os.replace(fixed, src)  # the operator fixes line 100 in place
    score_file(_options(src, out, resume=True), Scorer(FakeModel()))
    score_file(_options(src, clean), Scorer(FakeModel()))
    assert _bytes(out) == _bytes(clean)


def test_batch_resume_refuses_changed_input(tmp_path: Path) -> None:
    src, out = write_rows(tmp_path / "in.jsonl", ROWS), tmp_path / "o.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_file(_options(src, out), Scorer(FakeModel(interrupt_after=3)))
    write_rows(src, [{"id": "new", "text": "a different first row"}, *ROWS[1:]])
    with pytest.raises(InputError, match="differ from the ones the interrupted run scored"):
        score_file(_options(src, out, resume=True), Scorer(FakeModel()))


@pytest.mark.parametrize(("change", "message"), [
    ({"chunk_rows": 10}, "chunk_rows=20"), ({"on_error": "skip"}, "on_error='stop'"),
])
def test_batch_resume_refuses_changed_options(tmp_path: Path, change: dict, message: str) -> None:
    src, out = write_rows(tmp_path / "in.jsonl", ROWS), tmp_path / "o.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_file(_options(src, out), Scorer(FakeModel(interrupt_after=3)))
    with pytest.raises(InputError, match=message):
        score_file(_options(src, out, resume=True, **change), Scorer(FakeModel()))


def test_batch_resume_refuses_another_model_version(tmp_path: Path) -> None:
    src, out = write_rows(tmp_path / "in.jsonl", ROWS), tmp_path / "o.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_file(_options(src, out), Scorer(FakeModel(interrupt_after=3)))
    with pytest.raises(InputError, match="model_version='fake-1'"):
        score_file(_options(src, out, resume=True), Scorer(FakeModel(version="fake-2")))


def test_batch_resume_without_journal_starts_over(tmp_path: Path) -> None:
    src, out = write_rows(tmp_path / "in.jsonl", ROWS), tmp_path / "o.jsonl"
    logs: list[str] = []
    summary = score_file(_options(src, out, resume=True), Scorer(FakeModel()), log=logs.append)
    assert summary.rows == len(ROWS) and "starting from the top" in logs[0]


def test_batch_rerun_without_resume_discards_partial_output(tmp_path: Path) -> None:
    src, out, clean = write_rows(tmp_path / "in.jsonl", ROWS), tmp_path / "o.jsonl", tmp_path / "c.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_file(_options(src, out), Scorer(FakeModel(interrupt_after=3)))
    logs: list[str] = []
    score_file(_options(src, out), Scorer(FakeModel()), log=logs.append)
    score_file(_options(src, clean), Scorer(FakeModel()))
    assert _bytes(out) == _bytes(clean) and "discarding the interrupted run" in logs[0]


def test_batch_resume_after_kill_during_publish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, out, clean = write_rows(tmp_path / "in.jsonl", ROWS), tmp_path / "o.jsonl", tmp_path / "c.jsonl"
    score_file(_options(src, clean), Scorer(FakeModel()))

    def killed(output: Path) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Journal, "remove", staticmethod(killed))
        with pytest.raises(KeyboardInterrupt):
            score_file(_options(src, out), Scorer(FakeModel()))
    assert out.exists() and Journal.load(out) is not None
    score_file(_options(src, out, resume=True), Scorer(FakeModel()))
    assert _bytes(out) == _bytes(clean) and Journal.load(out) is None


def test_batch_resume_needs_an_output_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="stdout cannot be resumed"):
        score_file(BatchOptions(str(tmp_path / "in.jsonl"), None, resume=True),
                   Scorer(FakeModel()))


def _cli(model_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from triage.cli import app; app()", "score", *args,
            "--model", str(model_dir), "--threads", "1", "--batch-size", "4"]


def test_batch_resume_after_kill_9_is_identical(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.jsonl.gz", messages(6000, seed=9))
    out, clean = tmp_path / "o.jsonl", tmp_path / "clean.jsonl"
    common = ["--chunk-rows", "100"]
    proc = subprocess.Popen(_cli(tiny_model_dir, str(src), "-o", str(out), *common),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = Journal.path_for(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and json.loads(journal.read_text()).get("chunks", 0) >= 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    resumed = subprocess.run(_cli(tiny_model_dir, str(src), "-o", str(out), "--resume", *common),
                             capture_output=True, text=True, check=True)
    assert "resuming after" in resumed.stderr
    assert json.loads(resumed.stdout)["rows"] == 6000
    subprocess.run(_cli(tiny_model_dir, str(src), "-o", str(clean), *common),
                   capture_output=True, check=True)
    assert _bytes(out) == _bytes(clean)
