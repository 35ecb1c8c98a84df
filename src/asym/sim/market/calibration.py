"""Calibration targets of the generator, measured from real Bybit data, and the statistics that measure them.

Source: ../shared/data/bybit/linear-1m/{BTC,ETH,SOL,BNB}USDT_1m.csv (Bybit USDT perpetuals, 1m klines,
43,200 rows each, 2025-05-30 16:39 -> 2025-06-29 16:38 UTC). Measured on 2025-11-20 with
`return_stats` / `correlation` below (1m log returns of the close; alt-to-BTC figures on timestamps
common to both files). Only these numbers live in the code, never the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEASURED_ON = "2025-11-20"
DATA_RANGE = "2025-05-30 16:39 -> 2025-06-29 16:38 UTC"
MINUTES_PER_YEAR = 525_600


@dataclass(frozen=True, slots=True)
class Target:
    """Measured 1m statistics of one real symbol."""

    vol_ann: float
    """Annualised volatility of 1m log returns."""
    kurtosis: float
    """Excess kurtosis of 1m log returns."""
    abs_acf: tuple[float, ...]
    """Autocorrelation of |r| at lags 1..10."""
    corr_btc: float
    """Correlation of 1m returns with BTCUSDT's (1.0 for BTC)."""
    beta_btc: float
    """Regression slope on BTCUSDT's 1m return."""
    range_to_abs_return: float
    """mean(ln(high/low)) / mean(|r|): how far the intra-minute range exceeds the close-to-close move."""
    volume_abs_return_corr: float
    """Correlation of the minute's volume with its |r|."""


TARGETS: dict[str, Target] = {
    "BTCUSDT": Target(
        vol_ann=0.335,
        kurtosis=10.0,
        abs_acf=(0.294, 0.271, 0.250, 0.252, 0.239, 0.228, 0.234, 0.232, 0.230, 0.221),
        corr_btc=1.0,
        beta_btc=1.0,
        range_to_abs_return=1.57,
        volume_abs_return_corr=0.55,
    ),
    "ETHUSDT": Target(
        vol_ann=0.672,
        kurtosis=126.7,
        abs_acf=(0.310, 0.226, 0.218, 0.212, 0.197, 0.217, 0.246, 0.201, 0.185, 0.163),
        corr_btc=0.770,
        beta_btc=1.54,
        range_to_abs_return=1.85,
        volume_abs_return_corr=0.63,
    ),
    "SOLUSDT": Target(
        vol_ann=0.727,
        kurtosis=49.8,
        abs_acf=(0.248, 0.200, 0.195, 0.186, 0.170, 0.161, 0.174, 0.174, 0.160, 0.152),
        corr_btc=0.745,
        beta_btc=1.61,
        range_to_abs_return=1.84,
        volume_abs_return_corr=0.54,
    ),
    "BNBUSDT": Target(
        vol_ann=0.306,
        kurtosis=11.1,
        abs_acf=(0.244, 0.216, 0.202, 0.208, 0.180, 0.192, 0.187, 0.199, 0.185, 0.186),
        corr_btc=0.653,
        beta_btc=0.59,
        range_to_abs_return=1.52,
        volume_abs_return_corr=0.41,
    ),
}

# Intraday seasonality: mean |1m return| per UTC hour over the mean, averaged over the four files
# (the US session 13:00-22:00 UTC is busiest, 04:00-07:00 quietest).
HOUR_ABS_RETURN_PROFILE: tuple[float, ...] = (
    1.22, 1.08, 0.96, 0.85, 0.72, 0.71, 0.75, 0.77, 0.83, 0.83, 0.83, 0.79,
    0.88, 1.23, 1.33, 1.17, 1.19, 1.18, 1.12, 1.09, 1.14, 1.20, 1.16, 0.97,
)  # fmt: skip
# Mean 1m volume per UTC hour over the mean (same files).
HOUR_VOLUME_PROFILE: tuple[float, ...] = (
    1.24, 0.89, 0.76, 0.67, 0.53, 0.55, 0.61, 0.70, 0.75, 0.85, 0.83, 0.80,
    1.02, 1.63, 1.72, 1.37, 1.33, 1.27, 1.05, 1.11, 1.30, 1.08, 1.10, 0.83,
)  # fmt: skip
# Mean |1m return| per weekday (Monday first) over the mean, averaged over the four files: weekends quiet.
WEEKDAY_ABS_RETURN_PROFILE: tuple[float, ...] = (1.11, 1.09, 1.04, 1.05, 1.10, 0.74, 0.91)

# Real liquidation counts (../shared/data/bybit/multi-venue-1h-funding/liquidation_volume.parquet, daily,
# 2025-12-07 -> 2026-01-31): median per day BTC 2,336 (max 9,470), ETH 757, SOL 527, DOGE 109; median
# BTC liquidated notional per day $24M (about $10k per liquidation).
LIQUIDATIONS_PER_DAY_MEDIAN: dict[str, float] = {"BTC": 2336.0, "ETH": 757.0, "SOL": 527.0, "DOGE": 109.0}
# Real Bybit funding (funding_rates.parquet, 1,092 settlements per coin, 2025-03 -> 2026-03): BTC percentiles
# 10/50/90 = -0.000022 / 0.000039 / 0.0001, 20 % of settlements exactly at the 0.0001 interest rate.
FUNDING_BTC_PERCENTILES: tuple[float, float, float] = (-0.000022, 0.000039, 0.0001)


def log_returns(close: np.ndarray) -> np.ndarray:
    """1m log returns of a close series."""
    c = np.asarray(close, dtype=np.float64)
    return np.diff(np.log(c))


def annualised_vol(r: np.ndarray) -> float:
    """Annualised volatility of 1m log returns."""
    return float(np.std(r) * np.sqrt(MINUTES_PER_YEAR))


def excess_kurtosis(r: np.ndarray) -> float:
    """Excess kurtosis (0 for a normal distribution)."""
    z = (r - r.mean()) / r.std()
    return float(np.mean(z**4) - 3.0)


def abs_autocorrelation(r: np.ndarray, lags: int = 10) -> list[float]:
    """Autocorrelation of |r| at lags 1..`lags`."""
    a = np.abs(r)
    a = a - a.mean()
    var = float(np.mean(a * a))
    return [float(np.mean(a[:-k] * a[k:]) / var) for k in range(1, lags + 1)]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equally long series."""
    return float(np.corrcoef(a, b)[0, 1])


@dataclass(frozen=True, slots=True)
class ReturnStats:
    """The calibrated statistics of one 1m close series."""

    vol_ann: float
    kurtosis: float
    abs_acf: list[float]
    """Lags 1..10."""


def return_stats(close: np.ndarray) -> ReturnStats:
    """Annualised vol, excess kurtosis and |r| autocorrelation (lags 1..10) of a 1m close series."""
    r = log_returns(close)
    return ReturnStats(annualised_vol(r), excess_kurtosis(r), abs_autocorrelation(r))
