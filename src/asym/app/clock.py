"""Market clocks of the run loop.

* `SteppedClock` drives the embedded simulator (`--venue sim`): market time runs `speed` times faster
  than wall time while the loop waits between cycles, and stands still while asym collects, decides and
  sends. An accelerated demo then decides on a consistent market (at x300 a one-second collection would
  otherwise age every ticker by five market minutes), and what happens between cycles (fills, stops,
  targets, funding) happens at the accelerated pace.
* `DataClock` follows a venue that asym does not drive (a running simulator, Bybit): wall time scaled by
  the venue's speed, anchored on the newest market timestamp seen, never going backwards.
"""

from __future__ import annotations

import threading
import time


class SteppedClock:
    """Market time (epoch ms) that advances at `speed` x wall time only while running."""

    def __init__(self, start_ms: int, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._base = start_ms
        self._wall: float | None = None
        self._until: int | None = None
        self._lock = threading.Lock()  # the simulator may read it from its own thread

    def now_ms(self) -> int:
        """Current market time."""
        with self._lock:
            if self._wall is None:
                return self._base
            now = self._base + int((time.monotonic() - self._wall) * 1000 * self.speed)
            return now if self._until is None else min(now, self._until)

    __call__ = now_ms

    @property
    def running(self) -> bool:
        """True while market time flows."""
        return self._wall is not None

    def run(self, until_ms: int | None = None) -> None:
        """Let market time flow (up to `until_ms`, where it then stands: a cycle covers an exact span of
        market time however long the wall wait takes)."""
        with self._lock:
            if self._wall is None:
                self._wall = time.monotonic()
            self._until = until_ms

    def pause(self) -> None:
        """Stop market time where it is."""
        now = self.now_ms()
        with self._lock:
            self._base = now
            self._wall = None
            self._until = None

    def advance(self, ms: int) -> int:
        """Jump forward by `ms` (paused or not); the new time."""
        if ms < 0:
            raise ValueError("a clock never goes backwards")
        with self._lock:
            self._base += ms
        return self.now_ms()


class DataClock:
    """Wall time x speed, re-anchored forward on market timestamps the venue reports."""

    def __init__(self, speed: float = 1.0, start_ms: int | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._anchor_wall = time.monotonic()
        self._anchor = int(time.time() * 1000) if start_ms is None else start_ms
        self._last = self._anchor

    def now_ms(self) -> int:
        """Current market time (never smaller than a previous answer)."""
        now = self._anchor + int((time.monotonic() - self._anchor_wall) * 1000 * self.speed)
        if now < self._last:
            return self._last
        self._last = now
        return now

    __call__ = now_ms

    def observe(self, market_ms: int) -> None:
        """A market timestamp seen in venue data: the clock is at least there from now on."""
        if market_ms > self.now_ms():
            self._anchor = market_ms
            self._anchor_wall = time.monotonic()
            self._last = market_ms


__all__ = ["DataClock", "SteppedClock"]
