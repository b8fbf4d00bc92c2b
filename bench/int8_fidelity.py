"""What per-token int8 costs in fidelity: the same weights as fp32, int8 per call (the runtime
before 2026-12-02) and int8 per token (now), on every dev row.

From a model directory's `model-fp32.onnx`, the two int8 graphs are made here
(`training.quantize`); each variant is served by the real runtime (text preparation,
windows, calibration), the per-call one window per call as the runtime runs it. Reported:
AUROC per dev source and head for each variant, and per message the largest and the 99th
percentile gap in probability against fp32.

    python bench/int8_fidelity.py [--model DIR] [--quick]
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
        quantize(src / "model-fp32.onnx", dst / "model.onnx")
        label = "int8-per-token"
    raw = json.loads((src / "manifest.json").read_text())
    raw["onnx"]["quantization"] = label
    write_manifest(dst, raw)
    return dst


def main() -> None:
    args = common.parse(common.parser(__doc__.splitlines()[0]))
    from triage.metrics import head_metrics
    from triage.models.runtime import ScoringModel

    model = common.model_dir(args.model)
    rows = common.dev_rows()
    if not rows:
        raise SystemExit(f"{common.DEV} is missing")
    if args.quick:
        rows = rows[::20]
    texts = [r["text"] for r in rows]
    probs: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fidelity-") as tmp:
        for kind in ("fp32", "per-call", "per-token"):
            path = variant(model, Path(tmp) / kind, kind)
            runtime = ScoringModel(path, threads=args.threads, batch_size=32)
            common.log(f"{kind}: scoring {len(texts):,} dev rows")
            probs[kind] = runtime.predict_proba(texts)
            heads = runtime.heads
    result: dict[str, Any] = {"machine": common.machine(), "model": common.model_info(model),
                              "rows": len(texts), "auroc": {}, "gap_vs_fp32": {}}
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
    for kind in ("per-call", "per-token"):
        gap = np.abs(probs[kind] - probs["fp32"])
        worst = int(gap.max(axis=1).argmax())
        result["gap_vs_fp32"][kind] = {
            "max": round(float(gap.max()), 4), "p99": round(float(np.percentile(gap, 99)), 4),
            "median": round(float(np.median(gap)), 5), "worst_row": rows[worst]["id"]}
    for key, cell in result["auroc"].items():
        common.log(f"{key}: " + ", ".join(f"{k} {v}" for k, v in cell.items()))
    for kind, cell in result["gap_vs_fp32"].items():
        common.log(f"{kind} vs fp32: {cell}")
    common.write_json(args.out, "int8_fidelity", result)


if __name__ == "__main__":
    main()
