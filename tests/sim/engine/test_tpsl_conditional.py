"""TP/SL attached at entry or set by trading_stop, conditional orders, their triggers by Last/Mark/Index."""

from __future__ import annotations

import pytest

from asym.domain import OrderStatus, OrderType, Side, StopOrderType, TriggerBy
from asym.sim.engine.types import AmendOrder, SimOrder, TradingStop
from asym.sim.types import SimRejection

from .conftest import Harness
from .scripted import D, ScriptedMarket


def _open_orders(h: Harness) -> list[SimOrder]:
    return h.e.orders(h.uid, symbol="BTCUSDT", order_id="", order_link_id="", open_only=True)


def _stops(h: Harness) -> dict[StopOrderType, SimOrder]:
    return {o.stop_order_type: o for o in _open_orders(h) if o.stop_order_type is not StopOrderType.NONE}


def test_entry_tpsl_becomes_position_tpsl_and_take_profit_closes_by_last(
    h: Harness, market: ScriptedMarket
) -> None:
    entry = h.place("Buy", "1", take_profit="51000", stop_loss="49000")
    assert entry.take_profit == market.p("BTCUSDT", "51000") and entry.tpsl_mode == "Full"
    pos = h.pos()
    assert h.px("BTCUSDT", pos.take_profit) == D(51000) and h.px("BTCUSDT", pos.stop_loss) == D(49000)
    assert pos.tp_trigger_by is TriggerBy.LAST
    stops = _stops(h)
    tp, sl = stops[StopOrderType.TAKE_PROFIT], stops[StopOrderType.STOP_LOSS]
    assert tp.status is OrderStatus.UNTRIGGERED and tp.side is Side.SELL and tp.reduce_only
    assert tp.trigger_direction == 1 and sl.trigger_direction == 2
    assert tp.create_type == "CreateByTakeProfit" and sl.create_type == "CreateByStopLoss"
    h.drain()
    # The market trades up to 51000; the book there has bids to close into.
    market.set_book("BTCUSDT", [("51000", "0.6"), ("50999", "5")], [("51001", "5")])
    h.tick([market.trade("BTCUSDT", "51000", "0.01", Side.BUY, ts=h.now)])
    assert h.pos().size == 0 and h.pos().take_profit is None and h.pos().stop_loss is None
    done = h.order(tp.order_id)
    assert done.status is OrderStatus.FILLED and done.cum_exec_qty == 1000
    assert h.order(sl.order_id).status is OrderStatus.CANCELLED
    assert h.order(sl.order_id).cancel_type == "CancelByTpSlTsClear"
    ev = h.drain()
    assert [o.status for o in ev.orders if o.order_id == tp.order_id] == [
        OrderStatus.TRIGGERED,
        OrderStatus.FILLED,
    ]
    fills = [x for x in ev.executions if x.order_id == tp.order_id]
    assert {x.create_type for x in fills} == {"CreateByTakeProfit"}
    assert {x.stop_order_type for x in fills} == {StopOrderType.TAKE_PROFIT}
    # 0.6 @ 51000 + 0.4 @ 50999 against an entry at 50000.1.
    assert sum(x.exec_pnl for x in fills) == D("0.6") * D("999.9") + D("0.4") * D("998.9")
    assert _open_orders(h) == []


def test_stop_loss_by_mark_price(h: Harness, market: ScriptedMarket) -> None:
    h.place("Sell", "2", stop_loss="50500", sl_trigger_by=TriggerBy.MARK)
    assert h.pos().side is Side.SELL
    market.set_prices("BTCUSDT", last=market.p("BTCUSDT", "50600"))  # last moves, mark does not
    h.tick()
    assert h.pos().size == 2000
    market.set_mark("BTCUSDT", "50500")
    h.tick()
    assert h.pos().size == 0
    closes = h.e.executions(h.uid, symbol="BTCUSDT", order_id="", exec_type="Trade")[:2]
    assert all(x.create_type == "CreateByStopLoss" and x.side is Side.BUY for x in closes)


def test_trading_stop_sets_moves_and_removes(h: Harness, market: ScriptedMarket) -> None:
    h.place("Buy", "1")
    h.e.trading_stop(h.uid, TradingStop("BTCUSDT", take_profit=market.p("BTCUSDT", "52000")), h.now)
    tp = _stops(h)[StopOrderType.TAKE_PROFIT]
    h.e.trading_stop(h.uid, TradingStop("BTCUSDT", take_profit=market.p("BTCUSDT", "53000")), h.now)
    moved = _stops(h)[StopOrderType.TAKE_PROFIT]
    assert moved.order_id == tp.order_id and h.px("BTCUSDT", moved.trigger_price) == D(53000)
    h.e.trading_stop(
        h.uid,
        TradingStop("BTCUSDT", stop_loss=market.p("BTCUSDT", "49000"), sl_trigger_by=TriggerBy.INDEX),
        h.now,
    )
    assert h.pos().sl_trigger_by is TriggerBy.INDEX
    h.e.trading_stop(h.uid, TradingStop("BTCUSDT", take_profit=0), h.now)
    assert set(_stops(h)) == {StopOrderType.STOP_LOSS}
    assert h.pos().take_profit is None and h.order(tp.order_id).status is OrderStatus.CANCELLED
    # Index-triggered stop loss fires on the index only.
    market.set_prices("BTCUSDT", index=market.p("BTCUSDT", "48999"))
    h.tick()
    assert h.pos().size == 0


def test_tpsl_cancelled_when_the_position_is_closed_by_hand(h: Harness) -> None:
    h.place("Buy", "1", take_profit="51000", stop_loss="49000")
    h.place("Sell", "1")
    assert h.pos().size == 0
    assert _open_orders(h) == []
    closed = h.e.orders(h.uid, symbol="BTCUSDT", order_id="", order_link_id="", open_only=False)
    assert {o.cancel_type for o in closed if o.stop_order_type is not StopOrderType.NONE} == {
        "CancelByTpSlTsClear"
    }


def test_cancelling_the_tp_order_clears_the_position_tp(h: Harness) -> None:
    h.place("Buy", "1", take_profit="51000")
    tp = _stops(h)[StopOrderType.TAKE_PROFIT]
    h.e.cancel_order(h.uid, "BTCUSDT", tp.order_id, "", h.now)
    assert h.pos().take_profit is None


def test_amending_the_tp_order_moves_the_position_tp(h: Harness, market: ScriptedMarket) -> None:
    h.place("Buy", "1", take_profit="51000")
    tp = _stops(h)[StopOrderType.TAKE_PROFIT]
    h.e.amend_order(
        h.uid, AmendOrder("BTCUSDT", tp.order_id, trigger_price=market.p("BTCUSDT", "51500")), h.now
    )
    assert h.px("BTCUSDT", h.pos().take_profit) == D(51500)


def test_limit_entry_tpsl_applies_when_it_fills(h: Harness, market: ScriptedMarket) -> None:
    order = h.place("Buy", "1", "49990", take_profit="51000", stop_loss="49000")
    assert _stops(h) == {}
    h.tick([market.trade("BTCUSDT", "49990", "0.3", ts=h.now)])
    assert h.pos().size == 300 and h.px("BTCUSDT", h.pos().stop_loss) == D(49000)
    h.e.amend_order(
        h.uid, AmendOrder("BTCUSDT", order.order_id, stop_loss=market.p("BTCUSDT", "48000")), h.now
    )
    h.tick([market.trade("BTCUSDT", "49990", "1", ts=h.now)])
    assert h.pos().size == 1000 and h.px("BTCUSDT", h.pos().stop_loss) == D(48000)


def test_conditional_market_order_triggers_on_a_rising_last_price(h: Harness, market: ScriptedMarket) -> None:
    order = h.place("Buy", "1", trigger_price="50500", trigger_direction=1, order_link_id="brk")
    assert order.status is OrderStatus.UNTRIGGERED and order.stop_order_type is StopOrderType.STOP
    assert h.wallet().coins[0].total_order_im == 0  # no margin until triggered
    assert h.e.active_symbols() == {"BTCUSDT"}
    h.drain()
    h.tick([market.trade("BTCUSDT", "50400", "1", Side.BUY, ts=h.now)])
    assert h.order(order.order_id).status is OrderStatus.UNTRIGGERED
    h.tick([market.trade("BTCUSDT", "50500", "1", Side.BUY, ts=h.now)])
    done = h.order(order.order_id)
    assert done.status is OrderStatus.FILLED and h.pos().size == 1000
    assert [o.status for o in h.drain().orders] == [OrderStatus.TRIGGERED, OrderStatus.FILLED]


def test_conditional_limit_order_by_mark_rests_after_triggering(h: Harness, market: ScriptedMarket) -> None:
    order = h.place(
        "Sell", "1", "50100", trigger_price="49500", trigger_direction=2, trigger_by=TriggerBy.MARK
    )
    h.tick([market.trade("BTCUSDT", "49400", "1", ts=h.now)])  # last falls through, mark does not
    assert h.order(order.order_id).status is OrderStatus.UNTRIGGERED
    market.set_mark("BTCUSDT", "49500")
    h.drain()
    h.tick()
    assert h.order(order.order_id).status is OrderStatus.NEW  # 50100 is above the bids: it rests
    assert [o.status for o in h.drain().orders] == [OrderStatus.TRIGGERED, OrderStatus.NEW]
    h.tick([market.trade("BTCUSDT", "50100", "5", Side.BUY, ts=h.now)])
    assert h.order(order.order_id).status is OrderStatus.FILLED


def test_conditional_order_amend_and_cancel_all_stop_orders(h: Harness, market: ScriptedMarket) -> None:
    cond = h.place("Buy", "1", trigger_price="50500", trigger_direction=1)
    h.e.amend_order(
        h.uid, AmendOrder("BTCUSDT", cond.order_id, trigger_price=market.p("BTCUSDT", "50700")), h.now
    )
    h.tick([market.trade("BTCUSDT", "50600", "1", Side.BUY, ts=h.now)])
    assert h.order(cond.order_id).status is OrderStatus.UNTRIGGERED
    plain = h.place("Buy", "1", "49000")
    cancelled = h.e.cancel_all(h.uid, "BTCUSDT", "StopOrder", h.now)
    assert [o.order_id for o in cancelled] == [cond.order_id]
    assert h.order(plain.order_id).status is OrderStatus.NEW
    assert h.e.active_symbols() == {"BTCUSDT"}
    h.e.cancel_all(h.uid, None, "Order", h.now)
    assert h.e.active_symbols() == set()


def test_close_position_order_with_zero_qty(h: Harness, market: ScriptedMarket) -> None:
    h.place("Buy", "1.5")
    closer = h.place("Sell", "0", reduce_only=True, close_on_trigger=True)
    assert closer.qty == 1500 and closer.status is OrderStatus.FILLED
    assert h.pos().size == 0
    # As a conditional, the size is taken when it triggers.
    h.place("Buy", "2")
    stop = h.place(
        "Sell", "0", reduce_only=True, close_on_trigger=True, trigger_price="49000", trigger_direction=2
    )
    h.place("Buy", "0.5")
    h.tick([market.trade("BTCUSDT", "49000", "1", ts=h.now)])
    assert h.order(stop.order_id).cum_exec_qty == 2500 and h.pos().size == 0


def test_reduce_only_conditional_with_nothing_to_reduce_is_cancelled(
    h: Harness, market: ScriptedMarket
) -> None:
    stop = h.place("Sell", "1", reduce_only=True, trigger_price="49000", trigger_direction=2)
    h.tick([market.trade("BTCUSDT", "49000", "1", ts=h.now)])
    got = h.order(stop.order_id)
    assert got.status is OrderStatus.CANCELLED and got.cancel_type == "CancelByReduceOnly"
    assert h.pos().size == 0


def test_triggered_order_without_margin_is_rejected(h: Harness, market: ScriptedMarket) -> None:
    big = h.place("Buy", "19", trigger_price="50500", trigger_direction=1)  # IM + fee 95,522.5 at 50000
    h.place("Buy", "1")  # uses 5,000 of margin meanwhile
    h.tick([market.trade("BTCUSDT", "50500", "1", Side.BUY, ts=h.now)])
    got = h.order(big.order_id)
    assert got.status is OrderStatus.REJECTED and got.cum_exec_qty == 0
    assert h.pos().size == 1000


def test_market_order_type_of_tpsl_orders(h: Harness) -> None:
    h.place("Buy", "1", take_profit="51000")
    tp = _stops(h)[StopOrderType.TAKE_PROFIT]
    assert tp.order_type is OrderType.MARKET and tp.qty == 0 and tp.close_on_trigger


def test_close_on_trigger_implies_reduce_only(h: Harness) -> None:
    h.place("Buy", "1")
    order = h.place("Sell", "3", close_on_trigger=True)
    assert order.reduce_only and order.cum_exec_qty == 1000 and h.pos().size == 0
    with pytest.raises(SimRejection) as err:
        h.place("Sell", "0", reduce_only=True)  # qty 0 closes only with closeOnTrigger
    assert err.value.ret_code == 10001
