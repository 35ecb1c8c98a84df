"""Every validation check, at its thresholds (just inside passes, just outside is reported)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from asym.domain import (
    Candle,
    FundingRate,
    Interval,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    OrderBook,
    Side,
    Ticker,
)
from asym.market.quality import QualityEvent, Severity, ValidationConfig
from asym.market.quality import QualityKind as K
from asym.market.validation import (
    check_book,
    check_candle,
    check_candle_freshness,
    check_candle_outliers,
    check_candle_series,
    check_completeness,
    check_freshness,
    check_funding,
    check_liquidation,
    check_long_short,
    check_open_interest,
    check_price_deviation,
    check_ticker,
    cross_validate,
    find_candle_gaps,
    outlier_events,
    robust_center_scale,
    snapshot_prices,
)

D = Decimal
OHLC = K.OHLC_INCONSISTENT
M1 = Interval.M1.ms
T0 = 1_750_000_020_000 - (1_750_000_020_000 % M1)


def candle(
    o: str = "100", h: str = "110", lo: str = "90", c: str = "105", *, start: int = T0, **kw: object
) -> Candle:
    args: dict[str, object] = dict(
        symbol="BTCUSDT",
        interval=Interval.M1,
        start=start,
        open=D(o),
        high=D(h),
        low=D(lo),
        close=D(c),
        volume=D("1"),
        turnover=D("100"),
    )
    args.update(kw)
    return Candle(**args)  # type: ignore[arg-type]


def kinds(events: list[QualityEvent]) -> list[tuple[str, K]]:
    return [(e.field, e.kind) for e in events]


# ------------------------------------------------------------------ candles


def test_valid_candle_has_no_event() -> None:
    assert check_candle(candle()) == []
    assert check_candle(candle("100", "100", "100", "100")) == []  # flat bar: every bound is equal
    assert check_candle(candle(volume=D(0), turnover=D(0))) == []  # a zero-volume minute is real


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("open", "0", K.ZERO_PRICE),
        ("close", "-1", K.NEGATIVE_PRICE),
        ("high", "NaN", K.NOT_FINITE),
        ("low", "Infinity", K.NOT_FINITE),
        ("low", "sNaN", K.NOT_FINITE),
    ],
)
def test_bad_prices_are_errors(field: str, value: str, kind: K) -> None:
    events = check_candle(candle(**{field: D(value)}))  # type: ignore[arg-type]
    assert (field, kind) in kinds(events)
    assert all(e.severity is Severity.ERROR for e in events)
    assert next(e for e in events if e.field == field).value == str(D(value))


def test_negative_or_nan_volume() -> None:
    assert kinds(check_candle(candle(volume=D("-0.001")))) == [("volume", K.NEGATIVE_VALUE)]
    assert kinds(check_candle(candle(turnover=D("NaN")))) == [("turnover", K.NOT_FINITE)]


@pytest.mark.parametrize(
    ("o", "h", "lo", "c", "expected"),
    [
        ("100", "104.99", "90", "105", [("high", K.OHLC_INCONSISTENT)]),  # high < close by one tick
        ("100", "105", "90", "105", []),  # high == close: inside
        ("100", "110", "100.01", "105", [("low", K.OHLC_INCONSISTENT)]),  # low > open
        ("100", "110", "100", "105", []),  # low == open: inside
        (
            "100",
            "95",
            "96",
            "95.5",
            [("low", OHLC), ("high", OHLC), ("high", OHLC), ("low", OHLC)],
        ),  # low > high, high < open, high < close, low > close
    ],
)
def test_ohlc_consistency_boundaries(o: str, h: str, lo: str, c: str, expected: list[tuple[str, K]]) -> None:
    assert kinds(check_candle(candle(o, h, lo, c))) == expected


# ------------------------------------------------------------------ books


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(
        symbol="BTCUSDT",
        bids=tuple((D(p), D(s)) for p, s in bids),
        asks=tuple((D(p), D(s)) for p, s in asks),
        ts=T0,
    )


def test_valid_book() -> None:
    assert check_book(book([("100", "1"), ("99.9", "2")], [("100.1", "1"), ("100.2", "3")])) == []


def test_empty_book_sides() -> None:
    assert kinds(check_book(book([], [("1", "1")]))) == [("bids", K.EMPTY_BOOK)]
    assert kinds(check_book(book([], []))) == [("bids", K.EMPTY_BOOK), ("asks", K.EMPTY_BOOK)]


def test_crossed_and_locked_books_just_inside() -> None:
    assert kinds(check_book(book([("100.1", "1")], [("100", "1")]))) == [("bids[0].price", K.CROSSED_BOOK)]
    assert kinds(check_book(book([("100", "1")], [("100", "1")]))) == [("bids[0].price", K.CROSSED_BOOK)]
    assert check_book(book([("99.99", "1")], [("100", "1")])) == []


def test_unsorted_sides() -> None:
    assert kinds(check_book(book([("99", "1"), ("100", "1")], [("101", "1")]))) == [("bids", K.UNSORTED_BOOK)]
    assert kinds(check_book(book([("99", "1")], [("101", "1"), ("100.5", "1")]))) == [
        ("asks", K.UNSORTED_BOOK)
    ]
    # a repeated price level is not strictly sorted either
    assert kinds(check_book(book([("99", "1"), ("99", "2")], [("101", "1")]))) == [("bids", K.UNSORTED_BOOK)]


def test_bad_levels() -> None:
    ev = check_book(book([("99", "0")], [("NaN", "1")]))
    assert ("bids[0].size", K.OUT_OF_RANGE) in kinds(ev)
    assert ("asks[0].price", K.NOT_FINITE) in kinds(ev)


# ------------------------------------------------------------------ tickers and other streams


def ticker(**kw: object) -> Ticker:
    args: dict[str, object] = dict(
        symbol="BTCUSDT",
        ts=T0,
        last_price=D("100"),
        mark_price=D("100"),
        index_price=D("100"),
        bid1_price=D("99.9"),
        ask1_price=D("100.1"),
    )
    args.update(kw)
    return Ticker(**args)  # type: ignore[arg-type]


def test_ticker_valid_with_missing_optionals() -> None:
    assert check_ticker(ticker()) == []
    assert check_ticker(Ticker(symbol="X", ts=1, last_price=D("5"))) == []


def test_last_vs_mark_boundary() -> None:
    # default limit 1 % of mark: 101 is exactly 1 % from 100 (inside), 101.0001 is outside
    assert check_ticker(ticker(last_price=D("101"), bid1_price=None, ask1_price=None)) == []
    ev = check_ticker(ticker(last_price=D("101.0001"), bid1_price=None, ask1_price=None))
    assert kinds(ev) == [("last_price", K.PRICE_DEVIATION)]
    assert "mark_price" in ev[0].detail and ev[0].severity is Severity.WARNING


def test_last_vs_index_boundary() -> None:
    cfg = ValidationConfig(max_mark_deviation_pct=D("50"))
    assert check_ticker(ticker(last_price=D("98"), bid1_price=None, ask1_price=None), cfg) == []
    ev = check_ticker(ticker(last_price=D("97.9999"), bid1_price=None, ask1_price=None), cfg)
    assert kinds(ev) == [("last_price", K.PRICE_DEVIATION)] and "index_price" in ev[0].detail


def test_ticker_problems() -> None:
    assert kinds(check_ticker(ticker(bid1_price=D("100.1")))) == [("bid1_price", K.CROSSED_BOOK)]
    assert kinds(check_ticker(ticker(mark_price=D("0")))) == [("mark_price", K.ZERO_PRICE)]
    assert kinds(check_ticker(ticker(high_price_24h=D("1"), low_price_24h=D("2")))) == [
        ("low_price_24h", K.OHLC_INCONSISTENT)
    ]
    assert kinds(check_ticker(ticker(volume_24h=D("-1")))) == [("volume_24h", K.NEGATIVE_VALUE)]
    assert kinds(check_ticker(ticker(funding_rate=D("0.0501")))) == [("funding_rate", K.OUT_OF_RANGE)]


def test_funding_range_boundary() -> None:
    assert check_funding(FundingRate(symbol="X", rate=D("-0.05"), ts=1)) == []
    assert kinds(check_funding(FundingRate(symbol="X", rate=D("-0.0500001"), ts=1))) == [
        ("funding_rate", K.OUT_OF_RANGE)
    ]
    assert kinds(check_funding(FundingRate(symbol="X", rate=D("NaN"), ts=1))) == [
        ("funding_rate", K.NOT_FINITE)
    ]


def test_open_interest_long_short_liquidation() -> None:
    assert check_open_interest(OpenInterest(symbol="X", open_interest=D(0), ts=1)) == []
    assert kinds(check_open_interest(OpenInterest(symbol="X", open_interest=D(-1), ts=1))) == [
        ("open_interest", K.NEGATIVE_VALUE)
    ]
    assert check_long_short(LongShortRatio(symbol="X", buy_ratio=D("0.51"), sell_ratio=D("0.49"), ts=1)) == []
    assert check_long_short(LongShortRatio(symbol="X", buy_ratio=D("0.5"), sell_ratio=D("0.49"), ts=1)) == []
    assert kinds(
        check_long_short(LongShortRatio(symbol="X", buy_ratio=D("0.5"), sell_ratio=D("0.4899"), ts=1))
    ) == [("sell_ratio", K.OUT_OF_RANGE)]
    assert kinds(
        check_long_short(LongShortRatio(symbol="X", buy_ratio=D("1.01"), sell_ratio=D("0"), ts=1))
    ) == [("buy_ratio", K.OUT_OF_RANGE)]
    good = Liquidation(symbol="X", side=Side.BUY, price=D("1"), size=D("2"), ts=1)
    assert check_liquidation(good) == []
    bad = Liquidation(symbol="X", side=Side.BUY, price=D("-1"), size=D("0"), ts=1)
    assert kinds(check_liquidation(bad)) == [("price", K.NEGATIVE_PRICE), ("size", K.OUT_OF_RANGE)]


def test_price_deviation_helper() -> None:
    args = {"source": "s", "field": "last", "reference_name": "mark"}
    assert check_price_deviation("X", 1, D("105"), D("100"), D("5"), **args) == []
    assert len(check_price_deviation("X", 1, D("105.01"), D("100"), D("5"), **args)) == 1
    assert check_price_deviation("X", 1, D("NaN"), D("100"), D("5"), **args) == []


# ------------------------------------------------------------------ freshness


@pytest.mark.parametrize(("stream", "limit"), [("book", 5_000), ("ticker", 5_000)])
def test_stream_freshness_boundary(stream: str, limit: int) -> None:
    now = T0 + 100_000
    assert check_freshness(stream, "X", now - limit, now) == []
    ev = check_freshness(stream, "X", now - limit - 1, now)
    assert (
        kinds(ev) == [("ts", K.STALE)] and ev[0].value == str(limit + 1) and ev[0].flag == f"{stream}_stale"
    )


def test_freshness_is_configurable_and_unknown_streams_only_check_skew() -> None:
    cfg = ValidationConfig(freshness_ms={"book": 100})
    assert kinds(check_freshness("book", "X", 0, 101, cfg)) == [("ts", K.STALE)]
    assert check_freshness("whatever", "X", 0, 10**9) == []


def test_future_timestamp_boundary() -> None:
    assert check_freshness("book", "X", T0 + 2_000, T0) == []
    assert kinds(check_freshness("book", "X", T0 + 2_001, T0)) == [("ts", K.FUTURE_TIMESTAMP)]


def test_candle_freshness_interval_plus_grace() -> None:
    c = candle()  # confirmed 1m candle: closes at start + 60 s; limit is 60 s + 30 s grace after that
    closed = T0 + M1
    assert check_candle_freshness(c, closed + M1 + 30_000) == []
    ev = check_candle_freshness(c, closed + M1 + 30_001)
    assert kinds(ev) == [("ts", K.STALE)] and ev[0].source == "candle:1"
    open_bar = candle(confirmed=False)  # the open candle is measured from its start
    assert check_candle_freshness(open_bar, T0 + M1 + 30_000) == []
    assert kinds(check_candle_freshness(open_bar, T0 + M1 + 30_001)) == [("ts", K.STALE)]


# ------------------------------------------------------------------ cross validation


def test_cross_validation_pair_tolerance_boundary() -> None:
    # last~mark tolerates 1 %: 99.5 vs 100.5 is exactly 1 % of their mean
    assert cross_validate("X", 1, {"last": D("99.5"), "mark": D("100.5")}) == []
    ev = cross_validate("X", 1, {"last": D("99.5"), "mark": D("100.5001")})
    assert kinds(ev) == [("last~mark", K.SOURCE_MISMATCH)]
    # order of the pair does not matter
    assert kinds(cross_validate("X", 1, {"mark": D("100.5001"), "last": D("99.5")})) == [
        ("mark~last", K.SOURCE_MISMATCH)
    ]


def test_cross_validation_with_external_source_and_missing_values() -> None:
    cfg = ValidationConfig(default_cross_tolerance_pct=D("0.1"))
    prices = {"last": D("100"), "mark": None, "binance": D("100.2"), "bad": D("NaN")}
    ev = cross_validate("X", 1, prices, cfg)
    assert kinds(ev) == [("last~binance", K.SOURCE_MISMATCH)]


def test_snapshot_prices_collects_every_source() -> None:
    t = ticker(last_price=D("100"))
    b = book([("99", "1")], [("101", "1")])
    p = snapshot_prices(t, b, candle(c="100.5"), {"binance": D("100.1")})
    assert p == {
        "last": D("100"),
        "mark": D("100"),
        "index": D("100"),
        "mid": D("100"),
        "candle_close": D("100.5"),
        "binance": D("100.1"),
    }
    assert cross_validate("BTCUSDT", 1, p) == []
    assert cross_validate("BTCUSDT", 1, snapshot_prices(t, book([("80", "1")], [("81", "1")])))


# ------------------------------------------------------------------ completeness and gaps


def test_completeness_ratio_and_missing_list() -> None:
    observed = {"BTCUSDT": {"last_price": D(1), "funding_rate": None, "open_interest": D(3)}, "ETHUSDT": {}}
    comp, events = check_completeness(
        ["BTCUSDT", "ETHUSDT"], ["last_price", "funding_rate", "open_interest"], observed, ts=7
    )
    assert (comp.expected, comp.present) == (6, 2)
    assert comp.ratio == pytest.approx(2 / 6)
    assert comp.missing == (
        ("BTCUSDT", "funding_rate"),
        ("ETHUSDT", "funding_rate"),
        ("ETHUSDT", "last_price"),
        ("ETHUSDT", "open_interest"),
    )
    assert {e.flag for e in events} == {"funding_rate_missing", "last_price_missing", "open_interest_missing"}
    full, none = check_completeness(["A"], ["x"], {"A": {"x": 0}}, ts=1)
    assert full.ratio == 1.0 and none == []
    assert check_completeness([], [], {}, ts=1)[0].ratio == 1.0


def test_candle_gaps_list_missing_starts() -> None:
    starts = [T0, T0 + M1, T0 + 4 * M1, T0 + 5 * M1]
    assert find_candle_gaps(starts, Interval.M1) == [T0 + 2 * M1, T0 + 3 * M1]
    # extend to a wanted range so the collector can backfill the edges too
    assert find_candle_gaps(starts, Interval.M1, start=T0 - M1, end=T0 + 7 * M1) == [
        T0 - M1,
        T0 + 2 * M1,
        T0 + 3 * M1,
        T0 + 6 * M1,
    ]
    assert find_candle_gaps([], Interval.M1) == []
    assert find_candle_gaps([], Interval.M1, start=0, end=3 * M1) == [0, M1, 2 * M1]
    assert find_candle_gaps(range(T0, T0 + 10 * M1, M1), Interval.M1) == []


def test_weekly_and_monthly_gaps_keep_calendar() -> None:
    monday = 1_749_427_200_000  # 2025-06-09, a Monday
    w = Interval.W1.ms
    assert find_candle_gaps([monday, monday + 3 * w], Interval.W1) == [monday + w, monday + 2 * w]
    jan, feb, mar, apr = (
        1_735_689_600_000,
        1_738_368_000_000,
        1_740_787_200_000,
        1_743_465_600_000,
    )  # 2025-01..04
    assert find_candle_gaps([jan, apr], Interval.MONTH) == [feb, mar]


def test_series_checks_duplicates_order_alignment_gaps() -> None:
    cs = [candle(start=T0 + 2 * M1), candle(start=T0), candle(start=T0), candle(start=T0 + 5 * M1 + 7)]
    ev = check_candle_series(cs)
    got = kinds(ev)
    assert ("start", K.OUT_OF_ORDER) in got
    assert ("start", K.DUPLICATE) in got
    assert ("start", K.MISALIGNED) in got
    gap = next(e for e in ev if e.kind is K.CANDLE_GAP)
    assert gap.ts == T0 + M1 and gap.value == "1"


# ------------------------------------------------------------------ outliers


def _walk(n: int = 500, seed: int = 7) -> list[Candle]:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    out, prev = [], closes[0]
    for i, c in enumerate(closes):
        o = prev
        hi, lo = max(o, c) * 1.0004, min(o, c) * 0.9996
        out.append(candle(f"{o:.4f}", f"{hi:.4f}", f"{lo:.4f}", f"{c:.4f}", start=T0 + i * M1))
        prev = c
    return out


def test_clean_random_walk_has_no_outliers() -> None:
    assert check_candle_outliers(_walk()) == []


def test_spike_is_flagged_once_and_its_reversal_is_not() -> None:
    cs = _walk()
    bad = cs[250]
    spike = bad.close * 3
    cs[250] = candle(str(bad.open), str(spike), str(bad.low), str(spike), start=bad.start)
    cs[251] = candle(str(spike), str(spike), str(cs[251].low), str(cs[251].close), start=cs[251].start)
    ev = [e for e in check_candle_outliers(cs) if e.field == "close"]
    assert [(e.ts, e.field) for e in ev] == [(bad.start, "close")]


def test_bad_first_print_is_flagged_on_open() -> None:
    cs = _walk()
    first = cs[0]
    cs[0] = candle(
        str(first.close * 4), str(first.close * 4), str(first.low), str(first.close), start=first.start
    )
    ev = check_candle_outliers(cs)
    assert (first.start, "open") in [(e.ts, e.field) for e in ev]


def test_outlier_threshold_just_inside_and_outside() -> None:
    cs = _walk()
    cs[300] = candle(
        str(cs[300].open),
        str(cs[300].close * D("1.05")),
        str(cs[300].low),
        str(cs[300].close),
        start=cs[300].start,
    )  # a long upper wick
    arr = {f: np.array([float(getattr(c, f)) for c in cs]) for f in ("open", "high", "low", "close")}
    med_scale = robust_center_scale(np.diff(np.log(arr["close"])))
    assert med_scale is not None
    wick = np.log(arr["high"][300] / max(arr["open"][300], arr["close"][300]))
    z = wick / med_scale[1]
    starts = np.array([c.start for c in cs])

    def flagged(thr: float) -> bool:
        ev = outlier_events(
            "X", starts, arr["open"], arr["high"], arr["low"], arr["close"], ValidationConfig(outlier_z=thr)
        )
        return (cs[300].start, "high") in [(e.ts, e.field) for e in ev]

    assert flagged(z * 0.999)
    assert not flagged(z * 1.001)


def test_outliers_need_enough_samples_and_skip_bad_prices() -> None:
    cs = _walk(20)
    cs[10] = candle(start=cs[10].start, c="1000", h="1000")
    assert check_candle_outliers(cs) == []  # 19 returns < outlier_min_samples
    cs = _walk()
    cs[5] = candle(start=cs[5].start, c="NaN")
    check_candle_outliers(cs)  # a NaN bar is skipped, not a crash
    flat = [candle("1", "1", "1", "1", start=T0 + i * M1) for i in range(100)]
    assert check_candle_outliers(flat) == []  # no dispersion: no verdict
