"""market_risk_score: one 0..1 number of how risky the asset is to trade right now.

    score = w_vol * volatility + w_liq * liq_activity + w_fund * funding
          + w_liquidity * (1 - liquidity_score) + w_quality * min(1, n_flags / data_quality_full_flags)

Components are those of asym.analytics.components. A component whose input is missing counts as 1
(the worst): missing data never makes an asset look safer, and its flag also raises the data-quality
term. Hence the score is monotone: worsening any input never lowers it.
"""

from __future__ import annotations

from asym.analytics.config import AnalyticsConfig

_WORST = 1.0


def data_quality_component(n_flags: int, config: AnalyticsConfig) -> float:
    """min(1, n_flags / data_quality_full_flags)."""
    return min(1.0, n_flags / config.data_quality_full_flags)


def market_risk_score(
    *,
    volatility: float | None,
    liq_activity: float | None,
    funding: float | None,
    liquidity_score: float | None,
    n_flags: int,
    config: AnalyticsConfig,
) -> float:
    """The weighted combination above; None inputs count as the worst value of their component."""
    s = (
        config.risk_weight_volatility * (_WORST if volatility is None else volatility)
        + config.risk_weight_liquidations * (_WORST if liq_activity is None else liq_activity)
        + config.risk_weight_funding * (_WORST if funding is None else funding)
        + config.risk_weight_liquidity * (_WORST if liquidity_score is None else 1.0 - liquidity_score)
        + config.risk_weight_data_quality * data_quality_component(n_flags, config)
    )
    return min(1.0, max(0.0, s))
