"""Property tests: each check reports a problem exactly when its rule is broken."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from asym.domain import Candle, Interval, OrderBook
from asym.market.quality import QualityKind as K
from asym.market.quality import QualityReport, ValidationConfig
from asym.market.validation import check_book, check_candle, check_freshness, cross_validate

prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000000"), places=4, allow_nan=False)
any_decimal = st.decimals(allow_nan=True, allow_infinity=True)
FAST = settings(max_examples=80, deadline=None)


def _candle(o: Decimal, h: Decimal, lo: Decimal, c: Decimal) -> Candle:
    return Candle(
        symbol="X",
        interval=Interval.M1,
        start=0,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=Decimal(1),
        turnover=Decimal(1),
    )


@FAST
@given(prices, prices, prices, prices)
def test_ohlc_event_iff_inconsistent(o: Decimal, h: Decimal, lo: Decimal, c: Decimal) -> None:
    consistent = lo <= min(o, c) and max(o, c) <= h and lo <= h
    events = check_candle(_candle(o, h, lo, c))
    assert (not events) == consistent
    assert all(e.kind is K.OHLC_INCONSISTENT for e in events)


@FAST
@given(any_decimal, any_decimal, any_decimal, any_decimal)
def test_candle_check_never_crashes_and_flags_every_bad_price(
    o: Decimal, h: Decimal, lo: Decimal, c: Decimal
) -> None:
    events = check_candle(_candle(o, h, lo, c))
    for name, v in (("open", o), ("high", h), ("low", lo), ("close", c)):
        if not v.is_finite() or v <= 0:
            assert any(
                e.field == name and e.kind in (K.NOT_FINITE, K.ZERO_PRICE, K.NEGATIVE_PRICE) for e in events
            )


@FAST
@given(st.lists(prices, min_size=2, max_size=12, unique=True), st.integers(min_value=1, max_value=11))
def test_sorted_book_crossed_iff_best_bid_reaches_best_ask(levels: list[Decimal], split: int) -> None:
    split = min(split, len(levels) - 1)
    bids_p, asks_p = levels[:split], levels[split:]
    bids = tuple((p, Decimal(1)) for p in sorted(bids_p, reverse=True))
    asks = tuple((p, Decimal(1)) for p in sorted(asks_p))
    events = check_book(OrderBook(symbol="X", bids=bids, asks=asks, ts=0))
    crossed = bids[0][0] >= asks[0][0]
    assert [e.kind for e in events] == ([K.CROSSED_BOOK] if crossed else [])


@FAST
@given(prices, prices, st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2))
def test_cross_validation_iff_deviation_exceeds_tolerance(a: Decimal, b: Decimal, tol: Decimal) -> None:
    cfg = ValidationConfig(default_cross_tolerance_pct=tol, cross_tolerance_pct={})
    dev = abs(a - b) / ((a + b) / 2) * 100
    assert bool(cross_validate("X", 0, {"a": a, "b": b}, cfg)) == (dev > tol)
    assert bool(cross_validate("X", 0, {"b": b, "a": a}, cfg)) == (dev > tol)


@FAST
@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**6))
def test_stale_iff_age_exceeds_limit(age: int, limit: int) -> None:
    now = 2 * 10**12
    events = check_freshness("s", "X", now - age, now, max_age_ms=limit)
    assert bool(events) == (age > limit)


@FAST
@given(st.lists(st.tuples(prices, prices, prices, prices), max_size=20))
def test_report_counts_add_up(bars: list[tuple[Decimal, Decimal, Decimal, Decimal]]) -> None:
    events = [e for bar in bars for e in check_candle(_candle(*bar))]
    report = QualityReport.from_events(events)
    assert sum(report.counts_by_kind.values()) == len(events) == sum(report.counts_by_severity.values())
    assert report.has_errors == bool(events)
