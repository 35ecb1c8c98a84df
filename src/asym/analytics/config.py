"""Every threshold and reference value of the enhanced data, in one frozen config (defaults documented).

docs/enhanced-data.md explains each value; change a default there and here together.
Fractions are written as fractions (0.02 = 2 %), percentages carry `_pct` in their name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from asym.domain import Interval
from asym.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsConfig:
    """Thresholds, reference values and weights of `compute_enhanced`; validated on construction."""

    # --- freshness -------------------------------------------------------------------------------
    ticker_max_age_ms: int = 60_000
    """A ticker older than this (vs `now_ms`) is flagged `ticker_stale` (still used: nothing fresher)."""
    book_max_age_ms: int = 10_000
    """A book older than this is flagged `book_stale` and not used."""
    book_max_mid_deviation_pct: float = 5.0
    """A book whose mid is further than this from the last price is flagged `book_mismatch`, not used."""
    candle_stale_intervals: float = 2.0
    """Candles whose last closed bar ended more than this many intervals before now are stale."""
    candle_max_range_ratio: float = 10.0
    """A bar with high / low above this is a bad print (invalid), not a market move."""
    funding_rate_max_abs: float = 0.1
    """|funding rate| per interval above this is not a real rate (`bad_value:funding_rate`)."""

    # --- order book / liquidity ------------------------------------------------------------------
    book_levels: int = 25
    """Levels per side used from the book."""
    depth_band_pct: float = 1.0
    """Depth is the quote notional of both sides within +-this % of mid."""
    depth_ref_low_quote: float = 1e4
    """Depth (USDT) scoring 0."""
    depth_ref_high_quote: float = 1e7
    """Depth (USDT) scoring 1 (log-scaled in between)."""
    spread_ref_best_pct: float = 0.005
    """Spread (% of mid) scoring 1."""
    spread_ref_worst_pct: float = 0.5
    """Spread (% of mid) scoring 0 (log-scaled in between)."""
    turnover_ref_low_quote: float = 1e6
    """24h turnover (USDT) scoring 0."""
    turnover_ref_high_quote: float = 1e10
    """24h turnover (USDT) scoring 1 (log-scaled in between)."""
    liquidity_weight_depth: float = 0.4
    liquidity_weight_spread: float = 0.3
    liquidity_weight_turnover: float = 0.3

    # --- technical indicators --------------------------------------------------------------------
    indicator_interval: str = "60"
    """Kline interval of RSI, ATR, EMAs and Bollinger width."""
    rsi_period: int = 14
    atr_period: int = 14
    ema_fast_period: int = 20
    ema_slow_period: int = 50
    ema_flat_band: float = 0.002
    """Trend is FLAT while |ema_fast / ema_slow - 1| < this."""
    bb_period: int = 20
    bb_dev: float = 2.0
    vol_short_interval: str = "5"
    vol_short_returns: int = 12
    """realized_vol_1h: std of the last 12 log returns of 5m closes, annualised."""
    vol_long_interval: str = "60"
    vol_long_returns: int = 24
    """realized_vol_24h: std of the last 24 log returns of 1h closes, annualised."""

    # --- funding ---------------------------------------------------------------------------------
    funding_default_interval_hours: int = 8
    """Funding interval assumed when the ticker does not say."""
    funding_history_window: int = 90
    """Settled rates (most recent) the z-score is computed against (90 x 8h = 30 days)."""
    funding_min_history: int = 10
    """Fewer settled rates than this: zscore is None (`funding_history_short`)."""
    funding_zscore_std_floor: float = 1e-5
    """Standard deviation floor of the z-score (history is often constant at the 0.01 % baseline)."""
    funding_pressure_mild: float = 0.0001
    """|rate per 8h| above this is MILD (0.01 % = Bybit's baseline rate is still NONE)."""
    funding_pressure_strong: float = 0.0005
    """|rate per 8h| above this is STRONG."""
    funding_pressure_extreme: float = 0.001
    """|rate per 8h| above this is EXTREME."""

    # --- open interest ---------------------------------------------------------------------------
    oi_window_hours: float = 4.0
    oi_change_threshold_pct: float = 1.0
    """|OI change| below this % is NEUTRAL."""
    oi_price_threshold_pct: float = 0.5
    """|price change| below this % is NEUTRAL."""
    oi_max_age_ms: int = 2 * 3_600_000
    """Latest OI point older than this is `oi_history_stale`."""
    oi_max_window_factor: float = 2.0
    """An OI window longer than this x oi_window_hours (gap in history) is `oi_history_gap`."""
    ls_max_age_ms: int = 2 * 3_600_000
    """Latest long/short ratio older than this is `ls_ratio_stale`."""

    # --- liquidations ----------------------------------------------------------------------------
    liquidation_band_pct: float = 2.0
    """Nearby = liquidation price within +-this % of the current price (inclusive)."""
    liquidation_window_s: int = 3600
    """Only liquidations in (now - window, now] count."""

    # --- risk components (each 0..1) -------------------------------------------------------------
    liq_activity_ref_ratio: float = 0.02
    """Nearby liquidation notional / turnover of the same window length scoring 1 (linear from 0)."""
    vol_risk_low: float = 0.2
    """Annualised volatility (fraction) scoring 0."""
    vol_risk_high: float = 1.5
    """Annualised volatility (fraction) scoring 1 (linear in between)."""
    funding_risk_low: float = 0.0001
    """|rate per 8h| scoring 0 (the baseline)."""
    funding_risk_high: float = 0.001
    """|rate per 8h| scoring 1 (linear in between)."""
    oi_buildup_ref_pct: float = 10.0
    """OI increase (%) over the OI window scoring 1 (decreases score 0)."""
    ls_skew_low: float = 0.1
    """|long share - 0.5| scoring 0."""
    ls_skew_high: float = 0.35
    """|long share - 0.5| scoring 1 (linear in between)."""

    # --- liquidation risk bucket -----------------------------------------------------------------
    liq_risk_weight_activity: float = 0.4
    liq_risk_weight_crowding: float = 0.3
    liq_risk_weight_volatility: float = 0.3
    liq_risk_medium: float = 0.25
    """Combined score >= this is MEDIUM."""
    liq_risk_high: float = 0.5
    """Combined score >= this is HIGH."""
    liq_risk_extreme: float = 0.75
    """Combined score >= this is EXTREME."""

    # --- market risk score -----------------------------------------------------------------------
    risk_weight_volatility: float = 0.30
    risk_weight_liquidations: float = 0.20
    risk_weight_funding: float = 0.15
    risk_weight_liquidity: float = 0.20
    risk_weight_data_quality: float = 0.15
    data_quality_full_flags: int = 4
    """This many quality flags (or more) give the data-quality component 1."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            number = isinstance(value, float | int) and not isinstance(value, bool)
            if number and (not math.isfinite(value) or value < 0):
                raise ConfigError(f"analytics config: {f.name}={value!r} must be a finite number >= 0")
        for name in ("indicator_interval", "vol_short_interval", "vol_long_interval"):
            value = getattr(self, name)
            if value not in {i.value for i in Interval}:
                raise ConfigError(f"analytics config: {name}={value!r} is not a kline interval")
        _ordered(self, "depth_ref_low_quote", "depth_ref_high_quote")
        _ordered(self, "spread_ref_best_pct", "spread_ref_worst_pct")
        _ordered(self, "turnover_ref_low_quote", "turnover_ref_high_quote")
        _ordered(self, "vol_risk_low", "vol_risk_high")
        _ordered(self, "funding_risk_low", "funding_risk_high")
        _ordered(self, "ls_skew_low", "ls_skew_high")
        _ordered(self, "ema_fast_period", "ema_slow_period")
        _ordered(self, "funding_pressure_mild", "funding_pressure_strong")
        _ordered(self, "funding_pressure_strong", "funding_pressure_extreme")
        _ordered(self, "liq_risk_medium", "liq_risk_high")
        _ordered(self, "liq_risk_high", "liq_risk_extreme")
        if min(self.depth_ref_low_quote, self.spread_ref_best_pct, self.turnover_ref_low_quote) <= 0:
            raise ConfigError("analytics config: log-scale reference values must be > 0")
        for name in ("rsi_period", "atr_period", "bb_period", "vol_short_returns", "vol_long_returns"):
            if getattr(self, name) < 2:
                raise ConfigError(f"analytics config: {name} must be >= 2")
        for group in (
            ("liquidity_weight_depth", "liquidity_weight_spread", "liquidity_weight_turnover"),
            ("liq_risk_weight_activity", "liq_risk_weight_crowding", "liq_risk_weight_volatility"),
            (
                "risk_weight_volatility",
                "risk_weight_liquidations",
                "risk_weight_funding",
                "risk_weight_liquidity",
                "risk_weight_data_quality",
            ),
        ):
            total = sum(getattr(self, n) for n in group)
            if abs(total - 1.0) > 1e-9:
                raise ConfigError(f"analytics config: weights {', '.join(group)} must sum to 1 (got {total})")
        if self.candle_max_range_ratio <= 1:
            raise ConfigError("analytics config: candle_max_range_ratio must be > 1")
        if self.data_quality_full_flags < 1 or self.book_levels < 1 or self.funding_min_history < 2:
            raise ConfigError(
                "analytics config: data_quality_full_flags and book_levels must be >= 1, "
                "funding_min_history >= 2"
            )


def _ordered(cfg: AnalyticsConfig, low: str, high: str) -> None:
    if not getattr(cfg, low) < getattr(cfg, high):
        raise ConfigError(f"analytics config: {low} must be < {high}")


DEFAULT_CONFIG = AnalyticsConfig()
"""The documented defaults."""
