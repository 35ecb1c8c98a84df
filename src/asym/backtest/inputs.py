"""What the strategy sees at a step: `AssetInputs` built from data available AT OR BEFORE the step only.

At step t, for each symbol:

* candles: the closed candles (start + interval <= t) of the data's interval, and coarser intervals
  aggregated from them (complete buckets only), the last `lookback` of each, as the collector keeps them
  (`CollectorConfig.candles`: 200 x 1h, 288 x 5m);
* ticker and order book: the venue's (`BarMarket`) at t: its price at t is the close of the candle that
  ended at t, its book the simulator's book model around it (calibrated before the backtest's start);
* funding history: the last 100 settlements at or before t (`CollectorConfig.funding_limit`); the
  ticker's funding rate is the last settled rate (a backtest has no predicted rate);
* open interest, long/short ratio (the last 48 points at or before t) and liquidations (the hour up to t)
  when the data recorded them (a store `asym collect` filled), else None (flagged `*_missing`, never a
  made-up value).

When the data is coarser than an analytics interval (e.g. 1h candles and the 5m short-volatility
window), the analytics config uses the finest interval the data has instead (`analytics_config_for`);
that is the only departure from the live configuration, and it is recorded in the report.

`EnhancedData` depends on the data only (never on the account), so `enhanced_series` can compute every
step of a symbol ahead of the trading loop (in parallel, and reused by every point of a sweep).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from asym.analytics import AnalyticsConfig, AssetInputs, CandleArrays, compute_enhanced, resample_candles
from asym.analytics.types import EnhancedData
from asym.backtest import convert
from asym.backtest.bars import BarMarket
from asym.backtest.data import MarketData, SymbolData
from asym.domain import FundingRate, Interval
from asym.errors import ConfigError

DEFAULT_LOOKBACKS: dict[str, int] = {Interval.H1.value: 200, Interval.M5.value: 288}
"""Candles kept per interval (the collector's defaults)."""
FUNDING_LIMIT = 100
BOOK_DEPTH = 25
HISTORY_LIMIT = 48
"""Open-interest and long/short points kept (the collector's oi_limit / ls_limit)."""
LIQUIDATION_WINDOW_MS = 3_600_000
"""Liquidations kept (the collector's liquidation_window_s)."""


def analytics_config_for(base: Interval, config: AnalyticsConfig) -> AnalyticsConfig:
    """`config` with every candle interval the data cannot provide replaced by the data's own interval."""
    changes: dict[str, str] = {}
    for name in ("indicator_interval", "vol_short_interval", "vol_long_interval"):
        iv = Interval(getattr(config, name))
        if iv.ms < base.ms or iv.ms % base.ms:
            changes[name] = base.value
    return replace(config, **changes) if changes else config  # type: ignore[arg-type]


def needed_intervals(config: AnalyticsConfig) -> list[Interval]:
    """The candle intervals `compute_enhanced` reads with `config`, finest first."""
    names = {config.indicator_interval, config.vol_short_interval, config.vol_long_interval}
    return sorted((Interval(n) for n in names), key=lambda i: i.ms)


@dataclass(frozen=True, slots=True)
class SymbolFeed:
    """One symbol's candles per analytics interval (aggregated once) and its funding history."""

    data: SymbolData
    candles: dict[str, CandleArrays]
    lookbacks: dict[str, int]
    funding_ts: np.ndarray

    @classmethod
    def build(
        cls, data: SymbolData, config: AnalyticsConfig, lookbacks: dict[str, int] | None = None
    ) -> SymbolFeed:
        """Aggregate the data's candles to every interval `config` needs."""
        base = data.interval
        out: dict[str, CandleArrays] = {}
        for iv in needed_intervals(config):
            if iv.ms % base.ms:
                raise ConfigError(f"{data.symbol}: {base.value} candles cannot make {iv.value} candles")
            out[iv.value] = data.arrays if iv is base else resample_candles(data.arrays, base.ms, iv.ms)
        lb = dict(DEFAULT_LOOKBACKS)
        lb.update(lookbacks or {})
        for name in out:
            lb.setdefault(name, 200)
        ts = np.array([f.ts for f in data.funding], dtype=np.int64)
        return cls(data, out, lb, ts)

    def candles_at(self, t: int) -> dict[str, CandleArrays]:
        """The last `lookback` candles of each interval that had closed at t."""
        out: dict[str, CandleArrays] = {}
        for name, arr in self.candles.items():
            step = Interval(name).ms
            k = int(np.searchsorted(arr.start, t - step, side="right"))
            out[name] = arr.take(slice(max(0, k - self.lookbacks[name]), k))
        return out

    def funding_at(self, t: int) -> list[FundingRate]:
        """The last FUNDING_LIMIT settlements at or before t, oldest first."""
        k = int(np.searchsorted(self.funding_ts, t, side="right"))
        return list(self.data.funding[max(0, k - FUNDING_LIMIT) : k])

    def recorded_at(self, t: int) -> tuple[list[Any] | None, list[Any] | None, list[Any] | None]:
        """(open interest, long/short ratio, liquidations) known at t; None for what was not recorded."""
        d = self.data

        def last(xs: tuple[Any, ...] | None, n: int) -> list[Any] | None:
            if xs is None:
                return None
            k = bisect_right(xs, t, key=lambda x: x.ts)
            return list(xs[max(0, k - n) : k])

        liq = None
        if d.liquidations is not None:
            a = bisect_right(d.liquidations, t - LIQUIDATION_WINDOW_MS, key=lambda x: x.ts)
            liq = list(d.liquidations[a : bisect_right(d.liquidations, t, key=lambda x: x.ts)])
        return last(d.open_interest, HISTORY_LIMIT), last(d.long_short, HISTORY_LIMIT), liq

    def has_data(self, t: int) -> bool:
        """True once a candle of the data had closed at t (and t is within a day of the data's end)."""
        return self.data.first_ms + self.data.interval.ms <= t <= self.data.end_ms + 86_400_000


def inputs_at(feed: SymbolFeed, market: BarMarket, t: int) -> AssetInputs:
    """`AssetInputs` of one symbol at step t (`market` must stand at t)."""
    sym = feed.data.symbol
    inst = market.instrument(sym)
    book = convert.book(inst, market.book(sym, BOOK_DEPTH))
    ticker = convert.ticker(inst, market.ticker(sym), open_interest=False)
    oi, ls, liq = feed.recorded_at(t)
    return AssetInputs(
        symbol=sym,
        now_ms=t,
        ticker=ticker,
        book=book,
        candles=feed.candles_at(t),
        funding_history=feed.funding_at(t),
        open_interest_history=oi,
        long_short_history=ls,
        liquidations=liq,
    )


def step_times(start_ms: int, end_ms: int, step_ms: int) -> list[int]:
    """Decision times: every multiple of `step_ms` in [start_ms, end_ms]."""
    if step_ms <= 0:
        raise ConfigError("the decision interval must be positive")
    first = -(-start_ms // step_ms) * step_ms
    return list(range(first, end_ms + 1, step_ms))


def enhanced_series(
    data: MarketData,
    symbol: str,
    steps: Sequence[int],
    calib_end_ms: int,
    config: AnalyticsConfig,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> list[EnhancedData | None]:
    """EnhancedData of `symbol` at every step (None where the symbol has no data yet or any more)."""
    one = MarketData({symbol: data[symbol]})
    market = BarMarket(one, calib_end_ms, seed, book_depth=BOOK_DEPTH)
    feed = SymbolFeed.build(data[symbol], config)
    out: list[EnhancedData | None] = []
    for i, t in enumerate(steps):
        market.advance(t, [])
        out.append(compute_enhanced(inputs_at(feed, market, t), config) if feed.has_data(t) else None)
        if progress is not None and i % 256 == 255:
            progress(256)
    if progress is not None:
        progress(len(steps) % 256)
    return out


__all__ = [
    "BOOK_DEPTH",
    "DEFAULT_LOOKBACKS",
    "FUNDING_LIMIT",
    "SymbolFeed",
    "analytics_config_for",
    "enhanced_series",
    "inputs_at",
    "needed_intervals",
    "step_times",
]
