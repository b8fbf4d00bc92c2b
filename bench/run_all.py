"""Run every benchmark, one after another, each in its own process; results under docs/bench/.

Order: scoring, batch_speed (`triage score` vs a transformers pipeline, whole processes),
int8_fidelity (fp32 vs int8 per call vs per token), http (bench/http_load.py), queue (bench/queue_claims.py), scaling (reads
http.json for the server's memory and runs a 1M-row re-score through bench/backlog.py), backlog (the batch helper's 100k-row local vs Ray
run), quality, retrain. A failing benchmark is recorded and the next one still runs.

    python bench/run_all.py [--model DIR] [--quick] [--only scoring,http,...]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: import `bench` from the repository root, not from this folder.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import subprocess
import time
from typing import Any

from bench import common

ORDER = ("scoring", "batch_speed", "int8_fidelity", "http", "queue", "scaling", "backlog",
         "quality", "retrain")
# A benchmark's script, where its file name differs from its name (and its results' name).
SCRIPTS = {"http": "http_load", "queue": "queue_claims"}


def command(name: str, args: Any) -> list[str]:
    cmd = [sys.executable, str(common.ROOT / "bench" / f"{SCRIPTS.get(name, name)}.py"), "--out", str(args.out),
           "--threads", str(args.threads)]
    if args.model:
        cmd += ["--model", str(args.model)]
    if args.quick:
        cmd.append("--quick")
    return cmd


# ---------------------------------------------------------------- markdown tables

def _mm(cell: dict[str, Any] | None, fmt: str = "{:.1f}") -> str:
    """`median (min–max)` of a summary."""
    if not cell or cell.get("median") is None:
        return "–"
    m, lo, hi = (fmt.format(cell[k]) for k in ("median", "min", "max"))
    return f"{m} ({lo}–{hi})"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def scoring_tables(r: dict[str, Any]) -> str:
    from bench.scoring import ENGINES

    rows = []
    for e in ENGINES:
        ratio = r["ratios_vs_hf"].get(e, {})
        rows.append([e, _mm(r["batch_40_tokens"][e]), ratio.get("batch_40_tokens", "1.00"),
                     _mm(r["batch_length_mix"][e]), ratio.get("batch_length_mix", "1.00"),
                     _mm(r["single_40_tokens"][e]["median_ms"], "{:.2f}"),
                     _mm(r["single_40_tokens"][e]["p99_ms"], "{:.2f}"),
                     _mm(r["single_length_mix"][e]["median_ms"], "{:.2f}")])
    speed = _table(["engine", "batch msg/s, 40 tok", "x HF", "batch msg/s, length mix", "x HF",
                    "single p50 ms, 40 tok", "single p99 ms, 40 tok",
                    "single p50 ms, mix"], rows)
    a = r["auroc"]
    keys = list(a["hf-torch"])
    auroc = _table(["head/source", "hf-torch", "onnx-fp32", "onnx-int8"],
                   [[k, *(f"{a[e].get(k, float('nan')):.4f}" for e in
                          ("hf-torch", "onnx-fp32", "onnx-int8"))] for k in keys])
    return f"{speed}\n\nAUROC on {a['rows']} {a['source']} rows:\n\n{auroc}"


def http_table(r: dict[str, Any]) -> str:
    rows = [[c["workers"], c["endpoint"], c["concurrency"], _mm(c["p50_ms"]),
             _mm(c["p95_ms"]), _mm(c["p99_ms"]), _mm(c["rps"]), c["requests_ok"],
             sum(c["errors"].values())] for c in r["cells"]]
    return _table(["workers", "endpoint", "conc.", "p50 ms", "p95 ms", "p99 ms", "req/s",
                   "requests", "errors"], rows)


def queue_table(r: dict[str, Any]) -> str:
    rows = []
    for backend in ("sqlite", "postgresql"):
        s = r[backend]["summary"]
        rows.append([backend, _mm(s["intake_per_second"]), _mm(s["intake_p99_ms"]),
                     _mm(s["claim_resolve_per_second"]), _mm(s["claim_resolve_p99_ms"]),
                     _mm(s["mixed_per_second"]), s["double_claims"], s["lost_tickets"],
                     s["errors"]])
    return _table(["backend", "intake/s", "intake p99 ms", "claim+resolve/s",
                   "claim/resolve p99 ms", "mixed claims/s", "double claims", "lost",
                   "errors"], rows)


def scaling_tables(r: dict[str, Any]) -> str:
    length = _table(["tokens", "windows", "msg/s (256 messages per call)", "single p50 ms",
                     "single p99 ms"],
                    [[n, v["windows"], _mm(v["messages_per_s"]), _mm(v["single_p50_ms"], "{:.2f}"),
                      _mm(v["single_p99_ms"], "{:.2f}")] for n, v in r["by_length"].items()])
    batch = _table(["engine (~40-token messages)", "msg/s"],
                   [[name, _mm(v)] for name, v in r["by_batch"]["rates"].items()])
    memory = _table(["what", "peak RSS MiB (process tree)", "largest process MiB", "detail"], [
        [f"server, {w.replace('_', ' ')}", v.get("tree_peak_rss_mib"),
         v.get("max_process_hwm_mib"), f"{v.get('processes')} processes"]
        for w, v in r["server_memory"].items() if isinstance(v, dict)] + [
        [f"re-score of {r['backlog_memory'].get('rows', '?'):,} rows",
         r["backlog_memory"].get("peak_rss_mib_tree", "–"),
         r["backlog_memory"].get("peak_rss_mib_process", "–"),
         f"{r['backlog_memory'].get('rows_per_s_end_to_end', '–')} rows/s end to end"]])
    return f"{length}\n\n{batch}\n\n{memory}"


def backlog_table(r: dict[str, Any]) -> str:
    rows = [[name, f"{v['rows']:,}", v["wall_s"], v["rows_per_s_end_to_end"],
             v["rows_per_s_engine"], v["peak_rss_mib_process"], v["peak_rss_mib_tree"]]
            for name, v in r["runs"].items()]
    table = _table(["engine", "rows", "wall s", "rows/s end to end", "rows/s (engine's own)",
                    "peak RSS MiB (process)", "peak RSS MiB (process tree)"], rows)
    same = r.get("ray_vs_local")
    if same:
        table += (f"\n\nRay / local throughput {same['throughput_ratio']}; same rows in the same "
                  f"order: {same['same_order']}; largest score difference "
                  f"{same['max_abs_score_diff']}.")
    return f"{r['rows']:,} rows, {r['input_mib']} MiB, tokens per message {r['tokens']}\n\n{table}"


def quality_table(r: dict[str, Any]) -> str:
    from bench.quality import markdown

    return markdown(r["auroc"])


def retrain_table(r: dict[str, Any]) -> str:
    rows = []
    for name in ("airline", "banking77"):
        e = r[name]
        for head in e["heads"]:
            new, old = e["retrained"][head], e["default_model"][head]
            rows.append([name, head, e["train_rows_used"], f"{new['n']} ({new['positives']})",
                         f"{new['auroc']:.3f}", f"{old['auroc']:.3f}", f"{new['f1']:.3f}",
                         f"{old['f1']:.3f}", f"{new['accuracy']:.3f}",
                         e["training"]["seconds"]])
    return _table(["data", "head", "train rows", "test n (pos)", "AUROC retrained",
                   "AUROC default", "F1 retrained", "F1 default", "accuracy retrained",
                   "train s"], rows)


RENDER = {"scoring": scoring_tables, "http": http_table, "queue": queue_table,
          "scaling": scaling_tables, "backlog": backlog_table, "quality": quality_table,
          "retrain": retrain_table}


def render(out: Path) -> str:
    """Markdown tables for every JSON result present in `out`."""
    import json

    parts = []
    for name, func in RENDER.items():
        path = out / f"{name}.json"
        if path.is_file():
            r = json.loads(path.read_text())
            m = r["machine"]
            parts.append(f"### {name} ({m['date']}, commit {m['git_commit']}, load "
                         f"{m['load_avg_start']} -> {m.get('load_avg_end')})\n\n{func(r)}")
    return "\n\n".join(parts)


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(ORDER), help="comma-separated subset, in order")
    p.add_argument("--tables", action="store_true",
                   help="only print markdown tables from the JSON results in --out")
    args = common.parse(p)
    if args.tables:
        print(render(args.out))
        return
    wanted = [n for n in args.only.split(",") if n]
    unknown = set(wanted) - set(ORDER)
    if unknown:
        raise SystemExit(f"unknown benchmarks {sorted(unknown)}; choose from {list(ORDER)}")
    result: dict[str, Any] = {"benchmark": "run_all", "machine": common.machine(),
                              "model": common.model_info(common.model_dir(args.model)),
                              "quick": args.quick, "runs": []}
    for name in (n for n in ORDER if n in wanted):
        cmd = command(name, args)
        common.log(f"== {name}: {' '.join(cmd[1:])} (load {common.load()})")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=common.ROOT, check=False)
        result["runs"].append({"benchmark": name, "returncode": proc.returncode,
                               "seconds": round(time.perf_counter() - t0, 1),
                               "load_after": common.load()})
        if proc.returncode != 0:
            common.log(f"{name} failed with exit code {proc.returncode}; continuing")
    common.write_json(args.out, "run_all", result)
    failed = [r["benchmark"] for r in result["runs"] if r["returncode"] != 0]
    if failed:
        raise SystemExit(f"failed: {failed}")


if __name__ == "__main__":
    main()
