"""Per-symbol time series kept across cycles so that each cycle fetches only what is new (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np

from asym.analytics.candles import CandleArrays, candles_to_arrays
from asym.domain import Candle

T = TypeVar("T")


class Series(Generic[T]):
    """A bounded, time-ordered series keyed by timestamp; merging replaces items with the same key."""

    __slots__ = ("_items", "_key", "maxlen")

    def __init__(self, key: Callable[[T], int], maxlen: int) -> None:
        self._key = key
        self.maxlen = maxlen
        self._items: dict[int, T] = {}

    def merge(self, items: Iterable[T]) -> int:
        """Add or replace items; keep the newest `maxlen`. Returns how many keys were new."""
        new = 0
        for item in items:
            k = self._key(item)
            if k not in self._items:
                new += 1
            self._items[k] = item
        if len(self._items) > self.maxlen:
            for k in sorted(self._items)[: len(self._items) - self.maxlen]:
                del self._items[k]
        return new

    def items(self) -> list[T]:
        """All items, oldest first."""
        return [self._items[k] for k in sorted(self._items)]

    def keys(self) -> list[int]:
        """All timestamps, oldest first."""
        return sorted(self._items)

    @property
    def newest(self) -> int | None:
        """Newest timestamp, or None when empty."""
        return max(self._items) if self._items else None

    def __len__(self) -> int:
        return len(self._items)


def due(newest: int | None, period_ms: int, now_ms: int) -> bool:
    """True when a series whose newest point is `newest` may have a newer point by `now_ms`."""
    return newest is None or now_ms >= newest + period_ms


def missing_count(newest: int | None, period_ms: int, now_ms: int, cap: int) -> int:
    """How many points (plus one to overlap) to fetch to bring the series up to `now_ms`, at most `cap`."""
    if newest is None:
        return cap
    return max(1, min(cap, (now_ms - newest) // period_ms + 2))


def last_confirmed(starts: Sequence[int], confirmed: Sequence[bool]) -> int | None:
    """Start of the newest confirmed candle, or None."""
    for s, c in zip(reversed(starts), reversed(confirmed), strict=True):
        if c:
            return s
    return None


class CandleSeries:
    """Closed candles of one symbol and interval as NumPy columns (small in memory, the analytics fast
    path), plus the newest still-open candle. Merging replaces candles with the same start."""

    __slots__ = ("_arrays", "maxlen", "open_candle")

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._arrays: CandleArrays | None = None
        self.open_candle: Candle | None = None

    def merge(self, candles: Sequence[Candle]) -> None:
        """Add or replace candles (closed ones into the columns; the newest open one is kept aside)."""
        closed = [c for c in candles if c.confirmed]
        opened = [c for c in candles if not c.confirmed]
        if opened:
            newest_open = max(opened, key=lambda c: c.start)
            if self.open_candle is None or newest_open.start >= self.open_candle.start:
                self.open_candle = newest_open
        if closed:
            new = candles_to_arrays(closed)
            old = self._arrays
            if old is not None and len(old):
                new = _concat(old, new)
            # Keep the last occurrence of each start (the newest data wins), oldest first, bounded.
            starts = new.start[::-1]
            _, first_in_reversed = np.unique(starts, return_index=True)
            keep = (len(starts) - 1 - first_in_reversed)[-self.maxlen :]
            self._arrays = new.take(np.sort(keep))
        if self.open_candle is not None and self.newest is not None and self.open_candle.start <= self.newest:
            self.open_candle = None

    @property
    def arrays(self) -> CandleArrays:
        """The closed candles, oldest first."""
        return self._arrays if self._arrays is not None else candles_to_arrays([])

    @property
    def newest(self) -> int | None:
        """Start of the newest closed candle."""
        return int(self._arrays.start[-1]) if self._arrays is not None and len(self._arrays) else None

    def __len__(self) -> int:
        return 0 if self._arrays is None else len(self._arrays)


def _concat(a: CandleArrays, b: CandleArrays) -> CandleArrays:
    turnover = None
    if a.turnover is not None and b.turnover is not None:
        turnover = np.concatenate([a.turnover, b.turnover])
    return CandleArrays(
        start=np.concatenate([a.start, b.start]),
        open=np.concatenate([a.open, b.open]),
        high=np.concatenate([a.high, b.high]),
        low=np.concatenate([a.low, b.low]),
        close=np.concatenate([a.close, b.close]),
        volume=np.concatenate([a.volume, b.volume]),
        turnover=turnover,
    )
