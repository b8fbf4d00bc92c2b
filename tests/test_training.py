"""Training pipeline: masked loss, fixed splits, calibration, export parity, the model dir.

The data side (splits, calibration) runs without torch; tests that need torch skip with the
reason where the `train` extra is not installed, and tests that train are marked slow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLES, require_training
from training.calibrate import apply_platt, best_thresholds, fit_platt
from training.config import TrainConfig
from training.data import make_splits, split_of
from triage.records import Record

HEADS = ("frustration", "churn_risk", "urgency")


@pytest.fixture
def torch():  # type: ignore[no-untyped-def]
    """The torch module; the test skips, with the reason, where it is not installed."""
    require_training()
    import torch

    return torch


def test_training_masked_loss_ignores_missing_labels(torch) -> None:  # type: ignore[no-untyped-def]
    from training.train import masked_bce

    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    full = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    partial = torch.tensor([[1.0, float("nan"), float("nan")], [float("nan"), 1.0, 0.0]])
    present = ~torch.isnan(partial)
    per = torch.nn.functional.binary_cross_entropy_with_logits(logits, full, reduction="none")
    assert masked_bce(logits, partial).item() == pytest.approx(per[present].mean().item())
    assert masked_bce(logits, torch.full((2, 3), float("nan"))).item() == 0.0


def test_training_splits_are_fixed_by_id() -> None:
    rows = [Record(f"text {i}", {}, {"id": f"r{i}"}) for i in range(400)]
    before = {r.id: split_of(r, 0.15, 0.15) for r in rows}
    more = rows + [Record(f"new {i}", {}, {"id": f"n{i}"}) for i in range(100)]
    after = {r.id: split_of(r, 0.15, 0.15) for r in more}
    assert all(after[k] == v for k, v in before.items())
    share = sum(v == "heldout" for v in before.values()) / len(before)
    assert 0.08 < share < 0.22
    explicit = Record("x", {}, {"id": "r1", "split": "heldout"})
    assert split_of(explicit, 0.15, 0.15) == "heldout"


def test_training_splits_need_rows() -> None:
    from triage.errors import RecordError

    with pytest.raises(RecordError, match="split is empty"):
        make_splits([Record("only one", {"frustration": 1}, {"id": "a"})], 0.0, 0.0)


def test_training_platt_calibration_improves_ece() -> None:
    from triage.metrics import expected_calibration_error

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(4000, 3)).astype(float)
    logits = (y * 2 - 1) * 3.0 + rng.normal(0, 2.5, size=y.shape) + 2.0  # overconfident, biased
    params = fit_platt(logits, y, HEADS)
    raw = 1 / (1 + np.exp(-logits))
    calibrated = apply_platt(logits, params, HEADS)
    for j in range(3):
        assert expected_calibration_error(y[:, j], calibrated[:, j]) < 0.03
        assert expected_calibration_error(y[:, j], raw[:, j]) > 0.05
    thresholds = best_thresholds(calibrated, y, HEADS)
    assert all(0.05 <= t <= 0.95 for t in thresholds.values())


@pytest.mark.slow
def test_training_model_dir_is_complete(trained_model_dir: Path) -> None:
    manifest = json.loads((trained_model_dir / "manifest.json").read_text())
    for name in ("model.onnx", "model-fp32.onnx", "tokenizer.json", "report.md",
                 "hf/model.safetensors", "hf/config.json", "checkpoints/model-best/config.json",
                 "checkpoints/model-last/config.json"):
        assert (trained_model_dir / name).exists(), name
    for key in ("heads", "calibration", "thresholds", "max_length", "training", "metrics",
                "library_versions", "created_at", "parity", "version"):
        assert key in manifest
    assert len(manifest["training"]["data"]["sha256"]) == 64
    assert set(manifest["metrics"]["heldout"]) == {"frustration", "churn_risk", "urgency"}
    assert manifest["parity"]["max_gap_torch_vs_fp32"] < 1e-4


@pytest.mark.slow
def test_training_is_reproducible(tmp_path: Path, trained_model_dir: Path) -> None:
    from training import train

    config = TrainConfig(base_model="tiny", epochs=1, max_steps=12, batch_size=16, seed=7)
    again = train(config, SAMPLES, tmp_path / "again", log=lambda _: None)
    a = json.loads((trained_model_dir / "manifest.json").read_text())
    b = json.loads((again / "manifest.json").read_text())
    assert a["calibration"] == b["calibration"]
    assert a["metrics"] == b["metrics"]


@pytest.mark.slow
def test_training_real_minilm_exports_with_parity(tmp_path: Path) -> None:
    """Fine-tune the real MiniLM briefly; ONNX fp32 must match PyTorch, int8 stay close,
    and a stock transformers pipeline must load the saved checkpoint."""
    require_training()
    from transformers import pipeline

    from training import train
    from triage.models.runtime import ScoringModel

    data = tmp_path / "small.jsonl"
    rows = [json.loads(line) for f in sorted(SAMPLES.glob("*.jsonl"))
            for line in f.read_text().splitlines()[:80]]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    config = TrainConfig(epochs=1, max_steps=25, batch_size=16, seed=3)
    out = train(config, data, tmp_path / "m", log=lambda _: None)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parity"]["max_gap_torch_vs_fp32"] < 1e-4
    assert manifest["parity"]["max_gap_fp32_vs_int8"] < 0.1
    texts = ["My card was stolen, block it", "thanks, all good", "cancel my account"]
    clf = pipeline("text-classification", model=str(out / "hf"), top_k=None,
                   function_to_apply="sigmoid")
    hf = np.array([[d["score"] for d in sorted(r, key=lambda d: ["frustration", "churn_risk",
                                                                 "urgency"].index(d["label"]))]
                   for r in clf(texts)])
    fp32_dir = tmp_path / "fp32"
    fp32_dir.mkdir()
    for name in ("tokenizer.json", "manifest.json"):
        (fp32_dir / name).write_bytes((out / name).read_bytes())
    (fp32_dir / "model.onnx").write_bytes((out / "model-fp32.onnx").read_bytes())
    onnx_logits = ScoringModel(fp32_dir, verify_hashes=False).predict_logits(texts)
    np.testing.assert_allclose(1 / (1 + np.exp(-onnx_logits)), hf, atol=1e-4)


def test_training_augment_rewrites_a_share_and_never_uses_parity_pools() -> None:
    import random

    from training.augment import FIRST, LAST, PLACES, augment
    from triage.parity import HELD_OUT_NAMES, NAMES
    from triage.parity import PLACES as PARITY_PLACES

    texts = [f"message {i} about card" for i in range(1000)]  # no word a dialect rewrite changes
    out = augment(texts, random.Random(0), 0.5)
    changed = sum(a != b for a, b in zip(texts, out, strict=True))
    assert 0.25 < changed / len(texts) < 0.55
    assert all(t in o for t, o in zip(texts, out, strict=True) if "message" in o)
    assert augment(texts, random.Random(0), 0.5) == out
    parity_words = {w for n in NAMES + HELD_OUT_NAMES for w in n.split()} | set(PARITY_PLACES)
    assert not parity_words & (set(FIRST) | set(LAST) | set(PLACES))


def test_training_dialect_rewrites_vary_and_never_teach_the_held_out_forms() -> None:
    """Many voices, one form per pattern per rewrite; the parity check's held-out dialect
    forms are never written, even into text full of the words they stand for."""
    import random

    from training.augment import with_dialect
    from triage.parity import DIALECT_HELD_OUT

    text = ("I think it's very slow and you took a lot of money from my little account. "
            "My friends and children are going to leave, because nothing works. Thanks!")
    rng = random.Random(3)
    outs = [with_dialect(text, rng) for _ in range(400)]
    assert len(set(outs)) > 350
    assert sum(o != text for o in outs) > 390
    words = [set(re.findall(r"[\w']+", o.lower())) for o in outs]
    for form in ("u", "ya", "gonna", "gunna", "heaps", "quid", "cash", "dead", "hella", "cuz"):
        assert any(form in w for w in words), form
    held_out = {r.lower() for _, r in DIALECT_HELD_OUT}
    for out in outs:
        for form in held_out:
            assert not re.search(rf"\b{re.escape(form)}\b", out, re.IGNORECASE), (form, out)


def test_training_consistency_loss_pulls_counterfactual_copies_together(torch) -> None:  # type: ignore[no-untyped-def]
    """The loss is the mean label loss of both copies plus the weighted probability gap."""
    import random

    from training.augment import counterfactual
    from training.train import consistency_loss, masked_bce
    from triage.textprep import prepare

    class Echo(torch.nn.Module):
        """Logit = 0.1 x the number of tokens: copies of different length differ."""

        def forward(self, input_ids, attention_mask):  # type: ignore[no-untyped-def]
            class Out:
                logits = (attention_mask.sum(dim=1, keepdim=True).float() * 0.1).repeat(1, 3)
            return Out()

    class Tok:
        def __call__(self, texts, **kw):  # type: ignore[no-untyped-def]
            width = max(len(t.split()) for t in texts)
            mask = torch.tensor([[1] * len(t.split()) + [0] * (width - len(t.split()))
                                 for t in texts])
            return {"input_ids": mask.clone(), "attention_mask": mask}

    texts = ["my card was charged twice", "please help"]
    labels = torch.tensor([[1.0, float("nan"), 0.0], [0.0, 0.0, float("nan")]])
    model, tok = Echo(), Tok()
    enc = tok(texts)
    logits = model(**enc).logits
    base = masked_bce(logits, labels)
    off = TrainConfig(consistency_weight=0.0)
    on = TrainConfig(consistency_weight=10.0)
    loss_off = consistency_loss(model, tok, texts, logits, labels, base, off, random.Random(1))
    loss_on = consistency_loss(model, tok, texts, logits, labels, base, on, random.Random(1))
    rng = random.Random(1)
    other = model(**tok([prepare(counterfactual(t, rng)) for t in texts])).logits
    gap = (torch.sigmoid(logits) - torch.sigmoid(other)).pow(2).mean()
    assert gap.item() > 0
    assert loss_off.item() == pytest.approx(0.5 * (base + masked_bce(other, labels)).item())
    assert loss_on.item() == pytest.approx(loss_off.item() + 10.0 * gap.item())


@pytest.mark.slow
def test_training_with_consistency_runs_end_to_end(tmp_path: Path) -> None:
    require_training()
    from training import train

    config = TrainConfig(base_model="tiny", epochs=1, max_steps=6, batch_size=16, seed=7,
                         consistency_weight=5.0)
    out = train(config, SAMPLES, tmp_path / "model", log=lambda _: None)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["config"]["consistency_weight"] == 5.0


def test_training_freeze_keeps_the_bottom_layers_and_skips_their_backward(torch) -> None:  # type: ignore[no-untyped-def]
    """freeze_layers=1 on the 2-layer test encoder: a step moves the top layer and the head,
    leaves the embeddings and the bottom layer bit for bit, and gives them no gradient."""
    from training.modeling import load_base
    from training.train import encoder_layers, make_optimizer
    from triage.errors import InputError

    torch.manual_seed(0)
    model, tok = load_base("tiny", HEADS)
    optimizer, _ = make_optimizer(model, TrainConfig(freeze_layers=1, warmup_fraction=0.0), 10)
    stack = encoder_layers(model)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    enc = tok(["my card was charged twice", "thanks, all sorted"], padding=True,
              return_tensors="pt")
    model.train()
    model(**enc).logits.sum().backward()
    optimizer.step()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert {n for n, _ in model.base_model.embeddings.named_parameters(prefix="bert.embeddings")
            } <= frozen
    assert {f"bert.encoder.layer.0.{n}" for n, _ in stack[0].named_parameters()} <= frozen
    for name, param in model.named_parameters():
        if name in frozen:
            assert param.grad is None and torch.equal(param, before[name]), name
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert any(n.startswith("bert.encoder.layer.1.") for n in moved)
    assert any(n.startswith("classifier") for n in moved)

    fresh, _ = load_base("tiny", HEADS)
    make_optimizer(fresh, TrainConfig(), 10)  # default: only the word embeddings
    assert [n for n, p in fresh.named_parameters() if not p.requires_grad] == [
        "bert.embeddings.word_embeddings.weight"]
    with pytest.raises(InputError, match="all 2 layers"):
        make_optimizer(load_base("tiny", HEADS)[0], TrainConfig(freeze_layers=2), 10)
