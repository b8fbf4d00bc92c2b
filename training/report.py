"""The retraining report: is the new model better than the current one?

Both models are scored through the serving runtime (ONNX, calibrated) on the new model's
held-out split, so the comparison is of what would actually be served. The models may score
different heads (a data scientist's `legal_threat`, or a subset): each is measured on the
heads it has that the split labels, and the verdict compares the heads both have.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from training.data import Split
from triage.errors import ModelError
from triage.metrics import head_metrics
from triage.models.manifest import load_manifest, write_manifest
from triage.models.runtime import ScoringModel


def heldout_metrics(model: ScoringModel, split: Split) -> dict[str, dict]:
    """Per head of `model` that `split` labels, its metrics at the model's threshold."""
    heads = [h for h in model.heads if h in split.heads]
    probs = model.predict_proba(split.texts) if split.texts else np.zeros((0, len(model.heads)))
    return {h: head_metrics(split.labels[:, split.heads.index(h)],
                            probs[:, model.heads.index(h)],
                            model.manifest.threshold(h)).as_dict()
            for h in heads}


def verdict(new: dict[str, dict], old: dict[str, dict] | None, margin: float = 0.005) -> str:
    """'better', 'worse' or 'no clear difference', by mean AUROC over the heads both models
    score."""
    if old is None:
        return "no current model to compare with"
    shared = [h for h in new if h in old]
    if not shared:
        return "no heads in common with the current model"
    new = {h: new[h] for h in shared}
    old = {h: old[h] for h in shared}

    def mean(metrics: dict[str, dict], key: str) -> float:
        vals = [m[key] for m in metrics.values() if m[key] is not None]
        return float(np.mean(vals)) if vals else float("nan")

    delta = mean(new, "auroc") - mean(old, "auroc")
    if delta > margin:
        return f"better (mean AUROC +{delta:.3f})"
    if delta < -margin:
        return f"worse (mean AUROC {delta:.3f})"
    return f"no clear difference (mean AUROC {delta:+.3f})"


def _table(metrics: dict[str, dict], old: dict[str, dict] | None) -> list[str]:
    lines = ["| head | n | pos | AUROC | AP | F1 | Brier | ECE | current AUROC |",
             "|---|---|---|---|---|---|---|---|---|"]

    def f(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    for h, m in metrics.items():
        cur = f(old[h]["auroc"]) if old and h in old else "–"
        lines.append(f"| {h} | {m['n']} | {m['positives']} | {f(m['auroc'])} | "
                     f"{f(m['average_precision'])} | {f(m['f1'])} | {f(m['brier'])} | "
                     f"{f(m['ece'])} | {cur} |")
    return lines


def _descriptions(manifest: dict) -> dict[str, str]:
    given = manifest.get("head_descriptions") or {}
    return {h: given.get(h, "") for h in manifest["heads"]}


def write_report(model_dir: Path, heldout: Split, compare_with: Path | None,
                 log: Callable[[str], None]) -> dict:
    """Write `report.md`/`report.json` in `model_dir` and store held-out metrics in the manifest."""
    new_model = ScoringModel(model_dir)
    new = heldout_metrics(new_model, heldout)
    old = None
    if compare_with is not None and (compare_with / "manifest.json").exists():
        try:
            old = heldout_metrics(ScoringModel(compare_with), heldout)
        except ModelError as exc:
            log(f"could not load the current model for comparison: {exc.message}")
    result = {"heldout": new, "current": old, "verdict": verdict(new, old),
              "compared_with": str(compare_with) if old else None}
    manifest = load_manifest(model_dir).raw
    manifest["metrics"] = {"heldout": new}
    write_manifest(model_dir, manifest)
    parity = manifest["parity"]
    lines = [f"# Training report: {manifest['version']}", "",
             f"Verdict against the current model: **{result['verdict']}**"
             + (f" ({compare_with})" if old else ""), "",
             (f"Held-out split: {len(heldout.texts)} rows of `{manifest['training']['data']['path']}` "
             "(scored through the served ONNX int8 runtime, calibrated)."), "",
             "Heads: " + "; ".join(f"`{h}`" + (f" ({d})" if d else "")
                                   for h, d in _descriptions(manifest).items()) + ".", "",
             *_table(new, old), "",
             ("Export parity: largest probability gap PyTorch vs ONNX fp32 "
             f"{parity['max_gap_torch_vs_fp32']:.2e}, fp32 vs int8 {parity['max_gap_fp32_vs_int8']:.3f}."),
             "", "Per-epoch validation:", ""]
    for h in manifest["training"]["history"]:
        lines.append(f"- epoch {h['epoch']}: loss {h['train_loss']:.4f}, mean AUROC "
                     f"{h['val_mean_auroc']:.3f}")
    (model_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (model_dir / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    log(f"report: {model_dir / 'report.md'} ({result['verdict']})")
    return result
