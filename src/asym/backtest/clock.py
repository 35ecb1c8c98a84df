"""The simulated clock of a backtest: market time in epoch ms that moves only when the runner moves it.

One `SimClock` is shared by the venue (`CoreVenue`), the trading session (its injected clock is
`clock.now_ms`) and the runner, so every part sees the same instant. It never goes backwards.
"""

from __future__ import annotations

from asym.errors import ConfigError


class SimClock:
    """Market time for a backtest (epoch ms); callable, so it can be injected as `Callable[[], int]`."""

    __slots__ = ("_now",)

    def __init__(self, start_ms: int) -> None:
        if start_ms < 0:
            raise ConfigError(f"a clock starts at a positive epoch time in ms, got {start_ms}")
        self._now = start_ms

    def __call__(self) -> int:
        return self._now

    def __repr__(self) -> str:
        return f"SimClock({self._now})"

    def now_ms(self) -> int:
        """Current market time (ms)."""
        return self._now

    def set(self, now_ms: int) -> None:
        """Move to `now_ms`; moving backwards is a bug and raises ValueError."""
        if now_ms < self._now:
            raise ValueError(f"the backtest clock never goes backwards ({now_ms} < {self._now})")
        self._now = now_ms

    def advance(self, ms: int) -> int:
        """Move forward by `ms` and return the new time."""
        self.set(self._now + ms)
        return self._now


__all__ = ["SimClock"]
