"""Simulator core objects -> asym domain objects, for the in-process venue.

Account objects (orders, executions, positions, wallet) go through the SAME wire formats as over the
network: the simulator server's writer builds Bybit's JSON item, asym.bybit's converter reads it. So a
backtest sees exactly what `asym run` would see from `asym sim serve`. Market data (tickers, books, trades,
candles) are converted directly (they are read every step; the values are the same as the wire's).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import msgspec

from asym.bybit.convert import account as conv
from asym.bybit.wire.account import ExecutionItem, OrderItem, PositionItem, WalletAccount
from asym.domain import (
    Candle,
    Execution,
    FundingRate,
    Interval,
    LongShortRatio,
    OpenInterest,
    Order,
    OrderBook,
    Position,
    PublicTrade,
    Ticker,
    WalletBalance,
)
from asym.sim.engine.types import SimExecution, SimOrder, SimPosition, SimWallet
from asym.sim.server import wire_account
from asym.sim.types import (
    BookView,
    FundingRow,
    KlineRow,
    OpenInterestRow,
    RatioRow,
    SimInstrument,
    TickerView,
    TradeEvent,
)
from asym.sim.units import Scale

_Q6 = Decimal("0.000001")
_CACHE_MAX = 50_000


_MEMOS: dict[tuple[Decimal, int], dict[int, Decimal]] = {}


def decimals_of(scale: Scale) -> Callable[[int], Decimal]:
    """`scale.to_decimal` with a memo per step (book levels and prices repeat from step to step)."""
    memo = _MEMOS.setdefault((scale.step, scale.decimals), {})
    to_decimal = scale.to_decimal

    def conv(n: int) -> Decimal:
        d = memo.get(n)
        if d is None:
            d = to_decimal(n)
            if len(memo) < _CACHE_MAX:
                memo[n] = d
        return d

    return conv


def order(inst: SimInstrument, o: SimOrder) -> Order:
    """A simulator order as asym.bybit reads it from the wire."""
    return conv.order(msgspec.convert(wire_account.order_item(inst, o), OrderItem), "linear")


def execution(inst: SimInstrument, x: SimExecution) -> Execution:
    """A simulator execution (fill or funding) as read from the wire."""
    return conv.execution(msgspec.convert(wire_account.execution_item(inst, x), ExecutionItem), "linear")


def position(inst: SimInstrument, p: SimPosition) -> Position:
    """A simulator position as read from the wire."""
    return conv.position(msgspec.convert(wire_account.position_item(inst, p), PositionItem), "linear")


def wallet(w: SimWallet, ts: int) -> WalletBalance:
    """The simulator's unified wallet as read from the wire."""
    return conv.wallet(msgspec.convert(wire_account.wallet_item(w), WalletAccount), ts)


def ticker(inst: SimInstrument, t: TickerView, *, open_interest: bool = True) -> Ticker:
    """A ticker view in domain terms (open interest None when the market does not record it)."""
    p = inst.price.to_decimal
    last = p(t.last)
    prev = p(t.prev_price_24h) if t.prev_price_24h else None
    pcnt = ((last - prev) / prev).quantize(_Q6) if prev else None
    oi = t.open_interest if open_interest else None
    return Ticker(
        symbol=t.symbol,
        ts=t.ts,
        last_price=last,
        mark_price=p(t.mark),
        index_price=p(t.index),
        bid1_price=p(t.bid1),
        bid1_size=inst.qty.to_decimal(t.bid1_size),
        ask1_price=p(t.ask1),
        ask1_size=inst.qty.to_decimal(t.ask1_size),
        prev_price_24h=prev,
        price_24h_pcnt=pcnt,
        high_price_24h=p(t.high_24h),
        low_price_24h=p(t.low_24h),
        prev_price_1h=p(t.prev_price_1h) if t.prev_price_1h else None,
        volume_24h=t.volume_24h,
        turnover_24h=t.turnover_24h,
        open_interest=oi,
        open_interest_value=None if oi is None else oi * p(t.mark),
        funding_rate=t.funding_rate,
        next_funding_time=t.next_funding_time,
        funding_interval_hours=t.funding_interval_hours,
    )


def book(inst: SimInstrument, b: BookView) -> OrderBook:
    """An order-book view in domain terms."""
    p, q = decimals_of(inst.price), decimals_of(inst.qty)
    return OrderBook(
        symbol=b.symbol,
        bids=tuple((p(px), q(sz)) for px, sz in b.bids),
        asks=tuple((p(px), q(sz)) for px, sz in b.asks),
        ts=b.ts,
        update_id=b.update_id,
        seq=b.seq,
    )


def trade(inst: SimInstrument, t: TradeEvent) -> PublicTrade:
    """A public trade in domain terms."""
    return PublicTrade(
        symbol=t.symbol,
        trade_id=t.trade_id,
        price=inst.price.to_decimal(t.price),
        size=inst.qty.to_decimal(t.size),
        taker_side=t.taker_side,
        ts=t.ts,
    )


def candle(inst: SimInstrument, symbol: str, interval: Interval, r: KlineRow, now_ms: int) -> Candle:
    """A kline row in domain terms (confirmed once its interval has ended at `now_ms`)."""
    p = inst.price.to_decimal
    return Candle(
        symbol=symbol,
        interval=interval,
        start=r.start,
        open=p(r.open),
        high=p(r.high),
        low=p(r.low),
        close=p(r.close),
        volume=r.volume,
        turnover=r.turnover,
        confirmed=r.start + interval.ms <= now_ms,
    )


def funding_rate(symbol: str, r: FundingRow) -> FundingRate:
    """A settled funding rate."""
    return FundingRate(symbol=symbol, rate=r.rate, ts=r.ts)


def open_interest(symbol: str, r: OpenInterestRow) -> OpenInterest:
    """An open-interest point."""
    return OpenInterest(symbol=symbol, open_interest=r.open_interest, ts=r.ts)


def long_short(symbol: str, r: RatioRow) -> LongShortRatio:
    """A long/short account ratio point."""
    return LongShortRatio(symbol=symbol, buy_ratio=r.buy_ratio, sell_ratio=r.sell_ratio, ts=r.ts)


__all__ = [
    "book",
    "candle",
    "execution",
    "funding_rate",
    "long_short",
    "open_interest",
    "order",
    "position",
    "ticker",
    "trade",
    "wallet",
]
