"""Every business rejection the engine raises, with Bybit's retCode, and that it changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from asym.domain import OrderType, Side
from asym.sim.engine.types import AmendOrder, PlaceOrder, TradingStop
from asym.sim.types import SimRejection

from .conftest import DEPOSIT, Harness
from .scripted import D, ScriptedMarket


def _rejects(code: int, fn: Callable[[], Any], text: str = "") -> SimRejection:
    with pytest.raises(SimRejection) as err:
        fn()
    assert err.value.ret_code == code, err.value.ret_msg
    assert text in err.value.ret_msg
    return err.value


@pytest.mark.parametrize(
    ("kwargs", "code", "text"),
    [
        ({"side": "Buy", "qty": "0"}, 10001, "minimum limit"),
        ({"side": "Buy", "qty": "101", "price": "49000"}, 10001, "maximum limit"),
        ({"side": "Buy", "qty": "51"}, 10001, "maximum limit"),  # maxMktOrderQty 50
        ({"side": "Buy", "qty": "1", "price": "2000000"}, 10001, "out of range"),
        ({"side": "Buy", "qty": "1", "price": "56000"}, 110003, "price is invalid"),  # > mark + 10 %
        ({"side": "Sell", "qty": "1", "price": "44000"}, 110003, "price is invalid"),
        ({"side": "Buy", "qty": "0.001", "price": "4000"}, 110094, "notional"),  # 4 USDT < 5
        ({"side": "Buy", "qty": "10", "price": "49000"}, 110007, "ab not enough"),  # IM 49,000 x 10 / 10...
        ({"side": "Buy", "qty": "30"}, 110007, "ab not enough"),
        ({"side": "Sell", "qty": "1", "reduce_only": True}, 110017, "truncated to zero"),
        ({"side": "Buy", "qty": "1", "price": "49000", "take_profit": "48000"}, 10001, "TakeProfit"),
        ({"side": "Buy", "qty": "1", "price": "49000", "stop_loss": "49500"}, 10001, "StopLoss"),
        ({"side": "Sell", "qty": "1", "price": "51000", "take_profit": "51500"}, 10001, "TakeProfit"),
        ({"side": "Sell", "qty": "1", "price": "51000", "stop_loss": "50500"}, 10001, "StopLoss"),
        ({"side": "Buy", "qty": "1", "stop_loss": "50100"}, 10001, "LastPrice"),  # market: vs last
        ({"side": "Buy", "qty": "1", "take_profit": "51000", "tpsl_mode": "Partial"}, 10001, "Partial"),
        ({"side": "Buy", "qty": "1", "trigger_price": "50500", "trigger_direction": 2}, 110093, "Falling"),
        ({"side": "Buy", "qty": "1", "trigger_price": "49500", "trigger_direction": 1}, 110092, "Rising"),
        ({"side": "Buy", "qty": "1", "trigger_price": "49500"}, 10001, "triggerDirection"),
        ({"side": "Buy", "qty": "1", "price": "49000", "position_idx": 1}, 10001, "position idx"),
        ({"side": "Buy", "qty": "1", "price": "49000", "order_link_id": "bad id!"}, 10001, "orderLinkId"),
    ],
)
def test_place_rejections(h: Harness, kwargs: dict[str, Any], code: int, text: str) -> None:
    # Shrink the account for the balance cases: 100k covers 10 BTC at 10x only just not (49,000 + fee).
    h.e.open_account(h.uid, D(49_000))
    h.drain()
    kw = dict(kwargs)
    side, qty, price = kw.pop("side"), kw.pop("qty"), kw.pop("price", None)
    _rejects(code, lambda: h.place(side, qty, price, **kw), text)
    assert not h.drain()  # a rejected order leaves no trace
    assert h.e.orders(h.uid, symbol=None, order_id="", order_link_id="", open_only=False) == []


def test_symbol_rejections(h: Harness) -> None:
    _rejects(110074, lambda: h.place("Buy", "10", "1", symbol="HALTUSDT"), "not live")
    _rejects(10001, lambda: h.e.positions(h.uid, "NOPEUSDT"), "symbol invalid")
    cmd = PlaceOrder(symbol="NOPEUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=1)
    _rejects(10001, lambda: h.e.place_order(h.uid, cmd, h.now), "symbol invalid")
    _rejects(10001, lambda: h.e.wallet("nobody"), "unknown account")


def test_limit_without_price(h: Harness) -> None:
    cmd = PlaceOrder(symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.LIMIT, qty=1000)
    _rejects(10001, lambda: h.e.place_order(h.uid, cmd, h.now), "price is required")


def test_reduce_only_on_the_increasing_side(h: Harness) -> None:
    h.place("Buy", "1")
    _rejects(110017, lambda: h.place("Buy", "1", reduce_only=True))
    _rejects(110057, lambda: h.place("Sell", "1", reduce_only=True, take_profit="49000"))


def test_duplicate_order_link_id_on_any_order_ever(h: Harness) -> None:
    first = h.place("Buy", "1", "49000", order_link_id="abc-1")
    _rejects(110072, lambda: h.place("Buy", "1", "49000", order_link_id="abc-1"), "duplicate")
    h.e.cancel_order(h.uid, "BTCUSDT", first.order_id, "", h.now)
    _rejects(110072, lambda: h.place("Sell", "1", order_link_id="abc-1"))  # still, after it closed
    assert h.e.order_count_by_link_id(h.uid, "abc-1") == 1
    assert h.e.order_count_by_link_id(h.uid, "other") == 0


def test_too_many_open_orders(h: Harness) -> None:
    for i in range(500):
        h.place("Buy", "0.001", str(49000 - i))
    _rejects(110020, lambda: h.place("Buy", "0.001", "48000"), "500")
    # Conditional orders have their own limit and are not counted here.
    h.place("Buy", "0.001", trigger_price="50500", trigger_direction=1)


def test_too_many_conditional_orders(h: Harness) -> None:
    for i in range(10):
        h.place("Buy", "0.001", trigger_price=str(50500 + i), trigger_direction=1)
    _rejects(110009, lambda: h.place("Buy", "0.001", trigger_price="50600", trigger_direction=1))
    # Position TP/SL are not counted as conditional orders.
    h.place("Buy", "0.01", take_profit="51000", stop_loss="49000")


def test_cancel_and_amend_of_unknown_or_final_orders(h: Harness) -> None:
    filled = h.place("Buy", "1")
    _rejects(110001, lambda: h.e.cancel_order(h.uid, "BTCUSDT", filled.order_id, "", h.now))
    _rejects(110001, lambda: h.e.cancel_order(h.uid, "BTCUSDT", "no-such-id", "", h.now))
    _rejects(110001, lambda: h.e.cancel_order(h.uid, "BTCUSDT", "", "no-such-link", h.now))
    _rejects(10001, lambda: h.e.cancel_order(h.uid, "BTCUSDT", "", "", h.now), "required")
    resting = h.place("Buy", "1", "49000")
    _rejects(110001, lambda: h.e.cancel_order(h.uid, "ETHUSDT", resting.order_id, "", h.now))  # other symbol
    h.e.cancel_order(h.uid, "BTCUSDT", resting.order_id, "", h.now)
    _rejects(110001, lambda: h.e.amend_order(h.uid, AmendOrder("BTCUSDT", resting.order_id, qty=2000), h.now))


def test_amend_rejections(h: Harness, market: ScriptedMarket) -> None:
    order = h.place("Buy", "2", "49990")
    h.tick([market.trade("BTCUSDT", "49990", "0.5", ts=h.now)])
    amend = h.e.amend_order
    _rejects(110064, lambda: amend(h.uid, AmendOrder("BTCUSDT", order.order_id, qty=500), h.now), "filled")
    _rejects(10001, lambda: amend(h.uid, AmendOrder("BTCUSDT", order.order_id, qty=2000), h.now), "unchanged")
    _rejects(110007, lambda: amend(h.uid, AmendOrder("BTCUSDT", order.order_id, qty=30_000), h.now))
    _rejects(10001, lambda: amend(h.uid, AmendOrder("BTCUSDT", order.order_id, stop_loss=500_000), h.now))
    _rejects(10001, lambda: amend(h.uid, AmendOrder("BTCUSDT", order.order_id, trigger_price=510_000), h.now))
    cond = h.place("Buy", "1", trigger_price="50500", trigger_direction=1)
    _rejects(110092, lambda: amend(h.uid, AmendOrder("BTCUSDT", cond.order_id, trigger_price=499_000), h.now))


def test_trading_stop_rejections(h: Harness) -> None:
    stop = h.e.trading_stop
    _rejects(10001, lambda: stop(h.uid, TradingStop("BTCUSDT", take_profit=510_000), h.now), "zero position")
    h.place("Buy", "1")
    _rejects(10001, lambda: stop(h.uid, TradingStop("BTCUSDT", take_profit=490_000), h.now), "TakeProfit")
    _rejects(10001, lambda: stop(h.uid, TradingStop("BTCUSDT", stop_loss=510_000), h.now), "StopLoss")
    _rejects(34040, lambda: stop(h.uid, TradingStop("BTCUSDT", stop_loss=0), h.now), "not modified")
    stop(h.uid, TradingStop("BTCUSDT", stop_loss=490_000), h.now)
    _rejects(34040, lambda: stop(h.uid, TradingStop("BTCUSDT", stop_loss=490_000), h.now))
    _rejects(
        10001, lambda: stop(h.uid, TradingStop("BTCUSDT", stop_loss=480_000, tpsl_mode="Partial"), h.now)
    )


def test_cancel_all_filter_and_account_rejections(h: Harness) -> None:
    _rejects(10001, lambda: h.e.cancel_all(h.uid, None, "Bogus", h.now), "orderFilter")
    _rejects(10001, lambda: h.e.open_account("u2", D(-1)), "non-negative")
    assert h.wallet().total_wallet_balance == DEPOSIT


def test_negative_and_non_finite_inputs_get_clear_errors(h: Harness) -> None:
    """Bad numbers from a confused caller never crash the engine or change state."""
    bad_places = [
        PlaceOrder(symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=-1000),
        PlaceOrder(symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.LIMIT, qty=1000, price=-5),
        PlaceOrder(symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=1000, take_profit=-5),
        PlaceOrder(
            symbol="BTCUSDT",
            side=Side.BUY,
            order_type=OrderType.MARKET,
            qty=1000,
            trigger_price=-5,
            trigger_direction=2,
        ),
    ]
    for cmd in bad_places:
        _rejects(10001, lambda cmd=cmd: h.e.place_order(h.uid, cmd, h.now))  # type: ignore[misc]
    for lev in (D("NaN"), D("Infinity"), D(-3)):
        _rejects(10001, lambda lev=lev: h.e.set_leverage(h.uid, "BTCUSDT", lev, h.now))  # type: ignore[misc]
    order = h.place("Buy", "1", "49000")
    _rejects(110064, lambda: h.e.amend_order(h.uid, AmendOrder("BTCUSDT", order.order_id, qty=-1), h.now))
    _rejects(10001, lambda: h.e.amend_order(h.uid, AmendOrder("BTCUSDT", order.order_id, price=-1), h.now))
    h.place("Buy", "1")
    _rejects(10001, lambda: h.e.trading_stop(h.uid, TradingStop("BTCUSDT", stop_loss=-1), h.now))
    assert h.wallet().total_wallet_balance == DEPOSIT - D("50000.1") * D("0.00055")
