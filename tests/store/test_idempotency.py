"""Writing the same thing twice leaves no duplicates; upserts never let older state win."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from asym.domain import Interval, OrderStatus
from asym.store import Database
from asym.store import queries as q
from asym.store import tables as tb
from asym.store.db import WriteItem

from . import samples as s

D = Decimal


def put(db: Database, spec: tb.TableSpec, objs: Sequence[object]) -> int:
    return db.write([WriteItem(spec, objs, {})]).total


def count(db: Database, table: str) -> int:
    row = db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else -1


def test_collecting_the_same_period_twice_leaves_no_duplicates(db: Database) -> None:
    period = [s.candle(i) for i in range(100)]
    assert put(db, tb.CANDLES, period) == 100
    assert put(db, tb.CANDLES, period) == 0  # nothing changed
    overlap = [s.candle(i) for i in range(50, 150)]
    assert put(db, tb.CANDLES, overlap) == 50
    assert count(db, "candles") == 150
    for spec, make in (
        (tb.TICKERS, s.ticker),
        (tb.FUNDING, s.funding),
        (tb.BOOKS, s.book),
        (tb.LIQUIDATIONS, s.liquidation),
        (tb.QUALITY, s.quality_event),
        (tb.EXECUTIONS, s.execution),
        (tb.DECISIONS, s.decision),
        (tb.SIGNALS, s.signal),
    ):
        objs = [make(i) for i in range(3)]
        assert put(db, spec, objs) == 3
        assert put(db, spec, objs) == 0, spec.name
        assert count(db, spec.name) == 3, spec.name


def test_duplicates_inside_one_batch(db: Database) -> None:
    c = s.candle()
    assert put(db, tb.CANDLES, [c, c, c]) == 1
    assert put(db, tb.FUNDING, [s.funding(0), s.funding(0)]) == 1
    assert count(db, "candles") == 1 and count(db, "funding_rates") == 1


def test_open_candle_never_overwrites_a_confirmed_one(db: Database) -> None:
    cur = db.cursor()
    put(db, tb.CANDLES, [s.candle(0, close="1", confirmed=False)])
    assert put(db, tb.CANDLES, [s.candle(0, close="2", confirmed=False)]) == 1  # the open bar moves on
    assert put(db, tb.CANDLES, [s.candle(0, close="3", confirmed=True)]) == 1  # then it closes
    assert (
        put(db, tb.CANDLES, [s.candle(0, close="4", confirmed=False)]) == 0
    )  # a late open update is ignored
    back = q.candles(cur, "BTCUSDT", Interval.M1)
    assert (back[0].close, back[0].confirmed) == (D("3"), True)
    assert (
        put(db, tb.CANDLES, [s.candle(0, close="5", confirmed=True)]) == 1
    )  # a re-collected final bar corrects
    # within one batch the confirmed version wins whatever the order
    put(db, tb.CANDLES, [s.candle(1, close="7", confirmed=True), s.candle(1, close="8", confirmed=False)])
    assert q.candles(cur, "BTCUSDT", Interval.M1)[1].close == D("7")


def test_order_updates_never_go_back_in_time(db: Database) -> None:
    cur = db.cursor()
    new = s.order("a", status=OrderStatus.NEW, updated=s.T0)
    filled = s.order("a", status=OrderStatus.FILLED, updated=s.T0 + 5)
    put(db, tb.ORDERS, [filled])
    assert put(db, tb.ORDERS, [new]) == 0  # a stale websocket message arriving late
    assert q.order_by_link_id(cur, "a") == filled
    # same batch, out of order: the newest state is kept
    put(
        db,
        tb.ORDERS,
        [
            s.order("b", status=OrderStatus.FILLED, updated=s.T0 + 9),
            s.order("b", status=OrderStatus.NEW, updated=s.T0),
        ],
    )
    assert q.order_by_link_id(cur, "b").status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert count(db, "orders") == 2


def test_positions_upsert_and_keep_history(db: Database) -> None:
    cur = db.cursor()
    for spec in (tb.POSITIONS, tb.POSITION_HISTORY):
        put(db, spec, [s.position(s.T0 + 10, "0.02")])
        put(db, spec, [s.position(s.T0, "0.01")])  # older state
        put(db, spec, [s.position(s.T0 + 20, "0")])  # closed
    assert [p.size for p in q.positions(cur)] == [D(0)]
    assert q.positions(cur, open_only=True) == []
    assert [p.size for p in q.position_history(cur, "BTCUSDT")] == [D("0.01"), D("0.02"), D(0)]


def test_enhanced_recomputation_replaces(db: Database) -> None:
    put(db, tb.ENHANCED, [s.enhanced(0)])
    changed = msgspec.structs.replace(s.enhanced(0), market_risk_score=0.9)
    assert put(db, tb.ENHANCED, [changed]) == 1
    assert put(db, tb.ENHANCED, [changed]) == 0
    assert q.enhanced(db.cursor(), "BTCUSDT") == [changed]


def test_intents_are_immutable_and_pending_until_an_order_exists(db: Database) -> None:
    cur = db.cursor()
    put(db, tb.INTENTS, [s.intent("asym-1"), s.intent("asym-2", s.T0 + 1)])
    later = msgspec.structs.replace(s.intent("asym-1"), decision_id="other")
    assert put(db, tb.INTENTS, [later]) == 0
    assert [i.request.order_link_id for i in q.pending_intents(cur)] == ["asym-1", "asym-2"]
    put(db, tb.ORDERS, [s.order("asym-1")])
    assert [i.request.order_link_id for i in q.pending_intents(cur)] == ["asym-2"]
    assert q.intents(cur)[0].decision_id == "dec-1"
