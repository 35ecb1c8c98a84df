"""Kline intervals on UTC boundaries, Bybit's range rules, and exact aggregation of 1m candles.

Alignment: minute intervals and D on multiples of their length since the epoch (UTC midnight for
D/120/240/360/720); W on Mondays 00:00 UTC; M on the 1st of the calendar month 00:00 UTC.
Range rules (asym.sim.types.MarketModel.klines, bybit-v5.md 3.3): no start -> the `limit` newest candles
starting at or before `end` (or now); start given -> the `limit` oldest candles starting at or after
`start` (and at or before `end`); always returned newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from asym.domain import Interval, PeriodInterval

MINUTE_MS = 60_000
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
_MONDAY_OFFSET = 4 * DAY_MS  # 1970-01-05 was the first Monday


def align(t_ms: int, interval: Interval) -> int:
    """Start of the candle of `interval` that contains t_ms."""
    if interval is Interval.W1:
        return (t_ms - _MONDAY_OFFSET) // WEEK_MS * WEEK_MS + _MONDAY_OFFSET
    if interval is Interval.MONTH:
        d = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
        return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)
    length = interval.ms
    return t_ms // length * length


def next_start(start_ms: int, interval: Interval) -> int:
    """Start of the candle after the one starting at start_ms."""
    if interval is Interval.MONTH:
        d = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return int(datetime(y, m, 1, tzinfo=UTC).timestamp() * 1000)
    if interval is Interval.W1:
        return start_ms + WEEK_MS
    return start_ms + interval.ms


def prev_start(start_ms: int, interval: Interval) -> int:
    """Start of the candle before the one starting at start_ms."""
    if interval is Interval.MONTH:
        return align(start_ms - 1, interval)
    if interval is Interval.W1:
        return start_ms - WEEK_MS
    return start_ms - interval.ms


def select_starts(
    interval: Interval, data_first_ms: int, now_ms: int, start: int | None, end: int | None, limit: int
) -> list[int]:
    """Candle starts (oldest first) that Bybit's range rules pick, limited to candles holding data."""
    if limit <= 0 or now_ms < data_first_ms:
        return []
    end_eff = now_ms if end is None else min(end, now_ms)
    last = align(end_eff, interval)
    first_data = align(data_first_ms, interval)
    if last < first_data or (start is not None and start > end_eff):
        return []
    if start is None:
        out: list[int] = []
        s = last
        while s >= first_data and len(out) < limit:
            out.append(s)
            s = prev_start(s, interval)
        out.reverse()
        return out
    s = align(start, interval)
    if s < start:
        s = next_start(s, interval)
    s = max(s, first_data)
    out = []
    while s <= last and len(out) < limit:
        out.append(s)
        s = next_start(s, interval)
    return out


def period_rows(
    period: PeriodInterval, data_first_ms: int, now_ms: int, start: int | None, end: int | None, limit: int
) -> list[int]:
    """Boundary timestamps (newest first) of a period series: multiples of the period in
    [start, end] (end defaults to now), after the first data minute, the `limit` newest."""
    length = period.ms
    end_eff = now_ms if end is None else min(end, now_ms)
    last = end_eff // length * length
    lo = data_first_ms + MINUTE_MS
    if start is not None:
        lo = max(lo, start)
    out: list[int] = []
    t = last
    while t >= lo and len(out) < limit:
        out.append(t)
        t -= length
    return out


@dataclass(slots=True)
class MinuteArrays:
    """1m data over a contiguous minute range (the last minute may be the open one)."""

    first_minute: int
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    turnover: np.ndarray
    premium: np.ndarray
    index_noise: np.ndarray
    prev_premium: float
    """Premium at the close of the minute before the range (opens the first premium candle)."""


@dataclass(slots=True)
class Aggregated:
    """OHLC (+ volume/turnover) per selected candle, oldest first; int64 for ticks/steps."""

    starts: list[int]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    turnover: np.ndarray


def aggregate(
    starts: list[int],
    interval: Interval,
    arrays: MinuteArrays,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
) -> Aggregated:
    """Aggregate per-minute o/h/l/c (aligned with `arrays`) into the candles starting at `starts`:
    open of the first minute, max high, min low, close of the last minute, summed volume/turnover."""
    n = o.size
    first = arrays.first_minute
    bounds = []
    keep = []
    for i, s in enumerate(starts):
        a = max(0, s // MINUTE_MS - first)
        b = min(n, next_start(s, interval) // MINUTE_MS - first)
        if b > a:
            bounds.append((a, b))
            keep.append(i)
    if not bounds:
        empty = np.zeros(0, dtype=np.int64)
        return Aggregated([], empty, empty, empty, empty, empty, empty)
    a_idx = np.array([a for a, _ in bounds], dtype=np.int64)
    b_idx = np.array([b for _, b in bounds], dtype=np.int64)
    # Candles are contiguous and ordered, so reduceat over their starts works once the tail is cut.
    seg_h = np.maximum.reduceat(h, a_idx)
    seg_l = np.minimum.reduceat(lo, a_idx)
    seg_v = np.add.reduceat(arrays.volume, a_idx)
    seg_t = np.add.reduceat(arrays.turnover, a_idx)
    contiguous = bool(np.all(a_idx[1:] == b_idx[:-1])) and b_idx[-1] == n
    if not contiguous:
        seg_h = np.array([h[a:b].max() for a, b in bounds])
        seg_l = np.array([lo[a:b].min() for a, b in bounds])
        seg_v = np.array([arrays.volume[a:b].sum() for a, b in bounds])
        seg_t = np.array([arrays.turnover[a:b].sum() for a, b in bounds])
    return Aggregated(
        starts=[starts[i] for i in keep],
        open=o[a_idx],
        high=seg_h,
        low=seg_l,
        close=c[b_idx - 1],
        volume=seg_v,
        turnover=seg_t,
    )
