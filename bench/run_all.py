"""Run every benchmark, one after another, each in its own process; results under docs/bench/.

Order: scoring, http, queue, scaling (reads http.json for the server's memory and runs a
1M-row re-score through bench/backlog.py), backlog (the batch helper's 100k-row local vs Ray
run), quality, retrain. A failing benchmark is recorded and the next one still runs.

    python bench/run_all.py [--model DIR] [--quick] [--only scoring,http,...]
"""

from __future__ import annotations

import sys
from pathlib import Path

# ruff: noqa: E402  (imports follow the sys.path fix below)
# Run as a script, this file's folder would shadow the standard library's `queue` and `http`.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import subprocess
import time
from typing import Any

from bench import common

ORDER = ("scoring", "http", "queue", "scaling", "backlog", "quality", "retrain")


def command(name: str, args: Any) -> list[str]:
    cmd = [sys.executable, str(common.ROOT / "bench" / f"{name}.py"), "--out", str(args.out),
           "--threads", str(args.threads)]
    if args.model:
        cmd += ["--model", str(args.model)]
    if args.quick:
        cmd.append("--quick")
    return cmd


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(ORDER), help="comma-separated subset, in order")
    args = common.parse(p)
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
        proc = subprocess.run(cmd, cwd=common.ROOT)
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
