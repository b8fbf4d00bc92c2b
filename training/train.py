"""`train(config, data, output_dir)`: fine-tune, calibrate, export and report.

Steps: find the heads (every label column of the data, or the ones asked for); load and
split the labelled rows; optionally a SetFit-style contrastive stage on the
encoder; fine-tune encoder + head end to end with a loss masked where a label is missing;
validate each epoch and keep `model-best` and `model-last` (saved even on Ctrl-C); calibrate
on the validation split; export to ONNX (fp32 and int8) with a parity check; write the
manifest and a report comparing with the current model.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from training.augment import augment, counterfactual
from training.calibrate import apply_platt, best_thresholds, fit_platt
from training.config import TrainConfig
from training.contrastive import contrastive_stage
from training.data import (
    Split,
    check_descriptions,
    choose_heads,
    data_hash,
    load_rows,
    make_splits,
)
from training.export import export_model
from training.modeling import load_base
from triage.errors import InputError
from triage.heads import describe
from triage.metrics import head_metrics
from triage.models.manifest import LONG_TEXT_STRATEGIES
from triage.records import ReadReport
from triage.textprep import prepare

Log = Callable[[str], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def batches(split: Split, tokenizer: PreTrainedTokenizerBase, size: int, max_length: int,
            *, shuffle: bool, rng: random.Random | None = None):  # type: ignore[no-untyped-def]
    """Tokenized mini-batches with dynamic padding; labels NaN where missing; the
    teacher's probabilities for the same rows (NaN where it has none), or None.

    When shuffling, rows are shuffled, then sorted by length inside pools of 50 batches and
    the batches shuffled again: little padding, yet every epoch sees a new order.
    """
    order = list(range(len(split.texts)))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle and rng is not None:
        rng.shuffle(order)
        pool = size * 50
        groups = []
        for start in range(0, len(order), pool):
            chunk = sorted(order[start:start + pool], key=lambda i: len(split.texts[i]))
            groups.extend(chunk[i:i + size] for i in range(0, len(chunk), size))
        rng.shuffle(groups)
    for idx in groups:
        texts = [split.texts[i] for i in idx]
        enc = tokenizer([prepare(t) for t in texts], padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt")
        soft = None if split.soft is None else torch.from_numpy(split.soft[idx])
        yield (enc["input_ids"], enc["attention_mask"], torch.from_numpy(split.labels[idx]),
               soft, texts)


def masked_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy averaged over the labels that are present."""
    present = ~torch.isnan(labels)
    if not present.any():
        return logits.sum() * 0.0
    target = torch.nan_to_num(labels, nan=0.0)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (loss * present).sum() / present.sum()


def label_loss(logits: torch.Tensor, labels: torch.Tensor, soft: torch.Tensor | None,
               distill_weight: float) -> torch.Tensor:
    """The hard-label loss, blended with the teacher's where soft labels are given: each
    part averaged over the labels it has (a batch without soft labels is all hard)."""
    hard = masked_bce(logits, labels)
    if soft is None or distill_weight <= 0 or bool(torch.isnan(soft).all()):
        return hard
    return (1.0 - distill_weight) * hard + distill_weight * masked_bce(logits, soft)


def consistency_loss(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                     texts: list[str], logits: torch.Tensor, labels: torch.Tensor,
                     loss: torch.Tensor, config: TrainConfig,
                     rng: random.Random) -> torch.Tensor:
    """The batch's loss with counterfactual copies: mean label loss of both copies plus
    `consistency_weight` x the mean squared gap between their probabilities."""
    enc = tokenizer([prepare(counterfactual(t, rng)) for t in texts], padding=True,
                    truncation=True, max_length=config.max_length, return_tensors="pt")
    other = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
    gap = (torch.sigmoid(logits) - torch.sigmoid(other)).pow(2).mean()
    return 0.5 * (loss + masked_bce(other, labels)) + config.consistency_weight * gap


@torch.no_grad()
def predict_logits(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str],
                   max_length: int, size: int = 64) -> np.ndarray:
    """Logits for `texts` as served (prepared text; first window only: rows are short)."""
    model.eval()
    texts = [prepare(t) for t in texts]
    out = []
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), size):
        idx = order[start:start + size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt")
        out.append((idx, model(**enc).logits.float().numpy()))
    result = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    for idx, logits in out:
        result[idx] = logits
    return result


def evaluate(probs: np.ndarray, labels: np.ndarray, heads: Sequence[str],
             thresholds: dict[str, float] | None = None) -> dict[str, dict]:
    """Per-head metrics dictionary (column `j` is head `heads[j]`)."""
    th = thresholds or {}
    return {h: head_metrics(labels[:, j], probs[:, j], th.get(h, 0.5)).as_dict()
            for j, h in enumerate(heads)}


def mean_auroc(metrics: dict[str, dict]) -> float:
    values = [m["auroc"] for m in metrics.values() if m["auroc"] is not None]
    return float(np.mean(values)) if values else 0.0


def encoder_layers(model: PreTrainedModel) -> torch.nn.ModuleList:
    """The stack of transformer layers of a BERT-like model (BERT, MiniLM, MPNet,
    DistilBERT), bottom first."""
    base = model.base_model
    for path in ("encoder.layer", "transformer.layer", "layers"):
        node = base
        for part in path.split("."):
            node = getattr(node, part, None)
        if isinstance(node, torch.nn.ModuleList):
            return node
    raise InputError(f"cannot find the transformer layers of {type(model).__name__} to freeze; "
                     "train it with freeze_layers=0")


def freeze(model: PreTrainedModel, layers: int) -> None:
    """Word embeddings always stay frozen (11.7M of MiniLM's 22.7M parameters: freezing them
    keeps the vocabulary the base model learned on far more text than ours, and halves the
    optimiser's work on 2 cores). With `layers` > 0 the whole embedding block and the bottom
    `layers` transformer layers are frozen too: no gradient flows below the first trainable
    layer, so a step skips that part of the backward pass (2 of MiniLM's 6: 30 % less time
    per step)."""
    model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    if layers <= 0:
        return
    stack = encoder_layers(model)
    if layers >= len(stack):
        raise InputError(f"freeze_layers={layers} would freeze all {len(stack)} layers; "
                         f"at most {len(stack) - 1}")
    for module in (model.base_model.embeddings, *stack[:layers]):
        for param in module.parameters():
            param.requires_grad_(False)


def make_optimizer(model: PreTrainedModel, config: TrainConfig, steps: int):  # type: ignore[no-untyped-def]
    """AdamW with a faster learning rate for the new head, over the parameters `freeze`
    leaves trainable."""
    freeze(model, config.freeze_layers)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    head = [p for n, p in trainable if n.startswith("classifier")]
    body = [p for n, p in trainable if not n.startswith("classifier")]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": config.learning_rate},
         {"params": head, "lr": config.head_learning_rate}],
        weight_decay=config.weight_decay,
    )
    warmup = int(steps * config.warmup_fraction)
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, steps)


def fit(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, splits: dict[str, Split],
        config: TrainConfig, out: Path, log: Log) -> tuple[list[dict], np.ndarray]:
    """The fine-tuning loop; writes `model-best/` and `model-last/` under `out/checkpoints`.
    Returns the per-epoch history and the best checkpoint's validation logits (what
    calibration needs, so they are not computed twice)."""
    rng = random.Random(config.seed)
    per_epoch = math.ceil(len(splits["train"].texts) / config.batch_size)
    total = per_epoch * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    optimizer, scheduler = make_optimizer(model, config, max(total, 1))
    history: list[dict] = []
    best = -1.0
    best_logits = np.zeros((0, len(splits["val"].heads)), dtype=np.float32)
    step = 0
    started = said = time.time()
    try:
        with tqdm(total=total, desc="fine-tune", unit="step", disable=None) as bar:
            for epoch in range(1, config.epochs + 1):
                model.train()
                losses = []
                train = splits["train"]
                if config.augment_share:
                    train = Split(augment(train.texts, rng, config.augment_share),
                                  train.labels, train.records, train.heads, train.soft)
                for ids, mask, labels, soft, texts in batches(
                        train, tokenizer, config.batch_size, config.max_length, shuffle=True,
                        rng=rng):
                    logits = model(input_ids=ids, attention_mask=mask).logits
                    loss = label_loss(logits, labels, soft, config.distill_weight)
                    if config.consistency_weight:
                        loss = consistency_loss(model, tokenizer, texts, logits, labels, loss,
                                                config, rng)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
                    losses.append(loss.item())
                    step += 1
                    bar.update(1)
                    bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
                    if bar.disable and (step % 50 == 0 or time.time() - said >= 10):
                        said = time.time()  # a line at least every 10 s on slow machines
                        elapsed = said - started
                        log(f"step {step}/{total}, loss {np.mean(losses[-50:]):.4f}, "
                            f"{elapsed:.0f}s, ETA {elapsed / step * (total - step):.0f}s")
                    if step >= total:
                        break
                val_logits = predict_logits(model, tokenizer, splits["val"].texts,
                                            config.max_length)
                metrics = evaluate(1 / (1 + np.exp(-val_logits)), splits["val"].labels,
                                   splits["val"].heads)
                score = mean_auroc(metrics)
                history.append({"epoch": epoch, "step": step, "train_loss": float(np.mean(losses)),
                                "val_mean_auroc": score,
                                "val_auroc": {h: m["auroc"] for h, m in metrics.items()}})
                log(f"epoch {epoch}: train loss {np.mean(losses):.4f}, val AUROC "
                    + ", ".join(f"{h} {m['auroc'] or float('nan'):.3f}" for h, m in metrics.items()))
                if score > best:
                    best, best_logits = score, val_logits
                    save_checkpoint(model, tokenizer, out / "checkpoints" / "model-best")
                if step >= total:
                    break
    finally:
        save_checkpoint(model, tokenizer, out / "checkpoints" / "model-last")
        (out / "checkpoints" / "history.json").write_text(json.dumps(history, indent=2))
    return history, best_logits


def attach_teacher(config: TrainConfig, train: Split, log: Log) -> dict | None:
    """Load `config.teacher`'s soft labels onto the training split; say how many rows it
    covers (a row whose text changed since the file was made is trained on its labels
    only). Returns what the manifest records of it."""
    if not config.teacher:
        return None
    from training.teacher import load_soft_labels

    path = Path(config.teacher)
    if not path.is_file():
        raise InputError(f"teacher file {path} does not exist; make it with "
                         "`python -m training.teacher DATA -o FILE`")
    train.soft, missing = load_soft_labels(path, train.records, train.heads)
    covered = len(train.records) - missing
    log(f"distilling from {path}: soft labels for {covered} of {len(train.records)} "
        f"training rows, weight {config.distill_weight}")
    if covered == 0:
        log("warning: the teacher file covers none of these rows; training on labels only")
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "covered_rows": covered, "distill_weight": config.distill_weight}


def save_checkpoint(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)


def train(config: TrainConfig, data: Path, output_dir: Path, *, log: Log = print,
          compare_with: Path | None = None) -> Path:
    """Train a model on the labelled file or folder `data`; return the model directory.

    Args:
        config: the training configuration.
        data: a labelled-ticket file (JSONL/CSV) or a folder of them; every label column
            becomes a head unless `config.heads` picks some.
        output_dir: becomes a servable model directory (manifest, ONNX, tokenizer, hf/).
        log: receives one line per step of progress.
        compare_with: an existing model directory to compare against in the report.

    Returns:
        `output_dir`.
    """
    started = time.time()
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    output_dir.mkdir(parents=True, exist_ok=True)
    heads = choose_heads(data, config.heads)
    check_descriptions(config.head_descriptions, heads)
    if config.long_text not in LONG_TEXT_STRATEGIES:
        raise InputError(f"long_text {config.long_text!r} is not one of "
                         f"{sorted(LONG_TEXT_STRATEGIES)}")
    log("heads: " + ", ".join(heads))
    report = ReadReport()
    records = load_rows(data, report, heads)
    if report.skipped:
        log(f"skipped {len(report.skipped)} bad rows, e.g. line {report.skipped[0][0]}: "
            f"{report.skipped[0][1]}")
    splits = make_splits(records, config.val_fraction, config.heldout_fraction, heads)
    log("rows: " + ", ".join(f"{k} {len(v.texts)}" for k, v in splits.items()))
    teacher = attach_teacher(config, splits["train"], log)
    model, tokenizer = load_base(config.base_model, heads)
    if config.contrastive_epochs:
        contrastive_stage(model, tokenizer, splits["train"], config, log)
    history, val_logits = fit(model, tokenizer, splits, config, output_dir, log)
    best_dir = output_dir / "checkpoints" / "model-best"
    model, tokenizer = load_base(str(best_dir), heads)
    log("calibrating on the validation split")
    calibration = fit_platt(val_logits, splits["val"].labels, heads)
    thresholds = best_thresholds(apply_platt(val_logits, calibration, heads),
                                 splits["val"].labels, heads)
    meta = {
        "config": config.as_dict(),
        "data": {"path": str(data), "sha256": data_hash(data), "rows": len(records),
                 "skipped": len(report.skipped),
                 "splits": {k: len(v.texts) for k, v in splits.items()}},
        "teacher": teacher,
        "history": history,
    }
    descriptions = {h: describe(h, config.head_descriptions) for h in heads}
    export_model(model, tokenizer, splits, calibration, thresholds, config, output_dir, meta, log,
                 descriptions=descriptions)
    from training.report import write_report

    write_report(output_dir, splits["heldout"], compare_with, log)
    log(f"done in {time.time() - started:.0f}s: {output_dir}")
    return output_dir


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
