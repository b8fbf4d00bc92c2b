"""The benchmark helpers: statistics, interleaving, message sets, key parsing, fixed splits.

Timing itself is never asserted (that is what the benchmarks report); these check that the
harness measures what it says it measures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import common


def test_bench_summary_reports_median_and_range() -> None:
    assert common.summary([3.0, 1.0, 2.0, 10.0]) == {
        "median": 2.5, "min": 1.0, "max": 10.0, "rounds": 4}
    assert common.summary([])["median"] is None


@pytest.mark.parametrize(("q", "expected"), [(0, 1.0), (50, 50.5), (99, 99.01), (100, 100.0)])
def test_bench_percentile_interpolates(q: float, expected: float) -> None:
    assert common.percentile([float(x) for x in range(100, 0, -1)], q) == pytest.approx(expected)


def test_bench_interleave_rotates_order_and_drops_warmup() -> None:
    calls: list[str] = []

    def engine(name: str):  # type: ignore[no-untyped-def]
        def run() -> int:
            calls.append(name)
            return len(calls)
        return run

    results = common.interleave({n: engine(n) for n in "ABC"}, rounds=3, warmup=1)
    assert calls == list("ABC" "BCA" "CAB" "ABC")
    assert {n: len(v) for n, v in results.items()} == {"A": 3, "B": 3, "C": 3}
    assert results["A"] == [6, 8, 10]  # the warm-up round's values are not kept


def test_bench_fixed_tokens_have_the_asked_length(tiny_model_dir: Path) -> None:
    tok = common.hf_tokenizer(tiny_model_dir)
    for n in (10, 40, 300):
        texts = common.fixed_tokens(tok, n, 12, seed=n)
        assert len(texts) == 12
        counts = [len(e.ids) for e in tok.encode_batch(texts)]
        assert max(abs(c - n) for c in counts) <= 2, counts


def test_bench_fp32_copy_loads_and_differs_from_int8(tiny_model_dir: Path) -> None:
    from triage.models.runtime import ScoringModel

    with common.fp32_model_dir(tiny_model_dir) as fp32_dir:
        fp32 = ScoringModel(fp32_dir, threads=1)
        assert (fp32_dir / "model.onnx").read_bytes() == (
            tiny_model_dir / "model-fp32.onnx").read_bytes()
        assert (fp32_dir / "model.onnx").stat().st_size > (
            tiny_model_dir / "model.onnx").stat().st_size
        assert fp32.predict_proba(["my card was charged twice"]).shape == (1, 3)


@pytest.mark.parametrize("stdout", [
    json.dumps({"key": "trg_abc", "id": 1, "role": "agent"}) + "\n",
    "created a key for bench\n" + json.dumps({"api_key": "trg_abc"}) + "\n",
    "trg_abc\n",
])
def test_bench_http_parses_the_created_key(stdout: str) -> None:
    from bench.http_load import parse_key

    assert parse_key(stdout) == "trg_abc"


def test_bench_retrain_split_is_fixed_and_disjoint() -> None:
    from bench.retrain import split_rows, subsample

    rows = [{"id": f"a{i}", "source": "airline", "text": f"t{i}", "frustration": i % 2}
            for i in range(200)] + [{"id": "b1", "source": "other", "text": "x"}]
    train, test = split_rows(rows, "airline")
    again, _ = split_rows(list(reversed(rows)), "airline")
    assert (len(train), len(test)) == (160, 40)
    assert [r["id"] for r in train] == [r["id"] for r in again]
    assert not {r["id"] for r in train} & {r["id"] for r in test}
    small = subsample(train, ("frustration",), 50)
    assert len(small) == 50 and len({r["id"] for r in small}) == 50


def test_bench_peak_rss_sees_a_child_process() -> None:
    import subprocess
    import sys

    code = "b = bytearray(80 * 2**20); import time; time.sleep(1.0)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    rss = common.PeakRSS(proc.pid, interval=0.05)
    proc.wait()
    memory = rss.stop()
    assert memory["max_process_hwm_mib"] >= 80


def test_bench_aggregation_combines_each_text_from_its_own_windows() -> None:
    """Six aggregations over per-window scores: the first window is the text's first, the
    top two is the mean of its two highest, and a one-window text scores the same every way
    (the runtime's own mean and maximum are checked in tests/test_runtime.py)."""
    import numpy as np

    from bench.aggregation import combine

    probs = np.array([[0.1, 0.9], [0.7, 0.2], [0.4, 0.5], [0.3, 0.3]], dtype=np.float32)
    owners = np.array([0, 0, 0, 1])
    got = combine(probs, owners, 2)
    np.testing.assert_allclose(got["max"][0], [0.7, 0.9])
    np.testing.assert_allclose(got["first"][0], [0.1, 0.9])
    np.testing.assert_allclose(got["mean"][0], [0.4, 1.6 / 3], rtol=1e-6)
    np.testing.assert_allclose(got["top2"][0], [0.55, 0.7], rtol=1e-6)
    np.testing.assert_allclose(got["first+max"][0], [0.4, 0.9], rtol=1e-6)
    np.testing.assert_allclose(got["max(first,top2)"][0], [0.55, 0.9], rtol=1e-6)
    for scores in got.values():
        np.testing.assert_allclose(scores[1], [0.3, 0.3])


def test_bench_dialect_forms_takes_the_held_out_kind_apart() -> None:
    """Each form alone and all together; a scorer that reacts to one form is caught there."""
    import numpy as np

    from bench.dialect_forms import form_moves

    def score(texts: list[str]) -> np.ndarray:
        return np.array([[0.9 if " ye " in f" {t} " else 0.2, 0.1] for t in texts])

    texts = ["thank you for the card", "it's very slow", "nothing to change here"]
    out = form_moves(texts, score, ["frustration", "urgency"])
    assert out["ye"] == {"changed": 1, "over": 1, "max": 0.7,
                         "mean_shift": {"frustration": 0.7, "urgency": 0.0}}
    assert out["wicked"]["changed"] == 1 and out["wicked"]["over"] == 0
    assert out["dosh"] == {"changed": 0, "over": 0, "max": 0.0}
    assert out["all"]["changed"] == 2 and out["all"]["over"] == 1


def test_bench_int8_fidelity_variants_differ_only_in_weight_range(tiny_model_dir: Path,
                                                                  tmp_path: Path) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, numpy_helper

    from bench.int8_fidelity import variant
    from triage.models.runtime import ScoringModel

    def widest(path: Path) -> int:
        return max(int(np.abs(numpy_helper.to_array(t).astype(np.int16)).max())
                   for t in onnx.load(str(path / "model.onnx")).graph.initializer
                   if t.data_type == TensorProto.INT8)

    seven = variant(tiny_model_dir, tmp_path / "seven", "per-token")
    eight = variant(tiny_model_dir, tmp_path / "eight", "per-token-8bit")
    assert widest(seven) <= 64 < widest(eight)
    texts = ["my card was charged twice", "thanks, all sorted now"]
    a, b = (ScoringModel(p, threads=1).predict_proba(texts) for p in (seven, eight))
    assert a.shape == b.shape == (2, 3)
    assert np.abs(a - b).max() < 0.2  # the same weights, quantized a bit more coarsely


def test_bench_second_person_probe_measures_the_you_gap() -> None:
    """A scorer that reads "You" as blame shows a gap; one that reads the verb shows none."""
    import numpy as np

    from bench.second_person import CALM, COMPLAINTS, probe

    def blames_you(texts: list[str]) -> np.ndarray:
        return np.array([[0.9 if t.startswith("You") else 0.1] for t in texts])

    def reads_verbs(texts: list[str]) -> np.ndarray:
        return np.array([[0.9 if ("charged" in t or "lost" in t) else 0.1] for t in texts])

    biased = probe(blames_you)
    assert biased["calm"]["You"] == 0.9 and biased["you_gap"] == pytest.approx(0.8)
    fair = probe(reads_verbs)
    assert fair["you_gap"] == 0.0 and fair["complaints_you"] == 0.9
    assert len(CALM) == 10 and len(COMPLAINTS) == 2


def test_bench_teacher_length_reads_each_bucket_on_its_own_rows() -> None:
    """A teacher right on short rows and backwards on long ones reads 1.0 and 0.0; rows
    without a label are left out, and a bucket of one class has no AUROC."""
    import numpy as np

    from bench.teacher_length import by_length

    tokens = np.array([10, 20, 30, 40, 200, 300, 400, 500, 100, 110])
    labels = np.array([[0, 1], [1, 1], [0, np.nan], [1, 1], [0, 0], [1, 0], [0, 0], [1, 0],
                       [np.nan, 0], [1, 0]], dtype=np.float32)
    soft = np.array([[0.1, 0.5], [0.9, 0.5], [0.2, 0.5], [0.8, 0.5], [0.9, 0.5], [0.1, 0.5],
                     [0.8, 0.5], [0.2, 0.5], [0.5, 0.5], [0.5, 0.5]], dtype=np.float32)
    out = by_length(labels, soft, tokens, ("frustration", "urgency"))
    assert out["frustration"]["<=64"] == {"rows": 4, "positive": 0.5, "auroc": 1.0}
    assert out["frustration"][">128"]["auroc"] == 0.0
    assert out["frustration"]["65-128"] == {"rows": 1, "positive": 1.0, "auroc": None}
    assert out["urgency"]["<=64"]["rows"] == 3 and out["urgency"]["<=64"]["auroc"] is None


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_bench_scoring_callers_score_like_the_model_in_input_order(
        tiny_model_dir: Path, threads: int) -> None:
    """`int8 NxT1` hands each caller one contiguous share (as `triage score` hands each
    worker a chunk) and puts the shares back in input order: its scores are the model's."""
    import numpy as np

    from bench.scoring import Callers
    from triage.models.runtime import ScoringModel

    texts = [("where is my refund " * (1 + i % 7)).strip() + f" #{i}" for i in range(11)]
    callers = Callers(tiny_model_dir, threads)
    try:
        got = callers.predict_proba(texts)
    finally:
        callers.pool.shutdown()
    want = ScoringModel(tiny_model_dir, threads=1, batch_size=32).predict_proba(texts)
    assert got.shape == want.shape == (11, want.shape[1])
    assert np.array_equal(got, want)
