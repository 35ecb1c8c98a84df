"""Per-symbol time series kept across cycles so that each cycle fetches only what is new (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

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
