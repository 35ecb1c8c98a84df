"""Candle windows of a time series, vectorised: what `prepare_candles` keeps at every step at once.

At step i (time t_i) a symbol's candles of one interval are the last `lookback` bars closed at t_i
(start + interval <= t_i), rows [a_i, k_i) of the full series. `prepare_candles` then keeps the longest
valid contiguous suffix of that window: it starts after the last invalid bar and at the last gap
(duplicates cannot occur: a series has strictly increasing starts). So with, over the FULL series,

    last_invalid[j] = index of the last invalid bar at or before j (-1: none)
    last_gap[j]     = last row r <= j with start[r] - start[r-1] > interval (-1: none)

the kept window is [cut_i, k_i) with cut_i = max(a_i, last_invalid[k_i-1] + 1, last_gap[k_i-1]), flagged
'invalid' when last_invalid[k_i-1] >= a_i, 'gap' when last_gap[k_i-1] > a_i, 'stale' when the window is
not empty and its last bar ended more than `candle_stale_intervals` intervals before t_i: exactly the
per-step function's result, for every step in a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from asym.analytics.candles import CandleArrays
from asym.errors import DataError

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def valid_bars(a: CandleArrays, max_range_ratio: float) -> B:
    """Per bar: the validity test of `prepare_candles` (finite, positive, high/low bound open/close)."""
    with np.errstate(invalid="ignore"):
        o, h, low, c, v = a.open, a.high, a.low, a.close, a.volume
        ok = np.isfinite(o) & np.isfinite(h) & np.isfinite(low) & np.isfinite(c) & np.isfinite(v)
        ok &= (o > 0) & (h > 0) & (low > 0) & (c > 0) & (v >= 0)
        ok &= (h >= np.maximum(o, c)) & (low <= np.minimum(o, c)) & (h <= low * max_range_ratio)
    return np.asarray(ok, dtype=bool)


@dataclass(frozen=True, slots=True)
class CandleWindows:
    """One interval's full series and, per step, the window `prepare_candles` keeps: rows [cut, end)."""

    arrays: CandleArrays
    step_ms: int
    end: I64
    """Bars closed at the step (the window ends before this row)."""
    cut: I64
    """First row kept (== end: nothing usable)."""
    invalid: B
    gap: B
    stale: B
    valid: B
    """Per bar of the full series: passes the validity test."""

    @property
    def length(self) -> I64:
        """Rows kept per step."""
        return self.end - self.cut

    def window(self, i: int) -> CandleArrays:
        """The kept rows at step i, as `prepare_candles` returns them."""
        return self.arrays.take(slice(int(self.cut[i]), int(self.end[i])))

    def problems(self, i: int) -> tuple[str, ...]:
        """The problems `prepare_candles` reports at step i, in its order."""
        out = []
        if self.invalid[i]:
            out.append("invalid")
        if self.gap[i]:
            out.append("gap")
        if self.stale[i]:
            out.append("stale")
        return tuple(out)


def check_series(a: CandleArrays, what: str) -> None:
    """A series must have strictly increasing starts (windows are index ranges); DataError otherwise."""
    if len(a) > 1 and np.any(np.diff(a.start) <= 0):
        raise DataError(f"{what}: a candle series needs strictly increasing start times")


def candle_windows(
    a: CandleArrays,
    step_ms: int,
    times: I64,
    lookback: int,
    stale_intervals: float,
    max_range_ratio: float,
) -> CandleWindows:
    """The kept window of every step (see the module docstring)."""
    n = len(a)
    valid = valid_bars(a, max_range_ratio)
    idx = np.arange(n, dtype=np.int64)
    last_invalid = np.maximum.accumulate(np.where(valid, -1, idx)) if n else idx
    gap_row = np.zeros(n, dtype=bool)
    if n > 1:
        gap_row[1:] = np.diff(a.start) > step_ms
    last_gap = np.maximum.accumulate(np.where(gap_row, idx, -1)) if n else idx
    end = np.searchsorted(a.start, times - step_ms, side="right").astype(np.int64)
    first = np.maximum(0, end - lookback)
    last = np.maximum(end - 1, 0)
    has = end > 0
    li = np.where(has, last_invalid[last] if n else -1, -1)
    lg = np.where(has, last_gap[last] if n else -1, -1)
    invalid = has & (li >= first)
    gap = has & (lg > first)
    cut = np.maximum(first, np.where(invalid, li + 1, first))
    cut = np.maximum(cut, np.where(gap, lg, first))
    nonempty = end > cut
    with np.errstate(invalid="ignore"):
        last_end = np.where(nonempty, a.start[last] + step_ms if n else 0, 0)
    stale = nonempty & (times - last_end > stale_intervals * step_ms)
    return CandleWindows(a, step_ms, end, cut, invalid, gap, stale, valid)


__all__ = ["CandleWindows", "candle_windows", "check_series", "valid_bars"]
