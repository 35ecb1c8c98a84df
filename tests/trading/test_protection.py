"""Emergency policy and position protection: cancel entries, a stop on every position, optional flatten."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asym.domain import OrderRequest, OrderStatus, OrderType, Side, StopOrderType
from asym.errors import DataError
from asym.trading import (
    CancelOrder,
    ClosePosition,
    EmergencyPolicy,
    LegKind,
    OrderTracker,
    RiskConfig,
    SetStopLoss,
    emergency_actions,
    fallback_stop,
    is_protected,
    order_link_id,
    protect,
)

from .builders import NOW, btc, order, position

D = Decimal
CFG = RiskConfig()
INSTRUMENTS = {"BTCUSDT": btc(), "ETHUSDT": btc(symbol="ETHUSDT", base_coin="ETH")}


def test_a_position_with_a_usable_stop_is_protected() -> None:
    assert is_protected(position(stop="49000"), [])
    assert not is_protected(position(), [])
    # a stop above the mark of a long is no protection
    assert not is_protected(position(stop="51000"), [])
    # a close-all conditional stop order covers it
    sl = order(
        "",
        OrderStatus.UNTRIGGERED,
        qty="0",
        side=Side.SELL,
        trigger_price="49000",
        stop_order_type=StopOrderType.STOP,
        reduce_only=True,
        order_type=OrderType.MARKET,
    )
    assert is_protected(position(), [sl])
    # a partial stop covering half is not enough
    half = order(
        "",
        OrderStatus.UNTRIGGERED,
        qty="0.05",
        side=Side.SELL,
        trigger_price="49000",
        stop_order_type=StopOrderType.PARTIAL_STOP_LOSS,
        reduce_only=True,
    )
    assert not is_protected(position(size="0.1"), [half])


def test_protect_restores_the_trades_stop() -> None:
    (a,) = protect(position(mark="50500"), [], btc(), D("49000.04"), CFG, "emergency")
    assert isinstance(a, SetStopLoss)
    # rounded towards the mark on the tick grid (0.1): 49000.1
    assert (a.symbol, a.position_side, a.stop_loss) == ("BTCUSDT", Side.BUY, D("49000.1"))


def test_protect_closes_when_the_trades_stop_was_crossed() -> None:
    (a,) = protect(position(mark="48000"), [], btc(), D(49000), CFG, "restart")
    assert isinstance(a, ClosePosition) and a.qty == D("0.1")
    (o,) = a.orders
    assert (o.side, o.qty, o.reduce_only, o.order_type) == (Side.SELL, D("0.1"), True, OrderType.MARKET)
    assert "crossed" in a.reason


def test_protect_uses_the_fallback_stop() -> None:
    (a,) = protect(position(side=Side.SELL, mark="50000"), [], btc(), None, CFG, "emergency")
    # short: 50000 x 1.02 = 51000, rounded down on the grid
    assert isinstance(a, SetStopLoss) and a.stop_loss == D(51000) and a.position_side is Side.SELL
    assert fallback_stop(Side.BUY, D("50000.03"), D("0.02"), D("0.1")) == D("49000.1")
    assert fallback_stop(Side.BUY, D("0.01"), D("0.02"), D("0.1")) is None


def test_protect_leaves_protected_positions_alone() -> None:
    assert protect(position(stop="49000"), [], btc(), None, CFG, "x") == []
    with pytest.raises(DataError):
        protect(position(symbol="ETHUSDT"), [], btc(), None, CFG, "x")


def _tracker_with_entries() -> OrderTracker:
    t = OrderTracker()
    for key, state in (("a", "sent"), ("b", "new"), ("c", "pending"), ("d", "filled")):
        link = order_link_id(key, LegKind.ENTRY)
        t.track(
            OrderRequest(
                symbol="BTCUSDT",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                qty=D(1),
                price=D(49000),
                order_link_id=link,
            ),
            NOW,
            role=LegKind.ENTRY,
        )
        if state != "pending":
            t.mark_sent(link, NOW)
        if state == "new":
            t.apply_order(order(link, OrderStatus.NEW, order_id="o-b"), NOW)
        if state == "filled":
            t.apply_order(order(link, OrderStatus.FILLED, cum="1", order_id="o-d"), NOW)
    tp = order_link_id("b", LegKind.TAKE_PROFIT, 1)
    t.track(
        OrderRequest(
            symbol="BTCUSDT",
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            qty=D(1),
            price=D(52000),
            order_link_id=tp,
            reduce_only=True,
        ),
        NOW,
    )
    t.mark_sent(tp, NOW)
    return t


def test_emergency_cancels_entries_and_protects_positions() -> None:
    t = _tracker_with_entries()
    positions = [
        position(),
        position("ETHUSDT", side=Side.SELL, size="0.2", stop="51000"),
        position("X", None, "0"),
    ]
    plan = emergency_actions(
        t.records(), positions, [], INSTRUMENTS, {}, CFG, EmergencyPolicy(), "daily_loss"
    )
    cancels = [a for a in plan.actions if isinstance(a, CancelOrder)]
    assert {c.order_link_id for c in cancels} == {
        order_link_id("a", LegKind.ENTRY),
        order_link_id("b", LegKind.ENTRY),
    }
    assert plan.abandon == (order_link_id("c", LegKind.ENTRY),)
    stops = [a for a in plan.actions if isinstance(a, SetStopLoss)]
    # only the unprotected long gets a stop (the short already has one); reduce-only TPs are left alone
    assert [(s.position_side, s.stop_loss) for s in stops] == [(Side.BUY, D(49000))]
    assert not any(isinstance(a, ClosePosition) for a in plan.actions)
    assert all(a.reason.startswith("daily_loss") for a in plan.actions)


def test_emergency_flatten_closes_every_position_once() -> None:
    positions = [position(size="700"), position("ETHUSDT", side=Side.SELL, size="0.2", stop="51000")]
    plan = emergency_actions(
        [], positions, [], INSTRUMENTS, {"BTCUSDT": D(48000)}, CFG, EmergencyPolicy(flatten=True), "manual"
    )
    closes = [a for a in plan.actions if isinstance(a, ClosePosition)]
    assert [(c.position_side, c.qty) for c in closes] == [(Side.BUY, D(700)), (Side.SELL, D("0.2"))]
    # 700 BTC exceeds the 500 market maximum: two reduce-only chunks with distinct ids
    assert [o.qty for o in closes[0].orders] == [D(500), D(200)]
    assert len({o.order_link_id for o in closes[0].orders}) == 2
    # planned twice, the same ids: a repeated flatten is idempotent at the venue
    again = emergency_actions(
        [], positions, [], INSTRUMENTS, {"BTCUSDT": D(48000)}, CFG, EmergencyPolicy(flatten=True), "manual"
    )
    assert again == plan


def test_emergency_needs_the_instrument() -> None:
    with pytest.raises(DataError):
        emergency_actions([], [position("SOLUSDT")], [], INSTRUMENTS, {}, CFG, EmergencyPolicy(), "x")
