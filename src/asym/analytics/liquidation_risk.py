"""Liquidation-risk bucket from liquidation activity, leverage crowding and volatility.

    score = w_activity * liq_activity + w_crowding * crowding + w_volatility * volatility   (0..1)
    bucket = EXTREME if score >= liq_risk_extreme, HIGH if >= liq_risk_high,
             MEDIUM if >= liq_risk_medium, LOW otherwise
(components in asym.analytics.components). Unknown when liquidations, turnover or volatility are missing.
"""

from __future__ import annotations

from asym.analytics.config import AnalyticsConfig
from asym.domain import LiquidationRisk


def liquidation_risk_score(
    activity: float, crowding: float, volatility: float, config: AnalyticsConfig
) -> float:
    """Weighted sum of the three components (weights sum to 1), in 0..1."""
    s = (
        config.liq_risk_weight_activity * activity
        + config.liq_risk_weight_crowding * crowding
        + config.liq_risk_weight_volatility * volatility
    )
    return min(1.0, max(0.0, s))


def liquidation_risk_bucket(score: float, config: AnalyticsConfig) -> LiquidationRisk:
    """The bucket of a score; each threshold belongs to the higher bucket."""
    if score >= config.liq_risk_extreme:
        return LiquidationRisk.EXTREME
    if score >= config.liq_risk_high:
        return LiquidationRisk.HIGH
    if score >= config.liq_risk_medium:
        return LiquidationRisk.MEDIUM
    return LiquidationRisk.LOW


def liquidation_risk(
    activity: float | None, crowding: float | None, volatility: float | None, config: AnalyticsConfig
) -> LiquidationRisk | None:
    """Bucket of the combined score, or None when any of the three components is unknown."""
    if activity is None or crowding is None or volatility is None:
        return None
    return liquidation_risk_bucket(liquidation_risk_score(activity, crowding, volatility, config), config)
