"""compute_enhanced_series equals compute_enhanced on each step's window, on clean and degraded series."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.analytics import AnalyticsConfig, compute_enhanced
from asym.analytics.series import compute_enhanced_series
from asym.analytics.series_inputs import SeriesInputs, TickerSeries, window_inputs
from asym.analytics.types import EnhancedData
from asym.domain import FundingRate, Ticker

from .series_builders import (
    SYMBOL,
    compare,
    drop_rows,
    five_minute_bars,
    funding,
    recorded,
    series,
    set_value,
)


def _check(s: SeriesInputs, config: AnalyticsConfig | None = None) -> list[EnhancedData]:
    """Every step of the batch equals compute_enhanced of that step's window; returns the batch."""
    cfg = config or AnalyticsConfig()
    batch = compute_enhanced_series(s, cfg)
    assert len(batch) == len(s)
    for i, got in enumerate(batch):
        compare(got, compute_enhanced(window_inputs(s, i), cfg), f"step {i}")
    return batch


def _flags(batch: list[EnhancedData]) -> Counter[str]:
    return Counter(f for d in batch for f in d.quality_flags)


def test_a_clean_series_equals_the_per_step_result_at_every_step() -> None:
    rng = np.random.default_rng(1)
    s = series(rng, hours=80)
    batch = _check(s)
    flags = _flags(batch)
    # the windows grow from one candle to the lookback (indicators too short at first), then the data
    # ends and the candles go stale: the batch reproduces each phase, not only the steady state
    assert flags["candles_short:60"] > 0 and flags["candles_stale:60"] > 0 and flags["candles_stale:5"] > 0
    full = [d for d in batch if d.technical_indicators and d.technical_indicators.ema_slow is not None]
    assert len(full) > 80 and all(d.funding_sentiment is not None for d in full)
    assert all(d.liquidity_score is not None and d.market_risk_score is not None for d in full)


def test_candle_gaps_and_bad_bars_equal_the_per_step_result() -> None:
    rng = np.random.default_rng(2)
    m5 = five_minute_bars(80 * 12, rng)
    m5 = drop_rows(m5, [100, 101, 400, 700])  # gaps
    m5 = set_value(m5, "close", 200, float("nan"))  # invalid bars
    m5 = set_value(m5, "high", 300, 0.5)  # high below open/close
    m5 = set_value(m5, "low", 500, 1e-6)  # high/low beyond the range ratio
    m5 = set_value(m5, "volume", 600, -1.0)
    from asym.analytics import resample_candles

    h1 = resample_candles(m5, 300_000, 3_600_000)  # the gaps and NaN propagate to the hourly bars
    h1 = set_value(h1, "close", 40, float("inf"))
    batch = _check(series(rng, m5=m5, h1=h1))
    flags = _flags(batch)
    for f in ("candles_gap:5", "candles_invalid:5", "candles_gap:60", "candles_invalid:60"):
        assert flags[f] > 0, f


@pytest.mark.parametrize(
    "variant",
    ["none", "empty", "short", "invalid", "other symbol", "too large", "future only", "zero rate"],
)
def test_funding_histories_missing_short_or_bad_equal_the_per_step_result(variant: str) -> None:
    rng = np.random.default_rng(3)
    rates = funding(40, rng)
    if variant == "short":
        rates = rates[-12:]  # fewer than funding_min_history at first, enough later
    elif variant == "invalid":
        rates[30] = FundingRate(symbol=SYMBOL, rate=Decimal("NaN"), ts=rates[30].ts)
        rates[5] = FundingRate(symbol=SYMBOL, rate=Decimal("sNaN"), ts=rates[5].ts)
    elif variant == "other symbol":
        rates[35] = FundingRate(symbol="OTHERUSDT", rate=Decimal("0.0001"), ts=rates[35].ts)
    elif variant == "too large":
        rates[36] = FundingRate(symbol=SYMBOL, rate=Decimal("0.2"), ts=rates[36].ts)
    elif variant == "future only":
        rates = [FundingRate(symbol=SYMBOL, rate=Decimal("0.0001"), ts=10**13)]
    elif variant == "zero rate":
        rates = [FundingRate(symbol=SYMBOL, rate=Decimal(0), ts=r.ts) for r in rates]
    s = series(rng, rates=rates)
    if variant == "none":
        s = replace(s, funding_history=None)
    elif variant == "empty":
        s = replace(s, funding_history=[])
    batch = _check(s)
    flags = _flags(batch)
    expected = {
        "none": "funding_history_missing",
        "empty": "funding_history_missing",
        "short": "funding_history_short",
        "invalid": "funding_history_invalid",
        "other symbol": "funding_history_invalid",
        "too large": "bad_value:funding_rate",
        "future only": "funding_rate_missing",
    }.get(variant)
    if expected:
        assert flags[expected] > 0, flags


def _with(t: TickerSeries, name: str, changes: dict[int, object]) -> TickerSeries:
    col = list(getattr(t, name))
    for i, v in changes.items():
        col[i] = v
    columns: dict[str, Any] = {name: col}
    return replace(t, **columns)


def test_degraded_tickers_and_books_equal_the_per_step_result() -> None:
    rng = np.random.default_rng(4)
    s = series(rng, hours=40)
    t, b = s.tickers, s.books
    assert b is not None
    n = len(s)
    t = _with(t, "present", {5: False, 6: False})  # no ticker
    t = _with(t, "ts", {10: int(s.t[10]) - 120_000})  # stale ticker (still used, flagged)
    t = _with(t, "last_price", {20: Decimal(0), 21: Decimal("NaN")})  # price from the mark instead
    t = _with(t, "mark_price", {21: Decimal("-1"), 22: Decimal("NaN")})
    t = _with(t, "volume_24h", {30: Decimal("-5")})
    t = _with(t, "turnover_24h", {31: None, 32: Decimal("Infinity")})
    t = _with(t, "funding_rate", {40: Decimal("0.5"), 41: Decimal("sNaN"), 42: None})
    t = _with(t, "funding_interval_hours", {50: 0, 51: 4})
    t = _with(t, "next_funding_time", {52: 0, 53: None})
    t = _with(t, "open_interest", {54: Decimal("1000"), 55: Decimal("-1")})
    t = _with(t, "index_price", {56: None})
    present = b.present.copy()
    present[[60, 61]] = False  # no book: bid/ask from the ticker
    ts = b.ts.copy()
    ts[62] -= 60_000  # stale book
    bid_px, bid_n, ask_n = b.bid_px.copy(), b.bid_n.copy(), b.ask_n.copy()
    bid_px[63, 0] = b.ask_px[63, 0] + 5  # crossed
    bid_px[64, 3] = bid_px[64, 2] + 1  # bids not falling
    bid_n[65] = 0  # an empty side
    ask_px = b.ask_px.copy()
    ask_px[66] += 10_000  # far from the traded price: book_mismatch
    bid_px[66] += 10_000
    ask_n[67] = 3  # a thin book
    b = replace(b, present=present, ts=ts, bid_px=bid_px, bid_n=bid_n, ask_px=ask_px, ask_n=ask_n)
    s = replace(s, tickers=t, books=b, quality_flags=("upstream_flag",))
    assert n > 70
    batch = _check(s)
    flags = _flags(batch)
    for f in (
        "ticker_missing",
        "ticker_stale",
        "price_fallback:mark_price",
        "bad_value:volume_24h",
        "bad_value:turnover_24h",
        "turnover_missing",
        "bad_value:funding_rate",
        "bad_value:funding_interval_hours",
        "book_missing",
        "book_stale",
        "book_crossed",
        "book_invalid",
        "book_side_empty",
        "book_mismatch",
    ):
        assert flags[f] > 0, f
    assert all(d.quality_flags[0] == "upstream_flag" for d in batch)
    assert batch[67].order_book_depth == 3


def test_recorded_open_interest_long_short_and_liquidations_equal_the_per_step_result() -> None:
    rng = np.random.default_rng(5)
    batch = _check(series(rng, hours=40, **recorded(rng)))
    assert any(d.oi_sentiment is not None for d in batch)
    assert any(d.nearby_liquidations is not None and d.nearby_liquidations.count > 0 for d in batch)
    assert any(d.liquidation_risk is not None for d in batch)


def test_unknown_and_missing_intervals_and_hourly_steps() -> None:
    rng = np.random.default_rng(6)
    m5 = five_minute_bars(30 * 12, rng)
    base = series(rng, m5=m5, step_ms=3_600_000)
    s = replace(base, candles={"60": base.candles["60"], "7": m5})  # no 5m set; an unknown interval
    batch = _check(s)
    flags = _flags(batch)
    assert flags["candles_missing:5"] == len(batch) and flags["candles_interval_unknown:7"] == len(batch)
    # the backtest's configuration for hourly data: every interval is the data's own
    cfg = AnalyticsConfig(vol_short_interval="60")
    _check(replace(base, candles={"60": base.candles["60"]}), cfg)


def test_series_inputs_reject_inconsistent_columns() -> None:
    from asym.errors import DataError

    rng = np.random.default_rng(7)
    s = series(rng, hours=5)
    with pytest.raises(DataError, match="tickers"):
        replace(s, times=s.t[:-1])
    with pytest.raises(DataError, match="backwards"):
        replace(s, times=s.t[::-1].copy(), tickers=s.tickers, books=s.books)
    m5 = s.candles["5"]
    with pytest.raises(DataError, match="strictly increasing"):
        replace(s, candles={"5": m5.take(np.r_[0, 0, np.arange(1, len(m5))])})
    with pytest.raises(DataError, match="ticker of"):
        TickerSeries.from_tickers(SYMBOL, [replace_symbol(s.tickers, 0)])


def replace_symbol(t: TickerSeries, i: int) -> Ticker:
    import msgspec

    tk = t.ticker(i)
    assert tk is not None
    return msgspec.structs.replace(tk, symbol="OTHERUSDT")


def test_ticker_series_round_trips_domain_tickers() -> None:
    rng = np.random.default_rng(8)
    s = series(rng, hours=5)
    tickers = [s.tickers.ticker(i) for i in range(len(s))]
    tickers[3] = None
    again = TickerSeries.from_tickers(SYMBOL, tickers)
    assert [again.ticker(i) for i in range(len(s))] == tickers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    drops=st.lists(st.integers(0, 359), max_size=4),
    nans=st.lists(st.integers(0, 359), max_size=3),
    hours=st.integers(1, 30),
    step=st.sampled_from([300_000, 900_000, 3_600_000, 7 * 60_000]),
    n_rates=st.integers(0, 15),
)
def test_random_series_equal_the_per_step_result(
    seed: int, drops: list[int], nans: list[int], hours: int, step: int, n_rates: int
) -> None:
    rng = np.random.default_rng(seed)
    m5 = five_minute_bars(max(hours, 1) * 12, rng)
    for r in nans:
        if r < len(m5):
            m5 = set_value(m5, "close", r, float("nan"))
    m5 = drop_rows(m5, sorted({r for r in drops if r < len(m5) - 2}))
    _check(series(rng, m5=m5, step_ms=step, rates=funding(n_rates, rng), **recorded(rng, 60)))


_DAMAGE = {
    "no ticker": ("present", False),
    "no last price": ("last_price", Decimal(0)),
    "bad mark": ("mark_price", Decimal("NaN")),
    "no turnover": ("turnover_24h", None),
    "bad volume": ("volume_24h", Decimal("-1")),
    "no rate": ("funding_rate", None),
    "bad rate": ("funding_rate", Decimal("0.3")),
    "other rate": ("funding_rate", Decimal("0.0003")),
    "4h funding": ("funding_interval_hours", 4),
    "stale ticker": ("ts", 0),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    damage=st.lists(st.tuples(st.integers(0, 59), st.sampled_from(sorted(_DAMAGE))), max_size=25),
    no_book=st.lists(st.integers(0, 59), max_size=5),
)
def test_random_ticker_and_book_damage_equals_the_per_step_result(
    seed: int, damage: list[tuple[int, str]], no_book: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    s = series(rng, hours=12, step_ms=600_000)
    t = s.tickers
    for i, kind in damage:
        name, value = _DAMAGE[kind]
        t = _with(t, name, {i: value})
    b = s.books
    assert b is not None
    present = b.present.copy()
    present[[i for i in no_book if i < len(present)]] = False
    _check(replace(s, tickers=t, books=replace(b, present=present)))
