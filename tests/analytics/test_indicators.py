"""TA-Lib wrappers against Jesse's reference values, and the custom indicators against their formulas.

Reference numbers: jesse-ai/jesse tests/test_indicators.py at commit 682b1714 (MIT), which asserts them on
the candle files now in ../shared/data/indicators/jesse-candles. Jesse slices to the last 240 candles;
these files are shorter, so the whole file is the input.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from asym.analytics import DEFAULT_CONFIG, AnalyticsConfig
from asym.analytics.candles import prepare_candles
from asym.analytics.indicators import (
    atr,
    bbands_width,
    ema,
    ema_trend,
    periods_per_year,
    realized_vol,
    rsi,
)
from asym.analytics.quality import Flags
from asym.analytics.technical import technical_indicators

from .conftest import jesse_arrays, load_jesse, some

# jesse tests/test_indicators.py @ 682b1714, test_ema: close prices and ema(candles, 8) == 108.546
JESSE_EMA_CLOSES = [
    204.23, 205.01, 196.9, 197.33, 198.7, 199.86, 202.23, 200.3, 212.3, 210.82603059, 220.84, 218.99,
    212.71, 211.01, 213.19, 212.99724894, 212.67760477, 209.85, 187.2, 184.15, 176.99, 175.9, 178.99,
    150.96, 133.85, 138.18, 126.32, 125.23, 114.79, 118.73, 110.74409879, 111.72, 124.04, 118.52, 113.64,
    119.65, 117.11129288, 109.23, 110.77, 102.65, 91.99,
]  # fmt: skip


@pytest.fixture(scope="module")
def jesse(shared_data: Path) -> Path:
    return shared_data / "indicators" / "jesse-candles"


def test_rsi_matches_jesse_reference(jesse: Path) -> None:
    # test_rsi: candles 14, rsi() == 57.84 (2 dp)
    a = load_jesse(jesse / "test_candles_14.csv")
    assert round(some(rsi(a[:, 2], 14)), 2) == 57.84


def test_atr_matches_jesse_reference(jesse: Path) -> None:
    # test_atr: candles 2, atr() == 2.8 (1 dp); columns are timestamp, open, close, high, low, volume
    a = load_jesse(jesse / "test_candles_2.csv")
    value = some(atr(a[:, 3], a[:, 4], a[:, 2], 14))
    assert round(value, 1) == 2.8
    # the column order matters: feeding (high, low, close) in file order (close, high, low) breaks it
    assert round(some(atr(a[:, 2], a[:, 3], a[:, 4], 14)), 1) != 2.8


def test_bbands_width_matches_jesse_reference(jesse: Path) -> None:
    # test_bollinger_bands_width: candles 12, width == 0.0771 (4 dp)
    a = load_jesse(jesse / "test_candles_12.csv")
    assert round(some(bbands_width(a[:, 2], 20, 2.0)), 4) == 0.0771
    # test_bollinger_bands: candles 11, upper 145.8, middle 141.2, lower 136.7 (1 dp)
    b = load_jesse(jesse / "test_candles_11.csv")
    expected = (145.8 - 136.7) / 141.2
    assert bbands_width(b[:, 2], 20, 2.0) == pytest.approx(expected, abs=0.1 / 141.2 * 2)


def test_ema_matches_jesse_reference() -> None:
    # test_ema: ema(candles, 8) == 108.546 (3 dp); and ema of 400 on 41 closes is not available
    closes = np.array(JESSE_EMA_CLOSES)
    assert round(some(ema(closes, 8)), 3) == 108.546
    assert ema(closes, 400) is None


def test_technical_indicators_on_jesse_candles_through_the_pipeline(jesse: Path) -> None:
    """Column mapping, validation and the TechnicalIndicators struct reproduce the same references."""
    cfg = AnalyticsConfig(indicator_interval="240", vol_long_interval="240")
    arrays = jesse_arrays(jesse / "test_candles_14.csv")
    step = 4 * 3_600_000
    now = int(arrays.start[-1]) + step
    prepared = prepare_candles(arrays, step, now, cfg.candle_stale_intervals)
    assert prepared.problems == ()
    flags = Flags()
    ti = technical_indicators({"240": (prepared.arrays, step)}, cfg, flags)
    assert ti is not None
    assert round(some(ti.rsi_14), 2) == 57.84
    assert ti.interval == "240"
    assert ti.ema_trend in ("UP", "DOWN", "FLAT")
    assert ti.atr_pct == pytest.approx(some(ti.atr_14) / arrays.close[-1] * 100)
    # no 5m candles were given: realized_vol_1h is None, and nothing here says candles_short
    assert ti.realized_vol_1h is None
    assert "candles_short:240" not in flags


def test_short_inputs_give_none_not_garbage() -> None:
    c = np.linspace(100, 110, 14)
    assert rsi(c, 14) is None  # needs 15
    assert rsi(np.linspace(100, 110, 15), 14) is not None
    assert atr(c + 1, c - 1, c, 14) is None
    assert ema(c, 20) is None
    assert bbands_width(c, 20) is None
    assert realized_vol(c, 14, 5) is None  # needs 15 closes
    assert realized_vol(c, 13, 5) is not None


def test_realized_vol_formula_known_returns() -> None:
    """Alternating +a / -a log returns: sample std = a * sqrt(n / (n - 1)), annualised by sqrt(105120)."""
    a, n = 0.001, 12
    closes = 100 * np.exp(np.cumsum(np.r_[0.0, np.tile([a, -a], n // 2)]))
    expected = a * math.sqrt(n / (n - 1)) * math.sqrt(365 * 24 * 12)
    assert realized_vol(closes, n, 5) == pytest.approx(expected, rel=1e-9)
    assert periods_per_year(5) == 105_120
    assert periods_per_year(60) == 8_760


def test_realized_vol_uses_only_the_last_returns() -> None:
    rng = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 100)))
    spiked = closes.copy()
    spiked[:50] *= 3  # a wild move long before the window must not matter
    assert realized_vol(spiked, 24, 60) == pytest.approx(realized_vol(closes, 24, 60))
    log_r = np.diff(np.log(closes[-25:]))
    assert realized_vol(closes, 24, 60) == pytest.approx(statistics.stdev(log_r) * math.sqrt(8760))


@pytest.mark.parametrize(
    ("fast", "expected"),
    [
        (1.0021, "UP"),  # just above +band
        (1.0019, "FLAT"),  # just below +band
        (1.0, "FLAT"),
        (0.9981, "FLAT"),  # just above -band
        (0.9979, "DOWN"),  # just below -band
    ],
)
def test_ema_trend_dead_band_boundaries(fast: float, expected: str) -> None:
    assert DEFAULT_CONFIG.ema_flat_band == 0.002
    assert ema_trend(fast, 1.0, DEFAULT_CONFIG.ema_flat_band) == expected
