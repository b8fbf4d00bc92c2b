"""What int8 costs in fidelity: the same weights as fp32; int8 per call (the runtime before
2026-12-02), int8 per token with 8-bit weights (models built 2026-12-02) and int8 per token
with 7-bit weights (now: `training.quantize`), on the dev rows.

From a model directory's `model-fp32.onnx`, the int8 graphs are made here; each variant is
served by the real runtime (text preparation, windows, calibration), the per-call one
window per call as the runtime runs it. Reported: AUROC per dev source and head for each
variant; per message the largest and the 99th percentile gap in probability against fp32;
and, for the per-token variants, the largest difference between the first `--alone`
messages scored in batches of 32 and one by one (0.0 means batch invariant on this CPU).
The CPU matters: without VNNI, 8-bit weights can saturate onnxruntime's int16 pair sums.

    python bench/int8_fidelity.py [--model DIR] [--every N] [--variants fp32,per-token]
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import json
import shutil
import tempfile
from typing import Any

import numpy as np

from bench import common

VARIANTS = ("per-call", "per-token-8bit", "per-token")


def variant(src: Path, dst: Path, kind: str) -> Path:
    """A copy of the model directory whose model.onnx is the fp32, per-call or per-token graph."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from training.quantize import quantize
    from triage.models.manifest import write_manifest

    dst.mkdir(parents=True)
    shutil.copyfile(src / "tokenizer.json", dst / "tokenizer.json")
    if kind == "fp32":
        shutil.copyfile(src / "model-fp32.onnx", dst / "model.onnx")
        label = "none"
    elif kind == "per-call":
        logging.getLogger().setLevel(logging.ERROR)
        quantize_dynamic(str(src / "model-fp32.onnx"), str(dst / "model.onnx"),
                         per_channel=True, weight_type=QuantType.QInt8)
        label = "int8-dynamic-per-channel"
    else:
        quantize(src / "model-fp32.onnx", dst / "model.onnx",
                 reduce_range=kind != "per-token-8bit")
        label = "int8-per-token"
    raw = json.loads((src / "manifest.json").read_text())
    raw["onnx"]["quantization"] = label
    write_manifest(dst, raw)
    return dst


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--every", type=int, default=1, help="score every Nth dev row (default all)")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma-separated, of {', '.join(VARIANTS)} (fp32 is always scored)")
    p.add_argument("--alone", type=int, default=300,
                   help="messages scored alone and batched, per int8 per-token variant")
    args = common.parse(p)
    kinds = ["fp32"] + [k for k in args.variants.split(",") if k and k != "fp32"]
    unknown = set(kinds) - {"fp32", *VARIANTS}
    if unknown:
        raise SystemExit(f"unknown variants: {sorted(unknown)}")
    from triage.metrics import head_metrics
    from triage.models.runtime import ScoringModel

    model = common.model_dir(args.model)
    rows = common.dev_rows()
    if not rows:
        raise SystemExit(f"{common.DEV} is missing")
    rows = rows[::20 if args.quick else args.every]
    texts = [r["text"] for r in rows]
    probs: dict[str, np.ndarray] = {}
    batch_gap: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fidelity-") as tmp:
        for kind in kinds:
            path = variant(model, Path(tmp) / kind, kind)
            runtime = ScoringModel(path, threads=args.threads, batch_size=32)
            common.log(f"{kind}: scoring {len(texts):,} dev rows")
            probs[kind] = runtime.predict_proba(texts)
            heads = runtime.heads
            if kind.startswith("per-token") and args.alone:
                some = texts[:args.alone]
                alone = np.vstack([runtime.predict_proba([t]) for t in some])
                batch_gap[kind] = float(np.abs(runtime.predict_proba(some) - alone).max())
    result: dict[str, Any] = {"machine": common.machine(), "model": common.model_info(model),
                              "rows": len(texts), "every": args.every, "auroc": {},
                              "gap_vs_fp32": {},
                              "batched_vs_alone": {"messages": min(args.alone, len(texts)),
                                                   "largest_difference": batch_gap}}
    sources = sorted({r["source"] for r in rows})
    for source in sources:
        sel = [i for i, r in enumerate(rows) if r["source"] == source]
        for j, head in enumerate(heads):
            labelled = [i for i in sel if rows[i].get(head) is not None]
            if not labelled or len({rows[i][head] for i in labelled}) < 2:
                continue
            y = [rows[i][head] for i in labelled]
            result["auroc"][f"{source}/{head}"] = {
                kind: round(head_metrics(y, p[labelled, j]).auroc or float("nan"), 4)
                for kind, p in probs.items()}
    for kind in kinds[1:]:
        gap = np.abs(probs[kind] - probs["fp32"])
        worst = int(gap.max(axis=1).argmax())
        result["gap_vs_fp32"][kind] = {
            "max": round(float(gap.max()), 4), "p99": round(float(np.percentile(gap, 99)), 4),
            "median": round(float(np.median(gap)), 5), "worst_row": rows[worst]["id"]}
    for key, cell in result["auroc"].items():
        common.log(f"{key}: " + ", ".join(f"{k} {v}" for k, v in cell.items()))
    for kind, cell in result["gap_vs_fp32"].items():
        common.log(f"{kind} vs fp32: {cell}")
    for kind, gap in batch_gap.items():
        common.log(f"{kind}: batched vs alone, largest difference {gap}")
    common.write_json(args.out, "int8_fidelity", result)


if __name__ == "__main__":
    main()
