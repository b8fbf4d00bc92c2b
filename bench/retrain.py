"""Retraining quality, the data scientist's path: `triage train` on their own tickets.

Two in-domain experiments on the shared dev set (read at run time; the training files are
written to a temporary directory only, never into the repository or the shipped model):
  - airline: a fixed 80 % of the `airline` rows (seeded shuffle) -> evaluate on the other 20 %
    (frustration head: 1 = negative tweet);
  - banking77: a fixed 80 % of the `banking77-train` rows -> evaluate on the other 20 %
    (churn_risk and urgency heads, derived from the intent labels).
The training rows are subsampled to `--train-rows` (all churn positives kept) so that both
runs fit in about 15 minutes on 2 cores. The 20 % test rows go into the training file with
`split=heldout`, so `triage train` never trains on them and its own report compares the new
model with the current default model on exactly those rows.

    python bench/retrain.py [--model DIR] [--quick] [--train-rows N] [--epochs N]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: import `bench` from the repository root, not from this folder.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import json
import random
import subprocess
import tempfile
import time
from typing import Any

import numpy as np

from bench import common

EXPERIMENTS = {"airline": ("airline", ("frustration",)),
               "banking77": ("banking77-train", ("churn_risk", "urgency"))}
VAL_FRACTION = 0.15


def split_rows(rows: list[dict[str, Any]], source: str) -> tuple[list, list]:
    """A fixed 80/20 split of one source's rows (sorted by id, shuffled with seed 0)."""
    mine = sorted((r for r in rows if r["source"] == source), key=lambda r: str(r["id"]))
    random.Random(0).shuffle(mine)
    cut = int(len(mine) * 0.8)
    return mine[:cut], mine[cut:]


def subsample(train: list[dict[str, Any]], heads: tuple[str, ...], n: int) -> list[dict]:
    """`n` training rows, keeping every positive of the rarest head (churn in banking77)."""
    if len(train) <= n:
        return train
    rarest = min(heads, key=lambda h: sum(r.get(h) == 1 for r in train))
    keep = [r for r in train if r.get(rarest) == 1][: n // 2]
    rest = [r for r in train if r.get(rarest) != 1]
    return keep + random.Random(1).sample(rest, n - len(keep))


def training_file(train: list[dict], test: list[dict], heads: tuple[str, ...],
                  path: Path) -> None:
    """Labelled JSONL: train rows split train/val (seeded), test rows split=heldout."""
    rng = random.Random(2)
    with open(path, "w", encoding="utf-8") as out:
        for rows, fixed in ((train, None), (test, "heldout")):
            for r in rows:
                split = fixed or ("val" if rng.random() < VAL_FRACTION else "train")
                row = {"id": r["id"], "text": r["text"], "split": split}
                row.update({h: r.get(h) if h in heads else None for h in common.HEADS})
                out.write(json.dumps(row) + "\n")


def train(data: Path, out: Path, compare: Path, args: Any) -> dict[str, Any]:
    """Run the real CLI, as a data scientist would."""
    cmd = [str(Path(sys.executable).parent / "triage"), "train", str(data), "--out", str(out),
           "--base", args.base, "--epochs", str(args.epochs), "--max-length",
           str(args.max_length), "--compare", str(compare)]
    if args.quick:
        cmd += ["--max-steps", "20"]
    common.log("triage " + " ".join(cmd[1:]))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=common.ROOT,
                          env=_env(args.threads), check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"triage train failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"seconds": round(seconds, 1), "command": "triage " + " ".join(cmd[1:]),
            "verdict": report.get("verdict"), "report": report}


def _env(threads: int) -> dict[str, str]:
    import os

    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(threads))
    return env


def evaluate(model: Path, test: list[dict], heads: tuple[str, ...],
             threads: int) -> dict[str, Any]:
    """AUROC, F1 and accuracy at the model's threshold, per head, on the test rows."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    from triage.models.runtime import ScoringModel

    scorer = ScoringModel(model, threads=threads)
    probs = scorer.predict_proba([r["text"] for r in test])
    out: dict[str, Any] = {}
    for head in heads:
        j = scorer.heads.index(head)
        y = np.array([r[head] for r in test])
        threshold = scorer.manifest.threshold(head)
        pred = (probs[:, j] >= threshold).astype(int)
        out[head] = {"n": len(y), "positives": int(y.sum()),
                     "auroc": round(float(roc_auc_score(y, probs[:, j])), 4),
                     "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
                     "accuracy": round(float(accuracy_score(y, pred)), 4),
                     "threshold": threshold}
    return out


def experiment(name: str, rows: list[dict], current: Path, tmp: Path,
               args: Any) -> dict[str, Any]:
    source, heads = EXPERIMENTS[name]
    train_all, test = split_rows(rows, source)
    train_rows = subsample(train_all, heads, args.train_rows)
    if args.quick:
        test = test[:300]
    data = tmp / f"{name}.jsonl"
    training_file(train_rows, test, heads, data)
    out = tmp / f"model-{name}"
    run = train(data, out, current, args)
    return {
        "source": source, "heads": list(heads), "train_pool": len(train_all),
        "train_rows_used": len(train_rows), "test_rows": len(test),
        "positives_in_train": {h: sum(r.get(h) == 1 for r in train_rows) for h in heads},
        "training": {k: v for k, v in run.items() if k != "report"},
        "retrained": evaluate(out, test, heads, args.threads),
        "default_model": evaluate(current, test, heads, args.threads),
    }


def run(args: Any) -> dict[str, Any]:
    current = common.model_dir(args.model)
    rows = common.dev_rows()
    if not rows:
        raise SystemExit(f"{common.DEV} is missing; retrain needs the shared dev set")
    result: dict[str, Any] = {
        "benchmark": "retrain", "machine": common.machine(),
        "default_model": common.model_info(current), "quick": args.quick,
        "settings": {"base": args.base, "epochs": args.epochs, "max_length": args.max_length,
                     "train_rows": args.train_rows, "threads": args.threads}}
    with tempfile.TemporaryDirectory(prefix="bench-retrain-") as tmp:
        for name in EXPERIMENTS:
            common.log(f"experiment {name}")
            result[name] = experiment(name, rows, current, Path(tmp), args)
    return result


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--train-rows", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--base", default="minilm", help="'minilm' (default) or 'tiny' for a smoke run")
    args = common.parse(p)
    if args.quick:
        args.train_rows = min(args.train_rows, 300)
    result = run(args)
    common.write_json(args.out, "retrain", result)
    for name in EXPERIMENTS:
        print(name, json.dumps({"retrained": result[name]["retrained"],
                                "default": result[name]["default_model"]}))


if __name__ == "__main__":
    main()
