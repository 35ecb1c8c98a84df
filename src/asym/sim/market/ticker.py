"""A symbol's ticker at time t from a per-minute cache.

Everything a ticker needs changes either once a minute (the 24 h window of complete minutes, mark and
index factors, open interest at the minute's two ends, the predicted funding rate, the last price before
the minute's first trade) or with the open minute's trades. `TickerMinute` holds the first kind and the
open minute's trades as running figures (high, low, volume, turnover including the 24 h window), so the
ticker of a new 100 ms step is a bisect and a few list lookups. The figures equal the ones computed from
the arrays directly (pure integer arithmetic, same float formulas).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from asym.sim.market.live import MINUTE_MS, LiveSymbol
from asym.sim.market.trades import STEP_MS, STEPS_PER_MINUTE


@dataclass(slots=True)
class TickerMinute:
    """What a ticker needs about live minute `minute` of one symbol."""

    minute: int
    ts: list[int]
    """The minute's trade times (bisect finds how many happened by t)."""
    price: list[int]
    tick_dir: list[int]
    high: list[int]
    """high[j]: 24 h high over the complete minutes and the minute's first j trades (index 0: window)."""
    low: list[int]
    volume: list[int]
    turnover: list[int]
    trades_before: int
    prev_price: int
    """The last price before the minute's first trade, and its tick direction code."""
    prev_dir: int
    prev_24h: int
    prev_1h: int
    mark_factor: float
    index_factor: float
    oi_prev: float
    oi_cur: float
    funding_rate: Decimal
    seq_base: int
    step0: int
    """100 ms steps from the live start to the minute's start (for the cross sequence)."""
    path: list[int]
    """The minute's 100 ms price path and whether the price sits on the ask (the book's touch)."""
    up: list[bool]
    level: int


def ticker_minute(live: LiveSymbol, m: int, funding_rate: Decimal) -> TickerMinute:
    """Build the cache of live minute m (computes the minute if needed)."""
    d = live.detail(m)
    tr = d.trades
    w = live.window_stats(m)
    price = tr.price
    if price.size:
        hi = np.maximum(np.maximum.accumulate(price), w.high)
        lo = np.minimum(np.minimum.accumulate(price), w.low)
        vol = np.cumsum(tr.size) + w.volume
        turn = np.cumsum(price * tr.size) + w.turnover
        high = [w.high, *hi.tolist()]
        low = [w.low, *lo.tolist()]
        volume = [w.volume, *vol.tolist()]
        turnover = [w.turnover, *turn.tolist()]
    else:
        high, low, volume, turnover = [w.high], [w.low], [w.volume], [w.turnover]
    # The price before the first trade of the minute (LiveSymbol.last_trade with no trade yet).
    if m > live.m0:
        prev = live.details.get(m - 1)
        if prev is not None and prev.trades.ts.size:
            prev_price, prev_dir = int(prev.trades.price[-1]), int(prev.trades.tick_dir[-1])
        else:
            prev_price, prev_dir = int(live.cols.c.view()[m - 1 - live.m0]), 1
    else:
        prev_price, prev_dir = int(d.path[0]), 1
    _, _, mf, xf = live.price_factors(m)
    oi = live.cols.oi.view()
    cur = float(oi[m - live.m0])
    if m - 1 >= live.m0:
        oi_prev = float(oi[m - 1 - live.m0])
    else:
        blk = live.series.block((m - 1) // 1440)
        oi_prev = float(blk.open_interest[(m - 1) % 1440])
    return TickerMinute(
        minute=m,
        ts=tr.ts.tolist(),
        price=price.tolist(),
        tick_dir=tr.tick_dir.tolist(),
        high=high,
        low=low,
        volume=volume,
        turnover=turnover,
        trades_before=d.trades_before,
        prev_price=prev_price,
        prev_dir=prev_dir,
        prev_24h=w.prev_24h,
        prev_1h=w.prev_1h,
        mark_factor=mf,
        index_factor=xf,
        oi_prev=oi_prev,
        oi_cur=cur,
        funding_rate=funding_rate,
        seq_base=live.ctx.seq_base,
        step0=max(0, (m * MINUTE_MS - live.m0 * MINUTE_MS) // STEP_MS),
        path=d.path.tolist(),
        up=d.up.tolist(),
        level=d.level,
    )


def trades_by(tm: TickerMinute, t: int) -> int:
    """How many of the minute's trades happened at or before t."""
    return bisect_right(tm.ts, t)


def last_at(tm: TickerMinute, j: int) -> tuple[int, int]:
    """(last price, tick direction code) after the minute's first j trades."""
    if j:
        return tm.price[j - 1], tm.tick_dir[j - 1]
    return tm.prev_price, tm.prev_dir


def seq_at(tm: TickerMinute, t: int, j: int) -> int:
    """Cross sequence at t (LiveSymbol.seq_at): trades so far plus 100 ms steps since the live start."""
    return tm.seq_base + tm.trades_before + j + tm.step0 + (t - tm.minute * MINUTE_MS) // STEP_MS


def book_state(tm: TickerMinute, t: int) -> tuple[int, bool, int]:
    """(reference price, price sits on the ask, volatility level) at t (LiveSymbol.book_state)."""
    k = min(STEPS_PER_MINUTE - 1, (t - tm.minute * MINUTE_MS) // STEP_MS)
    return tm.path[k], tm.up[k], tm.level


def open_interest_at(tm: TickerMinute, t: int) -> float:
    """Open interest at t, interpolated within the minute (LiveSymbol.open_interest)."""
    frac = (t - tm.minute * MINUTE_MS) / MINUTE_MS
    return tm.oi_prev + (tm.oi_cur - tm.oi_prev) * frac
