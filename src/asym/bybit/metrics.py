"""Metrics hooks: a tiny observer interface the transport calls; prometheus wiring lives elsewhere.

Calls are synchronous and must be cheap (they run on the hot path): record, never block or log.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Protocol


class ClientObserver(Protocol):
    """Receives per-endpoint measurements from the client."""

    def on_request(self, endpoint: str, latency_s: float, ok: bool) -> None:
        """One HTTP exchange finished: `latency_s` is send -> body read (the wire, not asym's own work);
        ok False when it raised or carried a non-zero retCode."""
        ...

    def on_retry(self, endpoint: str, reason: str) -> None:
        """The client is about to retry `endpoint` because of `reason`."""
        ...

    def on_rate_limit_wait(self, endpoint: str, scope: str, seconds: float) -> None:
        """The client waited `seconds` for a rate limit (`scope`: ip, endpoint, venue)."""
        ...

    def on_error(self, endpoint: str, ret_code: int | None, http_status: int | None) -> None:
        """An error answer (retCode != 0 or HTTP != 200, or transport failure with both None)."""
        ...

    def on_ws_event(self, stream: str, event: str) -> None:
        """A WebSocket event: connect, disconnect, resync, dropped, malformed, ..."""
        ...


class NullObserver:
    """Does nothing (the default)."""

    def on_request(self, endpoint: str, latency_s: float, ok: bool) -> None:
        """Ignore."""

    def on_retry(self, endpoint: str, reason: str) -> None:
        """Ignore."""

    def on_rate_limit_wait(self, endpoint: str, scope: str, seconds: float) -> None:
        """Ignore."""

    def on_error(self, endpoint: str, ret_code: int | None, http_status: int | None) -> None:
        """Ignore."""

    def on_ws_event(self, stream: str, event: str) -> None:
        """Ignore."""


class CountingObserver:
    """Keeps counts in memory (tests, `asym bench`, quick diagnostics)."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.latencies: defaultdict[str, list[float]] = defaultdict(list)
        self.retries: Counter[tuple[str, str]] = Counter()
        self.waits: Counter[str] = Counter()
        self.wait_seconds: defaultdict[str, float] = defaultdict(float)
        self.errors: Counter[tuple[str, int | None, int | None]] = Counter()
        self.ws_events: Counter[tuple[str, str]] = Counter()

    def on_request(self, endpoint: str, latency_s: float, ok: bool) -> None:
        """Count and keep the latency."""
        self.requests[endpoint] += 1
        if not ok:
            self.failures[endpoint] += 1
        lat = self.latencies[endpoint]
        if len(lat) < 100_000:
            lat.append(latency_s)

    def on_retry(self, endpoint: str, reason: str) -> None:
        """Count."""
        self.retries[(endpoint, reason)] += 1

    def on_rate_limit_wait(self, endpoint: str, scope: str, seconds: float) -> None:
        """Count and sum."""
        self.waits[scope] += 1
        self.wait_seconds[scope] += seconds

    def on_error(self, endpoint: str, ret_code: int | None, http_status: int | None) -> None:
        """Count by code."""
        self.errors[(endpoint, ret_code, http_status)] += 1

    def on_ws_event(self, stream: str, event: str) -> None:
        """Count."""
        self.ws_events[(stream, event)] += 1

    def ws_count(self, event: str) -> int:
        """How many times `event` happened on any stream."""
        return sum(n for (_, e), n in self.ws_events.items() if e == event)

    def error_count(self, ret_code: int | None = None, http_status: int | None = None) -> int:
        """Errors with that retCode and/or HTTP status."""
        return sum(
            n
            for (_, rc, hs), n in self.errors.items()
            if (ret_code is None or rc == ret_code) and (http_status is None or hs == http_status)
        )
