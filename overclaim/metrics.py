"""Prometheus metrics of the server, written by ``prometheus_client``.

They live in the one HTTP process (scoring processes only score), so one scrape sees every request; that process's
own CPU, memory and file descriptors come from ``prometheus_client``'s process collector.
"""
from __future__ import annotations

from prometheus_client import (CONTENT_TYPE_LATEST, GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR,
                               CollectorRegistry, Counter, Gauge, Histogram, Info, disable_created_metrics,
                               generate_latest)

# Seconds; the 50 ms latency target sits on a bucket edge.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Request counts by route and status, a latency histogram by route, decisions by route (of requests scored
    with the server's own thresholds), the requests (and their scoring jobs) abandoned by their clients, the jobs
    waiting for a scoring process, restarts of the scoring processes and the model served.

    Each instance has its own registry (so that apps built in one process do not share counts), holding the
    standard process, platform and garbage-collector collectors too.
    """

    def __init__(self, buckets=LATENCY_BUCKETS):
        # The text format has no place for a series' creation time: each would be a gauge of its own, doubling them.
        disable_created_metrics()
        self.registry = registry = CollectorRegistry()
        for standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            registry.register(standard)
        self._requests = Counter("overclaim_requests", "HTTP requests by route, method and status.",
                                 ["route", "method", "status"], registry=registry)
        self._latency = Histogram("overclaim_request_seconds", "HTTP request latency by route.", ["route"],
                                  buckets=buckets, registry=registry)
        self._decisions = Counter("overclaim_decisions", "Decisions returned by route, counted only for requests "
                                  "scored with the server's own thresholds.", ["route", "decision"],
                                  registry=registry)
        self._cancelled = Counter("overclaim_cancelled_requests", "Requests whose client went away before the "
                                  "answer.", registry=registry)
        self._dropped = Counter("overclaim_abandoned_jobs", "Scoring jobs of such requests, by the stage they were "
                                "at: queued (never scored) or scoring (answer discarded).", ["stage"],
                                registry=registry)
        for stage in ("queued", "scoring"):
            self._dropped.labels(stage)
        self._restarts = Counter("overclaim_worker_restarts", "Times the scoring processes were restarted after one "
                                 "died (each restart replaces the whole pool).", registry=registry)
        self._model = Info("overclaim_model", "The model the scoring processes serve.", registry=registry)
        self._queue = Gauge("overclaim_queue_depth", "Scoring jobs waiting for a free scoring process.",
                            registry=registry)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency."""
        self._requests.labels(route, method, str(status)).inc()
        self._latency.labels(route).observe(seconds)

    def observe_decisions(self, route: str, decisions) -> None:
        """Count the decisions a route returned."""
        for decision in decisions:
            self._decisions.labels(route, decision).inc()

    def observe_cancelled(self) -> None:
        """Count a request whose client went away before its answer."""
        self._cancelled.inc()

    def observe_dropped(self, stage: str) -> None:
        """Count a job of such a request: ``queued`` when dropped before scoring, ``scoring`` when its answer was
        thrown away."""
        self._dropped.labels(stage).inc()

    def observe_restart(self) -> None:
        """Count a restart of the scoring processes."""
        self._restarts.inc()

    def serve_model(self, model: dict, queue_depth) -> None:
        """Report ``model`` (its ``version`` and ``sha256``) and read the queue depth from ``queue_depth()``."""
        self._model.info({"version": str(model["version"]), "sha256": str(model["sha256"])})
        self._queue.set_function(queue_depth)

    def render(self) -> bytes:
        """The metrics in Prometheus's text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)
