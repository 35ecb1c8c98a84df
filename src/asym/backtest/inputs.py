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

`EnhancedData` depends on the data only (never on the account), so `enhanced_series` computes every
step of a symbol ahead of the trading loop (in parallel, and reused by every point of a sweep), as ONE
series: `venue_series` gives the venue's ticker and book at every step at once (the book model's hashes
for all steps in a few array operations instead of a book build per step) and
`asym.analytics.compute_enhanced_series` turns the symbol's history into EnhancedData of every step,
equal to `compute_enhanced(inputs_at(...))` step by step (`enhanced_series_stepwise`, kept as the
reference: tests/backtest/test_fast_inputs.py compares the two).
"""

from __future__ import annotations

import copy
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, overload

import numpy as np

from asym.analytics import AnalyticsConfig, AssetInputs, CandleArrays, compute_enhanced, resample_candles
from asym.analytics.series import compute_enhanced_series
from asym.analytics.series_book import BookSeries
from asym.analytics.series_inputs import SeriesInputs, TickerSeries
from asym.analytics.types import EnhancedData
from asym.backtest import convert
from asym.backtest.bars import DAY_MS, HOUR_MS, BarMarket, BarSeries
from asym.backtest.data import MarketData, SymbolData
from asym.domain import FundingRate, Interval
from asym.errors import ConfigError
from asym.sim.market import book as book_model
from asym.sim.market.book_times import book_sides

DEFAULT_LOOKBACKS: dict[str, int] = {Interval.H1.value: 200, Interval.M5.value: 288}
"""Candles kept per interval (the collector's defaults)."""
FUNDING_LIMIT = 100
BOOK_DEPTH = 25
HISTORY_LIMIT = 48
"""Open-interest and long/short points kept (the collector's oi_limit / ls_limit)."""
LIQUIDATION_WINDOW_MS = 3_600_000
"""Liquidations kept (the collector's liquidation_window_s)."""
STEP_BLOCK = 16_384
"""Steps of a symbol computed together by `enhanced_series` (bounds its memory to some 100 MB)."""


SERIES_KEPT = 64
"""BarSeries kept by `bar_series` (the most recently used)."""
_SERIES: OrderedDict[tuple[int, int, int], tuple[SymbolData, BarSeries]] = OrderedDict()
_SERIES_LOCK = threading.Lock()


def bar_series(data: SymbolData, calib_end_ms: int, seed: int) -> BarSeries:
    """`BarSeries(data, calib_end_ms, seed)`, built once per (data, calibration, seed) and shared by the
    enhanced data and the trading loop's venue (the runner's BarMarket). Its arrays are a function of these
    three and never change; each caller gets its own memo of book hashes (`_grids`, which book builds
    update), so concurrent backtests (threads of a sweep) share nothing that changes."""
    key = (id(data), calib_end_ms, seed)
    with _SERIES_LOCK:
        hit = _SERIES.get(key)
        if hit is not None and hit[0] is data:
            _SERIES.move_to_end(key)
            template = hit[1]
        else:
            template = None
    if template is None:
        template = BarSeries(data, calib_end_ms, seed)
        with _SERIES_LOCK:
            _SERIES[key] = (data, template)
            if len(_SERIES) > SERIES_KEPT:
                _SERIES.popitem(last=False)
    series = copy.copy(template)
    series._grids = OrderedDict()  # own memo: BookGrid windows change with every build
    return series


def bar_market(data: MarketData, calib_end_ms: int, seed: int = 7, *, book_depth: int = 50) -> BarMarket:
    """`BarMarket(data, calib_end_ms, seed)` over the shared `bar_series` of its symbols."""
    market = BarMarket(MarketData({}), calib_end_ms, seed, book_depth=book_depth)
    market.series.update({name: bar_series(s, calib_end_ms, seed) for name, s in data.symbols.items()})
    return market


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
    """EnhancedData of `symbol` at every step (None where the symbol has no data yet or any more): the
    whole series at once (`compute_enhanced_series`), equal to `enhanced_series_stepwise`."""
    sd = data[symbol]
    feed = SymbolFeed.build(sd, config)
    t_all = np.asarray(steps, dtype=np.int64)
    d = sd.interval.ms
    idx = np.flatnonzero((sd.first_ms + d <= t_all) & (t_all <= sd.end_ms + 86_400_000)).tolist()  # has_data
    out: list[EnhancedData | None] = [None] * len(steps)
    # Blocks of steps bound the memory (a step's book and its temporaries are a few KB); each step depends
    # on the data and its own time only, so blocks give the same result.
    for b in range(0, len(idx), STEP_BLOCK):
        block = idx[b : b + STEP_BLOCK]
        times = t_all[block]
        tickers, books = venue_series(sd, times, calib_end_ms, seed)
        series = SeriesInputs(
            symbol=symbol,
            times=times,
            tickers=tickers,
            books=books,
            candles=feed.candles,
            lookbacks=feed.lookbacks,
            funding_history=sd.funding,
            funding_limit=FUNDING_LIMIT,
            open_interest_history=sd.open_interest,
            long_short_history=sd.long_short,
            history_limit=HISTORY_LIMIT,
            liquidations=sd.liquidations,
            liquidation_window_ms=LIQUIDATION_WINDOW_MS,
        )
        for i, e in zip(block, compute_enhanced_series(series, config), strict=True):
            out[i] = e
    if progress is not None:
        progress(len(steps))
    return out


def enhanced_series_stepwise(
    data: MarketData,
    symbol: str,
    steps: Sequence[int],
    calib_end_ms: int,
    config: AnalyticsConfig,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> list[EnhancedData | None]:
    """The reference: `compute_enhanced(inputs_at(...))` at every step, the venue advanced step by step
    (about 1 ms per step; `enhanced_series` gives the same result in about 30 microseconds a step)."""
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


# ---- the venue at every step at once ---------------------------------------------------------------

_ZERO = Decimal(0)


def base_state(s: BarSeries, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(price ticks, last move up, volatility level) of `BarSeries.base_price` / `level_at` at each time."""
    n, d = len(s.start), s.interval_ms
    i = np.searchsorted(s.start, times, side="left") - 1
    ic = np.clip(i, 0, n - 1)
    prev = np.where(i > 0, s.c[np.maximum(ic - 1, 0)], s.o[ic])
    past = (i >= 0) & (times - s.start[ic] >= d)
    price = np.where(i < 0, s.o[0], s.c[ic])
    up = np.where(i < 0, True, s.c[ic] >= prev)
    for j in np.flatnonzero((i >= 0) & ~past).tolist():  # inside a candle: its path points
        px, _, u = s.base_price(int(times[j]))
        price[j], up[j] = px, u
    k = np.searchsorted(s.start, times - d, side="right") - 1
    level = np.where(k >= 0, s.level[np.maximum(k, 0)], 0)
    return price.astype(np.int64), up.astype(bool), level.astype(np.int64)


class _Prices(Sequence[Decimal]):
    """Decimal prices of tick counts, converted when read."""

    def __init__(self, ticks: list[int], conv: Callable[[int], Decimal]) -> None:
        self._ticks = ticks
        self._conv = conv

    def __len__(self) -> int:
        return len(self._ticks)

    @overload
    def __getitem__(self, i: int) -> Decimal: ...

    @overload
    def __getitem__(self, i: slice) -> list[Decimal]: ...

    def __getitem__(self, i: int | slice) -> Decimal | list[Decimal]:
        if isinstance(i, slice):
            return [self._conv(x) for x in self._ticks[i]]
        return self._conv(self._ticks[i])


def venue_series(
    data: SymbolData, times: np.ndarray, calib_end_ms: int, seed: int = 7
) -> tuple[TickerSeries, BookSeries]:
    """The venue's ticker and book (BOOK_DEPTH levels) of one symbol at each time, as `inputs_at` reads
    them from a `BarMarket` advanced to that time (its price, volatility level, book model, 24h window
    and funding), for all times at once. The ticker keeps the fields the enhanced data reads."""
    s = bar_series(data, calib_end_ms, seed)
    inst, p = s.inst, s.book_params
    t = np.asarray(times, dtype=np.int64)
    n = t.size
    ref, up, level = base_state(s, t)
    factor = np.array([book_model.vol_factor(lv) for lv in range(book_model.VOL_LEVELS)])
    spread = np.maximum(1, np.rint(p.spread_ticks * factor[level])).astype(np.int64)  # touch_prices
    bid = np.where(up, ref - spread, ref)
    ask = np.where(up, ref, ref + spread)
    low = bid < 1
    bid[low], ask[low] = 1, 1 + spread[low]
    bpx, bsz, bn, bdone = book_sides(p, bid, level, t, -1, BOOK_DEPTH)
    apx, asz, an, adone = book_sides(p, ask, level, t, +1, BOOK_DEPTH)
    for i in np.flatnonzero(~(bdone & adone)).tolist():
        bids, asks = s.grid(int(ref[i])).build(int(ref[i]), bool(up[i]), int(level[i]), int(t[i]), BOOK_DEPTH)
        for lv, pa, sa, na in ((bids, bpx, bsz, bn), (asks, apx, asz, an)):
            na[i] = len(lv)
            pa[i], sa[i] = 0, 0
            if lv:
                pa[i, : len(lv)], sa[i, : len(lv)] = zip(*lv, strict=True)
    books = BookSeries(
        symbol=data.symbol,
        ts=t,
        price_step=inst.price.step,
        size_step=inst.qty.step,
        bid_px=bpx,
        bid_sz=bsz,
        ask_px=apx,
        ask_sz=asz,
        bid_n=bn,
        ask_n=an,
        present=np.ones(n, dtype=bool),
    )
    # The 24h window, the funding settlements seen and the interval inferred from them (BarMarket.ticker).
    b = np.searchsorted(s.start, t - s.interval_ms, side="right")
    a = np.minimum(np.searchsorted(s.start, t - DAY_MS, side="left"), b)
    vol = (s._cum_vol[b] - s._cum_vol[a]).tolist()
    turn = (s._cum_turn[b] - s._cum_turn[a]).tolist()
    fts = np.asarray(s.funding_ts, dtype=np.int64)
    k = np.searchsorted(fts, t, side="right")
    pad = np.concatenate((fts, [0, 0]))  # k < 2 reads the pad (and uses 8 h)
    gap = np.where(k >= 2, pad[np.maximum(k - 1, 0)] - pad[np.maximum(k - 2, 0)], 8 * HOUR_MS)
    hours = np.where(k >= 2, np.maximum(1, np.rint(gap / HOUR_MS)), 8).astype(np.int64)
    every = hours * HOUR_MS
    nxt = (t // every + 1) * every
    price = books.price
    last = books.prices(ref)
    qstep = inst.qty.step
    rates = s.funding_rate
    tickers = TickerSeries(
        symbol=data.symbol,
        ts=t.tolist(),
        present=[True] * n,
        last_price=last,
        mark_price=last,  # mark = index = last: no premium data
        index_price=last,
        bid1_price=_Prices(bid.tolist(), price),  # read only where the book is unusable: on demand
        ask1_price=_Prices(ask.tolist(), price),
        volume_24h=[qstep * int(v) for v in vol],
        turnover_24h=[Decimal(f"{v:.2f}") for v in turn],
        open_interest=[None] * n,
        funding_rate=[rates[j - 1] if j else _ZERO for j in k.tolist()],
        next_funding_time=nxt.tolist(),
        funding_interval_hours=hours.tolist(),
    )
    return tickers, books


__all__ = [
    "BOOK_DEPTH",
    "DEFAULT_LOOKBACKS",
    "FUNDING_LIMIT",
    "SymbolFeed",
    "analytics_config_for",
    "bar_market",
    "bar_series",
    "base_state",
    "enhanced_series",
    "enhanced_series_stepwise",
    "inputs_at",
    "needed_intervals",
    "step_times",
    "venue_series",
]
