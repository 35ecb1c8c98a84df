"""Restart planning: adopt, resolve, cancel strays, protect every position, re-place missing exits."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from asym.domain import OrderRequest, OrderStatus, OrderType, Side, StopOrderType
from asym.trading import (
    AdoptOrder,
    AdoptPosition,
    CancelOrder,
    ClosePosition,
    ForeignOrderPolicy,
    LegKind,
    LocalView,
    OrderTracker,
    PlaceOrder,
    QueryOrder,
    RestartPolicy,
    RiskConfig,
    SetStopLoss,
    SyncExecutions,
    UnknownPositionPolicy,
    VenueView,
    action_from_json,
    action_to_json,
    evaluate,
    order_link_id,
    plan_restart,
)

from .builders import NOW, account, btc, fill, intent, market, order, position

D = Decimal
T = TypeVar("T")
CFG = RiskConfig()
INSTRUMENTS = {"BTCUSDT": btc(), "ETHUSDT": btc(symbol="ETHUSDT", base_coin="ETH")}


def kinds(actions: tuple[object, ...], cls: type[T]) -> list[T]:
    return [a for a in actions if isinstance(a, cls)]


def test_first_action_syncs_executions_with_overlap() -> None:
    plan = plan_restart(LocalView(last_exec_ms=NOW), VenueView(), INSTRUMENTS, CFG)
    assert plan.actions == (SyncExecutions(since_ms=NOW - 60_000, reason=plan.actions[0].reason),)


def test_orders_adopt_resolve_and_cancel_strays() -> None:
    t = OrderTracker()
    known_open = order_link_id("k1", LegKind.ENTRY)
    gone = order_link_id("k2", LegKind.ENTRY)
    unknown = order_link_id("k3", LegKind.ENTRY)
    for link, state in ((known_open, OrderStatus.NEW), (gone, OrderStatus.NEW)):
        t.apply_order(order(link, state, order_id=link[-8:]), NOW)
    t.track(
        OrderRequest(
            symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=D(1), order_link_id=unknown
        ),
        NOW,
    )
    t.mark_sent(unknown, NOW)
    t.mark_unknown(unknown, NOW)
    stray_entry = order(order_link_id("lost", LegKind.ENTRY), OrderStatus.NEW, order_id="s1")
    stray_tp = order(
        order_link_id("lost", LegKind.TAKE_PROFIT, 1),
        OrderStatus.NEW,
        order_id="s2",
        reduce_only=True,
        side=Side.SELL,
    )
    manual = order("", OrderStatus.NEW, order_id="m1")
    venue_sl = order(
        "",
        OrderStatus.UNTRIGGERED,
        order_id="v1",
        stop_order_type=StopOrderType.STOP_LOSS,
        side=Side.SELL,
        trigger_price="49000",
    )
    venue = VenueView(
        open_orders=(
            order(known_open, OrderStatus.NEW, order_id="x"),
            stray_entry,
            stray_tp,
            manual,
            venue_sl,
        )
    )
    plan = plan_restart(LocalView(orders=tuple(t.records())), venue, INSTRUMENTS, CFG)
    adopted = {a.order.order_link_id or a.order.order_id for a in kinds(plan.actions, AdoptOrder)}
    assert adopted == {known_open, stray_tp.order_link_id}
    assert [c.order_link_id for c in kinds(plan.actions, CancelOrder)] == [stray_entry.order_link_id]
    assert {q.order_link_id for q in kinds(plan.actions, QueryOrder)} == {gone, unknown}
    assert any("m1" in n for n in plan.notes) and any("v1" in n for n in plan.notes)
    # with the cancel policy, the manual entry goes but the venue's own stop-loss order stays
    strict = plan_restart(
        LocalView(orders=tuple(t.records())),
        venue,
        INSTRUMENTS,
        CFG,
        RestartPolicy(foreign_orders=ForeignOrderPolicy.CANCEL),
    )
    assert {c.order_id for c in kinds(strict.actions, CancelOrder)} == {"s1", "m1"}


def test_positions_are_adopted_or_closed_and_always_protected() -> None:
    venue = VenueView(
        positions=(
            position(size="0.1", mark="50000"),
            position("ETHUSDT", Side.SELL, "2", "2000", "2000", stop="2100"),
        )
    )
    local = LocalView(positions={"ETHUSDT": D(-1)}, stops={})
    plan = plan_restart(local, venue, INSTRUMENTS, CFG)
    adopted = {a.position.symbol: a.reason for a in kinds(plan.actions, AdoptPosition)}
    assert set(adopted) == {"BTCUSDT", "ETHUSDT"} and "booked size -1" in adopted["ETHUSDT"]
    (stop,) = kinds(plan.actions, SetStopLoss)
    assert (stop.symbol, stop.stop_loss) == ("BTCUSDT", D(49000))  # fallback 2 % below the mark
    closing = plan_restart(
        local, venue, INSTRUMENTS, CFG, RestartPolicy(unknown_positions=UnknownPositionPolicy.CLOSE)
    )
    types = [type(a).__name__ for a in closing.actions if getattr(a, "symbol", "") == "BTCUSDT"]
    assert types == ["SetStopLoss", "ClosePosition"]  # stop first: a failed close stays bounded


def test_known_stop_is_restored_and_a_crossed_one_closes() -> None:
    venue = VenueView(positions=(position(size="0.1", mark="50000"),))
    plan = plan_restart(
        LocalView(positions={"BTCUSDT": D("0.1")}, stops={"BTCUSDT": D(49500)}), venue, INSTRUMENTS, CFG
    )
    (s,) = kinds(plan.actions, SetStopLoss)
    assert s.stop_loss == D(49500) and not kinds(plan.actions, AdoptPosition)
    crossed = plan_restart(
        LocalView(positions={"BTCUSDT": D("0.1")}, stops={"BTCUSDT": D(50500)}), venue, INSTRUMENTS, CFG
    )
    assert kinds(crossed.actions, ClosePosition) and not kinds(crossed.actions, SetStopLoss)


def test_position_gone_while_away_is_noted() -> None:
    plan = plan_restart(LocalView(positions={"BTCUSDT": D("0.1")}), VenueView(), INSTRUMENTS, CFG)
    assert any("flat at the venue" in n for n in plan.notes)


def test_missing_take_profit_exits_are_replaced() -> None:
    it = intent(targets=(("51500", "0.5"), ("53000", "0.5")))
    p = evaluate(it, btc(), account(), market(), CFG, NOW).plan
    assert p is not None
    t = OrderTracker()
    t.track(p.entry, NOW, role=LegKind.ENTRY)
    t.mark_sent(p.entry.order_link_id, NOW)
    t.apply_execution(fill("x", "0.1", "50000", link=p.entry.order_link_id), NOW)
    venue = VenueView(positions=(position(size="0.1", stop="49500"),))
    local = LocalView(orders=tuple(t.records()), positions={"BTCUSDT": D("0.1")}, plans=(p,))
    plan = plan_restart(local, venue, INSTRUMENTS, CFG)
    (place,) = kinds(plan.actions, PlaceOrder)
    # 0.1 filled of 0.172: the first target closes half of what filled
    assert (place.request.qty, place.request.price, place.request.reduce_only) == (D("0.05"), D(51500), True)
    assert place.request.order_link_id == p.exits[0].order_link_id
    # once the exit is open at the venue, it is not placed again
    venue2 = VenueView(
        positions=venue.positions,
        open_orders=(order(p.exits[0].order_link_id, OrderStatus.NEW, reduce_only=True, side=Side.SELL),),
    )
    assert not kinds(plan_restart(local, venue2, INSTRUMENTS, CFG).actions, PlaceOrder)


def test_every_action_round_trips_as_json() -> None:
    venue = VenueView(
        positions=(position(size="700"),),
        open_orders=(order(order_link_id("z", LegKind.ENTRY), OrderStatus.NEW),),
    )
    plan = plan_restart(
        LocalView(last_exec_ms=NOW),
        venue,
        INSTRUMENTS,
        CFG,
        RestartPolicy(unknown_positions=UnknownPositionPolicy.CLOSE),
    )
    assert len(plan.actions) >= 4
    for a in plan.actions:
        assert action_from_json(action_to_json(a)) == a
