"""The market's current quotes: order books and tickers at the market's time, cached per 100 ms step.

Books of many symbols are built in one vectorised pass (`BookPool`); clients that ask for one book after
another (REST) are batched by demand. Tickers come from a per-minute cache (`asym.sim.market.ticker`) as
integer `TickerRaw` records, which the server formats without Decimals; `TickerView` (the MarketModel
contract) is built from the same record. Everything here equals what the straightforward per-symbol
computation gives (tests/sim/market/test_quotes.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from asym.sim.market import funding as fund
from asym.sim.market.book import MAX_DEPTH, POOL_MAX_DEPTH, BookPool, PoolBooks
from asym.sim.market.history import MINUTE_MS
from asym.sim.market.ticker import (
    TickerMinute,
    book_state,
    last_at,
    open_interest_at,
    seq_at,
    ticker_minute,
    trades_by,
)
from asym.sim.market.trades import TICK_DIRECTIONS
from asym.sim.types import BookView, SimInstrument, TickerView

if TYPE_CHECKING:
    from asym.sim.market.market import Market, _Symbol

DEMAND_WINDOW_STEPS = 10
"""A symbol asked for one by one within the last second counts as in demand (see Quotes._demand_batch)."""
DEMAND_MIN_BATCH = 4
_ZERO = Decimal(0)


@dataclass(slots=True)
class BookBatch:
    """Books of several symbols at one instant (Market.books): `books` holds row i = symbols[i]."""

    symbols: list[str]
    depth: int
    books: PoolBooks
    update_id: list[int]
    seq: list[int]
    ts: int
    cts: int


@dataclass(slots=True)
class TickerRaw:
    """A ticker as integers: prices in ticks, sizes and volume in qty steps, turnover in ticks x steps,
    open interest in qty steps (`TickerView` carries the same values as Decimals)."""

    symbol: str
    ts: int
    cs: int
    last: int
    tick_dir: int
    """Index into asym.sim.market.trades.TICK_DIRECTIONS."""
    mark: int
    index: int
    bid1: int
    bid1_size: int
    ask1: int
    ask1_size: int
    prev_price_24h: int
    high_24h: int
    low_24h: int
    prev_price_1h: int
    volume_24h: int
    turnover_24h: int
    open_interest: int
    """-1 when the model's open interest is not a positive number (written as zero)."""
    funding_rate: Decimal
    next_funding_time: int
    funding_interval_hours: int
    funding_cap: Decimal


class Quotes:
    """Books and tickers of a Market (its time, its symbols), with their caches."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self._book_cache: dict[str, tuple[int, BookView]] = {}
        self._pool = BookPool()
        self._batched: dict[str, tuple[int, BookBatch, int]] = {}
        """Per symbol, the newest batch that built its book (books()), by 100 ms step."""
        self._demand: dict[str, tuple[int, bool]] = {}
        """Symbol -> (the last 100 ms step its book was asked for one by one, asked in an earlier step of
        the window too) (see _demand_batch)."""
        self._raw_cache: dict[str, tuple[int, TickerRaw]] = {}
        self._view_cache: dict[str, tuple[int, TickerView]] = {}

    # ---- books ------------------------------------------------------------------------------------

    def book(self, symbol: str, depth: int, demand: bool = True) -> BookView:
        """The current book, up to `depth` levels per side (see Market.book); `demand`: a request of a
        client that may ask for many symbols in turn (see _demand_batch)."""
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        depth = min(depth, MAX_DEPTH)
        market = self.market
        s = market._sym(symbol)
        t = market._now
        step = t // 100
        hit = self._book_cache.get(symbol)
        if hit is None or hit[0] != step or (len(hit[1].bids) < depth and len(hit[1].bids) < MAX_DEPTH):
            view = self._batched_view(symbol, step, depth)
            if view is None and demand and depth <= POOL_MAX_DEPTH:
                view = self._demand_batch(symbol, step)
            if view is None:
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

    def _demand_batch(self, symbol: str, step: int) -> BookView | None:
        """Clients that ask for one book after another, again and again (REST), make every symbol's book
        miss once per 100 ms step: build the books of every symbol asked for repeatedly in the last second
        at once, on the first miss of a step (cheaper than one by one from a handful of symbols on).
        One-off requests (a collection cycle) are never batched."""
        demand = self._demand
        prev = demand.get(symbol)
        repeated = prev is not None and prev[0] != step and prev[0] >= step - DEMAND_WINDOW_STEPS
        demand[symbol] = (step, repeated)
        if len(demand) > 2 * DEMAND_MIN_BATCH and len(demand) > len(self.market._order) // 2:
            # Keep the map small: forget symbols not asked for in the last second.
            for name in [n for n, (st, _) in demand.items() if st < step - DEMAND_WINDOW_STEPS]:
                del demand[name]
        if not repeated:
            return None
        batched = self._batched
        wanted = [
            name
            for name, (st, again) in demand.items()
            if again
            and st >= step - DEMAND_WINDOW_STEPS
            and ((hit := batched.get(name)) is None or hit[0] != step)
        ]
        if len(wanted) < DEMAND_MIN_BATCH:
            return None
        self.books(wanted, POOL_MAX_DEPTH)
        return self._batched_view(symbol, step, POOL_MAX_DEPTH)

    def _batched_view(self, symbol: str, step: int, depth: int) -> BookView | None:
        """The symbol's book from this step's batch, when one built it deep enough."""
        hit = self._batched.get(symbol)
        if hit is None or hit[0] != step:
            return None
        batch, i = hit[1], hit[2]
        books = batch.books
        # A side shorter than the batch depth is complete (the book ends there).
        if depth > batch.depth and (books.bid_n[i] >= batch.depth or books.ask_n[i] >= batch.depth):
            return None
        bids, asks = books.lists(i)
        return BookView(symbol, bids, asks, batch.update_id[i], batch.seq[i], batch.ts, batch.cts)

    def books(self, symbols: list[str], depth: int) -> BookBatch:
        """The current books of `symbols` (depth 1..50) built in one vectorised pass (see Market.books)."""
        if not 1 <= depth <= POOL_MAX_DEPTH:
            raise ValueError(f"depth must be 1..{POOL_MAX_DEPTH}, got {depth}")
        market = self.market
        t = market._now
        step_ms = t // 100 * 100
        syms = [market._sym(name) for name in symbols]
        refs: list[int] = []
        ups: list[bool] = []
        levels: list[int] = []
        rows: list[int] = []
        update_ids: list[int] = []
        seqs: list[int] = []
        pool = self._pool
        minute = self.minute
        for s in syms:
            tm = minute(s, t)
            ref, up, level = book_state(tm, t)
            refs.append(ref)
            ups.append(up)
            levels.append(level)
            if s.row < 0:
                s.row = pool.add(s.ctx.book)
            rows.append(s.row)
            update_ids.append(1 + s.live.step_index(t))
            seqs.append(seq_at(tm, t, trades_by(tm, t)))
        built = pool.build(rows, refs, ups, levels, step_ms, depth)
        if not built.ok.all():
            for i in (~built.ok).nonzero()[0].tolist():
                bids, asks = syms[i].grid.build(refs[i], ups[i], levels[i], step_ms, depth)
                built.put(i, bids, asks)
        built.tops = (
            built.bid_px[:, 0].tolist(),
            built.bid_sz[:, 0].tolist(),
            built.ask_px[:, 0].tolist(),
            built.ask_sz[:, 0].tolist(),
        )
        batch = BookBatch(list(symbols), depth, built, update_ids, seqs, t, step_ms)
        step = t // 100
        batched = self._batched
        for i, name in enumerate(batch.symbols):
            prev = batched.get(name)
            if prev is None or prev[0] != step or prev[1].depth <= depth:
                batched[name] = (step, batch, i)
        return batch

    def prime_tops(self, symbols: list[str]) -> None:
        """Build, in one batch, the top of book of those `symbols` whose book this 100 ms step has not
        built yet (tickers of many symbols read their bid1/ask1 from it)."""
        step = self.market._now // 100
        batched = self._batched
        cached = self._book_cache
        missing = [
            name
            for name in symbols
            if (hit := batched.get(name)) is None or hit[0] != step
            if (own := cached.get(name)) is None or own[0] != step
        ]
        if len(missing) > 1:
            self.books(missing, 1)

    def top(self, s: _Symbol, t: int) -> tuple[int, int, int, int]:
        """(bid1, bid1 size, ask1, ask1 size) now."""
        hit = self._batched.get(s.ctx.symbol)
        if hit is not None and hit[0] == t // 100 and (tops := hit[1].books.tops) is not None:
            i = hit[2]
            return tops[0][i], tops[1][i], tops[2][i], tops[3][i]
        book = self.book(s.ctx.symbol, 1, demand=False)
        return book.bids[0][0], book.bids[0][1], book.asks[0][0], book.asks[0][1]

    def _build_book(self, s: _Symbol, t: int, depth: int) -> BookView:
        tm = self.minute(s, t)
        ref, up, level = book_state(tm, t)
        step_ms = t // 100 * 100
        bids, asks = s.grid.build(ref, up, level, step_ms, min(depth, MAX_DEPTH))
        return BookView(
            symbol=s.ctx.symbol,
            bids=bids,
            asks=asks,
            update_id=1 + s.live.step_index(t),
            seq=seq_at(tm, t, trades_by(tm, t)),
            ts=t,
            cts=step_ms,
        )

    # ---- tickers ----------------------------------------------------------------------------------

    def minute(self, s: _Symbol, t: int) -> TickerMinute:
        """The ticker cache of the minute holding t."""
        m = t // MINUTE_MS
        tm = s.tm
        if tm is None or tm.minute != m:
            tm = ticker_minute(s.live, m, self.market._predicted_rate(s, t))
            s.tm = tm
        return tm

    def seq(self, s: _Symbol, t: int) -> int:
        """Cross sequence at t (as LiveSymbol.seq_at)."""
        tm = self.minute(s, t)
        return seq_at(tm, t, trades_by(tm, t))

    def ticker_raw(self, symbol: str) -> TickerRaw:
        """The current ticker as integers (cached per 100 ms step)."""
        market = self.market
        t = market._now
        step = t // 100
        hit = self._raw_cache.get(symbol)
        if hit is not None and hit[0] == step:
            return hit[1]
        raw = self._build_raw(market._sym(symbol), t)
        self._raw_cache[symbol] = (step, raw)
        return raw

    def _build_raw(self, s: _Symbol, t: int) -> TickerRaw:
        tm = self.minute(s, t)
        j = trades_by(tm, t)
        last, tick_dir = last_at(tm, j)
        bid1, bid1_size, ask1, ask1_size = self.top(s, t)
        # The open minute so far (its trades up to t) completes the rolling 24 h window.
        hi, lo = tm.high[j], tm.low[j]
        if hi <= 0:
            hi = lo = last
        return TickerRaw(
            s.ctx.symbol,
            t,
            seq_at(tm, t, j),
            last,
            tick_dir,
            max(1, round(last * tm.mark_factor)),
            max(1, round(last * tm.index_factor)),
            bid1,
            bid1_size,
            ask1,
            ask1_size,
            tm.prev_24h or last,
            max(hi, last),
            min(lo, last),
            tm.prev_1h or last,
            tm.volume[j],
            tm.turnover[j],
            steps_of(open_interest_at(tm, t), s.inst.qty.step),
            tm.funding_rate,
            fund.next_settlement(t),
            8,
            s.profile.funding_cap,
        )

    def ticker(self, symbol: str) -> TickerView:
        """The current ticker (cached per 100 ms step)."""
        market = self.market
        s = market._sym(symbol)
        step = market._now // 100
        hit = self._view_cache.get(symbol)
        if hit is not None and hit[0] == step:
            return hit[1]
        raw = self.ticker_raw(symbol)
        inst = s.inst
        memo = s.memo
        if memo is None or memo[0] != raw.volume_24h or memo[1] != raw.turnover_24h:
            memo = (
                raw.volume_24h,
                raw.turnover_24h,
                inst.qty.to_decimal(raw.volume_24h),
                turnover_decimal(inst, raw.turnover_24h),
            )
            s.memo = memo
        tv = TickerView(
            symbol=raw.symbol,
            ts=raw.ts,
            last=raw.last,
            mark=raw.mark,
            index=raw.index,
            bid1=raw.bid1,
            bid1_size=raw.bid1_size,
            ask1=raw.ask1,
            ask1_size=raw.ask1_size,
            prev_price_24h=raw.prev_price_24h,
            high_24h=raw.high_24h,
            low_24h=raw.low_24h,
            prev_price_1h=raw.prev_price_1h,
            volume_24h=memo[2],
            turnover_24h=memo[3],
            open_interest=inst.qty.to_decimal(raw.open_interest) if raw.open_interest >= 0 else _ZERO,
            funding_rate=raw.funding_rate,
            next_funding_time=raw.next_funding_time,
            funding_interval_hours=raw.funding_interval_hours,
            funding_cap=raw.funding_cap,
            tick_direction=TICK_DIRECTIONS[raw.tick_dir],
            cs=raw.cs,
        )
        self._view_cache[symbol] = (step, tv)
        return tv


def turnover_decimal(inst: SimInstrument, units: int) -> Decimal:
    """Exact quote turnover of `units` ticks x steps, with price decimals + qty decimals."""
    q = Decimal(1).scaleb(-(inst.price.decimals + inst.qty.decimals))
    return (Decimal(units) * inst.price.step * inst.qty.step).quantize(q)


def steps_of(value: float, step: Decimal) -> int:
    """A float quantity rounded (half even) to whole qty steps; -1 when not a positive number."""
    if not math.isfinite(value) or value <= 0:
        return -1
    return int((Decimal(repr(value)) / step).to_integral_value())


def to_step(value: float, step: Decimal) -> Decimal:
    """A float quantity rounded to the qty step, as an exact Decimal with the step's decimals."""
    n = steps_of(value, step)
    if n < 0:
        return _ZERO
    exp = min(0, int(step.normalize().as_tuple().exponent))
    return (n * step).quantize(Decimal(1).scaleb(exp))
