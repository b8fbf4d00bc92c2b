"""The Ray Data engine against a local Ray instance: same output as the local engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_helpers import messages, read_jsonl, read_rows, write_rows

from triage.batch import BatchOptions, score_file
from triage.batch.ray_engine import RayOptions, score_with_ray
from triage.errors import RecordError
from triage.scoring import Scorer

ray = pytest.importorskip("ray", reason="the optional `ray` extra is not installed "
                                        "(pip install '.[ray]')")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _bad_jsonl(path: Path) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in messages(120, seed=2)]
    lines[7] = '{"id": "broken'
    lines[64] = json.dumps({"id": "empty", "text": "  "})
    path.write_text("\n".join(lines) + "\n")
    return path


def _ray(src: Path, out: str, model: Path, **kw) -> object:  # type: ignore[no-untyped-def]
    return score_with_ray(BatchOptions(str(src), out, chunk_rows=32, **kw), model,
                          RayOptions(actors=2, threads=1))


def test_batch_ray_jsonl_matches_local_engine_byte_for_byte(
        tiny_model_dir: Path, tiny_scorer: Scorer, tmp_path: Path) -> None:
    src = _bad_jsonl(tmp_path / "in.jsonl")
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    score_file(BatchOptions(str(src), str(local), chunk_rows=32, on_error="skip",
                            rejects=str(tmp_path / "local-rejects.jsonl")), tiny_scorer)
    summary = _ray(src, str(remote), tiny_model_dir, on_error="skip",
                   rejects=str(tmp_path / "ray-rejects.jsonl"))
    assert remote.read_bytes() == local.read_bytes()
    rejects = sorted(read_jsonl(tmp_path / "ray-rejects.jsonl"), key=lambda r: r["line"])
    assert rejects == read_jsonl(tmp_path / "local-rejects.jsonl")
    assert [r["line"] for r in rejects] == [8, 65]
    assert summary.rows == 120 and summary.skipped == {"broken_json": 1, "empty_text": 1}  # type: ignore[attr-defined]
    assert not (tmp_path / "ray.jsonl.parts").exists()


def test_batch_ray_parquet_in_csv_shards_out_same_rows(
        tiny_model_dir: Path, tiny_scorer: Scorer, tmp_path: Path) -> None:
    rows = messages(90, seed=4)
    src = write_rows(tmp_path / "in.parquet", rows)
    local = tmp_path / "local.csv"
    score_file(BatchOptions(str(src), str(local), chunk_rows=32), tiny_scorer)
    _ray(src, str(tmp_path / "shards") + "/", tiny_model_dir, out_format="csv")
    shards = sorted((tmp_path / "shards").iterdir())
    assert len(shards) >= 1 and all(s.suffix == ".csv" for s in shards)
    got = [row for shard in shards for row in read_rows(shard)]
    assert [r["id"] for r in got] == [r["id"] for r in rows]
    assert got == read_rows(local)  # same chunks, same model calls: the same scores


def test_batch_ray_stop_names_the_bad_line(tiny_model_dir: Path, tmp_path: Path) -> None:
    src = _bad_jsonl(tmp_path / "in.jsonl")
    # actors work in parallel: the run stops at whichever bad row an actor reaches first
    with pytest.raises(RecordError, match=r"in.jsonl, line (8: broken JSON|65: text is empty)"):
        _ray(src, str(tmp_path / "o.parquet"), tiny_model_dir,
             rejects=str(tmp_path / "r.jsonl"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # nothing left behind


def test_batch_ray_through_the_cli(tiny_model_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    src = write_rows(tmp_path / "in.jsonl.gz", messages(50, seed=6))
    result = CliRunner().invoke(app, ["score", str(src), "-o", str(tmp_path / "o.parquet"),
                                      "--engine", "ray", "--workers", "2", "--model",
                                      str(tiny_model_dir), "--chunk-rows", "16"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["engine"] == "ray"
    got = read_rows(tmp_path / "o.parquet")
    assert [r["id"] for r in got] == [f"t{i}" for i in range(50)]
    assert all(r["scorable"] and 0 < r["urgency"] < 1 for r in got)
