"""Taker and maker matching: book walks, protection price, time in force, resting fills from trades/touch."""

from __future__ import annotations

from asym.domain import OrderStatus, Side, TimeInForce

from .conftest import DEPOSIT, Harness
from .scripted import D, ScriptedMarket

# The scripted BTCUSDT book: bids 49999.9 .. 49999.5, asks 50000.1 .. 50000.5, 1 BTC each; mark 50000.


def test_market_buy_walks_the_book_with_exact_fee_and_average(h: Harness) -> None:
    order = h.place("Buy", "2.5")
    # 1 @ 50000.1 + 1 @ 50000.2 + 0.5 @ 50000.3 = 125000.45 of value, avg 125000.45 / 2.5 = 50000.18.
    assert order.status is OrderStatus.FILLED
    assert order.cum_exec_value == D("125000.45")
    assert order.cum_exec_fee == D("125000.45") * D("0.00055") == D("68.7502475")
    # The reported price of a market order is the protection price: mark 50000 + 5 %.
    assert h.px("BTCUSDT", order.price) == D("52500")
    fills = h.e.executions(h.uid, symbol="BTCUSDT", order_id=order.order_id, exec_type=None)
    assert [(h.px("BTCUSDT", x.exec_price), x.exec_qty) for x in reversed(fills)] == [
        (D("50000.1"), 1000),
        (D("50000.2"), 1000),
        (D("50000.3"), 500),
    ]
    assert all(not x.is_maker and x.fee_rate == D("0.00055") for x in fills)
    assert [x.leaves_qty for x in reversed(fills)] == [1500, 500, 0]
    pos = h.pos()
    assert pos.side is Side.BUY and pos.size == 2500
    assert pos.avg_price == D("50000.18")
    assert pos.position_value == D("125000.45")
    assert pos.position_im == D("12500.045")  # value / leverage 10
    assert pos.unrealised_pnl == (D(50000) - D("50000.18")) * D("2.5") == D("-0.45")
    w = h.wallet()
    assert w.total_wallet_balance == DEPOSIT - D("68.7502475")
    assert w.total_equity == w.total_wallet_balance - D("0.45")
    assert w.total_available_balance == w.total_equity - D("12500.045")


def test_events_of_a_filled_market_order(h: Harness) -> None:
    h.drain()
    order = h.place("Buy", "1.5")
    ev = h.drain()
    assert [(o.order_id, o.status) for o in ev.orders] == [
        (order.order_id, OrderStatus.NEW),
        (order.order_id, OrderStatus.FILLED),
    ]
    assert len(ev.executions) == 2
    assert ev.positions[-1].size == 1500
    assert ev.wallet is not None and ev.wallet.total_wallet_balance < DEPOSIT
    assert not h.drain()  # drained: nothing left


def test_market_order_stops_at_the_protection_price(h: Harness, market: ScriptedMarket) -> None:
    market.set_book("BTCUSDT", [("49999", "5")], [("50001", "1"), ("53000", "5")])
    order = h.place("Buy", "3")
    # Only the level inside mark + 5 % (52500) fills; the rest is cancelled (not PartiallyFilledCanceled).
    assert order.status is OrderStatus.CANCELLED
    assert order.cum_exec_qty == 1000
    assert order.reject_reason == "EC_NoError"
    assert h.pos().size == 1000


def test_market_order_without_liquidity_is_cancelled(h: Harness, market: ScriptedMarket) -> None:
    market.set_book("BTCUSDT", [("49999", "5")], [("60000", "5")], move_prices=False)
    order = h.place("Buy", "1")
    assert order.status is OrderStatus.CANCELLED
    assert order.reject_reason == "EC_NoImmediateQtyToFill"
    assert h.pos().size == 0
    assert h.wallet().total_wallet_balance == DEPOSIT


def test_taken_liquidity_is_not_taken_twice_until_the_book_changes(
    h: Harness, market: ScriptedMarket
) -> None:
    h.place("Buy", "1")
    second = h.place("Buy", "1")
    fills = h.e.executions(h.uid, symbol=None, order_id=second.order_id, exec_type=None)
    assert [h.px("BTCUSDT", x.exec_price) for x in fills] == [D("50000.2")]
    market.quote("BTCUSDT", "50000")  # a new book snapshot: liquidity is back
    third = h.place("Buy", "1")
    fills = h.e.executions(h.uid, symbol=None, order_id=third.order_id, exec_type=None)
    assert [h.px("BTCUSDT", x.exec_price) for x in fills] == [D("50000.1")]


def test_marketable_limit_takes_up_to_its_price_then_rests(h: Harness) -> None:
    order = h.place("Buy", "2.5", "50000.2")
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.cum_exec_qty == 2000
    assert order.cum_exec_value == D("50000.1") + D("50000.2")
    (open_order,) = h.e.orders(h.uid, symbol="BTCUSDT", order_id="", order_link_id="", open_only=True)
    assert open_order.order_id == order.order_id and open_order.leaves_qty == 500
    # The resting 0.5 reserves IM + open fee: 25000.1 / 10 + 25000.1 * 0.00055 = 2500.01 + 13.750055.
    assert h.wallet().coins[0].total_order_im == D("2513.760055")


def test_ioc_remainder_is_cancelled(h: Harness) -> None:
    order = h.place("Buy", "2.5", "50000.2", tif=TimeInForce.IOC)
    assert order.status is OrderStatus.CANCELLED
    assert order.cum_exec_qty == 2000
    assert not h.e.orders(h.uid, symbol=None, order_id="", order_link_id="", open_only=True)


def test_fok_fills_all_or_nothing(h: Harness) -> None:
    miss = h.place("Buy", "2.5", "50000.2", tif=TimeInForce.FOK)
    assert miss.status is OrderStatus.CANCELLED
    assert miss.cum_exec_qty == 0
    assert miss.reject_reason == "EC_CancelForNoFullFill"
    assert h.pos().size == 0
    ok = h.place("Buy", "2.5", "50000.3", tif=TimeInForce.FOK)
    assert ok.status is OrderStatus.FILLED and ok.cum_exec_qty == 2500


def test_post_only_that_would_take_is_accepted_then_cancelled(h: Harness) -> None:
    h.drain()
    order = h.place("Buy", "1", "50000.1", tif=TimeInForce.POST_ONLY)
    assert order.status is OrderStatus.CANCELLED
    assert order.reject_reason == "EC_PostOnlyWillTakeLiquidity"
    assert [o.status for o in h.drain().orders] == [OrderStatus.NEW, OrderStatus.CANCELLED]
    assert h.pos().size == 0
    resting = h.place("Buy", "1", "50000", tif=TimeInForce.POST_ONLY)
    assert resting.status is OrderStatus.NEW


def test_resting_order_fills_as_maker_from_trades_partially(h: Harness, market: ScriptedMarket) -> None:
    order = h.place("Buy", "1", "49990")
    h.tick([market.trade("BTCUSDT", "49995", "5", ts=h.now)])  # above the bid: nothing
    assert h.order(order.order_id).cum_exec_qty == 0
    h.tick([market.trade("BTCUSDT", "49990", "0.4", ts=h.now)])
    part = h.order(order.order_id)
    assert part.status is OrderStatus.PARTIALLY_FILLED and part.cum_exec_qty == 400
    # Maker fee: 0.4 x 49990 x 0.0002 = 3.9992.
    assert part.cum_exec_fee == D("3.9992")
    h.tick([market.trade("BTCUSDT", "49980", "2", ts=h.now)])  # trades through: fills at the order's price
    done = h.order(order.order_id)
    assert done.status is OrderStatus.FILLED
    assert done.cum_exec_value == D("49990")
    fills = h.e.executions(h.uid, symbol="BTCUSDT", order_id=order.order_id, exec_type="Trade")
    assert [x.is_maker for x in fills] == [True, True]
    assert h.pos().avg_price == D("49990")


def test_trade_size_is_shared_in_price_then_time_priority(h: Harness, market: ScriptedMarket) -> None:
    low = h.place("Buy", "1", "49980")
    high = h.place("Buy", "1", "49990")
    later_high = h.place("Buy", "1", "49990")
    h.tick([market.trade("BTCUSDT", "49980", "1.5", ts=h.now)])
    assert h.order(high.order_id).cum_exec_qty == 1000
    assert h.order(later_high.order_id).cum_exec_qty == 500
    assert h.order(low.order_id).cum_exec_qty == 0


def test_resting_order_fills_when_the_book_crosses_it(h: Harness, market: ScriptedMarket) -> None:
    order = h.place("Sell", "1", "50010")
    market.set_book("BTCUSDT", [("50012", "0.3"), ("50011", "0.5"), ("50009", "5")], [("50013", "1")])
    h.tick()
    got = h.order(order.order_id)
    # Only the bids at or above 50010 are matched (0.8), at the order's own price, as maker.
    assert got.status is OrderStatus.PARTIALLY_FILLED and got.cum_exec_qty == 800
    assert got.cum_exec_value == D("0.8") * D("50010")
    assert h.pos().side is Side.SELL and h.pos().size == 800
    h.tick()  # the same book snapshot: its matched liquidity is used up
    assert h.order(order.order_id).cum_exec_qty == 800
