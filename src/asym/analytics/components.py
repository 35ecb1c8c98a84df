"""Risk components, each a number in 0..1 that never decreases as its input gets riskier.

volatility      = linear(max(realized_vol_1h, realized_vol_24h), vol_risk_low -> 0, vol_risk_high -> 1)
liq_activity    = linear(nearby_notional / (turnover_24h * window_s / 86400),
                         0 -> 0, liq_activity_ref_ratio -> 1)
funding         = linear(|rate per 8h|, funding_risk_low -> 0, funding_risk_high -> 1)
oi_buildup      = linear(oi_change_pct, 0 -> 0, oi_buildup_ref_pct -> 1)     (falling OI scores 0)
ls_skew         = linear(|long_share - 0.5|, ls_skew_low -> 0, ls_skew_high -> 1)
crowding        = max of the available funding, oi_buildup and ls_skew components
"""

from __future__ import annotations

from asym.analytics.config import AnalyticsConfig
from asym.analytics.quality import linear_score

_DAY_S = 86_400


def volatility_component(
    vol_1h: float | None, vol_24h: float | None, config: AnalyticsConfig
) -> float | None:
    """Score of the larger of the two annualised volatilities; None when neither is known."""
    vols = [v for v in (vol_1h, vol_24h) if v is not None]
    if not vols:
        return None
    return linear_score(max(vols), config.vol_risk_low, config.vol_risk_high)


def liquidation_ratio(nearby_notional: float, turnover_24h: float, window_s: int) -> float:
    """Nearby liquidation notional over the turnover of an average window of the same length."""
    window_turnover = turnover_24h * window_s / _DAY_S
    if window_turnover <= 0:
        return 0.0 if nearby_notional <= 0 else float("inf")
    return nearby_notional / window_turnover


def liquidation_activity(
    nearby_notional: float, turnover_24h: float, window_s: int, config: AnalyticsConfig
) -> float:
    """Score of `liquidation_ratio`: 0 for none, 1 at liq_activity_ref_ratio or more."""
    return linear_score(
        liquidation_ratio(nearby_notional, turnover_24h, window_s), 0.0, config.liq_activity_ref_ratio
    )


def funding_component(rate_8h: float, config: AnalyticsConfig) -> float:
    """Score of |funding rate per 8h| (either sign is crowding: longs or shorts paying)."""
    return linear_score(abs(rate_8h), config.funding_risk_low, config.funding_risk_high)


def oi_buildup_component(oi_change_pct: float, config: AnalyticsConfig) -> float:
    """Score of an open-interest increase over the OI window (new leverage entering)."""
    return linear_score(oi_change_pct, 0.0, config.oi_buildup_ref_pct)


def ls_skew_component(long_share: float, config: AnalyticsConfig) -> float:
    """Score of how one-sided accounts are (long share far from 0.5 either way)."""
    return linear_score(abs(long_share - 0.5), config.ls_skew_low, config.ls_skew_high)


def crowding(funding: float | None, oi_buildup: float | None, ls_skew: float | None) -> float | None:
    """Leverage crowding: the largest available crowding component; None when none is available."""
    parts = [p for p in (funding, oi_buildup, ls_skew) if p is not None]
    return max(parts) if parts else None
