"""Prometheus metrics of one app: request latency, scores, queue depth, lease expiries.

Latency and score histograms are counted in-process. Queue depth per lane and the lease
expiry total are read from the store at scrape time, so they agree across API processes.
(With several uvicorn workers each process keeps its own histograms; scrape each worker or
run one worker per container.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from triage.errors import TriageError
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
        self.webhooks = Counter("triage_connector_webhooks", "Helpdesk webhooks taken in, "
                                "by connector and result", ["connector", "result"], registry=r)

    def observe_webhook(self, connector: str, result: str) -> None:
        self.webhooks.labels(connector=connector, result=result).inc()

    def watch_outbox(self, counts: Callable[[], dict[str, dict[str, int]]]) -> None:
        """Report outbox rows per connector and state from the store at every scrape."""
        self.registry.register(_OutboxCollector(counts))

    def observe_score(self, score: Score) -> None:
        if score.scores is None:
            self.unscorable.labels(reason=(score.reason or "unknown").split(":")[0]).inc()
            return
        for head, value in score.scores.items():
            self.scores.labels(head=head).observe(value)

    def watch_store(self, depth: Callable[[], dict[str, int]],
                    expiries: Callable[[], int]) -> None:
        """Report queue depth and lease expiries from the store at every scrape."""
        self.registry.register(_StoreCollector(depth, expiries))


class _StoreCollector(Collector):
    def __init__(self, depth: Callable[[], dict[str, int]], expiries: Callable[[], int]):
        self.depth = depth
        self.expiries = expiries

    def collect(self) -> Iterator[Metric]:
        try:
            depth, expired = self.depth(), self.expiries()
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
