"""Prometheus metrics of one app: request latency, scores, queue depth, lease expiries.

Latency and score histograms are counted in-process. Queue depth per lane and the lease
expiry total are read from the store, so they agree across API processes; a reading is kept
for `cache_seconds` (TRIAGE_METRICS_CACHE_SECONDS), so a flood of scrapes costs the database
one query per interval, not one per scrape.
(With several uvicorn workers each process keeps its own histograms; scrape each worker or
run one worker per container.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from triage.errors import TriageError
from triage.records import HEADS
from triage.scoring import Score

log = logging.getLogger("triage.api")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))


class Telemetry:
    """The metrics of one app, in their own registry (so tests can build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
                               registry=r)

    def observe_score(self, score: Score) -> None:
        if score.scores is None:
            self.unscorable.labels(reason=(score.reason or "unknown").split(":")[0]).inc()
            return
        for head in HEADS:
            self.scores.labels(head=head).observe(score.scores[head])

    def watch_store(self, depth: Callable[[], dict[str, int]],
                    expiries: Callable[[], int], cache_seconds: float = 5.0) -> None:
        """Report queue depth and lease expiries from the store (read at most once per
        `cache_seconds`)."""
        self.registry.register(_StoreCollector(depth, expiries, cache_seconds))


class _StoreCollector(Collector):
    def __init__(self, depth: Callable[[], dict[str, int]], expiries: Callable[[], int],
                 cache_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.depth = depth
        self.expiries = expiries
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._reading: tuple[float, dict[str, int], int] | None = None

    def read(self) -> tuple[dict[str, int], int]:
        """(depth per lane, lease expiries), from the cache while it is fresh."""
        with self._lock:
            now = self.clock()
            if self._reading is None or now - self._reading[0] >= self.cache_seconds:
                self._reading = (now, self.depth(), self.expiries())
            return self._reading[1], self._reading[2]

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
