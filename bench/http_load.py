"""HTTP service load test: a real `triage serve` on 127.0.0.1, driven by an httpx async client.

Two servers run side by side (1 worker and 2 workers, each with the service's default
inference shape: one intra-op thread per call and one inference slot per core, divided among
the workers; see `triage.api.state.inference_shape`), each on a free loopback port with a fresh SQLite file in a temp dir and an
agent API key made with `triage keys create --role agent`. Cells are (workers, endpoint,
concurrency) with endpoints POST /v1/score (one message) and POST /v1/tickets (intake), at
concurrency 1, 8 and 32. Rounds interleave every cell (A, B, C, ..., A, B, C, ...); each
cell's turn sends a bounded number of requests within a time limit. Reported per cell:
p50/p95/p99 latency and requests/s (median and min-max over rounds), errors, and the peak
RSS of each server. The client shares the 2 cores with the server; its CPU time is recorded.

    python bench/http_load.py [--model DIR] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: import `bench` from the repository root, not from this folder.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import asyncio
import itertools
import json
import os
import resource
import socket
import subprocess
import tempfile
import time
from collections import Counter
from typing import Any

from bench import common

ENDPOINTS = ("/v1/score", "/v1/tickets")
CONCURRENCY = (1, 8, 32)
WORKERS = (1, 2)
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def triage_bin() -> str:
    return str(Path(sys.executable).parent / "triage")


class Server:
    """One `triage serve` subprocess with its own home, SQLite file and API key."""

    def __init__(self, model: Path, workers: int, tmp: Path) -> None:
        self.workers = workers
        self.home = tmp / f"home-w{workers}"
        self.home.mkdir()
        self.port = free_port()
        self.env = dict(os.environ, TRIAGE_HOME=str(self.home), TRIAGE_MODEL_DIR=str(model),
                        TRIAGE_DATABASE_URL=f"sqlite:///{self.home / 'triage.db'}",
                        TRIAGE_HOST=HOST, TRIAGE_PORT=str(self.port),
                        TRIAGE_WORKERS=str(workers),
                        TRIAGE_LOG_LEVEL="warning")
        self.key = self._create_key()
        self.log = open(self.home / "serve.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [triage_bin(), "serve", "--host", HOST, "--port", str(self.port),
             "--workers", str(workers)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.rss = common.PeakRSS(self.proc.pid)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _create_key(self) -> str:
        proc = subprocess.run([triage_bin(), "keys", "create", "--role", "agent",
                               "--name", f"bench-w{self.workers}"],
                              env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)
        if proc.returncode != 0:
            raise SystemExit(f"`triage keys create` failed: {proc.stderr.strip()}")
        return parse_key(proc.stdout)

    def wait_ready(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"triage serve exited ({self.proc.returncode}); see "
                                 f"{self.home / 'serve.log'}:\n{self.tail()}")
            try:
                r = httpx.post(self.url + "/v1/score", json={"text": "is anyone there?"},
                               headers=self.headers(), timeout=5)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"triage serve not ready after {timeout:.0f}s:\n{self.tail()}")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def tail(self) -> str:
        self.log.flush()
        return (self.home / "serve.log").read_text()[-2000:]

    def stop(self) -> dict[str, Any]:
        memory = self.rss.stop()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return memory


def parse_key(stdout: str) -> str:
    """The secret from `triage keys create` output: a JSON object with the key, or a bare line."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if line.strip():
                return line.strip().split()[-1]
            continue
        if isinstance(obj, dict):
            for field in ("key", "api_key", "secret", "token"):
                if isinstance(obj.get(field), str):
                    return str(obj[field])
    raise SystemExit(f"no API key found in `triage keys create` output: {stdout!r}")


def service_settings() -> dict[str, Any]:
    """The server-side settings that shape these numbers (defaults unless set here)."""
    from triage.settings import Settings

    s = Settings()
    return {"explain_top_on_intake": s.explain_top, "max_in_flight": s.max_in_flight,
            "inference_shape": {f"workers_{w}": _shape(w) for w in WORKERS},
            "database": "SQLite file in a temp dir (WAL)"}


def _shape(workers: int) -> dict[str, int]:
    from triage.api.state import inference_shape
    from triage.settings import Settings

    threads, slots = inference_shape(Settings(workers=workers))
    return {"threads_per_call": threads, "slots_per_worker": slots}


class Bodies:
    """Request bodies: sample texts in turn; tickets get a unique external id each."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = itertools.cycle(texts)
        self.counter = itertools.count()

    def __call__(self, endpoint: str) -> dict[str, Any]:
        text = next(self.texts)
        if endpoint == "/v1/score":
            return {"text": text}
        i = next(self.counter)
        return {"text": text, "channel": "email", "external_id": f"bench-{i}",
                "customer": {"customer_id": f"cust-{i % 997}", "tier": "standard"}}


async def load(url: str, headers: dict[str, str], endpoint: str, concurrency: int,
               requests: int, seconds: float, bodies: Bodies) -> dict[str, Any]:
    """Send up to `requests` requests (stopping after `seconds`) from `concurrency` tasks."""
    import httpx

    latencies: list[float] = []
    errors: Counter[str] = Counter()
    sent = itertools.count()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while next(sent) < requests and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                r = await client.post(endpoint, json=bodies(endpoint))
                if r.status_code >= 300:
                    errors[str(r.status_code)] += 1
                    continue
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                continue
            latencies.append((time.perf_counter() - t0) * 1000)

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=30) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"ok": len(latencies), "errors": dict(errors), "seconds": elapsed,
            "rps": len(latencies) / elapsed if elapsed else 0.0,
            "p50": common.percentile(latencies, 50), "p95": common.percentile(latencies, 95),
            "p99": common.percentile(latencies, 99)}


def run(args: Any) -> dict[str, Any]:
    path = common.model_dir(args.model)
    sizes = {"requests": 60, "seconds": 5.0, "rounds": 1, "warmup": 20} if args.quick else \
        {"requests": 600, "seconds": 12.0, "rounds": 3, "warmup": 100}
    texts = [r["text"] for r in common.sample_rows()]
    bodies = Bodies(texts)
    result: dict[str, Any] = {"benchmark": "http", "machine": common.machine(),
                              "model": common.model_info(path), "sizes": sizes,
                              "quick": args.quick,
                              "client": "httpx.AsyncClient (HTTP/1.1 keep-alive), same host",
                              "service_settings": service_settings()}
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        servers = {w: Server(path, w, Path(tmp)) for w in WORKERS}
        try:
            for server in servers.values():
                server.wait_ready()
            cells = {f"w{w}{e}@c{c}": (servers[w], e, c)
                     for w in WORKERS for e in ENDPOINTS for c in CONCURRENCY}
            for server in servers.values():
                for endpoint in ENDPOINTS:
                    asyncio.run(load(server.url, server.headers(), endpoint, 8,
                                     sizes["warmup"], 30, bodies))
            runs = common.interleave(
                {name: (lambda s=s, e=e, c=c: asyncio.run(
                    load(s.url, s.headers(), e, c, sizes["requests"], sizes["seconds"], bodies)))
                 for name, (s, e, c) in cells.items()},
                sizes["rounds"], warmup=0)
        finally:
            memory = {f"workers_{w}": s.stop() for w, s in servers.items()}
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result["client_cpu_seconds"] = round(cpu1.ru_utime + cpu1.ru_stime
                                         - cpu0.ru_utime - cpu0.ru_stime, 1)
    result["server_memory"] = memory
    result["cells"] = [summarise(name, cells[name], per_round)
                       for name, per_round in runs.items()]
    return result


def summarise(name: str, cell: tuple[Server, str, int], rounds: list[dict]) -> dict[str, Any]:
    server, endpoint, concurrency = cell
    errors: Counter[str] = Counter()
    for r in rounds:
        errors.update(r["errors"])
    return {"cell": name, "workers": server.workers, "endpoint": endpoint,
            "concurrency": concurrency, "requests_ok": sum(r["ok"] for r in rounds),
            "errors": dict(errors),
            **{f"{k}_ms": common.summary([r[k] for r in rounds], 2) for k in ("p50", "p95", "p99")},
            "rps": common.summary([r["rps"] for r in rounds], 1)}


def chart(result: dict[str, Any], out: Path) -> None:
    fig, axes = common.figure(1, 2, figsize=(11, 4))
    for ax, endpoint in zip(axes, ENDPOINTS):
        for workers in WORKERS:
            cells = [c for c in result["cells"]
                     if c["endpoint"] == endpoint and c["workers"] == workers]
            xs = [c["concurrency"] for c in cells]
            ax.plot(xs, [c["p99_ms"]["median"] for c in cells], "o-",
                    label=f"p99, {workers} worker(s)")
            ax.plot(xs, [c["p50_ms"]["median"] for c in cells], "s--",
                    label=f"p50, {workers} worker(s)")
        if endpoint == "/v1/score":
            ax.axhline(25, color="red", lw=0.8, ls=":", label="target p99 25 ms @ c8")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(list(CONCURRENCY), [str(c) for c in CONCURRENCY])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("latency, ms (median over rounds, log scale)")
        ax.set_title(f"POST {endpoint}")
        ax.legend(fontsize=7)
    common.save_png(fig, out, "http")


def profile(args: Any) -> dict[str, Any]:
    """Where a 1-worker server spends its time under POST /v1/score at concurrency 8.

    py-spy samples the server (all threads, native frames off) while the load runs; the
    result lists the frames with the most samples, inclusive and own ("self").
    """
    import shutil

    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    path = common.model_dir(args.model)
    bodies = Bodies([r["text"] for r in common.sample_rows()])
    with tempfile.TemporaryDirectory(prefix="bench-http-profile-") as tmp:
        server = Server(path, 1, Path(tmp))
        try:
            server.wait_ready()
            asyncio.run(load(server.url, server.headers(), "/v1/score", 8, 200, 30, bodies))
            raw = Path(tmp) / "profile.txt"
            spy_proc = subprocess.Popen([spy, "record", "--pid", str(server.proc.pid), "-r",
                                         "200", "-f", "raw", "-o", str(raw), "--subprocesses",
                                         "-d", "12"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)
            stats = asyncio.run(load(server.url, server.headers(), "/v1/score", 8, 100_000,
                                     10, bodies))
            spy_proc.wait(timeout=60)
            stacks = raw.read_text() if raw.is_file() else ""
        finally:
            server.stop()
    return {"load": stats, "top": top_frames(stacks)}


IDLE = ("Condition.wait", "EpollSelector.select", "Queue.get", "Event.wait",
        "select (selectors", "_worker (concurrent")
CATEGORIES = (  # first match from the leaf up names the stack's category
    ("onnxruntime inference", ("Session.run (onnxruntime",)),
    ("tokenizer", ("encode_batch", "Tokenizer.encode", "ScoringModel._windows")),
    ("language gate", ("py3langid", "LanguageGate")),
    ("text preparation", ("textprep",)),
    ("database (auth key lookup, SQLAlchemy)", ("sqlalchemy", "sqlite3", "triage/keys")),
    ("JSON and validation (pydantic)", ("pydantic", "json")),
    ("HTTP and framework (uvicorn, starlette, fastapi, anyio, asyncio)",
     ("uvicorn", "h11", "starlette", "fastapi", "anyio", "asyncio")),
)


def top_frames(collapsed: str, n: int = 20) -> dict[str, Any]:
    """Busy samples (idle waits dropped) by category, and the frames with most own time."""
    own: Counter[str] = Counter()
    category: Counter[str] = Counter()
    busy = idle = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, k = stack.split(";"), int(count)
        if any(frames[-1].startswith(w) for w in IDLE):
            idle += k
            continue
        busy += k
        own[frames[-1]] += k
        category[_category(frames)] += k
    if not busy:
        return {"busy_samples": 0, "idle_samples": idle}
    return {"busy_samples": busy, "idle_samples": idle,
            "by_category": {c: round(k / busy, 3) for c, k in category.most_common()},
            "self": {f: round(k / busy, 3) for f, k in own.most_common(n)}}


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--profile", action="store_true",
                   help="only profile a 1-worker server under /v1/score at concurrency 8 "
                        "with py-spy; writes http-profile.json")
    args = common.parse(p)
    if args.profile:
        common.write_json(args.out, "http-profile",
                          {"benchmark": "http-profile", "machine": common.machine(),
                           "model": common.model_info(common.model_dir(args.model)),
                           **profile(args)})
        return
    result = run(args)
    common.write_json(args.out, "http", result)
    chart(result, args.out)
    for c in result["cells"]:
        print(f"{c['cell']:<22} p50 {c['p50_ms']['median']:>8} p99 {c['p99_ms']['median']:>8} "
              f"rps {c['rps']['median']:>8} errors {c['errors']}")


if __name__ == "__main__":
    main()
