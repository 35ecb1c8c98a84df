"""`compute_enhanced_series`: the enhanced data of one symbol at every step of a history, in one pass.

A backtest needs `EnhancedData` of each symbol at each decision time t from the data at or before t.
`window_inputs(series, i)` (asym.analytics.series_inputs) builds exactly those `AssetInputs` for step i,
and the contract of this module is

    compute_enhanced_series(series, config)[i] == compute_enhanced(window_inputs(series, i), config)

field by field. Floats derived from TA-Lib's EMA/RSI/ATR/Bollinger bands may differ by floating-point
rounding (asym.analytics.series_indicators: below 1e-13 relative on the shared data, tested at 1e-9);
everything else (prices, flags and their order, labels, depth, spread, realised volatility, funding,
liquidity and risk scores) is the same value.

How: indicators are computed once over the whole series and corrected to each step's window; candle
validation (`prepare_candles`) is a few array operations for all steps; books are integer arrays
(`BookSeries`) checked at once; the funding history is cleaned once per distinct window (it changes at
settlements only); and the scores are the same float operations on columns. Per step, only the result
objects are built. A step outside that fast path (no ticker or book, a ticker field that is invalid, a
price from a fallback source, an unusable or mismatched book) is `compute_enhanced(window_inputs(...))`
itself. When open interest, long/short ratio or liquidations were recorded, fast steps go through
`enhanced.finish_enhanced` (the composition `compute_enhanced` ends with) one by one.

Memory: a few KB per step while computing (books as arrays and their temporaries), so very long series
are best given in blocks (the backtest computes 16,384 steps at a time); steps are independent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, getcontext
from typing import Any

import numpy as np
import numpy.typing as npt

from asym.analytics.candles import CandleArrays
from asym.analytics.config import DEFAULT_CONFIG, AnalyticsConfig
from asym.analytics.enhanced import compute_enhanced, finish_enhanced
from asym.analytics.liquidity import spread_pct
from asym.analytics.market_fields import market_fields
from asym.analytics.quality import Flags
from asym.analytics.series_columns import SeriesColumns, none_nan
from asym.analytics.series_inputs import SeriesInputs, window_inputs
from asym.analytics.types import EnhancedData, FundingSentiment, TechnicalIndicators

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_RECORDED_MISSING = ("oi_history_missing", "ls_ratio_missing", "liquidations_missing")


def compute_enhanced_series(
    series: SeriesInputs, config: AnalyticsConfig = DEFAULT_CONFIG
) -> list[EnhancedData]:
    """EnhancedData of every step; element i equals compute_enhanced(window_inputs(series, i), config)."""
    n = len(series)
    if n == 0:
        return []
    cols = SeriesColumns(series, config)
    out: list[EnhancedData | None] = [None] * n
    fast = np.flatnonzero(cols.fast)
    if fast.size:
        if series.records_market_state:
            parts = _StepParts(cols)
            for i in fast.tolist():
                out[i] = _finish_step(cols, parts, i)
        else:
            _assemble(cols, fast, out)
    for i in np.flatnonzero(~cols.fast).tolist():
        out[i] = compute_enhanced(window_inputs(series, i), config)
    return out  # type: ignore[return-value]


def _assemble(cols: SeriesColumns, fast: I64, out: list[EnhancedData | None]) -> None:
    """The fast steps of a series without recorded OI / long-short / liquidations: the composition of
    `finish_enhanced` on columns (the same float operations in the same order), objects built last."""
    s, cfg = cols.series, cols.config
    books = cols.books
    bs = s.books
    assert books is not None and bs is not None
    tk = s.tickers
    bid_n, ask_n = bs.bid_px[fast, 0], bs.ask_px[fast, 0]
    bids = bs.prices(bid_n)
    asks = bs.prices(ask_n)
    spread = _spreads(bid_n, ask_n, bids, asks)
    depth = books.depths(fast)
    turnover = cols.turnover_f[fast]
    rate = cols.rate_f[fast]
    has_rate = ~cols.rate_none[fast]
    ih = cols.interval_h[fast]
    liq = _liquidity(depth, spread, turnover, cfg)
    # Flags, in compute_enhanced's order, interned per distinct combination.
    k = cols.fund_end[fast]
    hist_len = np.array([cols.fund_len[x] for x in k.tolist()], dtype=np.int64)
    hist_short = has_rate & (hist_len >= 0) & (hist_len < cfg.funding_min_history)
    turnover_missing = np.isnan(turnover)
    fund_keys = sorted(cols.fund_flags)
    fund_id = np.searchsorted(np.asarray(fund_keys, dtype=np.int64), k)
    fund_sets = [cols.fund_flags[x] for x in fund_keys]
    bits = (cols.stale[fast] * 1 + turnover_missing * 2 + (~has_rate) * 4 + hist_short * 8).astype(np.int64)
    code = ((cols.candle_id[fast] * 8 + cols.tech_code[fast]) * len(fund_keys) + fund_id) * 16 + bits
    uniq, inv = np.unique(code, return_inverse=True)
    sets: list[tuple[str, ...]] = []
    for c in uniq.tolist():
        b = c % 16
        f = c // 16 % len(fund_keys)
        t = c // 16 // len(fund_keys) % 8
        cand = c // 16 // len(fund_keys) // 8
        parts = [
            *s.quality_flags,
            *(("ticker_stale",) if b & 1 else ()),
            *cols.candle_flag_sets[cand],
            *(("turnover_missing",) if b & 2 else ()),
            *cols.tech_flag_sets[t],
            *fund_sets[f],
            *(("funding_rate_missing",) if b & 4 else ()),
            *(("funding_history_short",) if b & 8 else ()),
            *_RECORDED_MISSING,
        ]
        sets.append(tuple(dict.fromkeys(parts)))
    n_flags = np.array([len(x) for x in sets], dtype=np.int64)[inv]
    # Components and the market risk score (components.py, market_risk.py on columns).
    vols = np.fmax(cols.vol_1h[fast], cols.vol_24h[fast])
    vol_c = _linear(vols, cfg.vol_risk_low, cfg.vol_risk_high)
    with np.errstate(invalid="ignore"):
        fund_c = _linear(np.abs(rate * 8.0 / ih), cfg.funding_risk_low, cfg.funding_risk_high)
    worst = 1.0
    risk = (
        cfg.risk_weight_volatility * np.where(np.isnan(vol_c), worst, vol_c)
        + cfg.risk_weight_liquidations * worst
        + cfg.risk_weight_funding * np.where(np.isnan(fund_c), worst, fund_c)
        + cfg.risk_weight_liquidity * np.where(np.isnan(liq), worst, 1.0 - liq)
        + cfg.risk_weight_data_quality * np.minimum(1.0, n_flags / cfg.data_quality_full_flags)
    )
    risk = np.minimum(1.0, np.maximum(0.0, risk))
    idx = fast.tolist()
    every = len(idx) == len(s)

    def pick(col: Sequence[Any]) -> Sequence[Any]:
        return col if every else [col[i] for i in idx]

    rates = pick(tk.funding_rate)
    # One FundingSentiment per run of steps with the same rate object, window and interval.
    sentiments: list[FundingSentiment | None] = []
    last: tuple[int, float, object] = (-1, 0.0, None)
    sentiment: FundingSentiment | None = None
    for r, kk, h in zip(rates, k.tolist(), ih.tolist(), strict=True):
        if r is None:
            last, sentiment = (-1, 0.0, None), None
        elif last[0] != kk or last[1] != h or last[2] is not r:
            last = (kk, h, r)
            sentiment = cols.sentiment(kk, r, h)
        sentiments.append(sentiment)
    nft = [nf if nf is not None and nf > 0 else None for nf in pick(tk.next_funding_time)]
    flag_sets = [sets[j] for j in inv.tolist()]
    sym = s.symbol
    rows = zip(
        idx,
        s.t[fast].tolist(),
        pick(tk.last_price),
        pick(tk.mark_price),
        pick(tk.index_price),
        bids,
        asks,
        pick(tk.volume_24h),
        pick(tk.turnover_24h),
        rates,
        nft,
        pick(tk.open_interest),
        none_nan(liq),
        sentiments,
        risk.tolist(),
        spread.tolist(),
        books.levels[fast].tolist(),
        pick(cols.tech),
        flag_sets,
        strict=True,
    )
    for i, t, lp, mp, ip, bid, ask, vol, turn, r, nf, oi, lq, fs, rk, sp, lv, tech, fl in rows:
        out[i] = EnhancedData(
            symbol=sym,
            timestamp=t,
            last_price=lp,
            mark_price=mp,
            index_price=ip,
            bid_price=bid,
            ask_price=ask,
            volume_24h=vol,
            turnover_24h=turn,
            funding_rate=r,
            next_funding_time=nf,
            open_interest=oi,
            liquidity_score=lq,
            liquidation_risk=None,
            funding_sentiment=fs,
            oi_sentiment=None,
            market_risk_score=rk,
            spread_pct=sp,
            nearby_liquidations=None,
            order_book_depth=lv,
            technical_indicators=tech,
            quality_flags=fl,
        )


SPREAD_EXACT_MAX = 10**11
"""Bid + ask (in ticks) below which the float quotient is spread_pct's value exactly (see _spreads)."""


def _spreads(bid: I64, ask: I64, bids: list[Decimal], asks: list[Decimal]) -> F64:
    """spread_pct of each (bid, ask), on their tick counts B, A.

    spread_pct is float(D) with D = (ask - bid) / ((ask + bid) / 2) * 100 in Decimal: the exact value
    x = 200 (A - B) / (A + B) rounded to 28 digits, then to a double. One IEEE division of the exact
    integers 200 (A - B) and A + B rounds x itself to a double. The two agree: a double rounding boundary
    b near x is an odd multiple of 2^(E-53) (E: x's binary exponent) and x != b (x has a small odd
    numerator), so |x - b| >= 1 / ((A + B) 2^(53-E)) > 2^-54 x / (A + B), while the 28-digit rounding
    moves x by at most 5e-28 x: never across b while A + B < 1.1e11. Beyond that, or with a Decimal
    context of fewer digits, spread_pct itself is used."""
    big = (bid + ask >= SPREAD_EXACT_MAX) | (ask - bid >= 2**40)
    if getcontext().prec < 28 or big.any():
        return np.array([spread_pct(b, a) for b, a in zip(bids, asks, strict=True)], dtype=np.float64)
    return (200 * (ask - bid)).astype(np.float64) / (ask + bid).astype(np.float64)


def _linear(x: F64, low: float, high: float) -> F64:
    """quality.linear_score on a column (NaN stays NaN)."""
    with np.errstate(invalid="ignore"):
        return np.clip((x - low) / (high - low), 0.0, 1.0)


def _log_score(x: F64, low: float, high: float) -> F64:
    """quality.log_score on a column (math.log10 itself: numpy's may be a SIMD variant elsewhere)."""
    out = np.zeros(x.size)
    above = np.flatnonzero(x > low)
    ratio = (x[above] / low).tolist()
    out[above] = np.fromiter(map(math.log10, ratio), dtype=np.float64, count=len(ratio))
    return np.clip(out / math.log10(high / low), 0.0, 1.0)


def _liquidity(depth: F64, spread: F64, turnover: F64, cfg: AnalyticsConfig) -> F64:
    """liquidity.liquidity_score on columns (NaN where the turnover is missing)."""
    s = (
        cfg.liquidity_weight_depth * _log_score(depth, cfg.depth_ref_low_quote, cfg.depth_ref_high_quote)
        + cfg.liquidity_weight_spread
        * (1.0 - _log_score(spread, cfg.spread_ref_best_pct, cfg.spread_ref_worst_pct))
        + cfg.liquidity_weight_turnover
        * _log_score(turnover, cfg.turnover_ref_low_quote, cfg.turnover_ref_high_quote)
    )
    out = np.minimum(1.0, np.maximum(0.0, s))
    out[np.isnan(turnover)] = np.nan
    return out


class _StepParts:
    """The EnhancedParts of the current step (for `finish_enhanced`), from the columns."""

    def __init__(self, cols: SeriesColumns) -> None:
        self.cols = cols
        self.i = 0

    def technical(self, flags: Flags) -> TechnicalIndicators | None:
        for f in self.cols.tech_flag_sets[int(self.cols.tech_code[self.i])]:
            flags.add(f)
        return self.cols.tech[self.i]

    def funding_history(self, flags: Flags) -> np.ndarray | None:
        k = int(self.cols.fund_end[self.i])
        for f in self.cols.fund_flags[k]:
            flags.add(f)
        return self.cols.fund_history(k)

    def funding(self, rate: Decimal, interval_hours: float, history: np.ndarray | None) -> FundingSentiment:
        return self.cols.sentiment(int(self.cols.fund_end[self.i]), rate, interval_hours)

    def price_sets(self) -> list[tuple[CandleArrays, int]]:
        i, c = self.i, self.cols
        sets = [
            (c.window(iv, i), step) for iv, step in c.plan if step is not None and not c.windows[iv].stale[i]
        ]
        return sorted(sets, key=lambda v: v[1])


def _finish_step(cols: SeriesColumns, parts: _StepParts, i: int) -> EnhancedData:
    """A fast step through `finish_enhanced` (series with recorded OI / long-short / liquidations)."""
    s, cfg = cols.series, cols.config
    bs, books = s.books, cols.books
    assert bs is not None and books is not None
    tk = s.tickers.ticker(i)
    flags = Flags(s.quality_flags)
    if cols.stale[i]:
        flags.add("ticker_stale")
    for f in cols.candle_flags(i):
        flags.add(f)
    # The fast path holds only tickers market_fields takes as they are: no flag, the last price.
    fields = market_fields(tk, None, None, flags, cfg.funding_rate_max_abs)
    parts.i = i
    return finish_enhanced(
        s.recorded(i),
        cfg,
        flags,
        tk,
        fields,
        bs.price(int(bs.bid_px[i, 0])),
        bs.price(int(bs.ask_px[i, 0])),
        books.depth(i),
        int(books.levels[i]),
        parts,
    )


__all__ = ["compute_enhanced_series"]
