"""Adapter from the Bybit client's observer hook (`asym.bybit.metrics.ClientObserver`) to `Metrics`, plus
a rolling latency window that gives the dashboard exact recent percentiles per endpoint."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from asym.monitor.metrics import Metrics
from asym.monitor.view import LatencySummary


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..1)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(q * len(sorted_values))))
    return sorted_values[rank - 1]


@dataclass
class _Endpoint:
    samples: deque[float]
    errors: deque[bool]
    count: int = 0
    error_count: int = 0


@dataclass
class LatencyWindow:
    """The last `size` latencies per endpoint (pure, no I/O); summaries for `SystemView.api_latency`."""

    size: int = 1000
    _by_endpoint: dict[str, _Endpoint] = field(default_factory=dict)

    def observe(self, endpoint: str, seconds: float, ok: bool) -> None:
        """Record one request."""
        ep = self._by_endpoint.get(endpoint)
        if ep is None:
            ep = self._by_endpoint[endpoint] = _Endpoint(deque(maxlen=self.size), deque(maxlen=self.size))
        ep.samples.append(seconds)
        ep.errors.append(not ok)
        ep.count += 1
        ep.error_count += 0 if ok else 1

    def summary(self) -> list[LatencySummary]:
        """p50/p95/p99 over the window and error counts in it, per endpoint, sorted by endpoint."""
        out = []
        for name in sorted(self._by_endpoint):
            ep = self._by_endpoint[name]
            s = sorted(ep.samples)
            out.append(
                LatencySummary(
                    endpoint=name,
                    count=len(s),
                    errors=sum(ep.errors),
                    p50_ms=_percentile(s, 0.50) * 1000,
                    p95_ms=_percentile(s, 0.95) * 1000,
                    p99_ms=_percentile(s, 0.99) * 1000,
                )
            )
        return out


class MetricsObserver:
    """A `ClientObserver` that feeds `Metrics` (and optionally a `LatencyWindow`). Cheap: no I/O, no logs."""

    def __init__(self, metrics: Metrics, latency: LatencyWindow | None = None) -> None:
        self.metrics = metrics
        self.latency = latency

    def on_request(self, endpoint: str, latency_s: float, ok: bool) -> None:
        """Latency and outcome of one HTTP exchange."""
        self.metrics.observe_api_latency(endpoint, latency_s, ok)
        if self.latency is not None:
            self.latency.observe(endpoint, latency_s, ok)

    def on_retry(self, endpoint: str, reason: str) -> None:
        """A retry."""
        self.metrics.count_retry(endpoint, reason)

    def on_rate_limit_wait(self, endpoint: str, scope: str, seconds: float) -> None:
        """A rate-limit wait."""
        self.metrics.observe_rate_limit_wait(endpoint, scope, seconds)

    def on_error(self, endpoint: str, ret_code: int | None, http_status: int | None) -> None:
        """An error answer, by retCode and HTTP status."""
        self.metrics.count_api_error(endpoint, ret_code, http_status)

    def on_ws_event(self, stream: str, event: str) -> None:
        """A WebSocket event."""
        self.metrics.count_websocket_event(stream, event)
