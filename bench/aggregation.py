"""How a long message's windows should make one score: the maximum (served today) against
the first window alone, the mean, the mean of the top two, and first-and-maximum blends.

A message longer than 128 tokens is read in overlapping windows (`ScoringModel.encode`);
each window gets calibrated probabilities, and the message needs one per head. This
scores every window once with the real runtime and combines them each way, then reports
AUROC per head on our own held-out samples (the split no model was trained on) and per dev
source and head, for all rows and for the rows with more than one window (the only rows an
aggregation changes).

    python bench/aggregation.py --model DIR [--dev ../shared/data/eval/dev.jsonl]

Writes `aggregation.json` under `--out` and prints a markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

from collections.abc import Callable

import numpy as np

from bench import common

Combine = Callable[[list[np.ndarray]], np.ndarray]


def _top2(w: list[np.ndarray]) -> np.ndarray:
    stacked = np.sort(np.stack(w), axis=0)
    return stacked[-2:].mean(axis=0) if len(w) > 1 else stacked[-1]


AGGREGATIONS: dict[str, Combine] = {
    "max": lambda w: np.max(w, axis=0),
    "first": lambda w: w[0],
    "mean": lambda w: np.mean(w, axis=0),
    "top2": _top2,
    "first+max": lambda w: 0.5 * (w[0] + np.max(w, axis=0)),
    "max(first,top2)": lambda w: np.maximum(w[0], _top2(w)),
}


def combine(window_probs: np.ndarray, owners: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Each aggregation's (n, heads) scores from the per-window probabilities."""
    per_text: list[list[np.ndarray]] = [[] for _ in range(n)]
    for row, owner in zip(window_probs, owners, strict=True):
        per_text[int(owner)].append(row)  # windows come in text order, first window first
    return {name: np.stack([f(w) for w in per_text]) for name, f in AGGREGATIONS.items()}


def measure(model, split, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """AUROC of every aggregation per head of `split` (a `training.data.Split`), on all its
    rows and on those of two or more windows."""
    from triage.metrics import head_metrics

    texts, labels = split.texts, split.labels
    probs, owners = model.window_scores(model.encode(texts), calibrated=True)
    counts = np.bincount(owners, minlength=len(texts))
    scores = combine(probs, owners, len(texts))
    out = []
    for j, head in enumerate(split.heads):
        if np.isnan(labels[:, j]).all():
            continue
        for subset, sel in (("all", np.ones(len(texts), bool)), ("long", counts > 1)):
            row = {"set": name, "head": head, "rows": int((~np.isnan(labels[sel, j])).sum()),
                   "subset": subset}
            for agg, s in scores.items():
                row[agg] = head_metrics(labels[sel, j], s[sel, j]).auroc
            out.append(row)
    return out


def main() -> None:
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--dev", type=Path, default=common.DEV)
    args = common.parse(p)
    from training.config import TrainConfig
    from training.data import Split, load_rows, make_splits
    from triage.models.runtime import ScoringModel
    from triage.records import read_records

    model = ScoringModel(common.model_dir(args.model), threads=args.threads)
    heads = tuple(model.heads)
    defaults = TrainConfig()
    held = make_splits(load_rows(common.ROOT / "data" / "samples", heads=heads),
                       defaults.val_fraction, defaults.heldout_fraction, heads)["heldout"]
    common.log(f"held-out samples: {len(held.texts)} rows")
    results = measure(model, held, "held-out samples")
    if args.dev.is_file():
        records = read_records(args.dev, heads=heads)
        for source in sorted({str(r.fields.get("source")) for r in records}):
            rows = [r for r in records if str(r.fields.get("source")) == source]
            common.log(f"dev {source}: {len(rows)} rows")
            results += measure(model, Split.of(rows, heads), source)
    names = list(AGGREGATIONS)
    lines = ["| set | head | rows | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for r in results:
        cells = [f"{r[n]:.3f}" if r[n] is not None else "—" for n in names]
        lines.append(f"| {r['set']} ({r['subset']}) | {r['head']} | {r['rows']} | "
                     + " | ".join(cells) + " |")
    print("\n".join(lines))
    common.write_json(args.out, "aggregation",
                      {"model": str(args.model), "machine": common.machine(), "rows": results})


if __name__ == "__main__":
    main()
