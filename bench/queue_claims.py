"""Queue throughput: intake and claim/resolve cycles with 8 concurrent agents, on SQLite and
PostgreSQL, through the service layer (`triage.cases.Cases`) over the real store.

Per backend and round, on a fresh database (a new SQLite file; a new PostgreSQL schema,
dropped afterwards):
  1. intake: N tickets opened by 8 threads (real model scoring, explanations off);
  2. drain: 8 agent threads loop claim -> resolve until the queue is empty;
  3. mixed: 2 intake threads add M more tickets while the 8 agents keep claiming.
Then it verifies: no ticket claimed twice (by case number, across agents, and by the number
of `claimed` audit entries), none lost (every ticket created is resolved), no errors.
Backends run interleaved (SQLite, PostgreSQL, PostgreSQL, SQLite, ...).

    python bench/queue_claims.py [--model DIR] [--quick] [--pg-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: import `bench` from the repository root, not from this folder.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from bench import common

AGENTS = 8
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def sqlite_url() -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        yield f"sqlite:///{tmp}/triage.db"


@contextmanager
def pg_url(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server, dropped at the end."""
    from sqlalchemy import create_engine, text

    schema = f"triage_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Recorder:
    """Thread-safe latencies, errors and claims."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.claims: list[str] = []
        self.created: list[str] = []

    def timed(self, func: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            value = func()
        except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
            with self.lock:
                self.errors[type(exc).__name__] += 1
            return None
        with self.lock:
            self.latencies.append((time.perf_counter() - t0) * 1000)
        return value


def intake(cases: Any, rec: Recorder, texts: list[str], start: int, count: int,
           threads: int, tag: str) -> None:
    from triage.cases import CustomerFacts, NewTicket

    def one(i: int) -> None:
        new = NewTicket(text=texts[i % len(texts)], channel="email", source="bench",
                        external_id=f"{tag}-{i}",
                        customer=CustomerFacts(customer_id=f"cust-{i % 500}", tier="gold"
                                               if i % 7 == 0 else "standard"))
        out = rec.timed(lambda: cases.intake(new, "bench-intake"))
        if out is not None:
            with rec.lock:
                rec.created.append(out.case["case_number"])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(start, start + count)))


def agent(cases: Any, rec: Recorder, name: str, done: threading.Event) -> None:
    """Claim and resolve until the queue is empty and `done` is set."""
    while True:
        case = rec.timed(lambda: cases.claim(name))
        if case is None:
            if done.is_set() and not any(cases.depth().values()):
                return
            time.sleep(0.005)
            continue
        with rec.lock:
            rec.claims.append(case["case_number"])
        number = case["case_number"]
        rec.timed(lambda: cases.resolve(number, name))  # noqa: B023 - called at once


def agents(cases: Any, rec: Recorder, done: threading.Event) -> list[threading.Thread]:
    workers = [threading.Thread(target=agent, args=(cases, rec, f"agent-{k}", done))
               for k in range(AGENTS)]
    for w in workers:
        w.start()
    return workers


def verify(cases: Any, created: int) -> dict[str, Any]:
    """Counts straight from the store: statuses and `claimed` audit entries."""
    from triage.store import queue as q
    from triage.store import repository as repo

    with cases.db.read() as s:
        statuses = q.depth_by_status(s)
        claim_audits = repo.count_actions(s, "claimed")
        resolved_audits = repo.count_actions(s, "resolved")
    return {"statuses": statuses, "claimed_audit_entries": claim_audits,
            "resolved_audit_entries": resolved_audits,
            "lost": created - statuses.get("resolved", 0)}


def phase(rec: Recorder, seconds: float, count: int) -> dict[str, Any]:
    lat = rec.latencies
    return {"count": count, "seconds": round(seconds, 3),
            "per_second": round(count / seconds, 1) if seconds else None,
            "latency_ms": {"p50": round(common.percentile(lat, 50), 2),
                           "p95": round(common.percentile(lat, 95), 2),
                           "p99": round(common.percentile(lat, 99), 2)} if lat else None,
            "errors": dict(rec.errors)}


def one_round(url: str, scorer: Any, texts: list[str], n: int, m: int) -> dict[str, Any]:
    from triage.cases import Cases
    from triage.store import Database

    db = Database(url)
    db.migrate()
    cases = Cases(db, scorer, explain_top=0)
    out: dict[str, Any] = {}
    try:
        rec = Recorder()
        t0 = time.perf_counter()
        intake(cases, rec, texts, 0, n, AGENTS, "a")
        out["intake"] = phase(rec, time.perf_counter() - t0, len(rec.created))
        created = list(rec.created)

        drain, done = Recorder(), threading.Event()
        done.set()
        t0 = time.perf_counter()
        for w in agents(cases, drain, done):
            w.join()
        out["claim_resolve"] = phase(drain, time.perf_counter() - t0, len(drain.claims))

        mixed, feed, done = Recorder(), Recorder(), threading.Event()
        t0 = time.perf_counter()
        workers = agents(cases, mixed, done)
        intake(cases, feed, texts, n, m, 2, "b")
        done.set()
        for w in workers:
            w.join()
        out["mixed"] = phase(mixed, time.perf_counter() - t0, len(mixed.claims))
        out["mixed"]["intake_per_second"] = round(len(feed.created) / out["mixed"]["seconds"], 1)
        out["mixed"]["intake_errors"] = dict(feed.errors)
        created += feed.created
        claims = drain.claims + mixed.claims
        out["check"] = {"tickets_created": len(created), "claims": len(claims),
                        "double_claims": len(claims) - len(set(claims)),
                        "never_claimed": len(set(created) - set(claims)),
                        **verify(cases, len(created))}
        out["check"]["double_claims_by_audit"] = out["check"]["claimed_audit_entries"] - len(
            set(claims))
    finally:
        db.close()
    return out


def run(args: Any) -> dict[str, Any]:
    from triage.scoring import Scorer

    path = common.model_dir(args.model)
    n, m, rounds = (80, 40, 1) if args.quick else (600, 300, 3)
    scorer = Scorer.from_dir(path, threads=args.threads)
    texts = [r["text"] for r in common.sample_rows()]
    scorer.score(texts[:64])  # warm the session and the language gate before timing
    result: dict[str, Any] = {"benchmark": "queue", "machine": common.machine(),
                              "model": common.model_info(path), "agents": AGENTS,
                              "intake_tickets": n, "mixed_tickets": m, "rounds": rounds,
                              "explain_top": 0, "quick": args.quick}
    backends: dict[str, Callable[[], Any]] = {
        "sqlite": lambda: _with(sqlite_url(), scorer, texts, n, m),
        "postgresql": lambda: _with(pg_url(args.pg_url), scorer, texts, n, m),
    }
    runs = common.interleave(backends, rounds, warmup=0)
    for name, per_round in runs.items():
        common.log(f"{name}: {[r['check'] for r in per_round]}")
        result[name] = {"rounds": per_round, "summary": summarise(per_round)}
    return result


def _with(ctx: Any, scorer: Any, texts: list[str], n: int, m: int) -> dict[str, Any]:
    with ctx as url:
        return one_round(url, scorer, texts, n, m)


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("intake", "claim_resolve", "mixed"):
        out[f"{key}_per_second"] = common.summary([r[key]["per_second"] for r in rounds], 1)
        out[f"{key}_p99_ms"] = common.summary([r[key]["latency_ms"]["p99"] for r in rounds], 2)
    checks = [r["check"] for r in rounds]
    out["double_claims"] = sum(c["double_claims"] + max(c["double_claims_by_audit"], 0)
                               for c in checks)
    out["lost_tickets"] = sum(c["lost"] + c["never_claimed"] for c in checks)
    out["errors"] = sum(sum(r[k]["errors"].values()) for r in rounds
                        for k in ("intake", "claim_resolve", "mixed")) + sum(
        sum(r["mixed"]["intake_errors"].values()) for r in rounds)
    return out


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--pg-url", default=PG_URL)
    args = common.parse(p)
    result = run(args)
    common.write_json(args.out, "queue", result)
    for name in ("sqlite", "postgresql"):
        print(name, result[name]["summary"])


if __name__ == "__main__":
    main()
