"""One symbol's live market: minutes computed one after another from the base series, each with a 100 ms
price path, crowd liquidations (and their push), public trades, and the per-minute premium / open
interest / ratio. State at market time t is a pure function of the minutes up to t, so it never
depends on how often it was sampled (tests/sim/market/test_determinism.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from asym.sim.market.book import BookParams, vol_level
from asym.sim.market.funding import index_factor, mark_factor
from asym.sim.market.generator import DAY_MINUTES, SEASON_VOL
from asym.sim.market.history import MinuteArrays
from asym.sim.market.liquidations import Crowd, CrowdParams
from asym.sim.market.paths import candle_path
from asym.sim.market.seeding import rng_for
from asym.sim.market.series import BaseSeries
from asym.sim.market.trades import STEP_MS, STEPS_PER_MINUTE, MinuteTrades, make_trades, trade_count
from asym.sim.types import TradeEvent

MINUTE_MS = 60_000
_NO_FLOATS = np.zeros(0)
KEEP_MINUTES = 6
"""Minute details (paths, trades) kept after emission, for recent trades and books."""
MAX_PENDING_MINUTES = 60
"""Events of a symbol nobody advanced for longer than this are dropped (prices stay exact)."""
SEED_HISTORY_MINUTES = 1440
PRECOMPUTE_WINDOW_MS = 2_000
"""A symbol computes its next minute early only when time passes its own point in this window (a market
touched mid-minute does not precompute everything at once); otherwise at the boundary, as usual."""
TYPICAL_SIGMA_SHARE = 0.6
"""The median minute sigma is ~0.6x the rms one (log-normal stochastic vol): calm books are judged
against the median."""


@dataclass(frozen=True, slots=True)
class SymbolContext:
    """Static facts about a symbol the live model needs."""

    symbol: str
    key: int
    tick: float
    qty_step: float
    generated: bool
    """Generated markets get liquidation pushes; replayed ones keep the recording's prices exactly."""
    sigma_ref: float
    """Typical per-minute sigma of log returns (calm reference for the volatility level)."""
    range_k: float
    avg_trade_value: float
    crowd: CrowdParams
    book: BookParams
    funding_cap: float
    seq_base: int


@dataclass(slots=True)
class MinuteDetail:
    """Everything inside one live minute."""

    minute: int
    path: np.ndarray
    up: np.ndarray
    """Whether the last price move up to each step was up (which side the price sits on)."""
    trades: MinuteTrades
    liq_ts: np.ndarray
    liq_side: np.ndarray
    liq_price: np.ndarray
    liq_size: np.ndarray
    level: int
    trades_before: int
    events: list[TradeEvent] | None = None
    """The minute's TradeEvents, built once on first need (emission or recent trades)."""
    event_ts: list[int] | None = None


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Rolling-24h figures over the complete minutes before a minute (0 where there is no data)."""

    prev_24h: int
    """Open of the minute 24 h earlier."""
    prev_1h: int
    high: int
    low: int
    volume: int
    turnover: int


class _Growable:
    """Append-only numpy columns."""

    def __init__(self, dtype: type, capacity: int = 256) -> None:
        self.a: np.ndarray = np.zeros(capacity, dtype=dtype)
        self.n = 0

    def append(self, v: float) -> None:
        if self.n == self.a.size:
            self.a = np.concatenate((self.a, np.zeros_like(self.a)))
        self.a[self.n] = v
        self.n += 1

    def view(self) -> np.ndarray:
        return self.a[: self.n]


@dataclass(slots=True)
class _Columns:
    o: _Growable = field(default_factory=lambda: _Growable(np.int64))
    h: _Growable = field(default_factory=lambda: _Growable(np.int64))
    low: _Growable = field(default_factory=lambda: _Growable(np.int64))
    c: _Growable = field(default_factory=lambda: _Growable(np.int64))
    v: _Growable = field(default_factory=lambda: _Growable(np.int64))
    to: _Growable = field(default_factory=lambda: _Growable(np.int64))
    oi: _Growable = field(default_factory=lambda: _Growable(np.float64))


class LiveSymbol:
    """The live state of one symbol from `live_start_minute` on."""

    def __init__(self, ctx: SymbolContext, series: BaseSeries, live_start_minute: int, seed: int) -> None:
        self.ctx = ctx
        self.series = series
        self.m0 = live_start_minute
        self.next_minute = live_start_minute
        self.rng = rng_for(seed, ctx.symbol, "live")
        self.cols = _Columns()
        self.details: dict[int, MinuteDetail] = {}
        self.offset = 0.0
        self.oi_offset = 0.0
        blk = series.block(live_start_minute // DAY_MINUTES)
        i0 = live_start_minute % DAY_MINUTES
        self.prev_close = int(blk.open[i0])
        self.prev_dir = 0
        self.trade_number = 0
        self.crowd = Crowd(ctx.crowd, ctx.tick, ctx.qty_step)
        self._seed_crowd()
        self.emitted_to: int | None = None
        self.wake_ms = 0
        """Before this market time the symbol has nothing to emit and nothing to precompute."""
        self.lead_ms = 5_000 + ctx.key % 50_000
        """The next minute is computed this long before it starts, spread over symbols so that a large
        market does not compute every symbol's minute at the same boundary (pure: results are equal)."""
        self.minutes_computed = 0
        self._window: tuple[int, WindowStats] | None = None

    # ---- minute computation -------------------------------------------------------------------

    def _seed_crowd(self) -> None:
        a = max(self.series.first_minute, self.m0 - SEED_HISTORY_MINUTES)
        if a >= self.m0:
            return
        arr = self.base_minutes(a, self.m0, aux=False)
        blk = self.series.block(self.m0 // DAY_MINUTES)
        share = float(blk.buy_ratio[self.m0 % DAY_MINUTES])
        self.crowd.seed_from_history(arr.open, arr.low, arr.high, share, self.rng)

    def base_minutes(self, a: int, b: int, aux: bool = True) -> MinuteArrays:
        """Base-series minutes [a, b) (before the live start: the history). Without `aux` the premium and
        index-noise columns are left empty (candles alone: their days need no auxiliary series)."""
        parts: list[tuple[np.ndarray, ...]] = []
        m = a
        prev_prem = 0.0
        while m < b:
            day = m // DAY_MINUTES
            blk = self.series.block(day)
            i = m - day * DAY_MINUTES
            j = min(DAY_MINUTES, i + (b - m))
            if aux and m == a:
                prev_prem = float(blk.premium[i - 1]) if i > 0 else float(blk.premium[0])
            cols = (
                blk.open[i:j],
                blk.high[i:j],
                blk.low[i:j],
                blk.close[i:j],
                blk.volume[i:j],
                blk.turnover[i:j],
            )
            parts.append((*cols, blk.premium[i:j], blk.index_noise[i:j]) if aux else cols)
            m += j - i
        width = 8 if aux else 6
        cols_out = (
            [np.concatenate([p[k] for p in parts]) for k in range(width)] if parts else [np.zeros(0)] * width
        )
        if not aux:
            cols_out += [_NO_FLOATS, _NO_FLOATS]
        return MinuteArrays(
            a,
            cols_out[0],
            cols_out[1],
            cols_out[2],
            cols_out[3],
            cols_out[4],
            cols_out[5],
            cols_out[6],
            cols_out[7],
            prev_prem,
        )

    def ensure(self, minute: int) -> None:
        """Compute every minute up to and including `minute`."""
        while self.next_minute <= minute:
            self._compute(self.next_minute)
            self.next_minute += 1

    def _compute(self, m: int) -> None:
        ctx = self.ctx
        blk = self.series.block(m // DAY_MINUTES)
        i = m % DAY_MINUTES
        bo, bh, bl, bc = int(blk.open[i]), int(blk.high[i]), int(blk.low[i]), int(blk.close[i])
        if ctx.generated:
            scale = math.exp(self.offset)
            o = self.prev_close
            c = max(1, round(bc * scale))
            h = max(round(bh * scale), o, c)
            lo = max(1, min(round(bl * scale), o, c))
        else:
            o, h, lo, c = bo, bh, bl, bc
        sigma = float(blk.sigma[i])
        price = o * ctx.tick
        step_sd = sigma * ctx.range_k * (price / ctx.tick) / math.sqrt(STEPS_PER_MINUTE)
        # Sticky microstructure for symbols whose 100 ms moves span many ticks (BTC: ~13 ticks a step).
        hold = min(0.85, max(0.0, 1.0 - 1.0 / max(step_sd, 1e-9)))
        path = candle_path(o, h, lo, c, STEPS_PER_MINUTE, max(step_sd, 1e-9), self.rng, hold)
        batch = self.crowd.liquidate(path, sigma, push=ctx.generated)
        path = batch.path
        self.offset += batch.push
        volume = int(blk.volume[i])
        if ctx.generated:
            volume = max(volume, 4) + int(batch.size.sum())
        n = trade_count(volume, ctx.qty_step * price, ctx.avg_trade_value, self.rng)
        diff = np.sign(np.diff(path, prepend=self.prev_close))
        pos = np.where(diff != 0, np.arange(diff.size), -1)
        np.maximum.accumulate(pos, out=pos)
        up = np.where(pos >= 0, diff[np.maximum(pos, 0)] > 0, self.prev_dir == 0)
        trades = make_trades(
            minute_ms=m * MINUTE_MS,
            path=path,
            volume_steps=volume,
            n_trades=n,
            first_number=self.trade_number,
            prev_price=self.prev_close,
            prev_dir=self.prev_dir,
            up=up,
            rng=self.rng,
        )
        share = float(blk.buy_ratio[i])
        self.crowd.churn(path, float(blk.volume[i]) / blk.mean_volume, share, self.rng)
        rng_ratio = max(sigma, math.log(max(path.max(), 1) / max(path.min(), 1)) / 2.5)
        level = vol_level(rng_ratio / max(TYPICAL_SIGMA_SHARE * ctx.sigma_ref * float(SEASON_VOL[i]), 1e-12))
        if batch.index.size:
            liq_ts = (
                m * MINUTE_MS + batch.index * STEP_MS + self.rng.integers(0, STEP_MS, size=batch.index.size)
            )
            liq_ts.sort()
        else:
            liq_ts = batch.index
        detail = MinuteDetail(
            minute=m,
            path=path,
            up=up,
            trades=trades,
            liq_ts=liq_ts,
            liq_side=batch.side,
            liq_price=batch.price,
            liq_size=batch.size,
            level=level,
            trades_before=self.trade_number,
        )
        self.details[m] = detail
        # Liquidated crowd positions leave the open interest; the gap heals over a few hours.
        oi_base = float(blk.open_interest[i])
        if batch.size.size and oi_base > 0:
            gone = float(batch.size.sum()) * ctx.qty_step
            self.oi_offset += math.log(max(0.5, 1.0 - gone / (oi_base * math.exp(self.oi_offset))))
        self.oi_offset *= math.exp(-1.0 / 180.0)
        cols = self.cols
        cols.o.append(int(path[0]))
        cols.h.append(int(path.max()))
        cols.low.append(int(path.min()))
        cols.c.append(int(path[-1]))
        cols.v.append(int(trades.size.sum()))
        cols.to.append(int((trades.price * trades.size).sum()))
        cols.oi.append(oi_base * math.exp(self.oi_offset))
        self.trade_number += int(trades.ts.size)
        if trades.ts.size:
            self.prev_dir = 0 if int(trades.tick_dir[-1]) in (0, 1) else 2
        self.prev_close = int(path[-1])
        self.minutes_computed += 1
        self._trim(m)

    def _trim(self, m: int) -> None:
        keep_from = m - KEEP_MINUTES
        if self.emitted_to is not None:
            keep_from = min(keep_from, max(self.emitted_to // MINUTE_MS, m - MAX_PENDING_MINUTES))
        for k in [k for k in self.details if k < keep_from]:
            del self.details[k]

    # ---- queries at time t --------------------------------------------------------------------

    def detail(self, m: int) -> MinuteDetail:
        """The detail of live minute m (recomputed never: minutes are kept while needed)."""
        self.ensure(m)
        d = self.details.get(m)
        if d is None:
            raise LookupError(f"{self.ctx.symbol}: minute {m} is no longer kept")
        return d

    def trades_upto(self, d: MinuteDetail, t: int) -> int:
        """How many of the minute's trades happened at or before t."""
        return int(np.searchsorted(d.trades.ts, t, side="right"))

    def last_trade(self, t: int) -> tuple[int, int, int]:
        """(price ticks, tick direction code, running trade count) as of time t."""
        m = t // MINUTE_MS
        d = self.detail(m)
        j = self.trades_upto(d, t)
        if j > 0:
            return int(d.trades.price[j - 1]), int(d.trades.tick_dir[j - 1]), d.trades_before + j
        if m > self.m0:
            prev = self.details.get(m - 1)
            if prev is not None and prev.trades.ts.size:
                return int(prev.trades.price[-1]), int(prev.trades.tick_dir[-1]), d.trades_before
            return int(self.cols.c.view()[m - 1 - self.m0]), 1, d.trades_before
        return int(d.path[0]), 1, d.trades_before

    def step_index(self, t: int) -> int:
        """100 ms steps since the live start (the book's update clock)."""
        return max(0, (t - self.m0 * MINUTE_MS) // STEP_MS)

    def seq_at(self, t: int) -> int:
        """Cross sequence at t: grows with every trade and every book step."""
        _, _, count = self.last_trade(t)
        return self.ctx.seq_base + count + self.step_index(t)

    def book_state(self, t: int) -> tuple[int, bool, int]:
        """(reference price, price sits on the ask, volatility level) at t."""
        m = t // MINUTE_MS
        d = self.detail(m)
        k = min(STEPS_PER_MINUTE - 1, (t - m * MINUTE_MS) // STEP_MS)
        return int(d.path[k]), bool(d.up[k]), d.level

    def minute_arrays(self, a: int, b: int, t: int, aux: bool = True) -> MinuteArrays:
        """Minutes [a, b): history from the base series, live minutes computed, and the minute holding t
        as the open candle (its trades up to t). Without `aux`: candles only (see base_minutes)."""
        now_m = t // MINUTE_MS
        b = min(b, now_m + 1)
        if a >= b:
            z = np.zeros(0, dtype=np.int64)
            return MinuteArrays(a, z, z, z, z, z, z, np.zeros(0), np.zeros(0), 0.0)
        base = self.base_minutes(a, b, aux)
        if b <= self.m0:
            return base
        self.ensure(now_m)
        la = max(a, self.m0)
        lb = min(b, now_m)  # complete live minutes
        cols = self.cols
        o, h, lo, c = base.open.copy(), base.high.copy(), base.low.copy(), base.close.copy()
        v, to = base.volume.copy(), base.turnover.copy()
        if lb > la:
            sl = slice(la - self.m0, lb - self.m0)
            dst = slice(la - a, lb - a)
            o[dst] = cols.o.view()[sl]
            h[dst] = cols.h.view()[sl]
            lo[dst] = cols.low.view()[sl]
            c[dst] = cols.c.view()[sl]
            v[dst] = cols.v.view()[sl]
            to[dst] = cols.to.view()[sl]
        if b == now_m + 1 and now_m >= self.m0:
            k = now_m - a
            d = self.detail(now_m)
            j = self.trades_upto(d, t)
            if j > 0:
                pr = d.trades.price[:j]
                o[k], h[k], lo[k], c[k] = int(pr[0]), int(pr.max()), int(pr.min()), int(pr[-1])
                v[k] = int(d.trades.size[:j].sum())
                to[k] = int((pr * d.trades.size[:j]).sum())
            else:
                last = self.last_trade(t)[0]
                o[k] = h[k] = lo[k] = c[k] = last
                v[k] = 0
                to[k] = 0
        return MinuteArrays(a, o, h, lo, c, v, to, base.premium, base.index_noise, base.prev_premium)

    def window_stats(self, m: int) -> WindowStats:
        """24 h figures over minutes [m-1439, m-1] (cached per minute)."""
        if self._window is not None and self._window[0] == m:
            return self._window[1]
        a = max(m - 1439, self.series.first_minute)
        arr = self.minute_arrays(a, m, m * MINUTE_MS, aux=False) if m > a else None
        if arr is None or arr.open.size == 0:
            stats = WindowStats(0, 0, 0, 1 << 62, 0, 0)
        else:
            k = m - 60 - a
            stats = WindowStats(
                prev_24h=int(arr.open[0]),
                prev_1h=int(arr.open[k]) if 0 <= k < arr.open.size else int(arr.open[0]),
                high=int(arr.high.max()),
                low=int(arr.low.min()),
                volume=int(arr.volume.sum()),
                turnover=int(arr.turnover.sum()),
            )
        self._window = (m, stats)
        return stats

    def open_interest(self, t: int) -> float:
        """Open interest (base coin) at t, interpolated within the minute."""
        m = t // MINUTE_MS
        self.ensure(m)
        oi = self.cols.oi.view()
        cur = float(oi[m - self.m0])
        if m - 1 >= self.m0:
            prev = float(oi[m - 1 - self.m0])
        else:
            blk = self.series.block((m - 1) // DAY_MINUTES)
            prev = float(blk.open_interest[(m - 1) % DAY_MINUTES])
        frac = (t - m * MINUTE_MS) / MINUTE_MS
        return prev + (cur - prev) * frac

    def oi_at_close(self, m: int) -> float:
        """Open interest at the close of minute m (live or history)."""
        if m >= self.m0:
            self.ensure(m)
            return float(self.cols.oi.view()[m - self.m0])
        blk = self.series.block(m // DAY_MINUTES)
        return float(blk.open_interest[m % DAY_MINUTES])

    def price_factors(self, m: int) -> tuple[float, float, float, float]:
        """(premium, index noise, mark/last, index/last) of minute m."""
        blk = self.series.block(m // DAY_MINUTES)
        b = float(blk.premium[m % DAY_MINUTES])
        e = float(blk.index_noise[m % DAY_MINUTES])
        return b, e, mark_factor(b, e), index_factor(b, e)

    def events(self, upto: int) -> tuple[list[MinuteDetail], int, int]:
        """Minute details holding events in (emitted_to, upto], and that window; advances the pointer."""
        start = upto if self.emitted_to is None else self.emitted_to
        self.emitted_to = upto
        m = upto // MINUTE_MS
        pre = (m + 1) * MINUTE_MS - self.lead_ms
        if pre <= upto < pre + PRECOMPUTE_WINDOW_MS:
            self.ensure(m + 1)
        if upto <= start:
            self.wake_ms = self._next_wake(upto)
            return [], start, upto
        self.ensure(m)
        first_m = max(start // MINUTE_MS, m - MAX_PENDING_MINUTES)
        out = [self.details[k] for k in range(first_m, m + 1) if k in self.details]
        self.wake_ms = self._next_wake(upto)
        return out, start, upto

    def _next_wake(self, t: int) -> int:
        """The next time something happens after t: a trade, a liquidation, the precompute point of the
        next minute, or the minute boundary (funding settles on minute boundaries)."""
        m = t // MINUTE_MS
        nxt = (m + 1) * MINUTE_MS
        pre = nxt - self.lead_ms
        if t < pre and self.next_minute <= m + 1:
            nxt = pre
        d = self.details.get(m)
        if d is not None:
            ts = d.trades.ts
            j = int(ts.searchsorted(t, side="right"))
            if j < ts.size:
                nxt = min(nxt, int(ts[j]))
            if d.liq_ts.size:
                j = int(d.liq_ts.searchsorted(t, side="right"))
                if j < d.liq_ts.size:
                    nxt = min(nxt, int(d.liq_ts[j]))
        return nxt
