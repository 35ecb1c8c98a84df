"""Candles as float64 column arrays: conversion from domain candles, validation, resampling (vectorised)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from asym.analytics.quality import floats
from asym.domain import Candle, Interval
from asym.errors import DataError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class CandleArrays:
    """OHLCV columns of one symbol and interval, oldest first; `start` is the open time in ms.

    Prices are float64 because indicators are statistics, not money. `turnover` may be absent.
    """

    start: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    turnover: F64 | None = None

    def __post_init__(self) -> None:
        # Accept any array-like; store contiguous int64 / float64 columns (what TA-Lib needs).
        object.__setattr__(self, "start", np.ascontiguousarray(self.start, dtype=np.int64))
        for name in ("open", "high", "low", "close", "volume", "turnover"):
            col = getattr(self, name)
            if col is not None:
                object.__setattr__(self, name, np.ascontiguousarray(col, dtype=np.float64))
        n = len(self.start)
        cols = (self.open, self.high, self.low, self.close, self.volume)
        if any(len(c) != n for c in cols) or (self.turnover is not None and len(self.turnover) != n):
            raise DataError(f"CandleArrays: columns differ in length (start has {n})")

    @classmethod
    def from_columns(
        cls,
        *,
        start: npt.ArrayLike,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
        turnover: npt.ArrayLike | None = None,
    ) -> CandleArrays:
        """CandleArrays from any array-likes (lists, tuples, arrays of other dtypes)."""
        return cls(
            start=np.asarray(start, dtype=np.int64),
            open=np.asarray(open, dtype=np.float64),
            high=np.asarray(high, dtype=np.float64),
            low=np.asarray(low, dtype=np.float64),
            close=np.asarray(close, dtype=np.float64),
            volume=np.asarray(volume, dtype=np.float64),
            turnover=None if turnover is None else np.asarray(turnover, dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.start)

    def take(self, index: npt.NDArray[np.intp] | slice) -> CandleArrays:
        """The rows at `index` (a slice or an index array), as a new CandleArrays."""
        return CandleArrays(
            start=self.start[index],
            open=self.open[index],
            high=self.high[index],
            low=self.low[index],
            close=self.close[index],
            volume=self.volume[index],
            turnover=None if self.turnover is None else self.turnover[index],
        )


def candles_to_arrays(candles: Sequence[Candle]) -> CandleArrays:
    """Columns of closed (`confirmed`) candles in the given order; still-open candles are left out."""
    closed = [c for c in candles if c.confirmed]
    # A bad Decimal (NaN, sNaN, beyond float range) becomes a float NaN/inf that validation flags later.
    return CandleArrays(
        start=np.fromiter((c.start for c in closed), dtype=np.int64, count=len(closed)),
        open=floats([c.open for c in closed]),
        high=floats([c.high for c in closed]),
        low=floats([c.low for c in closed]),
        close=floats([c.close for c in closed]),
        volume=floats([c.volume for c in closed]),
        turnover=floats([c.turnover for c in closed]),
    )


def interval_ms(interval: str) -> int | None:
    """Length of a Bybit kline interval in ms, or None when the name is unknown."""
    try:
        return Interval(interval).ms
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class PreparedCandles:
    """Closed, valid, contiguous candles of one interval, plus the problems found on the way."""

    arrays: CandleArrays
    problems: tuple[str, ...]
    """Subset of 'invalid', 'gap', 'stale' (each becomes the flag candles_<problem>:<interval>)."""


def prepare_candles(
    arrays: CandleArrays, step_ms: int, now_ms: int, stale_intervals: float, max_range_ratio: float = 10.0
) -> PreparedCandles:
    """Sort, drop still-open bars, keep the longest valid contiguous suffix, check staleness.

    A bar is invalid when a price is not finite and > 0, volume is not finite and >= 0, high/low do
    not bound open/close, or high / low > max_range_ratio (a bad print). Rows before the last invalid
    bar or gap are dropped, so every indicator sees contiguous, clean data; the problem is reported.
    """
    problems: list[str] = []
    a = arrays
    if len(a) and np.any(np.diff(a.start) < 0):
        a = a.take(np.argsort(a.start, kind="stable"))
    # A bar whose end lies after now is still forming: not an error, just not usable yet.
    a = a.take(slice(0, int(np.searchsorted(a.start + step_ms, now_ms, side="right"))))
    if len(a) == 0:
        return PreparedCandles(a, ())
    with np.errstate(invalid="ignore"):
        o, h, low, c, v = a.open, a.high, a.low, a.close, a.volume
        ok = np.isfinite(o) & np.isfinite(h) & np.isfinite(low) & np.isfinite(c) & np.isfinite(v)
        ok &= (o > 0) & (h > 0) & (low > 0) & (c > 0) & (v >= 0)
        ok &= (h >= np.maximum(o, c)) & (low <= np.minimum(o, c)) & (h <= low * max_range_ratio)
    step = np.diff(a.start)
    invalid = np.flatnonzero(~ok)
    dup = np.flatnonzero(step <= 0) + 1  # row i repeats the start of row i-1: keep the later one
    gap = np.flatnonzero(step > step_ms) + 1  # row i starts a new contiguous run
    cut = 0
    if invalid.size or dup.size:
        problems.append("invalid")
        cut = max(int(invalid[-1]) + 1 if invalid.size else 0, int(dup[-1]) if dup.size else 0)
    if gap.size:
        problems.append("gap")
        cut = max(cut, int(gap[-1]))
    a = a.take(slice(cut, None))
    if len(a) and now_ms - (int(a.start[-1]) + step_ms) > stale_intervals * step_ms:
        problems.append("stale")
    return PreparedCandles(a, tuple(problems))


def resample_candles(arrays: CandleArrays, from_ms: int, to_ms: int) -> CandleArrays:
    """Aggregate candles of length `from_ms` into `to_ms` buckets aligned to epoch multiples of `to_ms`.

    Only complete buckets (all from_ms sub-bars present) are kept. Open = first open, high = max,
    low = min, close = last close, volume/turnover = sum.
    """
    if to_ms % from_ms or to_ms < from_ms:
        raise DataError(f"cannot resample {from_ms} ms candles into {to_ms} ms")
    if len(arrays) == 0:
        return arrays
    a = arrays
    if np.any(np.diff(a.start) <= 0):
        raise DataError("resample_candles needs strictly increasing start times")
    bucket = a.start - a.start % to_ms
    first = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    last = np.concatenate((first[1:] - 1, [len(a) - 1]))
    complete = (last - first + 1) == to_ms // from_ms
    # reduceat over every bucket first, then keep the complete ones (reduceat spans up to the next index)
    return CandleArrays(
        start=bucket[first][complete],
        open=a.open[first][complete],
        high=np.maximum.reduceat(a.high, first)[complete],
        low=np.minimum.reduceat(a.low, first)[complete],
        close=a.close[last][complete],
        volume=np.add.reduceat(a.volume, first)[complete],
        turnover=None if a.turnover is None else np.add.reduceat(a.turnover, first)[complete],
    )
