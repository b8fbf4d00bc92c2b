"""How well does the teacher read our own training rows, by length? Out-of-fold AUROC of
the committed soft labels (`data/teacher/mpnet.jsonl`) against the rows' labels, per head,
for rows of at most 64 tokens, 65-128 and over 128 (as the student's tokenizer counts the
prepared text, special tokens included: over 128 is what training cuts to its first
window).

    python bench/teacher_length.py [--samples data/samples] [--teacher FILE] [--out FILE]

The soft labels are out of fold (a row's label comes from a fit that never saw it), so this
is an honest reading of where the teacher can be trusted. On 2026-12-03 it read long rows
far worse (urgency 0.754 over 128 tokens against 0.936 up to 64), yet training those rows
on their labels alone lowered dev mooc urgency (docs/model-card.md, "Tried and dropped"):
a weak teacher on a row is not, by itself, a reason to drop it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import argparse
import json
from collections.abc import Sequence

import numpy as np

BUCKETS = (("<=64", 0, 64), ("65-128", 65, 128), (">128", 129, 10**9))


def by_length(labels: np.ndarray, soft: np.ndarray, tokens: np.ndarray,
              heads: Sequence[str]) -> dict[str, dict[str, dict]]:
    """Per head and length bucket: rows, positive share and the teacher's AUROC (None
    where a bucket holds one class only); rows without a label or soft label are left out."""
    from sklearn.metrics import roc_auc_score

    out: dict[str, dict[str, dict]] = {}
    for j, head in enumerate(heads):
        out[head] = {}
        for name, lo, hi in BUCKETS:
            keep = (tokens >= lo) & (tokens <= hi) & ~np.isnan(labels[:, j]) \
                & ~np.isnan(soft[:, j])
            y, p = labels[keep, j], soft[keep, j]
            auroc = float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else None
            out[head][name] = {"rows": int(keep.sum()),
                               "positive": round(float(y.mean()), 3) if len(y) else None,
                               "auroc": None if auroc is None else round(auroc, 4)}
    return out


def _shown(path: Path) -> str:
    """`path` relative to the repository where it lies inside it."""
    try:
        return str(path.resolve().relative_to(_ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=_ROOT / "data" / "samples")
    parser.add_argument("--teacher", type=Path, default=_ROOT / "data" / "teacher" / "mpnet.jsonl")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from training.config import TrainConfig
    from training.data import load_rows, split_of
    from training.modeling import minilm_path
    from training.teacher import load_soft_labels
    from triage.heads import DEFAULT_HEADS
    from triage.textprep import prepare

    c = TrainConfig()
    records = [r for r in load_rows(args.samples, heads=DEFAULT_HEADS)
               if split_of(r, c.val_fraction, c.heldout_fraction) == "train"]
    soft, _ = load_soft_labels(args.teacher, records, DEFAULT_HEADS)
    labels = np.array([[np.nan if r.labels.get(h) is None else r.labels[h]
                        for h in DEFAULT_HEADS] for r in records], dtype=np.float32)
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    tokens = np.array([len(ids) for ids in tokenizer([prepare(r.text) for r in records],
                                                     truncation=False)["input_ids"]])
    table = by_length(labels, soft, tokens, DEFAULT_HEADS)
    result = {"rows": len(records), "teacher": _shown(args.teacher), "by_length": table}
    for head, buckets in table.items():
        print(head.ljust(12), "  ".join(
            f"{name}: {b['auroc']} ({b['rows']} rows)" for name, b in buckets.items()))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
