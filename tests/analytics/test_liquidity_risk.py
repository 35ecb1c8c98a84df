"""Spread, depth, liquidity score, nearby liquidations, liquidation and market risk at their boundaries."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from asym.analytics import DEFAULT_CONFIG as CFG
from asym.analytics import AnalyticsConfig
from asym.analytics.components import (
    crowding,
    funding_component,
    liquidation_activity,
    liquidation_ratio,
    ls_skew_component,
    oi_buildup_component,
    volatility_component,
)
from asym.analytics.liquidation_risk import liquidation_risk, liquidation_risk_bucket, liquidation_risk_score
from asym.analytics.liquidations import nearby_liquidations
from asym.analytics.liquidity import (
    BookView,
    check_book,
    depth_score,
    depth_within_band,
    liquidity_score,
    spread_pct,
    spread_score,
    turnover_score,
)
from asym.analytics.market_risk import data_quality_component, market_risk_score
from asym.analytics.quality import Flags
from asym.domain import Liquidation, LiquidationRisk, OrderBook, Side
from asym.errors import ConfigError

from .conftest import some

D = Decimal


def _book(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: int = 1_000, symbol: str = "X"
) -> OrderBook:
    return OrderBook(
        symbol=symbol,
        bids=tuple((D(p), D(s)) for p, s in bids),
        asks=tuple((D(p), D(s)) for p, s in asks),
        ts=ts,
    )


def test_spread_pct_formula() -> None:
    assert spread_pct(D("99.99"), D("100.01")) == pytest.approx(0.02)
    assert spread_pct(D("1.9531"), D("1.9532")) == pytest.approx(0.0001 / 1.95315 * 100)


def test_depth_counts_levels_inside_the_band_inclusive() -> None:
    # mid 100; band 1 % -> [99, 101]
    book = _book(
        [("99.5", "2"), ("99", "1"), ("98.99", "100")], [("100.5", "2"), ("101", "1"), ("101.01", "100")]
    )
    view = check_book(book, "X", 1_000, CFG)
    assert isinstance(view, BookView)
    assert view.mid == 100.0
    assert depth_within_band(view, 1.0) == pytest.approx(99.5 * 2 + 99 + 100.5 * 2 + 101)
    assert view.levels == 3


def test_book_levels_are_capped() -> None:
    bids = [(str(100 - i * 0.1), "1") for i in range(1, 40)]
    asks = [(str(100 + i * 0.1), "1") for i in range(1, 40)]
    view = check_book(_book(bids, asks), "X", 1_000, CFG)
    assert isinstance(view, BookView) and view.levels == 25 and len(view.bid_px) == 25


@pytest.mark.parametrize(
    ("book", "now", "flag"),
    [
        (_book([("99", "1")], [("101", "1")], symbol="Y"), 1_000, "book_symbol_mismatch"),
        (_book([("99", "1")], [("101", "1")], ts=0), CFG.book_max_age_ms + 1, "book_stale"),
        (_book([], [("101", "1")]), 1_000, "book_side_empty"),
        (_book([("99", "NaN")], [("101", "1")]), 1_000, "book_invalid"),
        (_book([("99", "1")], [("-101", "1")]), 1_000, "book_invalid"),
        (_book([("98", "1"), ("99", "1")], [("101", "1")]), 1_000, "book_invalid"),  # bids ascending
        (_book([("101", "1")], [("101", "1")]), 1_000, "book_crossed"),
        (_book([("102", "1")], [("101", "1")]), 1_000, "book_crossed"),
    ],
)
def test_book_problems_are_named(book: OrderBook, now: int, flag: str) -> None:
    assert check_book(book, "X", now, CFG) == flag


def test_book_age_boundary() -> None:
    book = _book([("99", "1")], [("101", "1")], ts=0)
    assert isinstance(check_book(book, "X", CFG.book_max_age_ms, CFG), BookView)


@pytest.mark.parametrize(
    ("fn", "low", "high", "mid"),
    [
        (depth_score, 1e4, 1e7, 10**5.5),
        (turnover_score, 1e6, 1e10, 1e8),
    ],
)
def test_log_scores_reference_points(
    fn: Callable[[float, AnalyticsConfig], float], low: float, high: float, mid: float
) -> None:
    assert fn(low * 0.99, CFG) == 0.0
    assert fn(low, CFG) == 0.0
    assert 0.0 < fn(low * 1.01, CFG) < 0.01
    assert fn(mid, CFG) == pytest.approx(0.5)
    assert 0.99 < fn(high * 0.99, CFG) < 1.0
    assert fn(high, CFG) == pytest.approx(1.0)
    assert fn(high * 10, CFG) == 1.0
    assert fn(0.0, CFG) == 0.0


def test_spread_score_reference_points() -> None:
    assert spread_score(0.0, CFG) == 1.0
    assert spread_score(0.005, CFG) == 1.0
    assert 0.99 < spread_score(0.00505, CFG) < 1.0
    assert spread_score(0.05, CFG) == pytest.approx(0.5)
    assert 0.0 < spread_score(0.495, CFG) < 0.01
    assert spread_score(0.5, CFG) == pytest.approx(0.0)
    assert spread_score(5.0, CFG) == 0.0


def test_liquidity_score_weights() -> None:
    assert liquidity_score(1e7, 0.005, 1e10, CFG) == pytest.approx(1.0)
    assert liquidity_score(1e4, 0.5, 1e6, CFG) == pytest.approx(0.0)
    assert liquidity_score(1e7, 0.5, 1e6, CFG) == pytest.approx(0.4)  # depth only
    assert liquidity_score(1e4, 0.005, 1e6, CFG) == pytest.approx(0.3)  # spread only
    assert liquidity_score(1e4, 0.5, 1e10, CFG) == pytest.approx(0.3)  # turnover only


def _liq(price: str, ts: int, side: Side = Side.BUY, size: str = "2", symbol: str = "X") -> Liquidation:
    return Liquidation(symbol=symbol, side=side, price=D(price), size=D(size), ts=ts)


def test_nearby_band_edges_are_inclusive_and_exact() -> None:
    now = 10_000_000
    liqs = [_liq("98", now), _liq("102", now, Side.SELL), _liq("97.99", now), _liq("102.01", now, Side.SELL)]
    n = nearby_liquidations(liqs, "X", D("100"), now, CFG, Flags())
    assert n is not None
    assert (n.count, n.long_count, n.short_count) == (2, 1, 1)
    assert n.notional == D("400") and n.long_notional == D("196") and n.short_notional == D("204")
    assert (n.band_pct, n.window_s) == (2.0, 3600)


def test_nearby_window_edges() -> None:
    now = 10_000_000
    w = CFG.liquidation_window_s * 1000
    liqs = [_liq("100", now - w), _liq("100", now - w + 1), _liq("100", now), _liq("100", now + 1)]
    n = nearby_liquidations(liqs, "X", D("100"), now, CFG, Flags())
    assert n is not None and n.count == 2


def test_nearby_none_vs_empty_vs_invalid() -> None:
    flags = Flags()
    assert nearby_liquidations(None, "X", D("100"), 0, CFG, flags) is None
    assert flags.as_tuple() == ("liquidations_missing",)
    flags = Flags()
    n = nearby_liquidations([], "X", D("100"), 0, CFG, flags)
    assert n is not None and n.count == 0 and n.notional == 0 and flags.as_tuple() == ()
    flags = Flags()
    bad = [_liq("NaN", 0), _liq("100", 0, size="0"), _liq("100", 0, symbol="Y"), _liq("100", 0)]
    n = nearby_liquidations(bad, "X", D("100"), 0, CFG, flags)
    assert n is not None and n.count == 1 and flags.as_tuple() == ("liquidations_invalid",)


@pytest.mark.parametrize(
    ("score", "bucket"),
    [
        (0.0, LiquidationRisk.LOW),
        (0.2499, LiquidationRisk.LOW),
        (0.25, LiquidationRisk.MEDIUM),
        (0.4999, LiquidationRisk.MEDIUM),
        (0.5, LiquidationRisk.HIGH),
        (0.7499, LiquidationRisk.HIGH),
        (0.75, LiquidationRisk.EXTREME),
        (1.0, LiquidationRisk.EXTREME),
    ],
)
def test_liquidation_risk_buckets(score: float, bucket: LiquidationRisk) -> None:
    assert liquidation_risk_bucket(score, CFG) is bucket


def test_liquidation_risk_score_weights_and_unknowns() -> None:
    assert liquidation_risk_score(1, 0, 0, CFG) == pytest.approx(0.4)
    assert liquidation_risk_score(0, 1, 0, CFG) == pytest.approx(0.3)
    assert liquidation_risk_score(0, 0, 1, CFG) == pytest.approx(0.3)
    assert liquidation_risk(1, 1, 1, CFG) is LiquidationRisk.EXTREME
    assert liquidation_risk(0, 0, 0, CFG) is LiquidationRisk.LOW
    assert liquidation_risk(None, 0, 0, CFG) is None
    assert liquidation_risk(0, None, 0, CFG) is None
    assert liquidation_risk(0, 0, None, CFG) is None


def test_components_reference_points() -> None:
    assert volatility_component(None, None, CFG) is None
    assert volatility_component(0.2, None, CFG) == 0.0
    assert volatility_component(None, 1.5, CFG) == pytest.approx(1.0)
    assert some(volatility_component(0.21, 0.1, CFG)) > 0.0  # the larger of the two counts
    assert volatility_component(0.85, None, CFG) == pytest.approx(0.5)
    # 1 h window, 24 h turnover 24_000 -> window turnover 1_000; 2 % of it = 20 scores 1
    assert liquidation_ratio(20, 24_000, 3600) == pytest.approx(0.02)
    assert liquidation_activity(0, 24_000, 3600, CFG) == 0.0
    assert liquidation_activity(10, 24_000, 3600, CFG) == pytest.approx(0.5)
    assert liquidation_activity(19.9, 24_000, 3600, CFG) < 1.0
    assert liquidation_activity(20.1, 24_000, 3600, CFG) == 1.0
    assert liquidation_activity(1, 0, 3600, CFG) == 1.0  # liquidations with no turnover: the worst
    assert funding_component(0.0001, CFG) == 0.0
    assert funding_component(-0.000101, CFG) > 0.0
    assert funding_component(-0.001, CFG) == pytest.approx(1.0)
    assert funding_component(0.00055, CFG) == pytest.approx(0.5)
    assert oi_buildup_component(-3.0, CFG) == 0.0
    assert oi_buildup_component(5.0, CFG) == pytest.approx(0.5)
    assert oi_buildup_component(10.0, CFG) == pytest.approx(1.0)
    assert ls_skew_component(0.599, CFG) == 0.0
    assert ls_skew_component(0.401, CFG) == 0.0
    assert ls_skew_component(0.61, CFG) > 0.0
    assert ls_skew_component(0.15, CFG) == pytest.approx(1.0)
    assert crowding(None, None, None) is None
    assert crowding(0.1, None, 0.7) == 0.7


def test_market_risk_weights_missing_is_worst_and_quality_term() -> None:
    best: dict[str, Any] = dict(volatility=0.0, liq_activity=0.0, funding=0.0, liquidity_score=1.0, n_flags=0)
    assert market_risk_score(**best, config=CFG) == 0.0
    worst = dict(volatility=1.0, liq_activity=1.0, funding=1.0, liquidity_score=0.0)
    assert market_risk_score(**worst, n_flags=4, config=CFG) == pytest.approx(1.0)
    unknown = dict(volatility=None, liq_activity=None, funding=None, liquidity_score=None)
    assert market_risk_score(**unknown, n_flags=4, config=CFG) == pytest.approx(1.0)
    for key, weight in [
        ("volatility", 0.30),
        ("liq_activity", 0.20),
        ("funding", 0.15),
        ("liquidity_score", 0.20),
    ]:
        assert market_risk_score(**{**best, key: None}, config=CFG) == pytest.approx(weight)
    assert data_quality_component(0, CFG) == 0.0
    assert data_quality_component(1, CFG) == 0.25
    assert data_quality_component(3, CFG) == 0.75
    assert data_quality_component(4, CFG) == 1.0
    assert data_quality_component(9, CFG) == 1.0
    assert market_risk_score(**{**best, "n_flags": 2}, config=CFG) == pytest.approx(0.15 * 0.5)


@pytest.mark.parametrize(
    "bad",
    [
        {"depth_ref_low_quote": 1e8},
        {"liq_risk_medium": 0.6},
        {"risk_weight_funding": 0.5},
        {"ema_fast_period": 60},
        {"indicator_interval": "7"},
        {"vol_risk_high": float("nan")},
        {"book_levels": 0},
        {"rsi_period": 1},
        {"liquidity_weight_depth": -0.1, "liquidity_weight_spread": 0.8},
    ],
)
def test_invalid_config_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        AnalyticsConfig(**bad)
