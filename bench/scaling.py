"""Scaling of the int8 runtime: messages/s and latency as messages get longer (10, 40, 128,
256, 512 tokens) and as the batch grows; plus peak memory of the server (from the HTTP run)
and of a 1M-row backlog re-score (from bench/backlog.py, when present).

Messages longer than the model's 128-token window are scored as overlapping windows
(each window is scored, then they are combined), so their cost grows with the number of
windows, which is reported.
Configurations run interleaved in rounds; every run uses the same threads.

    python bench/scaling.py [--model DIR] [--quick] [--backlog-rows N] [--backlog-json FILE]

The 1M-row re-score takes about half an hour on 2 cores; `--backlog-json` takes its figures
from an earlier `python bench/backlog.py --rows 1000000 --engine local --out DIR` instead
(DIR/backlog.json) so the rest can be re-run alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: import `bench` from the repository root, not from this folder.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import json
import subprocess
import tempfile
from typing import Any

from bench import common

LENGTHS = (10, 40, 128, 256, 512)
BATCHES = (1, 4, 8, 16, 32, 64, 128)


def windows(model: Any, text: str) -> int:
    enc = model.tokenizer.encode(text)
    return min(1 + len(enc.overflowing), model.manifest.max_chunks)


def by_length(path: Path, args: Any, sizes: dict[str, int]) -> dict[str, Any]:
    """Batch messages/s and single-message latency for each message length."""
    from triage.models.runtime import ScoringModel

    model = ScoringModel(path, threads=args.threads, batch_size=32)
    tok = common.hf_tokenizer(path)
    sets = {n: common.fixed_tokens(tok, n, sizes["messages"], seed=n) for n in LENGTHS}

    def measure(n: int) -> dict[str, float]:
        texts = sets[n]
        rate = len(texts) / common.time_call(lambda: model.predict_proba(texts))
        single = [common.time_call(lambda t=t: model.predict_proba([t])) * 1000
                  for t in texts[: sizes["single"]]]
        return {"rate": rate, "p50": common.percentile(single, 50),
                "p99": common.percentile(single, 99)}

    runs = common.interleave({n: (lambda n=n: measure(n)) for n in LENGTHS}, sizes["rounds"])
    return {str(n): {"tokens": common.token_counts(tok, sets[n])["median"],
                     "windows": windows(model, sets[n][0]),
                     "messages_per_s": common.summary([r["rate"] for r in runs[n]], 1),
                     "single_p50_ms": common.summary([r["p50"] for r in runs[n]], 3),
                     "single_p99_ms": common.summary([r["p99"] for r in runs[n]], 3)}
            for n in LENGTHS}


def batching(model: Any, batch: int) -> Any:
    """`model` with its batch invariance switched off: windows run `batch` to a call through
    the runtime's own length-sorted batching, to measure what batching int8 would give."""
    model.batch_size = batch
    return model


def by_batch(path: Path, args: Any, sizes: dict[str, int]) -> dict[str, Any]:
    """Messages/s per batch size on ~40-token messages, for the engines that can batch.

    The runtime scores dynamic-int8 windows one per call (so a message's score never depends
    on the messages it is batched with), so `batch_size` does not apply to it. Measured here:
    fp32 through the runtime (batch-invariant at any size); int8 through the runtime with its
    batch invariance switched off (what batching would give, were it allowed); and, for reference, the runtime's
    int8 path with 2 threads, and with 1 thread called from 2 threads at once.
    """
    from concurrent.futures import ThreadPoolExecutor

    from triage.models.runtime import ScoringModel

    tok = common.hf_tokenizer(path)
    texts = common.fixed_tokens(tok, 40, sizes["messages"])
    int8 = ScoringModel(path, threads=args.threads)
    int8_1 = ScoringModel(path, threads=1)
    int8_batched = {b: batching(ScoringModel(path, threads=args.threads), b) for b in BATCHES}
    pool = ThreadPoolExecutor(args.threads)
    halves = [texts[k::args.threads] for k in range(args.threads)]
    with common.fp32_model_dir(path) as fp32_dir:
        fp32 = {b: ScoringModel(fp32_dir, threads=args.threads, batch_size=b) for b in BATCHES}
        engines: dict[str, Any] = {}
        for b in BATCHES:
            engines[f"fp32 runtime, batch {b}"] = (
                lambda b=b: len(texts) / common.time_call(lambda: fp32[b].predict_proba(texts)))
            engines[f"int8 session, batch {b}"] = (
                lambda b=b: len(texts) / common.time_call(
                    lambda: int8_batched[b].predict_proba(texts)))
        engines["int8 runtime (one window per call), 2 threads"] = (
            lambda: len(texts) / common.time_call(lambda: int8.predict_proba(texts)))
        engines["int8 runtime, 1 thread x 2 callers"] = (
            lambda: len(texts) / common.time_call(
                lambda: list(pool.map(int8_1.predict_proba, halves))))
        runs = common.interleave(engines, sizes["rounds"])
    pool.shutdown()
    return {"int8_one_per_call": bool(getattr(int8, "one_per_call", False)),
            "int8_runtime_batch_size": int8.batch_size,
            "rates": {name: common.summary(v, 1) for name, v in runs.items()}}


def server_memory(out: Path) -> dict[str, Any]:
    path = out / "http.json"
    if not path.is_file():
        return {"status": f"not measured: run bench/http_load.py first (no {path})"}
    http = json.loads(path.read_text())
    return {"from": str(path.relative_to(common.ROOT) if path.is_relative_to(common.ROOT)
                        else path), "date": http["machine"]["date"], **http["server_memory"]}


def backlog_memory(path: Path, rows: int, threads: int,
                   earlier: Path | None = None) -> dict[str, Any]:
    """Peak RSS of a `rows`-row re-score, measured by bench/backlog.py (local engine)."""
    if earlier is not None:
        report = json.loads(earlier.read_text())
        local = report["runs"]["local"]
        return {"command": f"python bench/backlog.py --rows {local['rows']} --engine local",
                "from": str(earlier), "date": report["machine"]["date"],
                "load_avg": [report["machine"].get("load_avg_start"),
                             report["machine"].get("load_avg_end")],
                **{k: local[k] for k in ("rows", "wall_s", "rows_per_s_end_to_end",
                                         "peak_rss_mib_process", "peak_rss_mib_tree")}}
    script = common.ROOT / "bench" / "backlog.py"
    with tempfile.TemporaryDirectory(prefix="bench-backlog-") as tmp:
        cmd = [sys.executable, str(script), "--model", str(path), "--rows", str(rows),
               "--engine", "local", "--threads", str(threads), "--out", tmp,
               "--keep", tmp]
        common.log(" ".join(cmd[1:]))
        proc = subprocess.run(cmd, cwd=common.ROOT, capture_output=True, text=True,
                              check=False)
        report = Path(tmp) / "backlog.json"
        if proc.returncode != 0 or not report.is_file():
            return {"status": f"bench/backlog.py failed ({proc.returncode})",
                    "stderr_tail": proc.stderr[-1500:]}
        local = json.loads(report.read_text())["runs"]["local"]
    return {"command": f"python bench/backlog.py --rows {rows} --engine local "
                       f"--threads {threads}",
            **{k: local[k] for k in ("rows", "wall_s", "rows_per_s_end_to_end",
                                     "peak_rss_mib_process", "peak_rss_mib_tree")}}


def chart(result: dict[str, Any], out: Path) -> None:
    fig, (ax1, ax2) = common.figure(1, 2, figsize=(11, 4))
    lengths = result["by_length"]
    xs = [int(n) for n in lengths]
    ax1.plot(xs, [lengths[n]["messages_per_s"]["median"] for n in lengths], "o-",
             label="messages/s (256 per call)")
    ax1.set_xscale("log", base=2)
    ax1.set_xticks(xs, [str(x) for x in xs])
    ax1.set_xlabel("tokens per message")
    ax1.set_ylabel("messages/s")
    twin = ax1.twinx()
    twin.plot(xs, [lengths[n]["single_p50_ms"]["median"] for n in lengths], "s--", color="C1",
              label="single message p50, ms")
    twin.set_ylabel("ms per single message")
    ax1.set_title("int8 runtime vs message length")
    ax1.legend(loc="upper right", fontsize=8)
    twin.legend(loc="center right", fontsize=8)
    rates = result["by_batch"]["rates"]
    for prefix in ("fp32 runtime", "int8 session"):
        xs2 = [b for b in BATCHES if f"{prefix}, batch {b}" in rates]
        ax2.plot(xs2, [rates[f"{prefix}, batch {b}"]["median"] for b in xs2], "o-", label=prefix)
    for k, name in enumerate(n for n in rates if "runtime" in n and "batch" not in n):
        ax2.axhline(rates[name]["median"], color=f"C{k + 2}", ls="--", label=name)
    ax2.set_xscale("log", base=2)
    ax2.set_xticks(list(BATCHES), [str(b) for b in BATCHES])
    ax2.set_xlabel("batch size (~40-token messages)")
    ax2.set_ylabel("messages/s")
    ax2.set_title("Throughput vs batch size")
    ax2.legend(fontsize=7)
    common.save_png(fig, out, "scaling")


def run(args: Any) -> dict[str, Any]:
    path = common.model_dir(args.model)
    sizes = {"messages": 64, "single": 16, "rounds": 2} if args.quick else \
        {"messages": 256, "single": 100, "rounds": 5}
    result: dict[str, Any] = {"benchmark": "scaling", "machine": common.machine(),
                              "model": common.model_info(path), "threads": args.threads,
                              "sizes": sizes, "quick": args.quick}
    common.log("by length")
    result["by_length"] = by_length(path, args, sizes)
    common.log("by batch size")
    result["by_batch"] = by_batch(path, args, sizes)
    result["server_memory"] = server_memory(args.out)
    rows = 2000 if args.quick else args.backlog_rows
    result["backlog_memory"] = backlog_memory(path, rows, args.threads,
                                              None if args.quick else args.backlog_json)
    return result


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--backlog-rows", type=int, default=1_000_000)
    p.add_argument("--backlog-json", type=Path, default=None,
                   help="take the re-score figures from this bench/backlog.py result")
    args = common.parse(p)
    result = run(args)
    common.write_json(args.out, "scaling", result)
    chart(result, args.out)


if __name__ == "__main__":
    main()
