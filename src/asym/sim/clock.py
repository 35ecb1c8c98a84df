"""Clocks for the simulator core. The core never reads the system time itself: a clock is injected."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Market time in epoch milliseconds."""

    def now_ms(self) -> int:
        """Current market time (ms)."""
        ...


class ManualClock:
    """A clock that moves only when told to (tests, backtests)."""

    def __init__(self, start_ms: int) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        """Current market time (ms)."""
        return self._now

    def set(self, now_ms: int) -> None:
        """Jump to `now_ms` (never backwards)."""
        if now_ms < self._now:
            raise ValueError("a clock never goes backwards")
        self._now = now_ms

    def advance(self, ms: int) -> int:
        """Move forward by `ms` and return the new time."""
        self.set(self._now + ms)
        return self._now


class AcceleratedClock:
    """Market time that runs `speed` times faster than wall time, starting at `start_ms` (default: now)."""

    def __init__(self, speed: float = 1.0, start_ms: int | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall0 = time.time()
        self._start = int(self._wall0 * 1000) if start_ms is None else start_ms

    def now_ms(self) -> int:
        """Current market time (ms)."""
        return self._start + int((time.time() - self._wall0) * 1000 * self.speed)


def wall_ms() -> int:
    """Wall-clock epoch milliseconds (for request timestamps, which Bybit checks against real time)."""
    return int(time.time() * 1000)
