"""Which held-out dialect form moves scores: the parity check's `dialect_held_out` kind,
taken apart one form at a time, on the same messages `triage eval` samples.

    python bench/dialect_forms.py --model DIR [--data ../shared/data/eval/dev.jsonl]

For each form of `triage.parity.DIALECT_HELD_OUT` alone (and all of them together, as the
parity check applies them), on the messages the form changes: how many, how many moved a
score by more than the tolerance, the largest move, and the mean signed shift per head (a
form that lowers one head on average is a bias, not noise).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import argparse
import json
import random
from collections.abc import Sequence

import numpy as np

from triage.parity import DIALECT_HELD_OUT, ScoreFn, with_forms


def form_moves(texts: Sequence[str], score: ScoreFn, heads: Sequence[str],
               forms: Sequence[tuple[str, str]] = tuple(DIALECT_HELD_OUT),
               tolerance: float = 0.05) -> dict[str, dict]:
    """Per form (keyed by its replacement) and `all`: changed, over, max, mean shift."""
    base = score(list(texts))
    out: dict[str, dict] = {}
    for name, used in [*((repl, [(p, repl)]) for p, repl in forms), ("all", list(forms))]:
        variants = [with_forms(t, used) for t in texts]
        changed = np.array([v != t for v, t in zip(variants, texts, strict=True)])
        entry: dict = {"changed": int(changed.sum()), "over": 0, "max": 0.0}
        if changed.any():
            shift = score([v for v, c in zip(variants, changed, strict=True) if c]) - base[changed]
            moved = np.abs(shift).max(1)
            entry.update(over=int((moved > tolerance).sum()), max=round(float(moved.max()), 3),
                         mean_shift={h: round(float(s), 3)
                                     for h, s in zip(heads, shift.mean(0), strict=True)})
        out[name] = entry
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, default=_ROOT.parent / "shared/data/eval/dev.jsonl")
    p.add_argument("--rows", type=int, default=200, help="as `triage eval --parity-rows`")
    args = p.parse_args()
    from triage.models.runtime import ScoringModel
    from triage.records import read_records

    model = ScoringModel(args.model)
    heads = list(model.manifest.heads)
    texts = [r.text for r in read_records(args.data, heads=heads)]
    sample = random.Random(0).sample(texts, min(args.rows, len(texts)))  # as triage.evaluation
    result = form_moves(sample, model.predict_proba, heads)
    print(json.dumps({"model": model.manifest.version, "messages": len(sample), "forms": result},
                     indent=1))


if __name__ == "__main__":
    main()
