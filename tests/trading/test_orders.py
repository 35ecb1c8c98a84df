"""The order state machine: legal transitions only, and venue events in any order, duplicated or stale,
always give the same final state and exactly the same fills."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asym.domain import ExecType, Execution, Order, OrderRequest, OrderStatus, OrderType, Side
from asym.trading import (
    IllegalTransitionError,
    LegKind,
    OrderRecord,
    OrderState,
    OrderTracker,
    from_venue,
    is_legal,
    order_link_id,
)
from asym.trading.order_states import TRANSITIONS

from .builders import NOW, fill, order

D = Decimal
LINK = order_link_id("sig-1", LegKind.ENTRY)


def request(qty: str = "1", link: str = LINK) -> OrderRequest:
    return OrderRequest(
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(50000),
        order_link_id=link,
    )


def sent_tracker(qty: str = "1") -> OrderTracker:
    t = OrderTracker()
    t.track(request(qty), NOW, role=LegKind.ENTRY, intent_key="sig-1")
    t.mark_sent(LINK, NOW + 1)
    return t


def test_happy_path_and_history() -> None:
    t = sent_tracker()
    t.mark_acknowledged(LINK, "oid-1", NOW + 2)
    t.apply_order(order(LINK, OrderStatus.NEW, updated=NOW + 3), NOW + 3)
    t.apply_execution(fill("x1", "0.4", "50000", link=LINK), NOW + 4)
    t.apply_order(order(LINK, OrderStatus.PARTIALLY_FILLED, cum="0.4", updated=NOW + 4), NOW + 4)
    t.apply_execution(fill("x2", "0.6", "50000", link=LINK), NOW + 5)
    t.apply_order(order(LINK, OrderStatus.FILLED, cum="1", updated=NOW + 5), NOW + 5)
    r = t.get(LINK)
    assert r is not None
    assert r.state is OrderState.FILLED and r.exec_qty == D(1) and r.cum_exec_qty == D(1)
    assert [h.dst for h in r.history] == [
        OrderState.PENDING,
        OrderState.SENT,
        OrderState.NEW,
        OrderState.PARTIALLY_FILLED,
        OrderState.FILLED,
    ]
    assert all(h.src is None or is_legal(h.src, h.dst) for h in r.history)
    assert t.open_orders() == [] and r.open_qty == 0


def test_local_transitions_are_checked() -> None:
    t = sent_tracker()
    with pytest.raises(IllegalTransitionError):
        t.mark_sent(LINK, NOW)  # SENT -> SENT
    with pytest.raises(IllegalTransitionError):
        t.abandon(LINK, NOW, "too late")  # only PENDING can be abandoned
    t.apply_order(order(LINK, OrderStatus.FILLED, cum="1"), NOW)
    for bad in (
        lambda: t.mark_rejected(LINK, "x", NOW),
        lambda: t.mark_unknown(LINK, NOW),
        lambda: t.resolve_not_found(LINK, NOW),
    ):
        with pytest.raises(IllegalTransitionError):
            bad()
    with pytest.raises(IllegalTransitionError):
        t.mark_sent("asym-unknown", NOW)


def test_track_is_idempotent_and_guards_its_key() -> None:
    t = OrderTracker()
    a = t.track(request(), NOW, role=LegKind.ENTRY)
    b = t.track(request(), NOW + 5, role=LegKind.ENTRY)
    assert a.created_ms == b.created_ms and len(t) == 1
    other = OrderRequest(
        symbol="ETHUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=D(1), order_link_id=LINK
    )
    with pytest.raises(IllegalTransitionError):
        t.track(other, NOW)
    with pytest.raises(IllegalTransitionError):
        t.track(request(link=""), NOW)


def test_unknown_outcome_must_be_resolved() -> None:
    t = sent_tracker()
    t.mark_unknown(LINK, NOW + 10)
    assert [r.order_link_id for r in t.unknown_orders()] == [LINK]
    with pytest.raises(IllegalTransitionError):
        t.mark_sent(LINK, NOW + 11)  # no blind retry
    # the lookup says the venue never saw it: back to PENDING with the same id
    t.resolve_not_found(LINK, NOW + 12)
    assert t.get(LINK).state is OrderState.PENDING  # type: ignore[union-attr]
    t.mark_sent(LINK, NOW + 13)
    # or the lookup finds it: any venue state resolves it
    t.mark_unknown(LINK, NOW + 14)
    t.apply_order(order(LINK, OrderStatus.NEW), NOW + 15)
    assert t.get(LINK).state is OrderState.NEW and t.unknown_orders() == []  # type: ignore[union-attr]


def test_sent_orders_expire_into_unknown() -> None:
    t = sent_tracker()
    assert t.expire_sent(NOW + 1 + 5000, 5000) == []
    assert t.expire_sent(NOW + 1 + 5001, 5000) == [LINK]
    assert t.get(LINK).state is OrderState.UNKNOWN  # type: ignore[union-attr]


def test_an_execution_resolves_an_unknown_order() -> None:
    t = sent_tracker()
    t.mark_unknown(LINK, NOW)
    t.apply_execution(fill("x1", "0.3", "50000", link=LINK), NOW + 1)
    r = t.get(LINK)
    assert r is not None and r.state is OrderState.PARTIALLY_FILLED and r.exec_qty == D("0.3")


def test_rejection_and_abandon_are_final() -> None:
    t = sent_tracker()
    t.mark_rejected(LINK, "110007 ab not enough", NOW)
    r = t.get(LINK)
    assert r is not None and r.state is OrderState.REJECTED and "110007" in r.reject_reason
    # a venue snapshot cannot revive a final order; it is counted as an anomaly
    res = t.apply_order(order(LINK, OrderStatus.NEW), NOW + 1)
    assert not res.applied and res.note == "anomaly"
    t2 = OrderTracker()
    t2.track(request(), NOW)
    t2.abandon(LINK, NOW, "emergency")
    assert t2.get(LINK).state is OrderState.CANCELLED  # type: ignore[union-attr]


def test_stale_snapshots_never_regress() -> None:
    t = sent_tracker()
    t.apply_order(order(LINK, OrderStatus.PARTIALLY_FILLED, cum="0.5", updated=NOW + 5), NOW)
    res = t.apply_order(order(LINK, OrderStatus.NEW, updated=NOW + 9), NOW)
    assert not res.applied and res.note == "stale"
    res = t.apply_order(order(LINK, OrderStatus.PARTIALLY_FILLED, cum="0.4", updated=NOW + 9), NOW)
    assert not res.applied
    r = t.get(LINK)
    assert r is not None and r.state is OrderState.PARTIALLY_FILLED and r.cum_exec_qty == D("0.5")
    assert (
        t.apply_order(order(LINK, OrderStatus.PARTIALLY_FILLED, cum="0.5", updated=NOW + 5), NOW).note
        == "duplicate"
    )


def test_amend_updates_fields_in_the_same_state() -> None:
    t = sent_tracker()
    t.apply_order(order(LINK, OrderStatus.NEW, price="50000", updated=NOW + 1), NOW)
    res = t.apply_order(order(LINK, OrderStatus.NEW, price="49900", updated=NOW + 2), NOW)
    assert res.applied and res.transition is None
    assert t.get(LINK).price == D(49900)  # type: ignore[union-attr]


def test_conflicting_final_state_is_an_anomaly() -> None:
    t = sent_tracker()
    t.apply_order(order(LINK, OrderStatus.FILLED, cum="1", updated=NOW + 1), NOW)
    res = t.apply_order(order(LINK, OrderStatus.CANCELLED, cum="1", updated=NOW + 2), NOW)
    assert res.note == "anomaly" and t.get(LINK).state is OrderState.FILLED  # type: ignore[union-attr]
    assert t.get(LINK).anomalies == 1  # type: ignore[union-attr]


def test_missing_fills_are_reported() -> None:
    t = sent_tracker()
    t.apply_order(order(LINK, OrderStatus.FILLED, cum="1"), NOW)
    t.apply_execution(fill("x1", "0.25", "50000", link=LINK), NOW)
    (r,) = t.missing_fills()
    assert r.missing_fill_qty == D("0.75")


def test_foreign_orders_and_funding() -> None:
    t = OrderTracker()
    res = t.apply_order(order("", OrderStatus.NEW, order_id="manual-1"), NOW)
    assert res.note == "new"
    r = t.get("#manual-1")
    assert r is not None and not r.known and r.role is None
    assert t.by_order_id("manual-1") is not None
    funding = fill("f1", "1", "50000", exec_type=ExecType.FUNDING)
    assert t.apply_execution(funding, NOW).note == "funding"


def test_records_round_trip_through_the_store() -> None:
    t = sent_tracker()
    t.apply_execution(fill("x1", "0.4", "50000", link=LINK, ts=NOW + 7), NOW)
    again = OrderTracker.from_records(t.records(), last_exec_ms=t.last_exec_ms)
    assert again.records() == t.records() and again.last_exec_ms == NOW + 7
    # executions seen before the restart stay deduplicated
    assert again.apply_execution(fill("x1", "0.4", "50000", link=LINK), NOW).note == "duplicate"


def test_venue_status_mapping_covers_every_status() -> None:
    for status in OrderStatus:
        assert isinstance(from_venue(status), OrderState)
    assert from_venue(OrderStatus.UNTRIGGERED) is OrderState.NEW
    assert from_venue(OrderStatus.DEACTIVATED) is OrderState.CANCELLED
    for src, dsts in TRANSITIONS.items():
        if src.is_final:
            assert not dsts
        for dst in dsts:
            assert dst.rank >= src.rank or dst is OrderState.PENDING


# --- shuffled, duplicated event sequences ------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[Order | Execution], OrderState, Decimal]:
    """A consistent venue history of one order (snapshots + executions) and its true outcome."""
    qty_steps = draw(st.integers(1, 50))
    qty = D(qty_steps) / 1000
    n_fills = draw(st.integers(0, 5))
    cuts = sorted(draw(st.lists(st.integers(1, qty_steps), min_size=n_fills, max_size=n_fills)))
    cancel = draw(st.booleans()) or n_fills == 0
    if not cancel:
        cuts = [*cuts, qty_steps]
    cuts = sorted(set(cuts))
    events: list[Order | Execution] = [order(LINK, OrderStatus.NEW, qty=str(qty), updated=NOW)]
    prev = 0
    for i, c in enumerate(cuts, start=1):
        q = D(c - prev) / 1000
        prev = c
        events.append(fill(f"x{i}", str(q), "50000", link=LINK, ts=NOW + i))
        status = OrderStatus.FILLED if c == qty_steps else OrderStatus.PARTIALLY_FILLED
        events.append(order(LINK, status, qty=str(qty), cum=str(D(c) / 1000), updated=NOW + i))
    filled = D(prev) / 1000
    if cancel and prev < qty_steps:
        events.append(order(LINK, OrderStatus.CANCELLED, qty=str(qty), cum=str(filled), updated=NOW + 100))
        outcome = OrderState.CANCELLED
    else:
        outcome = OrderState.FILLED
    return str(qty), events, outcome, filled


def _replay(qty: str, events: list[Order | Execution]) -> OrderRecord:
    t = sent_tracker(qty)
    for ev in events:
        if isinstance(ev, Order):
            t.apply_order(ev, NOW)
        else:
            t.apply_execution(ev, NOW)
    r = t.get(LINK)
    assert r is not None
    return r


@settings(max_examples=150, deadline=None)
@given(data=st.data(), h=histories())
def test_final_state_and_fills_are_invariant_to_order(
    data: st.DataObject, h: tuple[str, list[Order | Execution], OrderState, Decimal]
) -> None:
    qty, events, outcome, filled = h
    dupes = data.draw(st.lists(st.sampled_from(events), max_size=6))
    shuffled = data.draw(st.permutations(events + dupes))
    in_order = _replay(qty, events)
    r = _replay(qty, shuffled)
    assert r.state is outcome and in_order.state is outcome
    assert r.exec_qty == filled == r.filled_qty and r.cum_exec_qty == filled
    assert r.exec_value == filled * 50000
    assert sorted(r.exec_ids) == sorted(in_order.exec_ids) and len(r.exec_ids) == len(set(r.exec_ids))
    assert r.anomalies == 0
    # the path taken was legal and never went backwards
    ranks = [h.dst.rank for h in r.history]
    assert all(h.src is None or is_legal(h.src, h.dst) for h in r.history)
    assert ranks[1:] == sorted(ranks[1:])
    assert (r.cum_exec_value, r.avg_price) == (in_order.cum_exec_value, in_order.avg_price)
