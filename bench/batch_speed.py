"""The batch path against a plain `transformers` pipeline, whole processes on the same weights.

Two inputs: the first 5,000 rows of `../shared/data/eval/dev.jsonl` (real lengths, mostly
short tweets; only `id` and `text` are kept, in a temporary file) and 5,000 messages of 40
tokens cut from our samples. Two engines, each a fresh process per run, timed from start
to exit, interleaved over `--rounds` rounds (median reported):

- `pipeline`: a plain Hugging Face text-classification pipeline on torch, loading the model
  directory's own checkpoint (`hf/`), batch 32, truncation at 128 tokens, `--threads` torch
  threads; reads the JSONL, writes one JSON line of scores per row.
- `triage`: `triage score FILE -o OUT`, as a user runs it (the local batch engine with its
  defaults: one single-threaded inference worker per core).

Also `triage score --text "..."` from start to answer (median of `--text-runs` runs), and
the outputs compared: the pipeline's probabilities are uncalibrated, so the comparison is
of the ranking (AUROC of both on the dev rows' labels, per head).

    python bench/batch_speed.py [--model DIR] [--rounds 3] [--rows 5000] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import json
import os
import statistics
import subprocess
import tempfile
import time
from typing import Any

from bench import common

PIPELINE_WORKER = "--pipeline-worker"


def pipeline_worker(model: Path, src: Path, out: Path, threads: int) -> None:
    """The baseline, run in its own process: read, score with the HF pipeline, write."""
    pipe = common.hf_pipeline(model, threads)
    rows = list(common.read_jsonl(src))
    probs = common.hf_probs(pipe, [r["text"] for r in rows], batch_size=32)
    with open(out, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"id": row["id"], **{h: float(v) for h, v in
                                                        zip(common.HEADS, p, strict=True)}})
                         + "\n" for row, p in zip(rows, probs, strict=True))


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - start


def _triage(*args: str) -> list[str]:
    """The `triage` command as installed beside this Python (what a user runs)."""
    return [str(Path(sys.executable).with_name("triage")), *args]


def write_inputs(tmp: Path, rows: int, model: Path) -> dict[str, Path]:
    dev = common.dev_rows()
    if not dev:
        raise SystemExit(f"{common.DEV} is missing: this benchmark needs the shared dev set")
    paths = {"dev": tmp / "dev.jsonl", "fixed40": tmp / "fixed40.jsonl"}
    with open(paths["dev"], "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"id": row["id"], "text": row["text"]}) + "\n" for row in dev[:rows])
    texts = common.fixed_tokens(common.hf_tokenizer(model), 40, rows)
    with open(paths["fixed40"], "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"id": f"f{i}", "text": text}) + "\n" for i, text in enumerate(texts))
    return paths


def auroc_by_head(scores: Path, labels: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    from triage.metrics import head_metrics

    rows = list(common.read_jsonl(scores))
    out: dict[str, float | None] = {}
    for head in common.HEADS:
        pairs = [(labels[r["id"]][head], r[head]) for r in rows
                 if labels[r["id"]].get(head) is not None and r.get(head) is not None]
        if pairs:
            y, p = zip(*pairs, strict=True)
            out[head] = head_metrics(list(y), list(p)).auroc
    return out


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--text-runs", type=int, default=5)
    args = common.parse(p)
    if args.quick:
        args.rounds, args.rows, args.text_runs = 1, 300, 2
    model = common.model_dir(args.model)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRIAGE_MODEL_DIR": str(model),
           "PYTHONPATH": str(common.ROOT)}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp_name:
        tmp = Path(tmp_name)
        inputs = write_inputs(tmp, args.rows, model)
        result: dict[str, Any] = {"machine": common.machine(), "model": common.model_info(model),
                                  "rows": args.rows, "rounds": args.rounds,
                                  "threads": args.threads, "inputs": {}}
        for name, src in inputs.items():
            outs = {"pipeline": tmp / f"{name}.pipeline.jsonl", "triage": tmp / f"{name}.triage.jsonl"}
            engines = {
                "pipeline": lambda src=src, outs=outs: _timed(
                    [sys.executable, __file__, PIPELINE_WORKER, str(model), str(src),
                     str(outs["pipeline"]), str(args.threads)], env),
                "triage": lambda src=src, outs=outs: _timed(_triage(
                    "score", str(src), "-o", str(outs["triage"])), env),
            }
            common.log(f"{name}: {args.rounds} interleaved rounds of {list(engines)}")
            times = common.interleave(engines, args.rounds, warmup=0)
            cell: dict[str, Any] = {e: common.summary(t, 2) for e, t in times.items()}
            cell["rows_per_s"] = {e: round(args.rows / statistics.median(t), 1)
                                  for e, t in times.items()}
            cell["speedup"] = common.ratio(statistics.median(times["pipeline"]),
                                           statistics.median(times["triage"]))
            if name == "dev":
                dev = {r["id"]: r for r in common.dev_rows() or []}
                cell["auroc"] = {e: auroc_by_head(path, dev) for e, path in outs.items()}
            result["inputs"][name] = cell
            common.log(f"{name}: pipeline {cell['pipeline']['median']} s, triage "
                       f"{cell['triage']['median']} s: {cell['speedup']}x")
        text = [_timed(_triage("score", "--text", "My card was charged twice and nobody "
                               "answers."), env) for _ in range(args.text_runs)]
        result["score_text_s"] = common.summary(text, 3)
        common.log(f"triage score --text: median {result['score_text_s']['median']} s")
    common.write_json(args.out, "batch_speed", result)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == PIPELINE_WORKER:
        pipeline_worker(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
