"""Every table round-trips its domain objects exactly; values that would not fit exactly are refused."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.domain import Candle, FundingRate, Interval, OrderStatus
from asym.errors import DataError
from asym.store import Database, EquityPoint, StoreConfig
from asym.store import queries as q
from asym.store import tables as tb
from asym.store.codec import norm_decimal
from asym.store.db import WriteItem

from . import samples as s

D = Decimal


def put(db: Database, spec: tb.TableSpec, objs: Sequence[object], **ctx: object) -> int:
    return db.write([WriteItem(spec, objs, dict(ctx))]).total


def test_market_tables_round_trip(db: Database) -> None:
    cur = db.cursor()
    candles = [s.candle(i) for i in range(3)]
    assert put(db, tb.CANDLES, candles) == 3
    assert q.candles(cur, "BTCUSDT", Interval.M1) == candles
    assert q.candle_starts(cur, "BTCUSDT", Interval.M1) == [c.start for c in candles]
    books = [s.book(i) for i in range(2)]
    put(db, tb.BOOKS, books)
    assert q.books(cur, "BTCUSDT") == books
    tickers = [s.ticker(i) for i in range(2)]
    put(db, tb.TICKERS, tickers)
    assert q.tickers(cur, "BTCUSDT") == tickers
    for spec, objs, read in (
        (tb.FUNDING, [s.funding(i) for i in range(3)], q.funding),
        (tb.OPEN_INTEREST, [s.open_interest(i) for i in range(2)], q.open_interest),
        (tb.LONG_SHORT, [s.long_short(i) for i in range(2)], q.long_short),
        (tb.LIQUIDATIONS, [s.liquidation(i) for i in range(2)], q.liquidations),
    ):
        put(db, spec, objs)
        assert read(cur, "BTCUSDT") == objs, spec.name
    events = [s.quality_event(i) for i in range(2)]
    put(db, tb.QUALITY, events)
    assert q.quality_events(cur, symbol="BTCUSDT") == events
    assert q.quality_events(cur, kind="stale") == []


def test_values_come_back_as_the_same_strings(db: Database) -> None:
    c = s.candle()
    put(db, tb.CANDLES, [c])
    back = q.candles(db.cursor(), "BTCUSDT", Interval.M1)[0]
    assert [str(getattr(back, f)) for f in ("open", "high", "low", "close", "volume", "turnover")] == [
        "104217.5",
        "104402.7",
        "104200",
        "104337.8",
        "477.605",
        "49832657.1234",
    ]


EXTREMES = [
    "12345678901234567890.123456789012345678",  # all 38 digits used
    "-99999999999999999999.999999999999999999",  # the most negative DECIMAL(38,18)
    "0.000000000000000001",
    "-0.000000000000000001",
    "0",
    "1E+19",
    "0.10000",  # trailing zeros: the same number comes back in canonical form
]


@pytest.mark.parametrize("text", EXTREMES)
def test_decimal_extremes_are_exact(db: Database, text: str) -> None:
    put(db, tb.FUNDING, [FundingRate(symbol="X", rate=D(text), ts=1)])
    back = q.funding(db.cursor(), "X")[0].rate
    assert back == D(text)
    assert str(back) == str(norm_decimal(D(text)))  # canonical: no trailing zeros, integers without exponent


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("NaN", "not finite"),
        ("Infinity", "not finite"),
        ("0.0000000000000000001", "more than 18 decimal places"),
        ("123456789012345678901", "more than 20 integer digits"),
    ],
)
def test_inexact_values_are_refused_not_rounded(db: Database, text: str, why: str) -> None:
    with pytest.raises(DataError, match=why):
        put(db, tb.FUNDING, [s.funding(0), FundingRate(symbol="BTCUSDT", rate=D(text), ts=2)])
    assert q.funding(db.cursor(), "BTCUSDT") == []  # the good row of the batch was not written either


def test_float_money_is_refused(db: Database) -> None:
    bad = msgspec.structs.replace(s.candle(), close=104337.8)
    with pytest.raises(DataError, match="float"):
        put(db, tb.CANDLES, [bad])


def test_wrong_object_type_is_a_data_error(db: Database) -> None:
    with pytest.raises(DataError, match="cannot encode"):
        put(db, tb.CANDLES, [s.funding()])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.decimals(
            min_value=D("-1e19"), max_value=D("1e19"), places=18, allow_nan=False, allow_infinity=False
        ),
        min_size=1,
        max_size=20,
    )
)
def test_any_representable_decimal_round_trips(db: Database, values: list[Decimal]) -> None:
    db.conn.execute("DELETE FROM funding_rates")
    rates = [FundingRate(symbol="P", rate=v, ts=i) for i, v in enumerate(values)]
    put(db, tb.FUNDING, rates)
    assert [r.rate for r in q.funding(db.cursor(), "P")] == values


def test_enhanced_snapshot_round_trip_and_key_columns(db: Database) -> None:
    snaps = [s.enhanced(0), s.enhanced(1)]
    put(db, tb.ENHANCED, snaps)
    cur = db.cursor()
    assert q.enhanced(cur, "BTCUSDT") == snaps
    assert q.latest_enhanced(cur, "BTCUSDT") == snaps[1]
    assert q.latest_enhanced(cur, "ETHUSDT") is None
    row = cur.execute(
        "SELECT last_price, liquidity_score, liquidation_risk, quality_flags, "
        "data->>'$.funding_sentiment.pressure' FROM enhanced_snapshots ORDER BY ts LIMIT 1"
    ).fetchone()
    assert row == (D("104337.8"), 0.8125, "MEDIUM", ["ticker_stale"], "MILD")


def test_trading_tables_round_trip(db: Database) -> None:
    cur = db.cursor()
    put(db, tb.INTENTS, [s.intent("asym-1")])
    assert q.intents(cur) == [s.intent("asym-1")]
    orders = [s.order("asym-1"), s.order("asym-2", status=OrderStatus.FILLED)]
    put(db, tb.ORDERS, orders)
    assert q.orders(cur) == orders
    assert q.orders(cur, open_only=True) == [orders[0]]
    assert q.order_by_link_id(cur, "asym-2") == orders[1]
    assert q.order_by_link_id(cur, "nope") is None
    execs = [s.execution(0), s.execution(1)]
    put(db, tb.EXECUTIONS, execs)
    assert q.executions(cur, order_id="oid-asym-1") == execs
    pos = s.position()
    put(db, tb.POSITIONS, [pos])
    assert q.positions(cur) == [pos]
    put(db, tb.EQUITY, [EquityPoint(account="main", balance=s.wallet())])
    assert q.equity(cur, "main") == [s.wallet()]
    put(db, tb.DECISIONS, [s.decision()])
    assert q.decisions(cur, symbol="BTCUSDT") == [s.decision()]
    put(db, tb.SIGNALS, [s.signal(0), s.signal(1, accepted=False)])
    assert q.signals(cur, accepted=False) == [s.signal(1, accepted=False)]
    assert [x.take_profit for x in q.signals(cur)] == [(D("110000"), D("115000.25"))] * 2


def test_book_depth_is_truncated_to_the_configured_levels(db: Database) -> None:
    deep = s.book(levels=40)
    put(db, tb.BOOKS, [deep], depth=25)
    back = q.books(db.cursor(), "BTCUSDT")[0]
    assert back.bids == deep.bids[:25] and back.asks == deep.asks[:25]
    assert db.conn.execute("SELECT depth FROM book_snapshots").fetchone() == (25,)


def test_venues_are_kept_apart(db: Database) -> None:
    c = s.candle()
    put(db, tb.CANDLES, [c], venue="bybit")
    put(db, tb.CANDLES, [msgspec.structs.replace(c, close=D("104300"))], venue="binance")
    cur = db.cursor()
    assert q.candles(cur, "BTCUSDT", Interval.M1)[0].close == D("104337.8")
    assert q.candles(cur, "BTCUSDT", Interval.M1, venue="binance")[0].close == D("104300")


def test_time_ranges_are_half_open(db: Database) -> None:
    put(db, tb.CANDLES, [s.candle(i) for i in range(5)])
    got = q.candles(db.cursor(), "BTCUSDT", Interval.M1, start=s.T0 + s.M1, end=s.T0 + 3 * s.M1)
    assert [c.start for c in got] == [s.T0 + s.M1, s.T0 + 2 * s.M1]


def test_in_memory_database_works(tmp_path: object) -> None:
    mem = Database(StoreConfig(path=":memory:"))
    candles: list[Candle] = [s.candle(i) for i in range(2)]
    put(mem, tb.CANDLES, candles)
    assert q.candles(mem.cursor(), "BTCUSDT", Interval.M1) == candles
    mem.close()
