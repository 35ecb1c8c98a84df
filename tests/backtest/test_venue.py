"""CoreVenue: the Venue protocol over the simulator engine in process: orders through the real wire
formats, asym.bybit's error classes, idempotent orderLinkIds, streams, fills along the candle path
(stops where a continuous path crosses them), funding and liquidation from the engine."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from asym.backtest.bars import BarMarket
from asym.backtest.clock import SimClock
from asym.backtest.data import symbol_data
from asym.backtest.venue import CoreVenue
from asym.domain import (
    Candle,
    ExecType,
    Interval,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerBy,
)
from asym.domain.venue import AmendRequest, TradingStopRequest, Venue
from asym.errors import DuplicateOrderError, InsufficientBalanceError, InvalidRequestError, OrderNotFoundError

from .conftest import HOUR, T0, market, synthetic

D = Decimal


def _venue(data=None, balance: str = "10000", start: int = T0) -> CoreVenue:  # type: ignore[no-untyped-def]
    data = data or market(synthetic(start=T0 - 2 * 86_400_000, n=24 * 6))
    return CoreVenue(BarMarket(data, start), SimClock(start), balance=D(balance))


def _buy(link: str, qty: str = "0.01", **kw: Any) -> OrderRequest:
    return OrderRequest(
        symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=D(qty), order_link_id=link, **kw
    )


async def test_is_a_venue_and_market_orders_fill_through_the_book_with_taker_fees() -> None:
    v = _venue()
    assert isinstance(v, Venue)
    book = await v.get_orderbook("BTCUSDT", 50)
    ack = await v.place_order(_buy("a1", "0.01"))
    assert ack.order_link_id == "a1" and not ack.resolved
    ev = v.drain()
    assert [o.status for o in ev.orders][-1] is OrderStatus.FILLED
    (x,) = ev.executions
    assert x.price == book.asks[0][0] and x.qty == D("0.010")
    assert x.fee == x.price * x.qty * D("0.00055") and not x.is_maker
    (pos,) = await v.get_positions()
    assert pos.side is Side.BUY and pos.size == D("0.010")
    w = await v.get_wallet()
    assert w.total_wallet_balance == D(10000) - x.fee


async def test_order_link_ids_are_idempotent_and_errors_are_asym_errors() -> None:
    v = _venue()
    first = await v.place_order(_buy("dup", "0.01"))
    again = await v.place_order(_buy("dup", "0.01"))
    assert again.resolved and again.order_id == first.order_id
    assert v.engine.order_count_by_link_id(v.uid, "dup") == 1
    with pytest.raises(DuplicateOrderError):
        await v.place_order(_buy("dup", "0.02"))
    with pytest.raises(InvalidRequestError) as bad:
        await v.place_order(_buy("q1", "0.0105"))  # off the 0.001 step
    assert bad.value.ret_code == 10001
    with pytest.raises(InvalidRequestError):
        await v.place_order(
            OrderRequest(
                symbol="NOPEUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=D(1), order_link_id="x"
            )
        )
    with pytest.raises(OrderNotFoundError):
        await v.cancel_order("BTCUSDT", order_link_id="never")
    with pytest.raises(InsufficientBalanceError):
        await v.place_order(_buy("big", "100"))
    await v.set_leverage("BTCUSDT", D(10))
    await v.set_leverage("BTCUSDT", D(10))  # unchanged: success, as Bybit's 110043 is read
    await v.set_trading_stop(TradingStopRequest(symbol="BTCUSDT", stop_loss=D("40000.0")))
    await v.set_trading_stop(TradingStopRequest(symbol="BTCUSDT", stop_loss=D("40000.0")))  # 34040: success


async def test_resting_limit_fills_as_maker_at_its_price_when_the_path_trades_through() -> None:
    v = _venue()
    last = (await v.get_tickers("BTCUSDT"))[0].last_price
    price = (last * D("0.999")).quantize(D("0.1"))
    await v.place_order(
        OrderRequest(
            symbol="BTCUSDT",
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=D("0.01"),
            price=price,
            time_in_force=TimeInForce.GTC,
            order_link_id="lim",
        )
    )
    assert [o.status for o in await v.get_open_orders()] == [OrderStatus.NEW]
    amended = await v.amend_order(AmendRequest(symbol="BTCUSDT", order_link_id="lim", qty=D("0.02")))
    assert amended.order_link_id == "lim"
    v.drain()
    for h in range(1, 48):
        v.advance_to(T0 + h * HOUR)
        ev = v.drain()
        if ev.executions:
            (x,) = ev.executions
            assert x.is_maker and x.price == price and x.qty == D("0.020")
            assert x.fee == price * D("0.020") * D("0.0002")
            return
    pytest.fail("the limit was never reached on the path")


def _drop_series(start: int) -> object:
    """Flat at 50,000 for a day, then one hour that falls to 47,000 and closes at 48,000."""
    candles = []
    for i in range(30):
        s = start + i * HOUR
        o = D("50000.0")
        h, lo, c = D("50010.0"), D("49990.0"), D("50000.0")
        if i == 24:
            h, lo, c = D("50010.0"), D("47000.0"), D("48000.0")
        elif i > 24:
            o = h = lo = c = D("48000.0")
            h = D("48010.0")
        candles.append(
            Candle(
                symbol="BTCUSDT",
                interval=Interval.H1,
                start=s,
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=D(500),
                turnover=D(500) * c,
            )
        )
    return market(symbol_data("BTCUSDT", candles))


async def test_a_stop_fills_where_the_path_crosses_it_not_at_the_candle_low() -> None:
    start = T0
    v = _venue(_drop_series(start - 24 * HOUR), start=start)
    await v.set_leverage("BTCUSDT", D(5))
    await v.place_order(_buy("e1", "0.1", stop_loss=D("49500.0"), sl_trigger_by=TriggerBy.MARK))
    v.drain()
    v.advance_to(start + HOUR)
    xs = [x for x in v.drain().executions if x.exec_type is ExecType.TRADE]
    (stop,) = xs
    assert stop.side is Side.SELL and stop.qty == D("0.100")
    assert D("49400") < stop.price <= D("49500.0")  # through the book from 49,500, far above the low (47,000)
    assert await v.get_positions() == []


async def test_liquidation_closes_at_the_bankruptcy_price_as_a_bust_trade() -> None:
    start = T0
    v = _venue(_drop_series(start - 24 * HOUR), start=start)
    await v.set_leverage("BTCUSDT", D(50))
    await v.place_order(_buy("e2", "1"))
    v.drain()
    v.advance_to(start + HOUR)
    ev = v.drain()
    bust = [x for x in ev.executions if x.exec_type is ExecType.BUST_TRADE]
    assert len(bust) == 1 and bust[0].qty == D("1.000")
    # 50x: bankruptcy 2 % under the entry (rounded to the tick towards the entry); the entry's own fill
    # was drained before the advance, so the bust trade is the only trade here
    assert [x for x in ev.executions if x.exec_type is ExecType.TRADE] == []
    assert D("48900") < bust[0].price < D("49100")
    assert await v.get_positions() == []


async def test_private_streams_carry_every_event_and_market_reads_are_domain_objects() -> None:
    v = _venue()
    orders = await v.stream_orders()
    execs = await v.stream_executions()
    await v.place_order(_buy("s1", "0.01"))
    got = await asyncio.wait_for(anext(aiter(execs)), 1)
    assert got.order_link_id == "s1"
    first = await asyncio.wait_for(anext(aiter(orders)), 1)
    assert first.order_link_id == "s1"
    await orders.aclose()
    await execs.aclose()
    tk = (await v.get_tickers("BTCUSDT"))[0]
    assert tk.open_interest is None and tk.funding_rate is not None
    kl = await v.get_klines("BTCUSDT", Interval.H1, limit=5)
    assert len(kl) == 5 and all(c.confirmed and c.start + HOUR <= T0 for c in kl)
    assert [c.start for c in kl] == sorted(c.start for c in kl)
    fh = await v.get_funding_history("BTCUSDT", limit=3)
    assert [f.ts for f in fh] == sorted(f.ts for f in fh) and all(f.ts <= T0 for f in fh)
    assert await v.get_server_time() == T0
