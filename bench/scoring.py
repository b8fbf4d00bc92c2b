"""Scoring speed, same weights, three engines: the Hugging Face pipeline on torch, our ONNX
fp32 and our ONNX int8 (plus int8 behind the full `Scorer`, language gate included, and int8
as `triage score` and the server run it: one single-threaded caller per thread, `int8 NxT1`).

Engines run interleaved in rounds (A, B, C, D, A, B, C, D, ...); every engine gets the same
number of threads. Per round: batch throughput (messages/s) on a fixed ~40-token set and on a
realistic length mix, and single-message latency. Also AUROC of each engine on dev rows.

    python bench/scoring.py [--model DIR] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: import `bench` from the repository root, not from this folder.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench import common

ENGINES = ("hf-torch", "onnx-fp32", "onnx-int8", "int8+Scorer", "int8 NxT1")


class Callers:
    """The int8 model with `threads` callers of one intra-op thread each, as `triage score`
    (`--workers`, one per core by default) and the server (inference slots) use it. Each
    caller gets one contiguous share of the texts, as each batch worker gets a whole chunk
    of rows, and the runtime sorts its share by length into micro-batches of 32 windows.
    (Until 2026-12-03 the shares were 32 texts in file order, padded to the longest of
    each: fair while int8 ran one window per call, far too slow on mixed lengths since
    per-token int8 batches windows.)"""

    def __init__(self, path: Path, threads: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from triage.models.runtime import ScoringModel

        self.threads = max(1, threads)
        self.model = ScoringModel(path, threads=1, batch_size=32)
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="bench-int8")

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        share = -(-len(texts) // self.threads)
        chunks = [texts[i:i + share] for i in range(0, len(texts), share)]
        return np.concatenate(list(self.pool.map(self.model.predict_proba, chunks)))


class Engines:
    """The engines under test, each with a batch and a single-message entry point."""

    def __init__(self, path: Path, fp32_dir: Path, threads: int) -> None:
        from triage.models.runtime import ScoringModel
        from triage.scoring import Scorer

        self.pipe = common.hf_pipeline(path, threads)
        self.fp32 = ScoringModel(fp32_dir, threads=threads, batch_size=32)
        self.int8 = ScoringModel(path, threads=threads, batch_size=32)
        self.scorer = Scorer(ScoringModel(path, threads=threads, batch_size=32))
        self.callers = Callers(path, threads)

    def batch(self, name: str) -> Callable[[list[str]], Any]:
        return {
            "hf-torch": lambda ts: common.hf_probs(self.pipe, ts),
            "onnx-fp32": self.fp32.predict_proba,
            "onnx-int8": self.int8.predict_proba,
            "int8+Scorer": self.scorer.score,
            "int8 NxT1": self.callers.predict_proba,
        }[name]

    def single(self, name: str) -> Callable[[str], Any]:
        return {
            "hf-torch": lambda t: self.pipe(t, truncation=True, max_length=128),
            "onnx-fp32": lambda t: self.fp32.predict_proba([t]),
            "onnx-int8": lambda t: self.int8.predict_proba([t]),
            "int8+Scorer": lambda t: self.scorer.score([t]),
            "int8 NxT1": lambda t: self.callers.model.predict_proba([t]),
        }[name]

    def ranking_scores(self, name: str, texts: list[str]) -> np.ndarray:
        """Scores for AUROC, on the same scale for every engine: the head's raw output.

        The HF pipeline gives sigmoid(logit); the ONNX engines give the raw logit (before the
        manifest's Platt calibration, which is monotone when its slope is positive, as it
        is for a trained model). Rankings, hence AUROC, are comparable.
        """
        if name == "hf-torch":
            return common.hf_probs(self.pipe, texts)
        model = self.fp32 if name == "onnx-fp32" else self.int8
        return model.predict_logits(texts, calibrated=False)


def throughput(engines: Engines, texts: list[str], rounds: int) -> dict[str, Any]:
    """Messages/s per engine, one full pass over `texts` per round."""
    runs = common.interleave(
        {n: (lambda n=n: len(texts) / common.time_call(lambda: engines.batch(n)(texts)))
         for n in ENGINES}, rounds)
    return {n: common.summary(v, 1) for n, v in runs.items()}


def latency(engines: Engines, texts: list[str], rounds: int) -> dict[str, Any]:
    """Single-message latency: per round, each message scored alone; ms."""

    def one_round(name: str) -> list[float]:
        call = engines.single(name)
        return [common.time_call(lambda t=t: call(t)) * 1000 for t in texts]

    runs = common.interleave({n: (lambda n=n: one_round(n)) for n in ENGINES}, rounds)
    out = {}
    for name, per_round in runs.items():
        pooled = [x for r in per_round for x in r]
        out[name] = {
            "median_ms": common.summary([common.percentile(r, 50) for r in per_round], 3),
            "p99_ms": common.summary([common.percentile(r, 99) for r in per_round], 3),
            "pooled_median_ms": round(common.percentile(pooled, 50), 3),
            "pooled_p99_ms": round(common.percentile(pooled, 99), 3),
            "messages_per_round": len(texts),
        }
    return out


def auroc(engines: Engines, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """AUROC per head (pooled and per source) of each engine on the same labelled rows."""
    from sklearn.metrics import roc_auc_score

    texts = [r["text"] for r in rows]
    result: dict[str, Any] = {"rows": len(rows)}
    for name in ("hf-torch", "onnx-fp32", "onnx-int8"):
        probs = engines.ranking_scores(name, texts)
        per: dict[str, Any] = {}
        for j, head in enumerate(common.HEADS):
            for source in ["all", *sorted({r.get("source", "?") for r in rows})]:
                sel = [i for i, r in enumerate(rows) if r.get(head) in (0, 1)
                       and (source == "all" or r.get("source") == source)]
                y = [rows[i][head] for i in sel]
                if 0 < sum(y) < len(y):
                    per[f"{head}/{source}"] = round(float(roc_auc_score(y, probs[sel, j])), 4)
        result[name] = per
    result["int8_minus_fp32_max_abs"] = max(
        (abs(result["onnx-int8"][k] - result["onnx-fp32"][k]) for k in result["onnx-fp32"]),
        default=None)
    result["int8_minus_hf_max_abs"] = max(
        (abs(result["onnx-int8"][k] - result["hf-torch"][k]) for k in result["hf-torch"]),
        default=None)
    return result


def eval_rows(count: int) -> tuple[list[dict[str, Any]], str]:
    rows = common.dev_rows()
    source = "dev.jsonl"
    if not rows:
        rows, source = common.sample_rows(), "data/samples"
    return random.Random(11).sample(rows, min(count, len(rows))), source


def chart(result: dict[str, Any], out: Path) -> None:
    fig, (ax1, ax2) = common.figure(1, 2, figsize=(11, 4))
    x = np.arange(len(ENGINES))
    for k, key in enumerate(("batch_40_tokens", "batch_length_mix")):
        med = [result[key][n]["median"] for n in ENGINES]
        lo = [m - result[key][n]["min"] for m, n in zip(med, ENGINES)]
        hi = [result[key][n]["max"] - m for m, n in zip(med, ENGINES)]
        ax1.bar(x + (k - 0.5) * 0.38, med, 0.38, yerr=[lo, hi], capsize=3,
                label=key.replace("batch_", "").replace("_", " "))
    ax1.set_xticks(x, ENGINES)
    ax1.set_ylabel("messages/s (median, min-max)")
    ax1.set_title("Batch throughput")
    ax1.legend()
    lat = result["single_40_tokens"]
    ax2.bar(x - 0.19, [lat[n]["median_ms"]["median"] for n in ENGINES], 0.38, label="median")
    ax2.bar(x + 0.19, [lat[n]["p99_ms"]["median"] for n in ENGINES], 0.38, label="p99")
    ax2.set_xticks(x, ENGINES)
    ax2.set_ylabel("ms per message")
    ax2.set_title("Single message (~40 tokens)")
    ax2.legend()
    common.save_png(fig, out, "scoring")


def run(args: Any) -> dict[str, Any]:
    path = common.model_dir(args.model)
    sizes = {"batch": 64, "single": 30, "rounds": 2, "auroc": 300} if args.quick else \
        {"batch": 512, "single": 200, "rounds": 5, "auroc": 3000}
    result: dict[str, Any] = {"benchmark": "scoring", "machine": common.machine(),
                              "model": common.model_info(path), "threads": args.threads,
                              "sizes": sizes, "quick": args.quick}
    tok = common.hf_tokenizer(path)
    fixed = common.fixed_tokens(tok, 40, sizes["batch"])
    mix, mix_source = common.length_mix(sizes["batch"])
    result["sets"] = {"fixed_40": common.token_counts(tok, fixed),
                      "length_mix": {"source": mix_source, **common.token_counts(tok, mix)}}
    with common.fp32_model_dir(path) as fp32_dir:
        engines = Engines(path, fp32_dir, args.threads)
        result["runtime"] = {
            "int8_one_per_call": bool(getattr(engines.int8, "one_per_call", False)),
            "int8_windows_per_call": engines.int8.batch_size,
            "fp32_windows_per_call": engines.fp32.batch_size, "hf_pipeline_batch_size": 32}
        for key, texts in (("batch_40_tokens", fixed), ("batch_length_mix", mix)):
            common.log(f"{key}: {len(texts)} messages x {sizes['rounds']} rounds")
            result[key] = throughput(engines, texts, sizes["rounds"])
        for key, texts in (("single_40_tokens", fixed), ("single_length_mix", mix)):
            common.log(f"{key}: {sizes['single']} messages x {sizes['rounds']} rounds")
            result[key] = latency(engines, texts[: sizes["single"]], sizes["rounds"])
        rows, source = eval_rows(sizes["auroc"])
        common.log(f"auroc on {len(rows)} rows of {source}")
        t0 = time.perf_counter()
        result["auroc"] = {"source": source, **auroc(engines, rows)}
        result["auroc"]["seconds"] = round(time.perf_counter() - t0, 1)
        result["auroc"]["calibration_slopes"] = {
            h: engines.int8.manifest.calibration(h).a for h in engines.int8.heads}
    result["ratios_vs_hf"] = ratios(result)
    return result


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ENGINES[1:]:
        out[name] = {
            key: common.ratio(result[key][name]["median"], result[key]["hf-torch"]["median"])
            for key in ("batch_40_tokens", "batch_length_mix")}
        for key in ("single_40_tokens", "single_length_mix"):
            out[name][f"{key}_speedup"] = common.ratio(
                result[key]["hf-torch"]["median_ms"]["median"],
                result[key][name]["median_ms"]["median"])
    return out


def main() -> None:
    args = common.parse(common.parser(__doc__.splitlines()[0]))
    result = run(args)
    common.write_json(args.out, "scoring", result)
    chart(result, args.out)
    common.log(f"ratios vs HF: {result['ratios_vs_hf']}")


if __name__ == "__main__":
    main()
