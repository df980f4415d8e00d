"""Prometheus metrics of the server, in the text exposition format (version 0.0.4).

They live in the one HTTP process (scoring processes only score), so one scrape sees every request.
"""
from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter

# Seconds; the 50 ms latency target sits on a bucket edge.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Request counts by route and status, a latency histogram by route, decisions by surface, and the requests
    (and their scoring jobs) abandoned by their clients."""

    def __init__(self, buckets=LATENCY_BUCKETS):
        self.buckets = tuple(buckets)
        self._lock = threading.Lock()
        self._requests = Counter()
        self._latency = {}
        self._decisions = Counter()
        self._cancelled = 0
        self._dropped = Counter()

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency."""
        with self._lock:
            self._requests[(route, method, str(status))] += 1
            counts, total = self._latency.get(route, ([0] * (len(self.buckets) + 1), 0.0))
            counts[bisect_left(self.buckets, seconds)] += 1
            self._latency[route] = (counts, total + seconds)

    def observe_decisions(self, route: str, decisions) -> None:
        """Count the decisions a route returned."""
        with self._lock:
            self._decisions.update((route, d) for d in decisions)

    def observe_cancelled(self) -> None:
        """Count a request whose client went away before its answer."""
        with self._lock:
            self._cancelled += 1

    def observe_dropped(self, stage: str) -> None:
        """Count a job of such a request: ``queued`` when dropped before scoring, ``scoring`` when its answer was
        thrown away."""
        with self._lock:
            self._dropped[stage] += 1

    def render(self) -> str:
        """The metrics as Prometheus text."""
        with self._lock:
            lines = ["# HELP overclaim_requests_total HTTP requests by route, method and status.",
                     "# TYPE overclaim_requests_total counter"]
            for (route, method, status), count in sorted(self._requests.items()):
                lines.append(f'overclaim_requests_total{{route="{route}",method="{method}",status="{status}"}} {count}')
            lines += ["# HELP overclaim_request_seconds HTTP request latency by route.",
                      "# TYPE overclaim_request_seconds histogram"]
            for route, (counts, total) in sorted(self._latency.items()):
                cumulative = 0
                for edge, count in zip((*map(str, self.buckets), "+Inf"), counts):
                    cumulative += count
                    lines.append(f'overclaim_request_seconds_bucket{{route="{route}",le="{edge}"}} {cumulative}')
                lines.append(f'overclaim_request_seconds_sum{{route="{route}"}} {total:.6f}')
                lines.append(f'overclaim_request_seconds_count{{route="{route}"}} {cumulative}')
            lines += ["# HELP overclaim_decisions_total Decisions returned, by route.",
                      "# TYPE overclaim_decisions_total counter"]
            for (route, decision), count in sorted(self._decisions.items()):
                lines.append(f'overclaim_decisions_total{{route="{route}",decision="{decision}"}} {count}')
            lines += ["# HELP overclaim_cancelled_requests_total Requests whose client went away before the answer.",
                      "# TYPE overclaim_cancelled_requests_total counter",
                      f"overclaim_cancelled_requests_total {self._cancelled}",
                      "# HELP overclaim_abandoned_jobs_total Scoring jobs of such requests, by the stage they "
                      "were at: queued (never scored) or scoring (answer discarded).",
                      "# TYPE overclaim_abandoned_jobs_total counter"]
            for stage in ("queued", "scoring"):
                lines.append(f'overclaim_abandoned_jobs_total{{stage="{stage}"}} {self._dropped[stage]}')
        return "\n".join(lines) + "\n"
