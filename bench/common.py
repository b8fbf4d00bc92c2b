"""What every benchmark shares: the command line, the machine description, interleaved
timing, summaries (median and min-max over rounds), message sets, and JSON/PNG writing.

Benchmarks are scripts, not part of the `triage` package: they may import torch and
transformers to measure the alternatives a user would pick instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "docs" / "bench"
SAMPLES = ROOT / "data" / "samples" / "parts"
DEV = ROOT.parent / "shared" / "data" / "eval" / "dev.jsonl"
HEADS = ("frustration", "churn_risk", "urgency")
QUICK_DIR = Path(tempfile.gettempdir()) / "triage-bench-quick"
THREADS = 2


# ---------------------------------------------------------------- command line

def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--model", type=Path, default=None,
                   help="model directory (default: the settings' model dir)")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument("--out", type=Path, default=None,
                   help=f"where JSON and PNG go (default {OUT_DIR}, or {QUICK_DIR} with --quick)")
    p.add_argument("--threads", type=int, default=THREADS,
                   help="threads given to every engine (same for all)")
    return p


def parse(p: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; `--quick` runs write to a scratch folder unless `--out` says."""
    args = p.parse_args()
    if args.out is None:
        args.out = QUICK_DIR if args.quick else OUT_DIR
    return args


def model_dir(arg: Path | None) -> Path:
    """The model directory to benchmark: `--model`, else the settings' model dir."""
    if arg is not None:
        return arg
    from triage.settings import Settings

    return Settings().resolved_model_dir()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- machine

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def versions() -> dict[str, str]:
    import importlib.metadata as md

    names = ["triage", "onnxruntime", "tokenizers", "numpy", "torch", "transformers",
             "scikit-learn", "sqlalchemy", "psycopg", "uvicorn", "fastapi", "httpx",
             "vaderSentiment"]
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def load() -> list[float]:
    """1, 5 and 15 minute load averages (other engineers share this machine)."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """What ran the benchmark: CPU model, cores, RAM, OS, date, git commit, versions, load."""
    dirty = _git("status", "--porcelain", "--", "bench", "triage", "training")
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(dirty),
        "versions": versions(),
        "load_avg_start": load(),
    }


def model_info(path: Path) -> dict[str, Any]:
    """Name, version and base model of the model directory under test."""
    try:
        raw = json.loads((path / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {"dir": str(path)}
    config = raw.get("training", {}).get("config", {})
    return {"dir": str(path), "name": raw.get("name"), "version": raw.get("version"),
            "base_model": config.get("base_model"), "max_length": raw.get("max_length")}


# ---------------------------------------------------------------- statistics

def summary(values: Sequence[float], digits: int = 4) -> dict[str, float | int | None]:
    """Median and min-max of per-round values."""
    if not values:
        return {"median": None, "min": None, "max": None, "rounds": 0}
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits),
            "rounds": len(values)}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def interleave(engines: dict[str, Callable[[], Any]], rounds: int,
               warmup: int = 1) -> dict[str, list[Any]]:
    """Run each engine once per round in turn (A, B, C, A, B, C, ...), rotating who goes first.

    Each callable performs one measurement and returns it. Warm-up rounds are discarded.
    """
    names = list(engines)
    results: dict[str, list[Any]] = {n: [] for n in names}
    for r in range(warmup + rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            value = engines[name]()
            if r >= warmup:
                results[name].append(value)
    return results


def ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return None if not a or not b else round(a / b, digits)


def time_call(func: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


# ---------------------------------------------------------------- messages

def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def sample_rows() -> list[dict[str, Any]]:
    """Our own labelled tickets (data/samples/parts)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(SAMPLES.glob("*.jsonl")):
        rows.extend(read_jsonl(path))
    return rows


def dev_rows() -> list[dict[str, Any]] | None:
    """The shared dev set's rows, read at run time (never copied), or None when absent."""
    return list(read_jsonl(DEV)) if DEV.is_file() else None


def length_mix(count: int, seed: int = 7) -> tuple[list[str], str]:
    """`count` real messages with real lengths: dev-set texts, else our samples."""
    rows = dev_rows()
    source = "dev.jsonl"
    if not rows:
        rows, source = sample_rows(), "data/samples"
    rng = random.Random(seed)
    return [r["text"] for r in rng.sample(rows, min(count, len(rows)))], source


def fixed_tokens(tokenizer: Any, tokens: int, count: int, seed: int = 7) -> list[str]:
    """`count` messages of about `tokens` tokens (with [CLS]/[SEP]) cut from our samples.

    Sample texts are concatenated until long enough, then cut to `tokens - 2` word pieces and
    decoded, so each message is real support text of a fixed length.
    """
    texts = [r["text"] for r in sample_rows()]
    random.Random(seed).shuffle(texts)
    pool = itertools.cycle(texts)
    out: list[str] = []
    while len(out) < count:
        ids: list[int] = []
        while len(ids) < tokens + 30:
            ids.extend(tokenizer.encode(next(pool), add_special_tokens=False).ids)
        out.append(_cut(tokenizer, ids, tokens - 2))
    return out


def _cut(tokenizer: Any, ids: list[int], keep: int) -> str:
    """Decode about `keep` pieces so that re-encoding gives `keep` (decode/encode does not
    round-trip exactly: pieces can merge or re-split), adjusting the cut a few times."""
    cut = keep
    text = tokenizer.decode(ids[:cut])
    for _ in range(8):
        error = len(tokenizer.encode(text, add_special_tokens=False).ids) - keep
        if error == 0:
            break
        cut = max(1, min(len(ids), cut - error))
        text = tokenizer.decode(ids[:cut])
    return text


def token_counts(tokenizer: Any, texts: Sequence[str]) -> dict[str, float]:
    lengths = [len(e.ids) for e in tokenizer.encode_batch(list(texts))]
    return {"median": statistics.median(lengths), "p90": percentile(lengths, 90),
            "max": max(lengths), "mean": round(statistics.fmean(lengths), 1),
            "over_128": sum(n > 128 for n in lengths)}


# ---------------------------------------------------------------- engines

def hf_tokenizer(path: Path) -> Any:
    """The model's fast tokenizer with padding and truncation off (for counting tokens)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


@contextmanager
def fp32_model_dir(path: Path) -> Iterator[Path]:
    """A temporary copy of the model directory whose model.onnx is the fp32 graph.

    The manifest is re-written with `write_manifest` so its hash check passes.
    """
    from triage.models.manifest import write_manifest

    with tempfile.TemporaryDirectory(prefix="bench-fp32-") as tmp:
        dst = Path(tmp)
        shutil.copyfile(path / "model-fp32.onnx", dst / "model.onnx")
        shutil.copyfile(path / "tokenizer.json", dst / "tokenizer.json")
        raw = json.loads((path / "manifest.json").read_text())
        raw.setdefault("onnx", {})["quantization"] = "none (fp32 copy for benchmarking)"
        write_manifest(dst, raw)
        yield dst


def hf_pipeline(path: Path, threads: int) -> Any:
    """The plain Hugging Face text-classification pipeline on torch/CPU over `hf/`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(threads)
    return pipeline("text-classification", model=str(path / "hf"), top_k=None,
                    function_to_apply="sigmoid", device=-1)


def hf_probs(pipe: Any, texts: list[str], batch_size: int = 32) -> Any:
    """(n, 3) probabilities in head order from the HF pipeline (truncated at 128 tokens)."""
    import numpy as np

    out = pipe(texts, batch_size=batch_size, truncation=True, max_length=128)
    return np.array([[{d["label"]: d["score"] for d in row}[h] for h in HEADS] for row in out])


# ---------------------------------------------------------------- output

def write_json(out_dir: Path, name: str, result: dict[str, Any]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    result.setdefault("machine", {})["load_avg_end"] = load()
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    log(f"wrote {path}")
    return path


def figure(*args: Any, **kwargs: Any) -> Any:
    """A matplotlib figure on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_png(fig: Any, out_dir: Path, name: str) -> Path:
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    log(f"wrote {path}")
    return path


# ---------------------------------------------------------------- memory

def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (from /proc/*/stat)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree.extend(frontier)
    return tree


class PeakRSS:
    """Samples the summed RSS of a process tree in a thread; `stop()` returns MiB figures.

    Reports the peak of the tree's summed RSS (sampled every `interval` s) and each process's
    own high-water mark (VmHWM) at the end.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        import threading

        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self.hwm: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        pids = process_tree(self.pid)
        self.peak_kib = max(self.peak_kib, sum(_status_kib(p, "VmRSS") for p in pids))
        for p in pids:
            self.hwm[p] = max(self.hwm.get(p, 0), _status_kib(p, "VmHWM"))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self._sample()
        self._stop.set()
        self._thread.join()
        return {"tree_peak_rss_mib": round(self.peak_kib / 1024, 1),
                "max_process_hwm_mib": round(max(self.hwm.values(), default=0) / 1024, 1),
                "processes": len(self.hwm)}
