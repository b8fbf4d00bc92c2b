"""Backlog re-scoring, end to end: `triage score FILE -o OUT` on a synthetic 100,000-row JSONL
of ~40-token messages, timed from the command's start to its exit (file read, language gate,
tokenization, inference and write included), with the peak memory of the whole process tree.

The messages are composed at random from word lists (benchmark input, not training data).
Each engine runs in its own `triage score` process; the local engine is run first, then Ray
Data on the same machine (`--engine ray`), and their outputs are compared row by row.

    python bench/backlog.py [--model DIR] [--rows 100000] [--engine local|ray|both] [--quick]
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

from bench import common

OPENERS = ["hi", "hello", "hey team", "good morning", "to whom it may concern", "dear support",
           "urgent", "quick question", "ok so", "third time writing"]
SUBJECTS = ["my order", "the invoice", "my card", "the app", "my account", "the router",
            "the refund", "my flight booking", "the subscription", "the delivery", "my password",
            "the monthly bill", "the premium plan", "my parcel", "the payment"]
PROBLEMS = ["has not arrived yet", "was charged twice", "keeps crashing when I log in",
            "is locked and I cannot get in", "shows the wrong amount", "was cancelled without notice",
            "stopped working yesterday", "is still pending after two weeks", "was never refunded",
            "has been down since this morning", "got delivered to the wrong address"]
FEELINGS = ["this is really frustrating", "I am quite disappointed", "no rush", "thanks in advance",
            "I need this fixed today", "otherwise I will cancel", "I am thinking of switching",
            "this is unacceptable", "appreciate your help", "please advise", "honestly fed up"]
DETAILS = ["order number {n}", "ticket {n}", "account ending in {n}", "since {d} days",
           "I already called twice", "I tried reinstalling", "your chat bot was no help",
           "the tracking page shows nothing", "my bank confirmed the charge"]
CLOSERS = ["thanks", "regards", "cheers", "please call me back", "waiting for your answer", "bye"]


def message(rng: random.Random) -> str:
    """One synthetic support message of roughly 40 word pieces."""
    parts = [rng.choice(OPENERS) + ",", rng.choice(SUBJECTS), rng.choice(PROBLEMS) + "."]
    for _ in range(rng.randint(2, 3)):
        parts.append(rng.choice(DETAILS).format(n=rng.randint(10000, 99999), d=rng.randint(2, 30))
                     + ".")
    parts += [rng.choice(FEELINGS).capitalize() + ".", rng.choice(CLOSERS)]
    if rng.random() < 0.5:
        parts.insert(3, f"Also {rng.choice(SUBJECTS)} {rng.choice(PROBLEMS)}.")
    return " ".join(parts)


def write_input(path: Path, rows: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    channels = ["email", "chat", "web", "app_review", "social"]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            row = {"id": f"bk-{i:07d}", "customer_id": f"c{rng.randint(1, 20000)}",
                   "channel": rng.choice(channels), "text": message(rng)}
            handle.write(json.dumps(row) + "\n")


class TreeMemory:
    """Peak resident memory of a process and all its descendants, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, sum(_rss(p) for p in _tree(self.pid)))

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_engine(engine: str, src: Path, out: Path, args: Any, model: Path) -> dict[str, Any]:
    """One `triage score` process: wall time, the engine's own summary, peak memory."""
    cmd = [sys.executable, "-c", "from triage.cli import app; app()", "score", str(src),
           "-o", str(out), "--model", str(model), "--engine", engine, "--threads",
           str(args.threads), "--workers", str(args.workers), "--log-every", "30"]
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    common.log(" ".join(cmd[3:]))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    memory = TreeMemory(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    peak_tree = memory.stop()
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{engine} run failed with {os.waitstatus_to_exitcode(status)}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    rows = summary["rows"]
    return {"engine": engine, "rows": rows, "wall_s": round(wall, 2),
            "rows_per_s_end_to_end": round(rows / wall, 1),
            "engine_elapsed_s": summary["elapsed_s"], "rows_per_s_engine": summary["rows_per_s"],
            "peak_rss_mib_process": round(usage.ru_maxrss / 1024, 1),
            "peak_rss_mib_tree": round(peak_tree / 2**20, 1), "summary": summary}


def scores(path: Path) -> list[tuple[Any, ...]]:
    from triage.batch.rows import read_items

    return [tuple(item.row.get(h) for h in (*common.HEADS, "id"))  # type: ignore[union-attr]
            for item in read_items(path)]


def compare(a: Path, b: Path) -> dict[str, Any]:
    left, right = scores(a), scores(b)
    same_order = [r[-1] for r in left] == [r[-1] for r in right]
    diffs = [abs(x - y) for l, r in zip(left, right) for x, y in zip(l[:3], r[:3])
             if x is not None and y is not None]
    return {"rows": [len(left), len(right)], "same_order": same_order,
            "max_abs_score_diff": max(diffs, default=0.0),
            "identical_scores": all(l == r for l, r in zip(left, right)) and len(left) == len(right)}


def main() -> None:
    p = common.parser(__doc__.split("\n\n")[0].replace("\n", " "))
    p.add_argument("--rows", type=int, default=None, help="rows to generate (default 100,000)")
    p.add_argument("--engine", choices=["local", "ray", "both"], default="both")
    p.add_argument("--workers", type=int, default=0,
                   help="local inference threads / Ray actors (0: one per core)")
    p.add_argument("--batch-size", type=int, default=0, help="messages per ONNX call")
    p.add_argument("--keep", type=Path, default=None, help="keep input and outputs here")
    p.set_defaults(threads=0)  # 0: the command's own default (one 1-thread worker per core)
    args = common.parse(p)
    machine = common.machine()  # before the runs: its load average is the one at the start
    rows = args.rows or (5_000 if args.quick else 100_000)
    model = common.model_dir(args.model)
    work = args.keep or Path(tempfile.mkdtemp(prefix="triage-backlog-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "backlog.jsonl"
    write_input(src, rows)
    tokens = common.token_counts(common.hf_tokenizer(model), _texts(src, 2000))
    common.log(f"{rows:,} rows, {src.stat().st_size / 2**20:.1f} MiB, tokens {tokens}")
    engines = ["local", "ray"] if args.engine == "both" else [args.engine]
    runs: dict[str, dict[str, Any]] = {}
    for engine in engines:
        out = work / f"scored-{engine}.jsonl"
        runs[engine] = run_engine(engine, src, out, args, model)
        runs[engine]["output"] = str(out)
        common.log(json.dumps({k: v for k, v in runs[engine].items() if k != "summary"}))
    result: dict[str, Any] = {"benchmark": "backlog", "machine": machine,
                              "model": common.model_info(model), "rows": rows,
                              "input_mib": round(src.stat().st_size / 2**20, 1),
                              "tokens": tokens, "threads": args.threads,
                              "workers": args.workers, "runs": runs}
    if len(runs) == 2:
        result["ray_vs_local"] = {
            "throughput_ratio": common.ratio(runs["ray"]["rows_per_s_end_to_end"],
                                             runs["local"]["rows_per_s_end_to_end"]),
            **compare(Path(runs["local"]["output"]), Path(runs["ray"]["output"]))}
    common.write_json(args.out, "backlog", result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2, default=str))


def _texts(path: Path, limit: int) -> list[str]:
    out = []
    for row in common.read_jsonl(path):
        out.append(row["text"])
        if len(out) == limit:
            break
    return out


if __name__ == "__main__":
    main()
