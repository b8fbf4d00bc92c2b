"""`triage eval`: quality of a model on a labelled file, per head and per `source`.

Reports AUROC, average precision, F1 at the model's threshold, Brier score and expected
calibration error, as markdown + JSON, a reliability diagram (PNG), the share of rows the
language gate would send to human triage, and the counterfactual parity check.

Heads are the model's (from its manifest): a data scientist's `legal_threat` is measured like
ours. A head the file does not label is reported with n = 0 and left out of the plot.

Metrics use the model's calibrated probability for every row, including the few the gate
flags as unscorable (they are counted and reported separately): a ranking metric over a
subset chosen by the gate would flatter the model.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from triage.metrics import head_metrics, reliability_bins
from triage.parity import parity_check
from triage.records import Record
from triage.scoring import Scorer


@dataclass
class EvalResult:
    """Everything `triage eval` measured."""

    model_version: str
    rows: int
    overall: dict[str, dict]
    by_source: dict[str, dict[str, dict]]
    unscorable: dict[str, int]
    reliability: dict[str, list[dict]]
    parity: dict[str, Any] | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    heads: list[str] = field(default_factory=list)

    @property
    def labelled_heads(self) -> list[str]:
        """The heads the file labels (at least one row with a label)."""
        return [h for h in self.heads or self.overall if self.overall[h]["n"]]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _labels(records: list[Record], heads: Sequence[str]) -> np.ndarray:
    return np.array([[np.nan if r.labels.get(h) is None else r.labels[h] for h in heads]
                     for r in records], dtype=float).reshape(len(records), len(heads))


def evaluate(scorer: Scorer, records: list[Record], *, parity_rows: int = 200,
             progress: Callable[[int, int], None] | None = None, seed: int = 0) -> EvalResult:
    """Score `records` and compute every metric, per head of the model; `parity_rows`
    sampled for the parity check."""
    model = scorer.model
    heads = scorer.heads
    texts = [r.text for r in records]
    probs = np.zeros((len(texts), len(heads)))
    step = 512
    for start in range(0, len(texts), step):
        probs[start:start + step] = model.predict_proba(texts[start:start + step])
        if progress:
            progress(min(start + step, len(texts)), len(texts))
    labels = _labels(records, heads)
    thresholds = {h: model.manifest.threshold(h) for h in heads} if hasattr(model, "manifest") \
        else {h: 0.5 for h in heads}
    sources = [str(r.fields.get("source") or "all") for r in records]

    def metrics(sel: np.ndarray) -> dict[str, dict]:
        return {h: head_metrics(labels[sel, j], probs[sel, j], thresholds[h]).as_dict()
                for j, h in enumerate(heads)}

    everything = np.ones(len(records), dtype=bool)
    by_source = {s: metrics(np.array([x == s for x in sources])) for s in sorted(set(sources))}
    unscorable: dict[str, int] = defaultdict(int)
    for text, source in zip(texts, sources, strict=True):
        if not scorer.gate.check(text).scorable:
            unscorable[source] += 1
    reliability = {h: reliability_bins(labels[~np.isnan(labels[:, j]), j],
                                       probs[~np.isnan(labels[:, j]), j])
                   for j, h in enumerate(heads)}
    parity = None
    if parity_rows:
        sample = random.Random(seed).sample(texts, min(parity_rows, len(texts)))
        parity = parity_check(sample, model.predict_proba, heads).as_dict()
    return EvalResult(scorer.version, len(records), metrics(everything), by_source,
                      dict(unscorable), reliability, parity, thresholds, list(heads))


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _unlabelled(result: EvalResult) -> list[str]:
    missing = [h for h in result.heads if h not in result.labelled_heads]
    return [f"Not labelled in this file (no metrics): {', '.join(missing)}.", ""] if missing else []


def to_markdown(result: EvalResult, data: str) -> str:
    """The human-readable report."""
    lines = [f"# Evaluation of model {result.model_version}", "",
             f"Data: `{data}` ({result.rows} rows). Thresholds: "
             + ", ".join(f"{h} {t:.2f}" for h, t in result.thresholds.items()), "",
             *_unlabelled(result),
             "| source | head | n | pos | AUROC | AP | F1 | Brier | ECE |",
             "|---|---|---|---|---|---|---|---|---|"]
    groups = [("all", result.overall)] + sorted(result.by_source.items())
    for source, heads in groups:
        for head, m in heads.items():
            if m["n"] == 0:
                continue
            lines.append(f"| {source} | {head} | {m['n']} | {m['positives']} | {_fmt(m['auroc'])} "
                         f"| {_fmt(m['average_precision'])} | {_fmt(m['f1'])} | "
                         f"{_fmt(m['brier'])} | {_fmt(m['ece'])} |")
    total = sum(result.unscorable.values())
    lines += ["", f"Sent to human triage by the language gate: {total} rows "
              + (f"({', '.join(f'{k}: {v}' for k, v in sorted(result.unscorable.items()))})"
                 if total else "")]
    if result.parity:
        lines += _parity_markdown(result.parity)
    return "\n".join(lines) + "\n"


def _parity_markdown(p: dict[str, Any]) -> list[str]:
    """The parity section: totals, one row per kind, the worst cases."""
    lines = ["", "## Parity (names, places, spelling, dialect swapped)", "",
             (f"{p['messages']} messages, {p['comparisons']} comparisons, tolerance "
              f"{p['tolerance']}: **{p['violations']} above tolerance**, largest move "
              f"{p['max_delta']:.3f}."), "",
             "| kind | comparisons | above tolerance | largest move |", "|---|---|---|---|"]
    for kind, k in p["by_kind"].items():
        lines.append(f"| {kind} | {k['comparisons']} | {k['violations']} | {k['max']:.3f} |")
    lines += ["", "| kind | head | delta | original |", "|---|---|---|---|"]
    for case in p["worst"][:5]:
        original = case["original"].replace("|", "/").replace("\n", " ")[:90]
        lines.append(f"| {case['kind']} | {case['head']} | {case['delta']:.3f} | {original} |")
    return lines


def reliability_png(result: EvalResult, path: Path) -> None:
    """A reliability diagram, one panel per head the file labels (every head if none)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heads = result.labelled_heads or result.heads or list(result.overall)
    fig, axes = plt.subplots(1, len(heads), figsize=(4 * len(heads), 4), squeeze=False)
    for ax, head in zip(axes[0], heads, strict=True):
        bins = result.reliability[head]
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
        if bins:
            ax.plot([b["confidence"] for b in bins], [b["observed"] for b in bins], marker="o")
        m = result.overall[head]
        ax.set_title(f"{head} (ECE {_fmt(m['ece'])})")
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    fig.suptitle(f"Reliability, model {result.model_version}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(result: EvalResult, data: str, out_dir: Path) -> list[Path]:
    """Write eval.md, eval.json and reliability.png to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "eval.md", out_dir / "eval.json", out_dir / "reliability.png"]
    paths[0].write_text(to_markdown(result, data), encoding="utf-8")
    paths[1].write_text(json.dumps(result.as_dict(), indent=2), encoding="utf-8")
    reliability_png(result, paths[2])
    return paths
