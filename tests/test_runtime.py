"""The ONNX runtime: shapes, calibration, long messages, explanations, broken model dirs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from triage.errors import InputError, ManifestError, ModelError, TextTooLong
from triage.models.explain import phrases
from triage.models.manifest import write_manifest
from triage.models.runtime import ScoringModel
from triage.scoring import Scorer


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> ScoringModel:
    return ScoringModel(tiny_model_dir, threads=1, batch_size=4)


def test_runtime_predict_proba_shapes(model: ScoringModel) -> None:
    one = model.predict_proba("my card was stolen")
    many = model.predict_proba(["my card was stolen", "thanks a lot", "cancel my plan now"])
    assert one.shape == (3,)
    assert many.shape == (3, 3)
    assert np.all((many > 0) & (many < 1))
    np.testing.assert_allclose(one, many[0], atol=1e-5)


def test_runtime_int8_scores_do_not_depend_on_batch_company(tiny_model_dir: Path) -> None:
    model = ScoringModel(tiny_model_dir, threads=1, batch_size=32)
    assert not model.one_per_call and model.batch_size == 32  # per-token int8 batches
    texts = [f"message number {i} " + "word " * (i * 7 % 50) for i in range(23)]
    together = model.predict_proba(texts)
    alone = np.stack([model.predict_proba(t) for t in texts])
    reversed_ = model.predict_proba(texts[::-1])[::-1]
    # the test model's mean pooling (ReduceSum) rounds differently by batch shape, by 1e-7
    # at most; its quantized layer, like the real encoder's, is exact (tests/test_quantize.py)
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)
    np.testing.assert_allclose(together, reversed_, rtol=0, atol=1e-6)


def test_runtime_runs_an_old_per_call_int8_model_one_window_per_call(
        tiny_model_dir: Path, tmp_path: Path) -> None:
    """A model built before per-token quantization (one activation scale per call) is run one
    window per call, so its scores cannot depend on batch company either."""
    import json
    import shutil

    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    raw = json.loads((old / "manifest.json").read_text())
    raw["onnx"]["quantization"] = "int8-dynamic-per-channel"
    write_manifest(old, raw)
    model = ScoringModel(old, threads=1, batch_size=32)
    assert model.one_per_call and model.batch_size == 1


def test_runtime_long_message_is_chunked_and_maxed(model: ScoringModel) -> None:
    sentence = "the weather was grey and the train was on time. "
    long_text = sentence * 120
    windows, _owners = model.encode([long_text])  # prepared (spelling, masks), then cut
    assert 1 < len(windows) <= model.manifest.max_chunks
    assert all(len(w.ids) <= model.manifest.max_length for w in windows)
    per_window = model._run(windows)
    calibrated = 1 / (1 + np.exp(-(per_window * model._cal_a + model._cal_b)))
    np.testing.assert_allclose(model.predict_proba(long_text), calibrated.max(0), atol=1e-5)


@pytest.mark.parametrize("strategy", ["chunk-and-mean", "chunk-and-max"])
def test_runtime_long_message_windows_combine_as_the_manifest_says(
        tiny_model_dir: Path, tmp_path: Path, strategy: str) -> None:
    """A long message gets the mean (or maximum) of its windows' calibrated probabilities;
    short messages scored beside it are untouched, and the uncalibrated score of a
    mean-strategy model is the mean of its windows' logits."""
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    raw = json.loads((model_dir / "manifest.json").read_text())
    raw["long_text"]["strategy"] = strategy
    write_manifest(model_dir, raw)
    model = ScoringModel(model_dir, threads=1)
    assert model.strategy == strategy
    long_text = ("my order never came and nobody answers. " * 40
                 + "the weather was grey and the train was on time. " * 80)
    texts = ["refund please", long_text, "thanks, all sorted"]
    windows, owners = model.encode(texts)
    assert (owners == 1).sum() > 2
    probs, same_owners = model.window_scores((windows, owners), calibrated=True)
    np.testing.assert_array_equal(owners, same_owners)
    mine = probs[owners == 1]
    combine = np.mean if strategy == "chunk-and-mean" else np.max
    got = model.predict_proba(texts)
    np.testing.assert_allclose(got[1], combine(mine, axis=0), atol=1e-6)
    np.testing.assert_allclose(got[[0, 2]], model.predict_proba(["refund please",
                                                                 "thanks, all sorted"]))
    assert not np.allclose(np.mean(mine, axis=0), np.max(mine, axis=0))  # the test can fail
    logits, _ = model.window_scores((windows, owners), calibrated=False)
    np.testing.assert_allclose(model.predict_logits(texts)[1],
                               combine(logits[owners == 1], axis=0), atol=1e-5)


def test_runtime_refuses_a_window_strategy_it_does_not_know(tiny_model_dir: Path,
                                                             tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    raw = json.loads((model_dir / "manifest.json").read_text())
    raw["long_text"]["strategy"] = "chunk-and-vote"
    write_manifest(model_dir, raw)
    with pytest.raises(ManifestError, match="chunk-and-vote"):
        ScoringModel(model_dir, threads=1)


def test_runtime_calibration_is_applied(tiny_model_dir: Path, model: ScoringModel) -> None:
    cal = json.loads((tiny_model_dir / "manifest.json").read_text())["calibration"]
    logits = model.predict_logits(["refund please"])[0]
    expected = [1 / (1 + np.exp(-(cal[h]["a"] * logits[j] + cal[h]["b"])))
                for j, h in enumerate(model.heads)]
    np.testing.assert_allclose(model.predict_proba("refund please"), expected, atol=1e-5)


def test_runtime_empty_list(model: ScoringModel) -> None:
    assert model.predict_proba([]).shape == (0, 3)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: (d / "model.onnx").unlink(), "model.onnx is missing"),
    (lambda d: (d / "manifest.json").write_text("{not json"), "not valid JSON"),
    (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
    (lambda d: (d / "tokenizer.json").write_text("{}"), "does not match the hash"),
])
def test_runtime_broken_model_dir_says_what_to_do(tiny_model_dir: Path, tmp_path: Path,
                                                  damage, message: str) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    damage(copy)
    with pytest.raises(ManifestError, match=message):
        ScoringModel(copy)


def test_runtime_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        ScoringModel(tmp_path / "none")


def test_scorer_flags_unreadable_instead_of_scoring(tiny_scorer: Scorer) -> None:
    english, french, emoji = tiny_scorer.score(
        ["my bill doubled again", "Je voudrais annuler mon abonnement immédiatement", "🙂🙂"])
    assert english.scorable and english.scores is not None and set(english.scores) == {
        "frustration", "churn_risk", "urgency"}
    assert not french.scorable and french.scores is None and french.reason == "language:fr"
    assert not emoji.scorable and emoji.reason == "no_words"
    assert french.as_dict()["frustration"] is None


@pytest.mark.parametrize(("text", "error"), [("", InputError), ("   ", InputError),
                                             (42, InputError), ("x" * 20_001, TextTooLong)])
def test_scorer_rejects_bad_text(tiny_scorer: Scorer, text, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        tiny_scorer.score([text])


def test_scorer_explain_returns_phrases_of_the_text(tiny_scorer: Scorer) -> None:
    text = "I have called four times. Nobody answers. My card was stolen, block it now!"
    result = tiny_scorer.score_one(text, explain_top=2)
    assert result.explanation is not None
    for items in result.explanation.values():
        assert len(items) <= 2
        for item in items:
            assert item.text in text and item.weight > 0


def test_explain_phrases_split_clauses_and_long_runs() -> None:
    text = "First part, second part! " + " ".join(f"w{i}" for i in range(20))
    spans = [text[a:b] for a, b in phrases(text)]
    assert spans[0] == "First part," and spans[1] == "second part!"
    assert all(len(s.split()) <= 8 for s in spans)


def test_runtime_slots_bound_concurrent_inference_calls(tiny_model_dir: Path) -> None:
    """With `slots=1`, callers on many threads never run the session at the same time."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    model = ScoringModel(tiny_model_dir, threads=1, slots=1)
    inner = model.session
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    class Probe:
        def run(self, *args, **kw):  # type: ignore[no-untyped-def]
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            try:
                threading.Event().wait(0.002)  # hold the slot long enough to overlap
                return inner.run(*args, **kw)
            finally:
                with lock:
                    state["now"] -= 1

    model.session = Probe()  # type: ignore[assignment]
    texts = [f"message {i}, where is my refund" for i in range(24)]
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(model.predict_proba, texts))
    assert state["most"] == 1
    model.session = inner
    np.testing.assert_array_equal(np.stack(together), np.stack([model.predict_proba(t)
                                                                for t in texts]))
