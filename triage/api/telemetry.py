"""Prometheus metrics of one app: request latency, scores, queue depth, lease expiries.

Latency and score histograms and the counters are counted in-process. Queue depth per lane
and the lease expiry total are read from the store, so they agree across API processes; a
reading is kept for `cache_seconds` (TRIAGE_METRICS_CACHE_SECONDS), so a flood of scrapes
costs the database one query per interval, not one per scrape.
`triage_build_info{version, model_version, policy}` says what is running, and the process
and platform collectors add memory, CPU, open files and the Python version.

With several workers (`triage serve --workers N`) the server sets PROMETHEUS_MULTIPROC_DIR
and the client's multiprocess mode adds up every worker's histograms and counters in one
scrape, whichever worker answers; the process metrics then carry a `pid` label per worker.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from prometheus_client import (
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from triage.errors import TriageError
from triage.scoring import Score

log = logging.getLogger("triage.api")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))


class Telemetry:
    """The metrics of one app, in their own registry (so tests can build many apps)."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.registry = CollectorRegistry()
        self.live = CollectorRegistry(auto_describe=True)  # read at scrape time
        r = self.registry
        self.latency = Histogram("triage_request_duration_seconds", "HTTP request latency",
                                 ["method", "route", "status"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.scores = Histogram("triage_score", "Model scores given, per head", ["head"],
                                buckets=SCORE_BUCKETS, registry=r)
        self.unscorable = Counter("triage_unscorable_messages", "Messages the model could "
                                  "not read, by reason", ["reason"], registry=r)
        self.rejected = Counter("triage_requests_rejected", "Requests refused before "
                                "handling", ["reason"], registry=r)
        self.in_flight = Gauge("triage_requests_in_flight", "Requests being handled",
                               registry=r, multiprocess_mode="livesum")
        self.webhooks = Counter("triage_connector_webhooks", "Helpdesk webhooks taken in, "
                                "by connector and result", ["connector", "result"], registry=r)

    def scrape_registry(self) -> CollectorRegistry:
        """What `/metrics` exposes: this process's metrics, or every worker's added up."""
        if not self.multiprocess_dir:
            return _Merged(self.registry, self.live, PROCESS_COLLECTOR, PLATFORM_COLLECTOR)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=self.multiprocess_dir)
        return _Merged(merged, self.live, _WorkerProcesses(Path(self.multiprocess_dir)),
                       PLATFORM_COLLECTOR)

    def observe_webhook(self, connector: str, result: str) -> None:
        self.webhooks.labels(connector=connector, result=result).inc()

    def watch_outbox(self, counts: Callable[[], dict[str, dict[str, int]]]) -> None:
        """Report outbox rows per connector and state from the store at every scrape."""
        self.live.register(_OutboxCollector(counts))

    def watch_waits(self, waits: Callable[[], dict[str, tuple[float, int]]],
                    ttl: float = 5.0) -> None:
        """Report per lane the longest wait and the SLA breaches, read at most every `ttl` s."""
        self.live.register(_WaitCollector(waits, ttl))

    def watch_build(self, info: Callable[[], dict[str, str]]) -> None:
        """Report `triage_build_info` with the labels `info()` returns at each scrape."""
        self.live.register(_BuildInfo(info))

    def worker_exited(self) -> None:
        """Drop this process's live gauges from the multiprocess sums (at shutdown)."""
        if self.multiprocess_dir:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)

    def observe_score(self, score: Score) -> None:
        if score.scores is None:
            self.unscorable.labels(reason=(score.reason or "unknown").split(":")[0]).inc()
            return
        for head, value in score.scores.items():
            self.scores.labels(head=head).observe(value)

    def watch_store(self, depth: Callable[[], dict[str, int]],
                    expiries: Callable[[], int], cache_seconds: float = 5.0) -> None:
        """Report queue depth and lease expiries from the store (read at most once per
        `cache_seconds`)."""
        self.live.register(_StoreCollector(depth, expiries, cache_seconds))


T = TypeVar("T")


class _Cached(Generic[T]):
    """A store reading kept for `seconds`: a flood of scrapes costs one query per interval."""

    def __init__(self, read: Callable[[], T], seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read, self.seconds, self.clock = read, seconds, clock
        self._lock = threading.Lock()
        self._reading: tuple[float, T] | None = None

    def __call__(self) -> T:
        with self._lock:
            now = self.clock()
            if self._reading is None or now - self._reading[0] >= self.seconds:
                self._reading = (now, self._read())
            return self._reading[1]


class _StoreCollector(Collector):
    def __init__(self, depth: Callable[[], dict[str, int]], expiries: Callable[[], int],
                 cache_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.read = _Cached(lambda: (depth(), expiries()), cache_seconds, clock)
        """(depth per lane, lease expiries), from the cache while it is fresh."""

    def collect(self) -> Iterator[Metric]:
        try:
            depth, expired = self.read()
        except TriageError as exc:  # a scrape must not fail because the store is down
            log.warning("metrics: store unavailable (%s)", exc.message)
            return
        gauge = GaugeMetricFamily("triage_queue_depth", "Queued (unclaimed) tickets per lane",
                                  labels=["lane"])
        for lane, n in depth.items():
            gauge.add_metric([lane], n)
        yield gauge
        yield CounterMetricFamily("triage_lease_expiries", "Claims whose lease expired and "
                                  "whose ticket went back to the queue", value=expired)

    def describe(self) -> list[Any]:
        return []


class _BuildInfo(Collector):
    def __init__(self, info: Callable[[], dict[str, str]]) -> None:
        self.info = info

    def collect(self) -> Iterator[Metric]:
        labels = self.info()
        gauge = GaugeMetricFamily("triage_build_info", "What is running: triage version, "
                                  "model version and priority policy (always 1)",
                                  labels=list(labels))
        gauge.add_metric(list(labels.values()), 1)
        yield gauge

    def describe(self) -> list[Any]:
        return []


class _WorkerProcesses(Collector):
    """The process collector's metrics for every live worker, labelled with its pid."""

    FILE = re.compile(r"_(\d+)\.db$")

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for pid in sorted(self._pids()):
            collector = ProcessCollector(pid=functools.partial(int, pid), registry=None)
            for metric in collector.collect():
                family = families.setdefault(metric.name, Metric(
                    metric.name, metric.documentation, metric.type))
                for sample in metric.samples:
                    family.add_sample(sample.name, {**sample.labels, "pid": str(pid)},
                                      sample.value)
        yield from families.values()

    def _pids(self) -> set[int]:
        pids = {int(m.group(1)) for f in self.directory.glob("*.db")
                if (m := self.FILE.search(f.name))}
        return {pid for pid in pids if Path(f"/proc/{pid}").exists()}

    def describe(self) -> list[Any]:
        return []


class _Merged(CollectorRegistry):
    """A registry that collects from several registries and collectors in turn."""

    def __init__(self, *parts: Any) -> None:
        super().__init__(auto_describe=False)
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


class _WaitCollector(Collector):
    def __init__(self, waits: Callable[[], dict[str, tuple[float, int]]], ttl: float) -> None:
        self._read = _Cached(waits, ttl)

    def collect(self) -> Iterator[Metric]:
        try:
            waits = self._read()
        except TriageError as exc:
            log.warning("metrics: store unavailable (%s)", exc.message)
            return
        oldest = GaugeMetricFamily("triage_queue_oldest_wait_seconds", "How long the "
                                   "longest-waiting queued ticket of each lane has waited",
                                   labels=["lane"])
        breached = GaugeMetricFamily("triage_queue_sla_breached", "Queued tickets past their "
                                     "SLA due time, per lane", labels=["lane"])
        for lane, (seconds, n) in waits.items():
            oldest.add_metric([lane], seconds)
            breached.add_metric([lane], n)
        yield oldest
        yield breached

    def describe(self) -> list[Any]:
        return []


class _OutboxCollector(Collector):
    def __init__(self, counts: Callable[[], dict[str, dict[str, int]]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self.counts()
        except TriageError as exc:
            log.warning("metrics: store unavailable (%s)", exc.message)
            return
        gauge = GaugeMetricFamily("triage_connector_outbox", "Helpdesk write-backs in the "
                                  "outbox, by connector and state (dead: dead letters)",
                                  labels=["connector", "state"])
        for connector, states in sorted(counts.items()):
            for state, n in sorted(states.items()):
                gauge.add_metric([connector, state], n)
        yield gauge

    def describe(self) -> list[Any]:
        return []
