"""Funding sentiment: who pays whom, how extreme the current rate is, and against the symbol's history.

direction      = LONGS_PAY if rate > 0, SHORTS_PAY if rate < 0, NEUTRAL if rate == 0
rate_8h        = rate * 8 / interval_hours                      (rate per 8 hours, a fraction)
pressure       = NONE    if |rate_8h| <= funding_pressure_mild
                 MILD    if |rate_8h| <= funding_pressure_strong
                 STRONG  if |rate_8h| <= funding_pressure_extreme
                 EXTREME otherwise
annualized_pct = rate * (24 / interval_hours) * 365 * 100
zscore         = (rate - mean(h)) / max(std(h), funding_zscore_std_floor), h = the last
                 funding_history_window settled rates (population std); None below funding_min_history
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

import numpy as np

from asym.analytics.config import AnalyticsConfig
from asym.analytics.quality import Flags, floats
from asym.analytics.types import FundingDirection, FundingSentiment
from asym.domain import FundingRate

Pressure = Literal["NONE", "MILD", "STRONG", "EXTREME"]


def rate_per_8h(rate: float, interval_hours: float) -> float:
    """The rate scaled to an 8-hour funding interval (Bybit's usual one) so symbols compare."""
    return rate * 8.0 / interval_hours


def funding_direction(rate: Decimal) -> FundingDirection:
    """LONGS_PAY for a positive rate, SHORTS_PAY for a negative one, NEUTRAL for exactly zero."""
    if rate > 0:
        return "LONGS_PAY"
    if rate < 0:
        return "SHORTS_PAY"
    return "NEUTRAL"


def funding_pressure(rate_8h: float, config: AnalyticsConfig) -> Pressure:
    """Bucket of |rate per 8h|; each threshold belongs to the lower bucket."""
    a = abs(rate_8h)
    if a <= config.funding_pressure_mild:
        return "NONE"
    if a <= config.funding_pressure_strong:
        return "MILD"
    if a <= config.funding_pressure_extreme:
        return "STRONG"
    return "EXTREME"


def annualized_pct(rate: float, interval_hours: float) -> float:
    """Simple (not compounded) annualised rate in percent: rate x settlements per year x 100."""
    return rate * (24.0 / interval_hours) * 365.0 * 100.0


def clean_history(
    history: Sequence[FundingRate] | None, symbol: str, now_ms: int, flags: Flags, max_abs: float = 0.1
) -> np.ndarray | None:
    """Settled rates (oldest first) at or before now as floats; flags missing or invalid entries."""
    if not history:
        flags.add("funding_history_missing")
        return None
    rates = floats([h.rate for h in history])
    ts = np.fromiter((h.ts for h in history), dtype=np.int64, count=len(history))
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(rates) & (np.abs(rates) <= max_abs)
    valid &= np.fromiter((h.symbol == symbol for h in history), dtype=bool, count=len(history))
    if not np.all(valid):
        flags.add("funding_history_invalid")
    keep = valid & (ts <= now_ms)
    if not np.any(keep):
        flags.add("funding_history_missing")
        return None
    order = np.argsort(ts[keep], kind="stable")
    return rates[keep][order]


def history_stats(history: np.ndarray | None, config: AnalyticsConfig) -> tuple[float, float] | None:
    """(mean, population std) of the last funding_history_window settled rates; None below
    funding_min_history (the z-score is then None)."""
    if history is None or len(history) < config.funding_min_history:
        return None
    h = history[-config.funding_history_window :]
    return float(np.mean(h)), float(np.std(h))


def zscore_from_stats(
    rate: float, stats: tuple[float, float] | None, config: AnalyticsConfig
) -> float | None:
    """(rate - mean) / max(std, funding_zscore_std_floor), or None without stats."""
    if stats is None:
        return None
    mean, sd = stats
    return (rate - mean) / max(sd, config.funding_zscore_std_floor)


def funding_zscore(rate: float, history: np.ndarray | None, config: AnalyticsConfig) -> float | None:
    """z-score of `rate` against the last funding_history_window settled rates, or None if too few."""
    return zscore_from_stats(rate, history_stats(history, config), config)


def funding_sentiment(
    rate: Decimal,
    interval_hours: float,
    history: np.ndarray | None,
    config: AnalyticsConfig,
) -> FundingSentiment:
    """The FundingSentiment of the current (validated, finite) rate."""
    return sentiment_from_stats(rate, interval_hours, history_stats(history, config), config)


def sentiment_from_stats(
    rate: Decimal, interval_hours: float, stats: tuple[float, float] | None, config: AnalyticsConfig
) -> FundingSentiment:
    """funding_sentiment with the history's (mean, std) already known (`history_stats`)."""
    r = float(rate)
    return FundingSentiment(
        rate=rate,
        direction=funding_direction(rate),
        zscore=zscore_from_stats(r, stats, config),
        pressure=funding_pressure(rate_per_8h(r, interval_hours), config),
        annualized_pct=annualized_pct(r, interval_hours),
    )
