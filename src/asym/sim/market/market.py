"""`Market`: the simulator's MarketModel (asym.sim.types) over generated or replayed symbols.

Lazy: constructing a market builds nothing per symbol; a symbol's series and live state are created the
first time any method touches it (instruments() does not). Deterministic: everything is a function of
(config, start_ms, market time); caches only memoise.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from asym.domain import Interval, PeriodInterval, RiskLimitTier, Side
from asym.errors import ConfigError
from asym.sim.config import SimConfig
from asym.sim.market import funding as fund
from asym.sim.market.book import BookGrid
from asym.sim.market.generator import DAY_MINUTES
from asym.sim.market.history import (
    MINUTE_MS,
    aggregate,
    next_start,
    period_rows,
    select_starts,
)
from asym.sim.market.instruments import SymbolProfile, build_universe, make_instrument, risk_limit_tiers
from asym.sim.market.live import LiveSymbol, MinuteDetail, SymbolContext
from asym.sim.market.quotes import BookBatch, Quotes, TickerRaw, to_step, turnover_decimal
from asym.sim.market.series import BaseSeries
from asym.sim.market.ticker import TickerMinute
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

    __slots__ = ("ctx", "grid", "inst", "live", "memo", "profile", "row", "series", "tm")

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
        self.row = -1
        """Row in the market's BookPool (-1: not yet batched)."""
        self.tm: TickerMinute | None = None
        self.memo: tuple[int, int, Decimal, Decimal] | None = None
        """(volume, turnover) of the last ticker and their Decimals (they change only with trades)."""


@dataclass(slots=True)
class KlineTable:
    """Candles newest first as integer columns: prices in ticks (premium candles: rates in 1e-6 units),
    volume in qty steps and turnover in ticks x steps (trade candles only, else empty)."""

    kind: str
    start: list[int]
    open: list[int]
    high: list[int]
    low: list[int]
    close: list[int]
    volume: list[int]
    turnover: list[int]


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
        self._quotes = Quotes(self)
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

    def built(self, symbol: str) -> bool:
        """Whether `symbol`'s model exists (its first touch, which builds history, is done)."""
        return symbol in self._symbols

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
        return self._quotes.book(symbol, depth)

    def books(self, symbols: list[str], depth: int) -> BookBatch:
        """The current books of `symbols`, up to `depth` (1..50) levels per side, built in one vectorised
        pass (the WebSocket publisher's path: hundreds of symbols per 100 ms step). Equal to `book()`."""
        return self._quotes.books(symbols, depth)

    def prime_tops(self, symbols: list[str]) -> None:
        """Build, in one batch, the top of book of those `symbols` whose book this 100 ms step has not
        built yet (tickers of many symbols read their bid1/ask1 from it)."""
        self._quotes.prime_tops(symbols)

    def ticker(self, symbol: str) -> TickerView:
        """The current ticker (cached per 100 ms step)."""
        return self._quotes.ticker(symbol)

    def ticker_raw(self, symbol: str) -> TickerRaw:
        """The current ticker as integers (what `ticker` holds as Decimals; cached per 100 ms step)."""
        return self._quotes.ticker_raw(symbol)

    # ---- funding --------------------------------------------------------------------------------

    def _premiums(self, s: _Symbol, a: int, b: int) -> np.ndarray:
        """Minute premiums over minutes [a, b) (from the days' premiums alone: no candles needed)."""
        a = max(a, s.series.first_minute)
        if b <= a:
            return np.zeros(0)
        parts = []
        m = a
        while m < b:
            day = m // DAY_MINUTES
            i = m - day * DAY_MINUTES
            j = min(DAY_MINUTES, i + (b - m))
            parts.append(s.series.premium(day)[i:j])
            m += j - i
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

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
        table = self.kline_table(symbol, interval, start, end, limit, kind)
        n = len(table.start)
        if kind == PriceKind.PREMIUM:
            q = _PREMIUM_Q

            def dec(x: int) -> Decimal:
                return (Decimal(x) * q).quantize(q)

            return [
                PremiumRow(
                    start=table.start[i],
                    open=dec(table.open[i]),
                    high=dec(table.high[i]),
                    low=dec(table.low[i]),
                    close=dec(table.close[i]),
                )
                for i in range(n)
            ]
        inst = self._sym(symbol).inst
        trade = kind == PriceKind.TRADE
        return [
            KlineRow(
                start=table.start[i],
                open=table.open[i],
                high=table.high[i],
                low=table.low[i],
                close=table.close[i],
                volume=inst.qty.to_decimal(table.volume[i]) if trade else _ZERO,
                turnover=turnover_decimal(inst, table.turnover[i]) if trade else _ZERO,
            )
            for i in range(n)
        ]

    def kline_table(
        self, symbol: str, interval: Interval, start: int | None, end: int | None, limit: int, kind: str
    ) -> KlineTable:
        """`klines` as integer columns, newest first (what the server formats without Decimals)."""
        s = self._sym(symbol)
        t = self._now
        data_first = s.series.first_minute * MINUTE_MS
        starts = select_starts(interval, data_first, t, start, end, limit)
        if kind not in (PriceKind.TRADE, PriceKind.MARK, PriceKind.INDEX, PriceKind.PREMIUM):
            raise ValueError(f"unknown kline kind {kind!r}")
        if not starts:
            return KlineTable(kind, [], [], [], [], [], [], [])
        a = max(starts[0] // MINUTE_MS, s.series.first_minute)
        b = min(next_start(starts[-1], interval) // MINUTE_MS, t // MINUTE_MS + 1)
        arr = s.live.minute_arrays(a, b, t, aux=kind != PriceKind.TRADE)
        if kind == PriceKind.PREMIUM:
            p = arr.premium
            if p.size == 0:
                return KlineTable(kind, [], [], [], [], [], [], [])
            prev = np.concatenate(([arr.prev_premium], p[:-1]))
            # Fixed-point integers (1e-6) so that aggregation is exact and the strings stay stable.
            scale = 1_000_000
            o = np.rint(prev * scale).astype(np.int64)
            c = np.rint(p * scale).astype(np.int64)
            h, lo = np.maximum(o, c), np.minimum(o, c)
        elif kind == PriceKind.TRADE:
            o, h, lo, c = arr.open, arr.high, arr.low, arr.close
        else:
            b_ = arr.premium
            e_ = arr.index_noise
            f = (1.0 + b_) / (1.0 + b_ + e_) if kind == PriceKind.MARK else 1.0 / (1.0 + b_ + e_)
            o, h, lo, c = (
                np.maximum(1, np.rint(x * f)).astype(np.int64)
                for x in (arr.open, arr.high, arr.low, arr.close)
            )
        agg = aggregate(starts, interval, arr, o, h, lo, c)
        trade = kind == PriceKind.TRADE
        return KlineTable(
            kind,
            agg.starts[::-1],
            agg.open[::-1].tolist(),
            agg.high[::-1].tolist(),
            agg.low[::-1].tolist(),
            agg.close[::-1].tolist(),
            agg.volume[::-1].tolist() if trade else [],
            agg.turnover[::-1].tolist() if trade else [],
        )

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
            out.append(OpenInterestRow(ts=ts, open_interest=to_step(oi, step)))
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
