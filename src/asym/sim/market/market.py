"""`Market`: the simulator's MarketModel (asym.sim.types) over generated or replayed symbols.

Lazy: constructing a market builds nothing per symbol; a symbol's series and live state are created the
first time any method touches it (instruments() does not). Deterministic: everything is a function of
(config, start_ms, market time); caches only memoise.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from decimal import Decimal

import numpy as np

from asym.domain import Interval, PeriodInterval, RiskLimitTier, Side
from asym.errors import ConfigError
from asym.sim.config import SimConfig
from asym.sim.market import funding as fund
from asym.sim.market.book import MAX_DEPTH, BookGrid
from asym.sim.market.generator import DAY_MINUTES
from asym.sim.market.history import (
    MINUTE_MS,
    MinuteArrays,
    aggregate,
    next_start,
    period_rows,
    select_starts,
)
from asym.sim.market.instruments import SymbolProfile, build_universe, make_instrument, risk_limit_tiers
from asym.sim.market.live import LiveSymbol, MinuteDetail, SymbolContext
from asym.sim.market.series import BaseSeries
from asym.sim.market.trades import TICK_DIRECTIONS, MinuteTrades, trade_ids
from asym.sim.market.universe import GeneratedUniverse
from asym.sim.types import (
    BookView,
    FundingRow,
    FundingSettlement,
    KlineRow,
    LiquidationEvent,
    MarketEvents,
    OpenInterestRow,
    PremiumRow,
    PriceKind,
    RatioRow,
    SimInstrument,
    TickerView,
    TradeEvent,
)

WARMUP_MINUTES = 3
"""The live model starts this many minutes before start_ms, so recent trades exist at the start."""
_RATIO_Q = Decimal("0.0001")
_PREMIUM_Q = Decimal("0.000001")
_ZERO = Decimal(0)
_BUY = Side.BUY
_SELL = Side.SELL
_TICK_DIRS = TICK_DIRECTIONS


def default_start_ms(config: SimConfig, now_ms: int) -> int:
    """The market start the server should use: config.start_ms, else (replay) the first recorded minute
    after enough history, else `now_ms` (wall time)."""
    if config.start_ms is not None:
        return config.start_ms
    if config.replay is not None:
        from asym.sim.market.replay import load_replay

        return load_replay(config.replay, seed=config.seed).default_start_ms(config.history_days)
    return now_ms


class _Symbol:
    """A touched symbol: its series, context and live state."""

    __slots__ = ("ctx", "grid", "inst", "live", "profile", "series")

    def __init__(
        self,
        profile: SymbolProfile,
        inst: SimInstrument,
        series: BaseSeries,
        ctx: SymbolContext,
        live: LiveSymbol,
    ) -> None:
        self.profile = profile
        self.inst = inst
        self.series = series
        self.ctx = ctx
        self.live = live
        self.grid = BookGrid(ctx.book)


class Market:
    """The simulated market. Market time starts at `start_ms`; history lies before it."""

    def __init__(self, config: SimConfig, start_ms: int) -> None:
        self.config = config
        self.seed = config.seed
        self._replay = None
        if config.replay is not None:
            from asym.sim.market.replay import load_replay

            self._replay = load_replay(config.replay, seed=config.seed)
            start_ms = self._replay.resolve_start(start_ms, config.history_days)
            profiles = self._replay.profiles()
        else:
            profiles = build_universe(config.symbols)
        if start_ms < 0:
            raise ConfigError(f"start_ms must be a positive epoch time in ms, got {start_ms}")
        self.start_ms = start_ms
        self._now = start_ms
        start_minute = start_ms // MINUTE_MS
        self.live_start_minute = start_minute - WARMUP_MINUTES
        origin_day = start_minute // DAY_MINUTES - config.history_days
        self._universe = GeneratedUniverse(config.seed, origin_day, start_minute)
        self._profiles: dict[str, SymbolProfile] = {p.symbol: p for p in profiles}
        self._order = [p.symbol for p in profiles]
        self._instruments: dict[str, SimInstrument] = {}
        self._symbols: dict[str, _Symbol] = {}
        self._book_cache: dict[str, tuple[int, BookView]] = {}
        self._ticker_cache: dict[str, tuple[int, TickerView]] = {}
        self._funding_cache: dict[tuple[str, int], Decimal] = {}

    # ---- universe -----------------------------------------------------------------------------

    def instruments(self) -> list[SimInstrument]:
        """Every listed instrument, in a stable order."""
        return [self.instrument(s) for s in self._order]

    def instrument(self, symbol: str) -> SimInstrument:
        """One instrument; KeyError when unknown."""
        inst = self._instruments.get(symbol)
        if inst is None:
            inst = make_instrument(self._profiles[symbol])
            self._instruments[symbol] = inst
        return inst

    def risk_limits(self, symbol: str) -> list[RiskLimitTier]:
        """Risk-limit tiers of a symbol (for /v5/market/risk-limit); KeyError when unknown."""
        return risk_limit_tiers(self._profiles[symbol])

    def stats(self) -> dict[str, int]:
        """Laziness counters: symbols built, symbols live, day blocks and live minutes computed."""
        return {
            "listed_symbols": len(self._order),
            "generated_symbols": len(self._symbols),
            "day_blocks": sum(s.series.blocks_generated for s in self._symbols.values()),
            "live_minutes": sum(s.live.minutes_computed for s in self._symbols.values()),
        }

    def now_ms(self) -> int:
        """The market time the model has been advanced to."""
        return self._now

    def active_symbols(self) -> list[str]:
        """Symbols touched so far, in universe order."""
        return [s for s in self._order if s in self._symbols]

    def _sym(self, symbol: str) -> _Symbol:
        s = self._symbols.get(symbol)
        if s is not None:
            return s
        profile = self._profiles[symbol]
        if self._replay is not None:
            series, ctx = self._replay.build(profile, self.seed, self._universe)
        else:
            series, ctx = self._universe.build(profile)
        live = LiveSymbol(ctx, series, max(self.live_start_minute, series.first_minute + 1), self.seed)
        live.ensure(self._now // MINUTE_MS)
        live.emitted_to = self._now
        s = _Symbol(profile, self.instrument(symbol), series, ctx, live)
        self._symbols[symbol] = s
        return s

    # ---- time -----------------------------------------------------------------------------------

    def advance(self, now_ms: int, symbols: list[str] | None = None) -> MarketEvents:
        """Advance to `now_ms` (never backwards: an earlier time is a no-op) and return the events of
        `symbols` (default: every active symbol) since they were last collected."""
        events = MarketEvents()
        if now_ms > self._now:
            self._now = now_ms
        now = self._now
        names = self.active_symbols() if symbols is None else symbols
        for name in names:
            s = self._symbols.get(name) or self._sym(name)
            live = s.live
            if now < live.wake_ms:  # nothing happened since the last collection: skip cheaply
                live.emitted_to = now
                continue
            details, after, upto = live.events(now)
            if upto > after:
                self._collect(s, details, after, upto, events)
        return events

    def _collect(
        self, s: _Symbol, details: list[MinuteDetail], after: int, upto: int, out: MarketEvents
    ) -> None:
        sym = s.ctx.symbol
        key = s.ctx.key
        seq_base = s.ctx.seq_base
        m0 = s.live.m0
        for d in details:
            if d.trades.ts.size:
                ts = _event_ts(d)
                a = bisect_right(ts, after)
                b = bisect_right(ts, upto)
                if b > a:
                    out.trades.extend(_minute_events(sym, key, seq_base, m0, d, b)[a:b])
            if d.liq_ts.size:
                a = int(d.liq_ts.searchsorted(after, side="right"))
                b = int(d.liq_ts.searchsorted(upto, side="right"))
                for side, price, size, ts in zip(
                    d.liq_side[a:b].tolist(),
                    d.liq_price[a:b].tolist(),
                    d.liq_size[a:b].tolist(),
                    d.liq_ts[a:b].tolist(),
                    strict=True,
                ):
                    out.liquidations.append(
                        LiquidationEvent(
                            symbol=sym,
                            side=Side.BUY if side > 0 else Side.SELL,
                            price=price,
                            size=size,
                            ts=ts,
                        )
                    )
        for t in fund.settlements_between(after, upto):
            if t // MINUTE_MS - fund.INTERVAL_MINUTES < s.series.first_minute:
                continue
            rate = self._settled_rate(s, t)
            m = t // MINUTE_MS - 1
            _, _, mf, _ = s.live.price_factors(m)
            close = self._close_at(s, m)
            out.fundings.append(
                FundingSettlement(symbol=sym, ts=t, rate=rate, mark=max(1, round(close * mf)))
            )

    def _close_at(self, s: _Symbol, m: int) -> int:
        live = s.live
        if m >= live.m0:
            live.ensure(m)
            return int(live.cols.c.view()[m - live.m0])
        blk = s.series.block(m // DAY_MINUTES)
        return int(blk.close[m % DAY_MINUTES])

    # ---- book and ticker ------------------------------------------------------------------------

    def book(self, symbol: str, depth: int) -> BookView:
        """The current book, up to `depth` levels per side (more than 500 gives 500; below 1 is a
        ValueError). The lists are fresh copies (callers may mutate them)."""
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        depth = min(depth, MAX_DEPTH)
        s = self._sym(symbol)
        t = self._now
        step = t // 100
        hit = self._book_cache.get(symbol)
        if hit is None or hit[0] != step or (len(hit[1].bids) < depth and len(hit[1].bids) < MAX_DEPTH):
            view = self._build_book(s, t, max(depth, 50) if depth <= 50 else depth)
            self._book_cache[symbol] = (step, view)
        else:
            view = hit[1]
        return BookView(
            symbol=symbol,
            bids=view.bids[:depth],
            asks=view.asks[:depth],
            update_id=view.update_id,
            seq=view.seq,
            ts=t,
            cts=view.cts,
        )

    def _build_book(self, s: _Symbol, t: int, depth: int) -> BookView:
        live = s.live
        ref, up, level = live.book_state(t)
        step_ms = t // 100 * 100
        bids, asks = s.grid.build(ref, up, level, step_ms, min(depth, 500))
        return BookView(
            symbol=s.ctx.symbol,
            bids=bids,
            asks=asks,
            update_id=1 + live.step_index(t),
            seq=live.seq_at(t),
            ts=t,
            cts=step_ms,
        )

    def ticker(self, symbol: str) -> TickerView:
        """The current ticker (cached per 100 ms step)."""
        s = self._sym(symbol)
        t = self._now
        step = t // 100
        hit = self._ticker_cache.get(symbol)
        if hit is not None and hit[0] == step:
            return hit[1]
        tv = self._build_ticker(s, t)
        self._ticker_cache[symbol] = (step, tv)
        return tv

    def _build_ticker(self, s: _Symbol, t: int) -> TickerView:
        live = s.live
        m = t // MINUTE_MS
        last, tick_dir, _ = live.last_trade(t)
        _, _, mf, xf = live.price_factors(m)
        book = self.book(s.ctx.symbol, 1)
        w = live.window_stats(m)
        # The open minute so far (its trades up to t) completes the rolling 24 h window.
        d = live.detail(m)
        j = live.trades_upto(d, t)
        pr = d.trades.price[:j]
        hi = max(w.high, int(pr.max())) if j else w.high
        lo = min(w.low, int(pr.min())) if j else w.low
        vol = w.volume + (int(d.trades.size[:j].sum()) if j else 0)
        turn = w.turnover + (int((pr * d.trades.size[:j]).sum()) if j else 0)
        if hi <= 0:
            hi = lo = last
        step = s.inst.qty.step
        return TickerView(
            symbol=s.ctx.symbol,
            ts=t,
            last=last,
            mark=max(1, round(last * mf)),
            index=max(1, round(last * xf)),
            bid1=book.bids[0][0],
            bid1_size=book.bids[0][1],
            ask1=book.asks[0][0],
            ask1_size=book.asks[0][1],
            prev_price_24h=w.prev_24h or last,
            high_24h=max(hi, last),
            low_24h=min(lo, last),
            prev_price_1h=w.prev_1h or last,
            volume_24h=s.inst.qty.to_decimal(vol),
            turnover_24h=_turnover(s.inst, turn),
            open_interest=_to_step(live.open_interest(t), step),
            funding_rate=self._predicted_rate(s, t),
            next_funding_time=fund.next_settlement(t),
            funding_interval_hours=8,
            funding_cap=s.profile.funding_cap,
            tick_direction=TICK_DIRECTIONS[tick_dir],
            cs=live.seq_at(t),
        )

    # ---- funding --------------------------------------------------------------------------------

    def _premiums(self, s: _Symbol, a: int, b: int) -> np.ndarray:
        """Minute premiums over minutes [a, b)."""
        a = max(a, s.series.first_minute)
        if b <= a:
            return np.zeros(0)
        return s.live.base_minutes(a, b).premium

    def _settled_rate(self, s: _Symbol, t: int) -> Decimal:
        key = (s.ctx.symbol, t)
        rate = self._funding_cache.get(key)
        if rate is None:
            m = t // MINUTE_MS
            rate = fund.funding_rate(self._premiums(s, m - fund.INTERVAL_MINUTES, m), s.ctx.funding_cap)
            self._funding_cache[key] = rate
        return rate

    def _predicted_rate(self, s: _Symbol, t: int) -> Decimal:
        """The rate the next settlement would apply, from the interval's minute premiums so far."""
        m = t // MINUTE_MS
        key = (s.ctx.symbol, -m - 1)  # negative keys: predictions, one per minute
        rate = self._funding_cache.get(key)
        if rate is None:
            start = (t // fund.INTERVAL_MS) * fund.INTERVAL_MS // MINUTE_MS
            rate = fund.funding_rate(self._premiums(s, start, m + 1), s.ctx.funding_cap)
            self._funding_cache.pop((s.ctx.symbol, -m), None)
            self._funding_cache[key] = rate
        return rate

    def funding_history(
        self, symbol: str, start: int | None, end: int | None, limit: int
    ) -> list[FundingRow]:
        """Settled funding rates in [start, end] (end defaults to now), the `limit` newest, newest first."""
        s = self._sym(symbol)
        end_eff = self._now if end is None else min(end, self._now)
        first = (s.series.first_minute + fund.INTERVAL_MINUTES) * MINUTE_MS
        lo = first if start is None else max(first, start)
        t = end_eff // fund.INTERVAL_MS * fund.INTERVAL_MS
        out: list[FundingRow] = []
        while t >= lo and len(out) < limit:
            out.append(FundingRow(ts=t, rate=self._settled_rate(s, t)))
            t -= fund.INTERVAL_MS
        return out

    # ---- history --------------------------------------------------------------------------------

    def klines(
        self, symbol: str, interval: Interval, start: int | None, end: int | None, limit: int, kind: str
    ) -> list[KlineRow] | list[PremiumRow]:
        """Candles newest first (Bybit's range rules, see asym.sim.market.history)."""
        s = self._sym(symbol)
        t = self._now
        data_first = s.series.first_minute * MINUTE_MS
        starts = select_starts(interval, data_first, t, start, end, limit)
        if not starts:
            return []
        a = max(starts[0] // MINUTE_MS, s.series.first_minute)
        b = min(next_start(starts[-1], interval) // MINUTE_MS, t // MINUTE_MS + 1)
        arr = s.live.minute_arrays(a, b, t)
        if kind == PriceKind.PREMIUM:
            return self._premium_klines(starts, interval, arr)
        if kind == PriceKind.TRADE:
            o, h, lo, c = arr.open, arr.high, arr.low, arr.close
        elif kind in (PriceKind.MARK, PriceKind.INDEX):
            b_ = arr.premium
            e_ = arr.index_noise
            f = (1.0 + b_) / (1.0 + b_ + e_) if kind == PriceKind.MARK else 1.0 / (1.0 + b_ + e_)
            o, h, lo, c = (
                np.maximum(1, np.rint(x * f)).astype(np.int64)
                for x in (arr.open, arr.high, arr.low, arr.close)
            )
        else:
            raise ValueError(f"unknown kline kind {kind!r}")
        agg = aggregate(starts, interval, arr, o, h, lo, c)
        trade = kind == PriceKind.TRADE
        rows = [
            KlineRow(
                start=agg.starts[i],
                open=int(agg.open[i]),
                high=int(agg.high[i]),
                low=int(agg.low[i]),
                close=int(agg.close[i]),
                volume=s.inst.qty.to_decimal(int(agg.volume[i])) if trade else _ZERO,
                turnover=_turnover(s.inst, int(agg.turnover[i])) if trade else _ZERO,
            )
            for i in range(len(agg.starts) - 1, -1, -1)
        ]
        return rows

    def _premium_klines(self, starts: list[int], interval: Interval, arr: MinuteArrays) -> list[PremiumRow]:
        b = arr.premium
        if b.size == 0:
            return []
        prev = np.concatenate(([arr.prev_premium], b[:-1]))
        # Fixed-point integers (1e-6) so that aggregation is exact and the strings stay stable.
        scale = 1_000_000
        o = np.rint(prev * scale).astype(np.int64)
        c = np.rint(b * scale).astype(np.int64)
        agg = aggregate(starts, interval, arr, o, np.maximum(o, c), np.minimum(o, c), c)
        q = _PREMIUM_Q

        def dec(x: int) -> Decimal:
            return (Decimal(int(x)) * q).quantize(q)

        return [
            PremiumRow(
                start=agg.starts[i],
                open=dec(agg.open[i]),
                high=dec(agg.high[i]),
                low=dec(agg.low[i]),
                close=dec(agg.close[i]),
            )
            for i in range(len(agg.starts) - 1, -1, -1)
        ]

    def recent_trades(self, symbol: str, limit: int) -> list[TradeEvent]:
        """Recent public trades, newest first (the model keeps the last 6 minutes: ~1,500 BTC trades)."""
        s = self._sym(symbol)
        live = s.live
        t = self._now
        m = t // MINUTE_MS
        live.ensure(m)
        out: list[TradeEvent] = []
        while m >= live.m0 and len(out) < limit:
            d = live.details.get(m)
            if d is None:
                break
            if d.trades.ts.size:
                ts = _event_ts(d)
                j = bisect_right(ts, t)
                evs = _minute_events(symbol, s.ctx.key, s.ctx.seq_base, live.m0, d, j)
                a = max(0, j - (limit - len(out)))
                out.extend(reversed(evs[a:j]))
            m -= 1
        return out

    def open_interest_history(
        self, symbol: str, interval: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[OpenInterestRow]:
        """Open interest at each interval boundary in [start, end], the `limit` newest, newest first."""
        s = self._sym(symbol)
        step = s.inst.qty.step
        rows = period_rows(interval, s.series.first_minute * MINUTE_MS, self._now, start, end, limit)
        out: list[OpenInterestRow] = []
        for ts in rows:
            oi = s.live.oi_at_close(ts // MINUTE_MS - 1)
            out.append(OpenInterestRow(ts=ts, open_interest=_to_step(oi, step)))
        return out

    def account_ratio(
        self, symbol: str, period: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[RatioRow]:
        """Long/short account ratio at each period boundary, newest first."""
        s = self._sym(symbol)
        rows = period_rows(period, s.series.first_minute * MINUTE_MS, self._now, start, end, limit)
        out: list[RatioRow] = []
        for ts in rows:
            m = ts // MINUTE_MS - 1
            r = float(s.series.block(m // DAY_MINUTES).buy_ratio[m % DAY_MINUTES])
            buy = Decimal(repr(r)).quantize(_RATIO_Q)
            buy = min(max(buy, Decimal("0.0001")), Decimal("0.9999"))
            out.append(RatioRow(ts=ts, buy_ratio=buy, sell_ratio=Decimal(1) - buy))
        return out


def _event_ts(d: MinuteDetail) -> list[int]:
    """Trade times of a minute as a list (for bisect)."""
    if d.event_ts is None:
        d.event_ts = d.trades.ts.tolist()
    return d.event_ts


def _minute_events(
    symbol: str, key: int, seq_base: int, m0: int, d: MinuteDetail, upto: int
) -> list[TradeEvent]:
    """The minute's TradeEvents, built incrementally up to index `upto` and kept (TradeEvent is frozen, so
    the same objects serve every later collection and recent_trades)."""
    if d.events is None:
        d.events = []
    have = len(d.events)
    if upto > have:
        d.events.extend(_trade_events(symbol, key, seq_base, m0, d.trades, have, upto))
    return d.events


def _trade_events(
    symbol: str, key: int, seq_base: int, m0: int, tr: MinuteTrades, a: int, b: int
) -> list[TradeEvent]:
    """TradeEvents for trades a..b-1 of a minute, oldest first."""
    ids = trade_ids(key, tr.number[a:b])
    t0 = m0 * MINUTE_MS
    return [
        TradeEvent(
            symbol=symbol,
            trade_id=i,
            price=p,
            size=sz,
            taker_side=_BUY if buy else _SELL,
            ts=ts,
            seq=seq_base + num + 1 + (ts - t0) // 100,
            tick_direction=_TICK_DIRS[td],
        )
        for i, p, sz, buy, ts, num, td in zip(
            ids,
            tr.price[a:b].tolist(),
            tr.size[a:b].tolist(),
            tr.buy[a:b].tolist(),
            tr.ts[a:b].tolist(),
            tr.number[a:b].tolist(),
            tr.tick_dir[a:b].tolist(),
            strict=True,
        )
    ]


def _turnover(inst: SimInstrument, units: int) -> Decimal:
    """Exact quote turnover of `units` ticks x steps, with price decimals + qty decimals."""
    q = Decimal(1).scaleb(-(inst.price.decimals + inst.qty.decimals))
    return (Decimal(units) * inst.price.step * inst.qty.step).quantize(q)


def _to_step(value: float, step: Decimal) -> Decimal:
    """A float quantity rounded to the qty step, as an exact Decimal with the step's decimals."""
    if not math.isfinite(value) or value <= 0:
        return _ZERO
    n = (Decimal(repr(value)) / step).to_integral_value()
    exp = min(0, int(step.normalize().as_tuple().exponent))
    return (n * step).quantize(Decimal(1).scaleb(exp))
