"""`BarMarket`: a causal MarketModel (asym.sim.types) over recorded candles, for fast backtests.

The simulator's replay `Market` computes every minute of every touched symbol with a 100 ms path, trades
and a liquidating crowd (about 4 ms per simulated minute and symbol here): right for a live simulator,
too slow for a year of ten symbols, and calibrated on the whole recording (a backtest must not let the
venue know the future either). `BarMarket` keeps the simulator's order-book model and instruments and
moves the price along each candle instead:

* **Path.** Candle [s, s+D): open at s+1 ms, then the extreme nearer the close last
  (close >= open: low then high; else high then low) at s+D/3 and s+2D/3, close at s+D-1 ms. The driver
  (`asym.backtest.driver`) refines a leg with a point at every price where something would happen (a
  trigger, a resting limit, a liquidation price), so a stop fills where a continuous path crosses it.
* **Time.** At time t the price is that of the last path point at or before t: at a candle close t it is
  the close, and nothing of the candle starting at t is known yet.
* **Book.** `asym.sim.market.book.BookGrid` (the simulator's L2 model) around the current price, its
  spread and depth from the simulator's `sizing` of the symbol, calibrated on data BEFORE the backtest
  start (price and daily turnover of the warm-up history), widened by the volatility level of the last
  CLOSED candle (its range against an EMA of earlier ranges). Mark and index price equal the last price
  (no premium data is recorded).
* **Funding.** Recorded settlements (rate, time) are paid at the mark of the settlement time.
* **Instruments.** The simulator's Bybit-like filters for known symbols (tick, qty step, max qty,
  leverage, risk tiers); recorded prices are rounded to the venue's tick.

Everything is a function of the data up to the current time, the calibration window and the seed.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from asym.backtest.data import MarketData, SymbolData
from asym.domain import Interval, PeriodInterval, RiskLimitTier, Side
from asym.errors import DataError
from asym.sim.market.book import BookGrid, BookParams, touch_prices, vol_level
from asym.sim.market.instruments import (
    SymbolProfile,
    build_universe,
    make_instrument,
    qty_step_for_price,
    risk_limit_tiers,
    tick_for_price,
)
from asym.sim.market.universe import context_for
from asym.sim.types import (
    BookView,
    FundingRow,
    FundingSettlement,
    KlineRow,
    MarketEvents,
    OpenInterestRow,
    PremiumRow,
    PriceKind,
    RatioRow,
    SimInstrument,
    TickerView,
    TradeEvent,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
RANGE_EMA_CANDLES = 48
"""Typical candle range: EMA over this many candles (the volatility level compares against it)."""
GRID_ZONE_BITS = 11
"""Book-hash memos are kept per zone of 2**11 ticks ..."""
GRIDS_KEPT = 16
"""... for the 16 most recently used zones of a symbol."""
_KNOWN = {p.symbol: p for p in build_universe(100)}
_TRADES_KEPT = 200


@dataclass(frozen=True, slots=True)
class PathPoint:
    """A point of a candle's price path: time (ms), price (ticks), traded size (qty steps)."""

    ts: int
    price: int
    size: int


def profile_for(symbol: str, price: Decimal) -> SymbolProfile:
    """The simulator's profile of a known symbol, else one built from `price` (a causal price)."""
    known = _KNOWN.get(symbol)
    if known is not None:
        return known
    if price <= 0:
        raise DataError(f"{symbol}: cannot build an instrument from price {price}")
    tick = tick_for_price(price)
    step = qty_step_for_price(price)
    max_qty = (Decimal(2_000_000) / price / step).to_integral_value() * step
    max_qty = max(max_qty, step * 1000)
    return SymbolProfile(
        symbol=symbol,
        base_coin=symbol[:-4] if symbol.endswith("USDT") else symbol,
        rank=100,
        base_price=(price / tick).to_integral_value() * tick,
        tick=tick,
        qty_step=step,
        max_order_qty=max_qty,
        max_mkt_order_qty=max(max_qty / 5 // step * step, step * 100),
        max_leverage=Decimal(25),
        funding_cap=Decimal("0.02"),
        vol_ann=0.9,
        corr_btc=0.6,
        tail=1.0,
        daily_turnover=2e7,
        avg_trade_value=300.0,
        launch_time=0,
    )


def _ticks(values: list[Decimal], step: Decimal) -> np.ndarray:
    """Exact Decimals to the nearest whole number of `step` (half even)."""
    return np.array(
        [int((v / step).to_integral_value(rounding=ROUND_HALF_EVEN)) for v in values], dtype=np.int64
    )


class BarSeries:
    """One symbol on the venue's grid: candle prices in ticks, volumes in qty steps, funding, book model."""

    def __init__(self, data: SymbolData, calib_end_ms: int, seed: int) -> None:
        self.symbol = data.symbol
        self.interval_ms = data.interval.ms
        candles = data.candles
        calib = [c for c in candles if c.start + self.interval_ms <= calib_end_ms]
        ref = calib[-1].close if calib else candles[0].open
        self.profile = profile_for(self.symbol, ref)
        self.inst: SimInstrument = make_instrument(self.profile)
        tick, step = self.profile.tick, self.profile.qty_step
        self.start = data.arrays.start
        self.o = np.maximum(1, _ticks([c.open for c in candles], tick))
        self.h = np.maximum(1, _ticks([c.high for c in candles], tick))
        self.lo = np.maximum(1, _ticks([c.low for c in candles], tick))
        self.c = np.maximum(1, _ticks([c.close for c in candles], tick))
        self.vol = np.maximum(0, _ticks([c.volume for c in candles], step))
        self.turnover = np.array([float(c.turnover) for c in candles], dtype=np.float64)
        self._cum_vol = np.concatenate(([0], np.cumsum(self.vol)))
        self._cum_turn = np.concatenate(([0.0], np.cumsum(self.turnover)))
        self.level = _levels(self.h, self.lo)
        self.funding_ts = [f.ts for f in data.funding]
        self.funding_rate = [f.rate for f in data.funding]
        turnover = _daily_turnover(data, calib_end_ms) or self.profile.daily_turnover
        ctx = context_for(
            self.profile,
            seed,
            generated=False,
            sigma_ref=self.profile.vol_ann / math.sqrt(525_600),
            range_k=0.8,
            price=float(ref),
            daily_turnover=turnover,
        )
        self.book_params: BookParams = ctx.book
        self._grids: OrderedDict[int, BookGrid] = OrderedDict()
        self.tiers = risk_limit_tiers(self.profile)

    def grid(self, ref: int) -> BookGrid:
        """A book-hash memo whose window holds `ref` (an LRU of zones: a path that swings between the
        extremes of its candles reuses them instead of rehashing 8192 ticks at every turn)."""
        key = ref >> GRID_ZONE_BITS
        g = self._grids.get(key)
        if g is None:
            g = BookGrid(self.book_params)
            self._grids[key] = g
            if len(self._grids) > GRIDS_KEPT:
                self._grids.popitem(last=False)
        else:
            self._grids.move_to_end(key)
        return g

    # ---- the path ------------------------------------------------------------------------------

    def candle_at(self, t: int) -> int:
        """Index of the last candle starting before t (-1 when none)."""
        return int(np.searchsorted(self.start, t, side="left")) - 1

    def points(self, i: int) -> list[PathPoint]:
        """The base path of candle i."""
        s, d = int(self.start[i]), self.interval_ms
        o, h, lo, c = int(self.o[i]), int(self.h[i]), int(self.lo[i]), int(self.c[i])
        x1, x2 = (lo, h) if c >= o else (h, lo)
        size = max(1, int(self.vol[i]) // 4)
        return [
            PathPoint(s + 1, o, size),
            PathPoint(s + d // 3, x1, size),
            PathPoint(s + 2 * d // 3, x2, size),
            PathPoint(s + d - 1, c, size),
        ]

    def base_price(self, t: int) -> tuple[int, int, bool]:
        """(price ticks, time of that path point, last move was up) at time t on the base path."""
        i = self.candle_at(t)
        if i < 0:
            return int(self.o[0]), int(self.start[0]), True
        prev = int(self.c[i - 1]) if i > 0 else int(self.o[i])
        if t - int(self.start[i]) >= self.interval_ms:  # past the candle's end (gap / after the data)
            return int(self.c[i]), int(self.start[i]) + self.interval_ms - 1, self.c[i] >= prev
        last_ts, last_px, up = int(self.start[i]), prev, True
        for p in self.points(i):
            if p.ts > t:
                break
            up = p.price > last_px if p.price != last_px else up
            last_ts, last_px = p.ts, p.price
        return last_px, last_ts, up

    def level_at(self, t: int) -> int:
        """Volatility level of the last candle CLOSED at t."""
        j = int(np.searchsorted(self.start, t - self.interval_ms, side="right")) - 1
        return int(self.level[j]) if j >= 0 else 0

    def window(self, t: int, span_ms: int) -> tuple[int, int]:
        """Index range [a, b) of candles closed at t whose start lies in [t - span, t)."""
        b = int(np.searchsorted(self.start, t - self.interval_ms, side="right"))
        a = int(np.searchsorted(self.start, t - span_ms, side="left"))
        return min(a, b), b

    def next_funding(self, t: int) -> tuple[int, int]:
        """(next settlement time, interval hours) inferred from the settlements seen up to t."""
        k = bisect_right(self.funding_ts, t)
        if k >= 2:
            iv = self.funding_ts[k - 1] - self.funding_ts[k - 2]
            hours = max(1, round(iv / HOUR_MS))
            step = hours * HOUR_MS
            return (t // step + 1) * step, hours
        return (t // (8 * HOUR_MS) + 1) * 8 * HOUR_MS, 8


def _daily_turnover(data: SymbolData, calib_end_ms: int) -> float | None:
    """Mean daily turnover (USDT) of the last 30 days before `calib_end_ms` (None: under a day of data)."""
    a = data.arrays
    lo = calib_end_ms - 30 * DAY_MS
    sel = (a.start >= lo) & (a.start + data.interval.ms <= calib_end_ms)
    n = int(sel.sum())
    if a.turnover is None or n * data.interval.ms < DAY_MS:
        return None
    return float(a.turnover[sel].sum()) * DAY_MS / (n * data.interval.ms)


def _levels(h: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Volatility level after each candle: its log range against an EMA of the earlier ranges."""
    rng = np.log(np.maximum(h, 1) / np.maximum(lo, 1)).tolist()
    out = np.zeros(len(rng), dtype=np.int64)
    alpha = 2.0 / (RANGE_EMA_CANDLES + 1)
    ema = None
    for i, r in enumerate(rng):
        if ema is not None and ema > 0:
            out[i] = vol_level(r / ema)
        ema = r if ema is None else ema + alpha * (r - ema)
    return out


class BarMarket:
    """A MarketModel whose prices follow recorded candles (see the module docstring)."""

    records_open_interest = False
    """No open-interest data: tickers say None (the venue converts), never a made-up 0."""

    def __init__(self, data: MarketData, calib_end_ms: int, seed: int = 7, *, book_depth: int = 50) -> None:
        self.seed = seed
        self.book_depth = book_depth
        """Levels built per side at least (the engine walks 50; analytics reads 25; the ticker 1)."""
        self.series: dict[str, BarSeries] = {
            name: BarSeries(s, calib_end_ms, seed) for name, s in data.symbols.items()
        }
        self._now = 0
        self._state: dict[str, tuple[int, int, bool]] = {}
        """symbol -> (ts, price, up) of the last point pushed by the driver."""
        self._queued: dict[str, list[TradeEvent]] = {}
        self._recent: dict[str, list[TradeEvent]] = {}
        self._book_keys: dict[str, tuple[tuple[int, int, bool, int], int, BookView]] = {}
        self._seq: dict[str, int] = {}
        self._trade_no = 0
        self._tickers: dict[str, tuple[tuple[int, int, bool], TickerView]] = {}

    # ---- universe -----------------------------------------------------------------------------

    def instruments(self) -> list[SimInstrument]:
        """Every symbol's instrument, in data order."""
        return [s.inst for s in self.series.values()]

    def instrument(self, symbol: str) -> SimInstrument:
        """One instrument; KeyError when unknown."""
        return self.series[symbol].inst

    def risk_limits(self, symbol: str) -> list[RiskLimitTier]:
        """The simulator's risk tiers of a symbol."""
        return self.series[symbol].tiers

    def now_ms(self) -> int:
        """The market time."""
        return self._now

    # ---- driving ------------------------------------------------------------------------------

    def push(self, symbol: str, point: PathPoint) -> None:
        """The driver moved `symbol` to `point` (a trade at its price, delivered by the next advance)."""
        prev = self._state.get(symbol)
        last = prev[1] if prev is not None else self.series[symbol].base_price(point.ts - 1)[0]
        up = point.price > last if point.price != last else (prev[2] if prev is not None else True)
        self._state[symbol] = (point.ts, point.price, up)
        self._trade_no += 1
        self._seq[symbol] = self._seq.get(symbol, 0) + 1
        trade = TradeEvent(
            symbol=symbol,
            trade_id=f"bt-{self._trade_no}",
            price=point.price,
            size=point.size,
            taker_side=Side.BUY if up else Side.SELL,
            ts=point.ts,
            seq=self._seq[symbol],
            tick_direction="PlusTick" if up else "MinusTick",
        )
        self._queued.setdefault(symbol, []).append(trade)
        recent = self._recent.setdefault(symbol, [])
        recent.append(trade)
        if len(recent) > _TRADES_KEPT:
            del recent[: len(recent) - _TRADES_KEPT]

    def advance(self, now_ms: int, symbols: list[str] | None = None) -> MarketEvents:
        """Move to `now_ms`; pushed trades up to now and funding settlements in (previous, now] of
        `symbols` (default every symbol)."""
        prev = self._now
        self._now = max(self._now, now_ms)
        events = MarketEvents()
        names = list(self.series) if symbols is None else symbols
        for name in names:
            queued = self._queued.get(name)
            if queued:
                keep = [t for t in queued if t.ts > self._now]
                events.trades.extend(t for t in queued if t.ts <= self._now)
                self._queued[name] = keep
            s = self.series[name]
            k0, k1 = bisect_right(s.funding_ts, prev), bisect_right(s.funding_ts, self._now)
            for k in range(k0, k1):
                ts = s.funding_ts[k]
                mark = self._price(name, ts)[0]
                events.fundings.append(
                    FundingSettlement(symbol=name, ts=ts, rate=s.funding_rate[k], mark=mark)
                )
        return events

    def _price(self, symbol: str, t: int) -> tuple[int, bool]:
        """(price ticks, last move up) at time t: the driver's last point unless the base path is newer."""
        s = self.series[symbol]
        px, ts, up = s.base_price(t)
        st = self._state.get(symbol)
        if st is not None and ts <= st[0] <= t:
            return st[1], st[2]
        return px, up

    # ---- book and ticker -------------------------------------------------------------------------

    def book(self, symbol: str, depth: int) -> BookView:
        """The book now: the simulator's book model around the current price (one build per state and
        instant; a shallower request is served from a deeper build)."""
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        depth = min(depth, 500)
        s = self.series[symbol]
        t = self._now
        ref, up = self._price(symbol, t)
        level = s.level_at(t)
        key = (t, ref, up, level)
        hit = self._book_keys.get(symbol)
        if hit is not None and hit[0] == key and len(hit[2].bids) >= depth:
            view = hit[2]
        else:
            bids, asks = s.grid(ref).build(ref, up, level, t, max(depth, self.book_depth))
            uid = hit[1] + 1 if hit is not None else 1
            view = BookView(
                symbol=symbol,
                bids=bids,
                asks=asks,
                update_id=uid,
                seq=self._seq.get(symbol, 0) + uid,
                ts=t,
                cts=t,
            )
            self._book_keys[symbol] = (key, uid, view)
        return BookView(
            symbol=symbol,
            bids=view.bids[:depth],
            asks=view.asks[:depth],
            update_id=view.update_id,
            seq=view.seq,
            ts=t,
            cts=t,
        )

    def ticker(self, symbol: str) -> TickerView:
        """The ticker now (mark = index = last: no premium data)."""
        s = self.series[symbol]
        t = self._now
        last, up = self._price(symbol, t)
        key = (t, last, up)
        hit = self._tickers.get(symbol)
        if hit is not None and hit[0] == key:
            return hit[1]
        # The touch from the book model's rule (no book build: the engine reads a ticker at every instant);
        # sizes are the exact touch sizes when the book was built for this state, else the calm mean size.
        level = s.level_at(t)
        bid1, ask1 = touch_prices(s.book_params, last, up, level)
        calm = max(1, round(s.book_params.level_size))
        bid1_size = ask1_size = calm
        built = self._book_keys.get(symbol)
        if built is not None and built[0] == (t, last, up, level) and built[2].bids and built[2].asks:
            bid1_size, ask1_size = built[2].bids[0][1], built[2].asks[0][1]
        a, b = s.window(t, DAY_MS)
        a1, _ = s.window(t, HOUR_MS)
        hi = int(s.h[a:b].max()) if b > a else last
        lo = int(s.lo[a:b].min()) if b > a else last
        step = s.inst.qty.step
        nxt, hours = s.next_funding(t)
        k = bisect_right(s.funding_ts, t)
        view = TickerView(
            symbol=symbol,
            ts=t,
            last=last,
            mark=last,
            index=last,
            bid1=bid1,
            bid1_size=bid1_size,
            ask1=ask1,
            ask1_size=ask1_size,
            prev_price_24h=int(s.o[a]) if b > a else last,
            high_24h=max(hi, last),
            low_24h=min(lo, last),
            prev_price_1h=int(s.o[a1]) if b > a1 else last,
            volume_24h=step * int(s._cum_vol[b] - s._cum_vol[a]),
            turnover_24h=Decimal(f"{s._cum_turn[b] - s._cum_turn[a]:.2f}"),
            open_interest=Decimal(0),
            funding_rate=s.funding_rate[k - 1] if k else Decimal(0),
            next_funding_time=nxt,
            funding_interval_hours=hours,
            funding_cap=s.profile.funding_cap,
            tick_direction="PlusTick" if up else "MinusTick",
            cs=self._seq.get(symbol, 0),
        )
        self._tickers[symbol] = (key, view)
        return view

    # ---- history --------------------------------------------------------------------------------

    def klines(
        self, symbol: str, interval: Interval, start: int | None, end: int | None, limit: int, kind: str
    ) -> list[KlineRow] | list[PremiumRow]:
        """Closed recorded candles (aggregated to `interval` when coarser), newest first."""
        s = self.series[symbol]
        if interval.ms % s.interval_ms or interval is Interval.MONTH:
            return []
        b = int(np.searchsorted(s.start, self._now - s.interval_ms, side="right"))
        k = interval.ms // s.interval_ms
        rows: list[KlineRow] = []
        i = b - 1
        while i >= 0 and len(rows) < limit:
            bucket = int(s.start[i]) // interval.ms * interval.ms
            j = i
            while j - 1 >= 0 and int(s.start[j - 1]) >= bucket:
                j -= 1
            if i - j + 1 == k and (start is None or bucket >= start) and (end is None or bucket <= end):
                rows.append(_row(s, j, i, bucket))
            if start is not None and bucket < start:
                break
            i = j - 1
        if kind == PriceKind.PREMIUM:
            z = Decimal(0)
            return [PremiumRow(start=r.start, open=z, high=z, low=z, close=z) for r in rows]
        return rows

    def recent_trades(self, symbol: str, limit: int) -> list[TradeEvent]:
        """The last trades the driver printed, newest first."""
        return list(reversed(self._recent.get(symbol, [])))[:limit]

    def funding_history(
        self, symbol: str, start: int | None, end: int | None, limit: int
    ) -> list[FundingRow]:
        """Recorded settlements in [start, end] (end at most now), newest first."""
        s = self.series[symbol]
        top = self._now if end is None else min(end, self._now)
        out: list[FundingRow] = []
        for ts, rate in zip(reversed(s.funding_ts), reversed(s.funding_rate), strict=True):
            if ts > top:
                continue
            if (start is not None and ts < start) or len(out) >= limit:
                break
            out.append(FundingRow(ts=ts, rate=rate))
        return out

    def open_interest_history(
        self, symbol: str, interval: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[OpenInterestRow]:
        """Not recorded: empty."""
        self.series[symbol]
        return []

    def account_ratio(
        self, symbol: str, period: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[RatioRow]:
        """Not recorded: empty."""
        self.series[symbol]
        return []


def _row(s: BarSeries, j: int, i: int, bucket: int) -> KlineRow:
    return KlineRow(
        start=bucket,
        open=int(s.o[j]),
        high=int(s.h[j : i + 1].max()),
        low=int(s.lo[j : i + 1].min()),
        close=int(s.c[i]),
        volume=s.inst.qty.step * int(s.vol[j : i + 1].sum()),
        turnover=Decimal(f"{float(s.turnover[j : i + 1].sum()):.2f}"),
    )


__all__ = ["BarMarket", "BarSeries", "PathPoint", "profile_for"]
