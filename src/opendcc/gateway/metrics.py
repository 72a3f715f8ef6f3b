"""Prometheus text exposition for the gateway: requests by endpoint and code, latency, outbox depth.

A few counters do not need a metrics library: this module keeps them in dictionaries under a
lock and renders the Prometheus text format (version 0.0.4) on demand.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

# Latency buckets in seconds: a DUIS round trip is milliseconds when healthy, seconds when not.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The gateway's counters; `render()` gives the Prometheus text page."""

    def __init__(self, outbox_depth: Callable[[], int] | None = None) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str], int] = defaultdict(int)
        self._latency_counts: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = defaultdict(float)
        self._deliveries: dict[str, int] = defaultdict(int)
        self.outbox_depth = outbox_depth

    def observe_request(self, endpoint: str, code: str, seconds: float) -> None:
        """Count one answered request and its latency."""
        with self._lock:
            self._requests[(endpoint, code)] += 1
            counts = self._latency_counts.setdefault(endpoint, [0] * (len(LATENCY_BUCKETS) + 1))
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self._latency_sum[endpoint] += seconds

    def observe_delivery(self, outcome: str) -> None:
        """Count one delivery attempt of an async response (delivered, retry, refused)."""
        with self._lock:
            self._deliveries[outcome] += 1

    def requests(self, endpoint: str, code: str) -> int:
        """How many requests to `endpoint` were answered with `code`."""
        with self._lock:
            return self._requests.get((endpoint, code), 0)

    def render(self) -> str:
        """The Prometheus text exposition of every metric."""
        lines = [
            "# HELP opendcc_requests_total DUIS requests answered, by endpoint and response code.",
            "# TYPE opendcc_requests_total counter",
        ]
        with self._lock:
            for (endpoint, code), n in sorted(self._requests.items()):
                lines.append(f'opendcc_requests_total{{endpoint="{endpoint}",code="{code}"}} {n}')
            lines += [
                "# HELP opendcc_request_seconds Time from request received to answer sent.",
                "# TYPE opendcc_request_seconds histogram",
            ]
            for endpoint, counts in sorted(self._latency_counts.items()):
                for bound, n in zip(LATENCY_BUCKETS, counts, strict=False):
                    lines.append(
                        f'opendcc_request_seconds_bucket{{endpoint="{endpoint}",le="{bound}"}} {n}'
                    )
                lines.append(
                    f'opendcc_request_seconds_bucket{{endpoint="{endpoint}",le="+Inf"}} {counts[-1]}'
                )
                lines.append(f'opendcc_request_seconds_sum{{endpoint="{endpoint}"}} '
                             f"{self._latency_sum[endpoint]:.6f}")
                lines.append(f'opendcc_request_seconds_count{{endpoint="{endpoint}"}} {counts[-1]}')
            lines += [
                "# HELP opendcc_deliveries_total Delivery attempts of async responses, by outcome.",
                "# TYPE opendcc_deliveries_total counter",
            ]
            for outcome, n in sorted(self._deliveries.items()):
                lines.append(f'opendcc_deliveries_total{{outcome="{outcome}"}} {n}')
        if self.outbox_depth is not None:
            lines += [
                "# HELP opendcc_outbox_depth Async responses waiting for delivery.",
                "# TYPE opendcc_outbox_depth gauge",
                f"opendcc_outbox_depth {self.outbox_depth()}",
            ]
        return "\n".join(lines) + "\n"
