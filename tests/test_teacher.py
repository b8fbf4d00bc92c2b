"""Distillation from a stronger encoder (training/teacher.py): the split zip is joined, the
soft labels are out of fold and reproducible, stale rows are not distilled, and the loss
blends labels and the teacher as documented."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require_training
from training.teacher import join_pieces, load_soft_labels, out_of_fold, text_sha1
from triage.errors import ModelError
from triage.records import Record

HEADS = ("frustration", "churn_risk", "urgency")


def test_teacher_joins_a_zip_split_into_pieces(tmp_path: Path) -> None:
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("enc/config.json", '{"model_type": "mpnet"}')
        z.writestr("enc/tokenizer.json", "{}")
        z.writestr("enc/weights.bin", bytes(range(256)) * 400)
    data = archive.read_bytes()
    cut = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
    pieces = []
    for i in range(3):
        piece = tmp_path / f"model.zip.00{i + 1}"
        piece.write_bytes(data[cut[i]:cut[i + 1]])
        pieces.append(piece)
    out = join_pieces(pieces, tmp_path / "cache" / "enc")
    assert json.loads((out / "config.json").read_text()) == {"model_type": "mpnet"}
    assert (out / "weights.bin").read_bytes() == bytes(range(256)) * 400
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["enc"]  # no work left behind
    with pytest.raises(zipfile.BadZipFile):  # pieces out of order do not make a zip
        join_pieces(pieces[::-1], tmp_path / "cache2" / "enc")


def test_teacher_refuses_a_zip_without_a_model_folder(tmp_path: Path) -> None:
    archive = tmp_path / "x.zip.001"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "nothing here")
    with pytest.raises(ModelError, match="no model folder"):
        join_pieces([archive], tmp_path / "enc")


def test_teacher_soft_labels_are_out_of_fold() -> None:
    """A row's soft label comes from a fit that never saw it: flipping that row's own label
    leaves its probability unchanged, while it moves when the row is in the fitted folds."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(np.float32)
    labels = np.stack([y, y, np.where(np.arange(200) % 4 == 0, np.nan, y)], axis=1)
    fold = np.arange(200) % 5
    probs, chosen = out_of_fold(x, labels, fold, HEADS, log=lambda _: None)
    assert np.isnan(probs[::4, 2]).all() and not np.isnan(probs[1::4, 2]).any()
    assert chosen["frustration"]["oof_auroc"] > 0.9
    flipped = labels.copy()
    flipped[7, :] = 1 - flipped[7, :]
    again, _ = out_of_fold(x, flipped, fold, HEADS, log=lambda _: None)
    assert again[7, 0] == pytest.approx(probs[7, 0], abs=1e-9)
    others = [i for i in range(200) if fold[i] != fold[7]]
    assert np.abs(again[others, 0] - probs[others, 0]).max() > 1e-6


def test_teacher_file_matches_rows_by_id_and_text(tmp_path: Path) -> None:
    path = tmp_path / "soft.jsonl"
    rows = [{"id": "a", "sha1": text_sha1("refund me now"), "frustration": 0.9,
             "churn_risk": None, "urgency": 0.2},
            {"id": "b", "sha1": text_sha1("old text"), "frustration": 0.1,
             "churn_risk": 0.1, "urgency": 0.1}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    records = [Record("refund me now", {}, {"id": "a"}), Record("new text", {}, {"id": "b"}),
               Record("unknown", {}, {"id": "c"})]
    soft, missing = load_soft_labels(path, records, HEADS)
    assert missing == 2
    assert soft[0, 0] == pytest.approx(0.9) and np.isnan(soft[0, 1])
    assert np.isnan(soft[1:]).all()


def test_teacher_loss_blends_labels_and_teacher() -> None:
    require_training()
    import torch

    from training.train import label_loss, masked_bce

    logits = torch.tensor([[1.0, -2.0, 0.3], [0.5, 0.0, -1.0]])
    labels = torch.tensor([[1.0, 0.0, float("nan")], [0.0, 1.0, 1.0]])
    soft = torch.tensor([[0.8, 0.1, 0.6], [float("nan")] * 3])
    hard = masked_bce(logits, labels)
    assert label_loss(logits, labels, None, 0.5).item() == pytest.approx(hard.item())
    assert label_loss(logits, labels, torch.full((2, 3), float("nan")), 0.5).item() == \
        pytest.approx(hard.item())
    blended = label_loss(logits, labels, soft, 0.25).item()
    assert blended == pytest.approx(0.75 * hard.item() + 0.25 * masked_bce(logits, soft).item())
    # the teacher's part is lowest where the model agrees with the teacher
    near = torch.logit(torch.tensor([[0.8, 0.1, 0.6], [0.5, 0.5, 0.5]]))
    assert masked_bce(near, soft).item() < masked_bce(logits, soft).item()


def _tiny_encoder(path: Path) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertModel

    from training.modeling import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    import torch

    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32)
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _labelled(path: Path, n: int = 120) -> Path:
    words = ["refund", "broken", "thanks", "cancel", "today", "waiting", "love", "charged"]
    rows = []
    for i in range(n):
        text = f"{words[i % 8]} {words[(i * 3) % 8]} message number {i}"
        rows.append({"id": f"r{i}", "text": text, "frustration": int(i % 8 in (0, 1, 7)),
                     "churn_risk": int(i % 8 == 3), "urgency": None if i % 5 == 0 else
                     int(i % 8 in (4, 5))})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_teacher_file_is_reproducible_and_covers_the_training_split(tmp_path: Path) -> None:
    require_training()
    from training.config import TrainConfig
    from training.data import load_rows, split_of
    from training.teacher import make_teacher

    encoder = _tiny_encoder(tmp_path / "enc")
    data = _labelled(tmp_path / "rows.jsonl")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    summary = make_teacher(data, first, model_dir=encoder, folds=3, log=lambda _: None)
    make_teacher(data, second, model_dir=encoder, folds=3, log=lambda _: None)
    assert first.read_text() == second.read_text()
    rows = [json.loads(line) for line in first.read_text().splitlines()]
    c = TrainConfig()
    train_ids = {r.id for r in load_rows(data) if split_of(r, c.val_fraction,
                                                           c.heldout_fraction) == "train"}
    assert {r["id"] for r in rows} == train_ids and summary["rows"] == len(train_ids)
    assert all(0 <= r["frustration"] <= 1 for r in rows)
    assert all((r["urgency"] is None) == (int(r["id"][1:]) % 5 == 0) for r in rows)


@pytest.mark.slow
def test_teacher_distillation_runs_end_to_end(tmp_path: Path) -> None:
    require_training()
    from tests.conftest import SAMPLES
    from training import TrainConfig, train
    from training.data import load_rows

    soft = tmp_path / "soft.jsonl"
    records = load_rows(SAMPLES)[:500]
    soft.write_text("".join(json.dumps({"id": r.id, "sha1": text_sha1(r.text),
                                        "frustration": 0.5, "churn_risk": 0.5,
                                        "urgency": 0.5}) + "\n" for r in records))
    config = TrainConfig(base_model="tiny", epochs=1, max_steps=6, batch_size=16, seed=7,
                         heads=HEADS, teacher=str(soft), distill_weight=0.3)
    lines: list[str] = []
    out = train(config, SAMPLES, tmp_path / "model", log=lines.append)
    teacher = json.loads((out / "manifest.json").read_text())["training"]["teacher"]
    assert 0 < teacher["covered_rows"] <= 500 and teacher["distill_weight"] == 0.3
    assert any("soft labels for" in line for line in lines)


def test_teacher_cache_embeds_only_new_rows(tmp_path: Path) -> None:
    require_training()
    from training.teacher import embed, embed_cached

    encoder = _tiny_encoder(tmp_path / "enc")
    cache = tmp_path / "cache.npz"
    texts = ["my refund never came", "thanks for the help", "cancel my plan please"]
    lines: list[str] = []
    first = embed_cached(texts[:2], encoder, 64, cache, lines.append)
    again = embed_cached(texts, encoder, 64, cache, lines.append)
    assert [line for line in lines if "embedding" in line] == [
        "teacher: embedding 2 of 2 rows with enc", "teacher: embedding 1 of 3 rows with enc"]
    assert np.allclose(again[:2], first, atol=1e-6)
    assert np.allclose(again, embed(texts, encoder, max_length=64, log=lambda _: None),
                       atol=1e-5)
    lines.clear()
    embed_cached(texts[::-1], encoder, 64, cache, lines.append)
    assert not [line for line in lines if "embedding" in line]
    # keyed by what the encoder reads: "pls" is read as "please", so nothing new to embed
    embed_cached(["cancel my plan pls"], encoder, 64, cache, lines.append)
    assert not [line for line in lines if "embedding" in line]


def test_teacher_the_default_build_distils_from_the_file_beside_the_samples(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_training()
    import training
    from triage.models.default import build_default, default_teacher

    seen: list[object] = []

    def fake_train(config, data, out, log):  # type: ignore[no-untyped-def]
        seen.append(config.teacher)
        (out / "manifest.json").write_text("{}")
        return out

    monkeypatch.setattr(training, "train", fake_train)
    samples = tmp_path / "data" / "samples"
    samples.mkdir(parents=True)
    assert default_teacher(samples) is None
    build_default(samples, tmp_path / "m1", log=lambda _: None)
    soft = tmp_path / "data" / "teacher" / "mpnet.jsonl"
    soft.parent.mkdir()
    soft.write_text("")
    build_default(samples, tmp_path / "m2", log=lambda _: None)
    build_default(samples, tmp_path / "m3", log=lambda _: None, overrides={"teacher": None})
    assert seen == [None, str(soft), None]
    shipped = Path(__file__).resolve().parents[1] / "data"
    assert default_teacher(shipped / "samples") == shipped / "teacher" / "mpnet.jsonl"


def test_teacher_file_shipped_covers_every_training_row_of_the_samples() -> None:
    """The committed soft labels match the samples as they are: a new or edited training
    row without one means `python -m training.teacher data/samples` is due."""
    from training.config import TrainConfig
    from training.data import load_rows, split_of

    root = Path(__file__).resolve().parents[1] / "data"
    c = TrainConfig()
    records = [r for r in load_rows(root / "samples", heads=HEADS)
               if split_of(r, c.val_fraction, c.heldout_fraction) == "train"]
    soft, missing = load_soft_labels(root / "teacher" / "mpnet.jsonl", records, HEADS)
    assert missing == 0, f"{missing} training rows have no soft label: rerun the teacher"
    assert not np.isnan(soft[:, 0]).any()
    assert ((soft >= 0) & (soft <= 1) | np.isnan(soft)).all()
    summary = json.loads((root / "teacher" / "mpnet.summary.json").read_text())
    assert summary["rows"] == len(records) and summary["encoder"] == "all-mpnet-base-v2"


def test_teacher_missing_file_is_an_input_error(tmp_path: Path) -> None:
    require_training()
    from training.config import TrainConfig
    from training.data import Split
    from training.train import attach_teacher
    from triage.errors import InputError

    split = Split(["x"], np.zeros((1, 3), dtype=np.float32), [Record("x", {}, {"id": "a"})],
                  HEADS)
    assert attach_teacher(TrainConfig(), split, print) is None and split.soft is None
    with pytest.raises(InputError, match="training.teacher"):
        attach_teacher(TrainConfig(teacher=str(tmp_path / "none.jsonl")), split, print)
