"""Freshness of every (stream, symbol): when data last arrived, and whether it is stale now (pure)."""

from __future__ import annotations

from collections.abc import Mapping


class FreshnessTracker:
    """Remembers when each (stream, symbol) last delivered data; the age decides staleness."""

    def __init__(self, max_age_ms: Mapping[str, int], default_max_age_ms: int = 60_000) -> None:
        self._max_age = dict(max_age_ms)
        self._default = default_max_age_ms
        self._seen: dict[tuple[str, str], int] = {}

    def mark(self, stream: str, symbol: str, ts_ms: int) -> None:
        """Record that `stream` delivered data for `symbol` at `ts_ms` (never moves backwards)."""
        key = (stream, symbol)
        if ts_ms > self._seen.get(key, -1):
            self._seen[key] = ts_ms

    def last(self, stream: str, symbol: str) -> int | None:
        """When data last arrived, or None."""
        return self._seen.get((stream, symbol))

    def age_ms(self, stream: str, symbol: str, now_ms: int) -> int | None:
        """Age of the newest data, or None when nothing arrived yet."""
        t = self._seen.get((stream, symbol))
        return None if t is None else max(0, now_ms - t)

    def is_stale(self, stream: str, symbol: str, now_ms: int) -> bool:
        """True when nothing arrived yet or the newest data is older than the stream's threshold."""
        age = self.age_ms(stream, symbol, now_ms)
        return age is None or age > self._max_age.get(stream, self._default)

    def snapshot(self, now_ms: int) -> dict[str, dict[str, int]]:
        """Age in ms per stream and symbol (for metrics and the dashboard)."""
        out: dict[str, dict[str, int]] = {}
        for (stream, symbol), t in self._seen.items():
            out.setdefault(stream, {})[symbol] = max(0, now_ms - t)
        return out
