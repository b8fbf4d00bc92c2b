"""Mean and spread over training seeds: the issue-9 table from several `triage eval` reports.

    python bench/seeds.py EVAL_DIR [EVAL_DIR ...] [--models MODEL_DIR ...]

Each EVAL_DIR is the `--out` of one `triage eval ../shared/data/eval/dev.jsonl --model DIR`;
each MODEL_DIR (same order) adds that model's held-out metrics from its `report.json`.
Prints, per dev source and head: AUROC mean ± standard deviation (sample SD) and each
seed's value, ECE mean; then parity over 0.05 and the largest move, overall and per kind.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

ROWS = [("airline", "frustration"), ("banking77-train", "urgency"),
        ("banking77-train", "churn_risk"), ("mooc", "urgency"), ("bitext", "churn_risk"),
        ("bitext", "frustration")]


def _ms(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def _each(values: list[float], digits: int = 3) -> str:
    return " ".join(f"{v:.{digits}f}" for v in values)


def summarise(evals: list[dict], reports: list[dict]) -> str:
    out = ["| measure | mean ± SD | per seed |", "|---|---|---|"]
    for report_heads in zip(*[r["heldout"].items() for r in reports], strict=True):
        head = report_heads[0][0]
        values = [m["auroc"] for _, m in report_heads]
        eces = [m["ece"] for _, m in report_heads]
        out.append(f"| held-out {head} AUROC (ECE) | {_ms(values)} "
                   f"(ECE {statistics.mean(eces):.3f}) | {_each(values)} |")
    for source, head in ROWS:
        metrics = [e["by_source"].get(source, {}).get(head) for e in evals]
        if not all(m and m.get("auroc") is not None for m in metrics):
            continue
        values = [m["auroc"] for m in metrics]  # type: ignore[index]
        eces = [m["ece"] for m in metrics]  # type: ignore[index]
        out.append(f"| {source} {head} AUROC (ECE) | {_ms(values)} "
                   f"(ECE {statistics.mean(eces):.3f}) | {_each(values)} |")
    parity = [e["parity"] for e in evals]
    out.append(f"| parity over 0.05, of {parity[0]['comparisons']} | "
               f"{_ms([p['violations'] for p in parity])} | "
               f"{' '.join(str(p['violations']) for p in parity)} |")
    out.append(f"| parity largest move | {_ms([p['max_delta'] for p in parity])} | "
               f"{_each([p['max_delta'] for p in parity], 2)} |")
    for kind in parity[0]["by_kind"]:
        counts = [p["by_kind"][kind]["violations"] for p in parity]
        largest = [p["by_kind"][kind]["max"] for p in parity]
        out.append(f"| parity {kind} | {' '.join(str(c) for c in counts)} over, largest "
                   f"{max(largest):.2f} | {_each(largest, 2)} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("evals", nargs="+", type=Path)
    parser.add_argument("--models", nargs="*", type=Path, default=[])
    args = parser.parse_args()
    evals = [json.loads((d / "eval.json").read_text()) for d in args.evals]
    reports = [json.loads((d / "report.json").read_text()) for d in args.models]
    print(summarise(evals, reports))


if __name__ == "__main__":
    main()
