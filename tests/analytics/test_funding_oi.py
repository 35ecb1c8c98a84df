"""Funding sentiment and open-interest sentiment: every threshold just below and above its boundary."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from asym.analytics import DEFAULT_CONFIG as CFG
from asym.analytics.candles import CandleArrays
from asym.analytics.funding import (
    annualized_pct,
    clean_history,
    funding_direction,
    funding_pressure,
    funding_sentiment,
    funding_zscore,
    rate_per_8h,
)
from asym.analytics.long_short import latest_long_share
from asym.analytics.open_interest import oi_label, oi_sentiment, price_at
from asym.analytics.quality import Flags
from asym.domain import FundingRate, LongShortRatio, OpenInterest

from .conftest import some

H = 3_600_000


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("0.000001", "LONGS_PAY"), ("0", "NEUTRAL"), ("-0.000001", "SHORTS_PAY"), ("-0", "NEUTRAL")],
)
def test_direction_is_the_sign(rate: str, expected: str) -> None:
    assert funding_direction(Decimal(rate)) == expected


@pytest.mark.parametrize(
    ("rate_8h", "expected"),
    [
        (0.0, "NONE"),
        (0.0001, "NONE"),  # the baseline rate itself is no pressure
        (0.000101, "MILD"),
        (0.0005, "MILD"),
        (0.000501, "STRONG"),
        (0.001, "STRONG"),
        (0.001001, "EXTREME"),
        (-0.0001, "NONE"),
        (-0.000101, "MILD"),
        (-0.000501, "STRONG"),
        (-0.001001, "EXTREME"),
    ],
)
def test_pressure_buckets(rate_8h: float, expected: str) -> None:
    assert (CFG.funding_pressure_mild, CFG.funding_pressure_strong, CFG.funding_pressure_extreme) == (
        0.0001,
        0.0005,
        0.001,
    )
    assert funding_pressure(rate_8h, CFG) == expected


def test_pressure_is_per_8h_equivalent() -> None:
    # 0.00005 every 4 h is 0.0001 per 8 h: still NONE; a hair more is MILD
    assert funding_pressure(rate_per_8h(0.00005, 4), CFG) == "NONE"
    assert funding_pressure(rate_per_8h(0.0000501, 4), CFG) == "MILD"
    assert funding_pressure(rate_per_8h(0.0001, 8), CFG) == "NONE"
    assert funding_pressure(rate_per_8h(0.0001, 1), CFG) == "STRONG"  # 0.0008 per 8h


def test_annualised() -> None:
    assert annualized_pct(0.0001, 8) == pytest.approx(10.95)  # 3 settlements a day, 365 days
    assert annualized_pct(-0.0001, 4) == pytest.approx(-21.9)


def test_zscore_needs_min_history_and_uses_the_window() -> None:
    short = np.full(CFG.funding_min_history - 1, 0.0001)
    assert funding_zscore(0.0002, short, CFG) is None
    enough = np.full(CFG.funding_min_history, 0.0001)
    # constant history: std is 0, the floor (1e-5) makes the z-score finite
    assert funding_zscore(0.0002, enough, CFG) == pytest.approx(0.0001 / CFG.funding_zscore_std_floor)
    hist = np.r_[np.full(10, 0.05), np.linspace(0.0, 0.0002, CFG.funding_history_window)]
    windowed = hist[-CFG.funding_history_window :]
    expected = (0.0003 - windowed.mean()) / windowed.std()
    assert funding_zscore(0.0003, hist, CFG) == pytest.approx(expected)


def test_funding_sentiment_struct() -> None:
    fs = funding_sentiment(Decimal("-0.00075"), 8, np.full(20, 0.0001), CFG)
    assert fs.rate == Decimal("-0.00075")
    assert fs.direction == "SHORTS_PAY"
    assert fs.pressure == "STRONG"
    assert fs.zscore is not None and fs.zscore < -3
    assert fs.annualized_pct == pytest.approx(-82.125)


def test_clean_history_drops_bad_entries_and_future() -> None:
    now = 100 * H
    hist = [
        FundingRate(symbol="X", rate=Decimal("0.0002"), ts=2 * H),
        FundingRate(symbol="X", rate=Decimal("0.0001"), ts=H),
        FundingRate(symbol="X", rate=Decimal("NaN"), ts=3 * H),
        FundingRate(symbol="Y", rate=Decimal("0.0003"), ts=4 * H),
        FundingRate(symbol="X", rate=Decimal("0.0009"), ts=now + 1),
    ]
    flags = Flags()
    out = clean_history(hist, "X", now, flags)
    assert list(some(out)) == [0.0001, 0.0002]  # sorted oldest first, future one left out
    assert flags.as_tuple() == ("funding_history_invalid",)
    flags = Flags()
    assert clean_history([], "X", now, flags) is None
    assert flags.as_tuple() == ("funding_history_missing",)


@pytest.mark.parametrize(
    ("oi", "price", "expected"),
    [
        (1.0, 0.5, "LONG_BUILDUP"),  # both exactly at their thresholds count as a move
        (0.999, 5.0, "NEUTRAL"),
        (5.0, 0.499, "NEUTRAL"),
        (1.0, -0.5, "SHORT_BUILDUP"),
        (-1.0, -0.5, "LONG_UNWINDING"),
        (-1.0, 0.5, "SHORT_COVERING"),
        (-0.999, -5.0, "NEUTRAL"),
        (-5.0, -0.499, "NEUTRAL"),
        (0.0, 0.0, "NEUTRAL"),
    ],
)
def test_oi_label_thresholds(oi: float, price: float, expected: str) -> None:
    assert (CFG.oi_change_threshold_pct, CFG.oi_price_threshold_pct) == (1.0, 0.5)
    assert oi_label(oi, price, CFG) == expected


def _hourly_candles(closes: list[float], t0: int) -> CandleArrays:
    c = np.asarray(closes, dtype=float)
    return CandleArrays(
        start=t0 + H * np.arange(len(c)), open=c, high=c + 1, low=c - 1, close=c, volume=np.ones(len(c))
    )


def test_price_at_uses_the_candle_ending_at_or_before() -> None:
    c = _hourly_candles([100, 101, 102], t0=10 * H)  # bars end at 11h, 12h, 13h
    assert price_at(c, H, 11 * H) == 100
    assert price_at(c, H, 12 * H - 1) == 100
    assert price_at(c, H, 13 * H + H - 1) == 102
    assert price_at(c, H, 14 * H) is None  # the bar ending at 14h is missing
    assert price_at(c, H, 11 * H - 1) is None


def _oi(values: list[tuple[int, str]], symbol: str = "X") -> list[OpenInterest]:
    return [OpenInterest(symbol=symbol, open_interest=Decimal(v), ts=t) for t, v in values]


def test_oi_sentiment_over_the_window() -> None:
    candles = _hourly_candles([100.0] * 5 + [101.0] * 5, t0=0)  # bars end 1h..10h
    hist = _oi([(h * H, str(1000 + 10 * h)) for h in range(1, 11)])
    now = 10 * H + 60_000
    flags = Flags()
    s = oi_sentiment(hist, "X", now, [(candles, H)], CFG, flags)
    assert flags.as_tuple() == ()
    assert s is not None
    assert s.window_hours == 4.0
    assert s.oi_change_pct == pytest.approx((1100 / 1060 - 1) * 100)
    assert s.price_change_pct == pytest.approx(0.0)  # price at 6h and 10h: both 101
    assert s.label == "NEUTRAL"
    candles_up = _hourly_candles([100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 102.0], t0=0)
    s = oi_sentiment(hist, "X", now, [(candles_up, H)], CFG, Flags())
    assert s is not None and s.label == "LONG_BUILDUP"


@pytest.mark.parametrize(
    ("case", "flag"),
    [
        ("none", "oi_history_missing"),
        ("stale", "oi_history_stale"),
        ("short", "oi_history_short"),
        ("gap", "oi_history_gap"),
        ("no_price", "oi_price_missing"),
        ("invalid", "oi_history_invalid"),
    ],
)
def test_oi_sentiment_degrades_with_a_flag(case: str, flag: str) -> None:
    candles = _hourly_candles([100.0] * 30, t0=0)  # bars end 1h..30h
    hist = _oi([(h * H, "1000") for h in range(10, 31)])
    now = 30 * H
    if case == "none":
        hist = []
    elif case == "stale":
        now = 30 * H + CFG.oi_max_age_ms + 1
    elif case == "short":
        hist = hist[-4:]  # 27h..30h: nothing 4 h before the latest
    elif case == "gap":
        hist = [hist[0], hist[-1]]  # 10h and 30h: a 20 h window for a 4 h one
    elif case == "no_price":
        candles = _hourly_candles([100.0] * 5, t0=0)
    elif case == "invalid":
        hist = [*hist[:-1], OpenInterest(symbol="X", open_interest=Decimal("-5"), ts=30 * H)]
    flags = Flags()
    s = oi_sentiment(hist, "X", now, [(candles, H)], CFG, flags)
    assert flag in flags
    if case != "invalid":
        assert s is None
    else:  # the bad newest point is skipped; the rest still gives a sentiment
        assert s is not None and s.window_hours == 4.0


def test_oi_staleness_boundary() -> None:
    candles = _hourly_candles([100.0] * 30, t0=0)
    hist = _oi([(h * H, "1000") for h in range(10, 31)])
    flags = Flags()
    assert oi_sentiment(hist, "X", 30 * H + CFG.oi_max_age_ms, [(candles, H)], CFG, flags) is not None
    assert flags.as_tuple() == ()


def test_oi_window_gap_boundary() -> None:
    """t1 - t0 may be up to oi_max_window_factor x window (8 h); one ms more is a gap."""
    candles = _hourly_candles([100.0] * 30, t0=0)
    limit = int(CFG.oi_max_window_factor * CFG.oi_window_hours * H)
    t1 = 30 * H
    ok = _oi([(t1 - limit, "1000"), (t1, "1100")])
    flags = Flags()
    s = oi_sentiment(ok, "X", t1, [(candles, H)], CFG, flags)
    assert s is not None and s.window_hours == 8.0 and flags.as_tuple() == ()
    flags = Flags()
    assert (
        oi_sentiment(_oi([(t1 - limit - 1, "1000"), (t1, "1100")]), "X", t1, [(candles, H)], CFG, flags)
        is None
    )
    assert flags.as_tuple() == ("oi_history_gap",)


def _ls(points: list[tuple[int, str, str]], symbol: str = "X") -> list[LongShortRatio]:
    return [
        LongShortRatio(symbol=symbol, buy_ratio=Decimal(b), sell_ratio=Decimal(s), ts=t) for t, b, s in points
    ]


def test_long_share_newest_valid_point_and_staleness_boundary() -> None:
    hist = _ls([(2 * H, "0.7", "0.3"), (H, "0.4", "0.6"), (3 * H, "NaN", "1"), (9 * H, "0.1", "0.9")])
    flags = Flags()
    # the NaN point is skipped, the one after now is ignored: newest usable is 2h -> 0.7
    assert latest_long_share(hist, "X", 2 * H + CFG.ls_max_age_ms, CFG, flags) == pytest.approx(0.7)
    assert flags.as_tuple() == ("ls_ratio_invalid",)
    flags = Flags()
    assert latest_long_share(hist[:2], "X", 2 * H + CFG.ls_max_age_ms + 1, CFG, flags) is None
    assert flags.as_tuple() == ("ls_ratio_stale",)
    # ratios that do not sum to 1 are normalised (Bybit sends 0.5123 / 0.4877, sums drift)
    assert latest_long_share(_ls([(0, "3", "1")]), "X", 0, CFG, Flags()) == pytest.approx(0.75)
    flags = Flags()
    assert latest_long_share(None, "X", 0, CFG, flags) is None and flags.as_tuple() == ("ls_ratio_missing",)
