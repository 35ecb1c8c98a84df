"""Configuration of the signal layer: validation thresholds, rule-model thresholds, concurrency."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class ValidationConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds of semantic validation (docs/signals.md explains every one)."""

    min_reward_risk: Decimal = Decimal("2.5")
    entry_fee_rate: Decimal = Decimal("0.00055")
    """Fee on entry as a fraction of notional; Bybit's base taker rate (taker both ways by default)."""
    exit_fee_rate: Decimal = Decimal("0.00055")
    stop_slippage_rate: Decimal = Decimal(0)
    """Extra adverse fill on the stop, as a fraction of the stop price."""
    funding_interval_hours: int = 8
    unknown_funding_rate: Decimal = Decimal("0.0001")
    """Funding rate assumed (adverse) when the data has none: Bybit's baseline 0.01 % per 8 h."""
    min_stop_atr: Decimal = Decimal("0.5")
    max_stop_atr: Decimal = Decimal(5)
    min_stop_pct: Decimal = Decimal("0.2")
    """Stop distance bounds in percent of entry, used only when ATR is unavailable."""
    max_stop_pct: Decimal = Decimal(10)
    max_limit_distance_atr: Decimal = Decimal(2)
    max_limit_distance_pct: Decimal = Decimal(1)
    """Limit-distance bound in percent of mark, used only when ATR is unavailable."""
    min_leverage: Decimal = Decimal(1)
    max_leverage: Decimal = Decimal(10)
    maintenance_margin_rate: Decimal = Decimal("0.005")
    liquidation_safety: Decimal = Decimal("0.8")
    """The stop may use at most this share of the distance to the (isolated-margin) liquidation price."""
    max_targets: int = 4
    min_horizon_hours: Decimal = Decimal("0.25")
    max_horizon_hours: Decimal = Decimal(168)
    min_confidence: Decimal = Decimal(0)
    max_rationale_chars: int = 300
    allow_add_to_position: bool = False
    """When False a LONG while long (SHORT while short) is a `position_conflict` rejection."""


class RuleConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds of the deterministic `rules` model (docs/signals.md, section Rule model)."""

    max_market_risk: float = 0.75
    close_market_risk: float = 0.9
    min_liquidity: float = 0.2
    max_spread_pct: float = 0.15
    min_atr_frac: float = 0.0002
    max_atr_frac: float = 0.10
    max_daily_loss_pct: float = 5.0
    rsi_oversold: float = 30.0
    rsi_overbought: float = 70.0
    fade_rsi_long: float = 35.0
    fade_rsi_short: float = 65.0
    cluster_min_count: int = 5
    cluster_dominance: float = 3.0
    entry_score: int = 3
    stop_atr: float = 1.5
    cluster_stop_extra_atr: float = 0.5
    min_stop_atr: float = 1.0
    max_stop_atr: float = 4.0
    min_target_r: float = 3.0
    second_target_mult: float = 1.5
    max_target_atr: float = 12.0
    rr_margin: float = 1.05
    max_leverage: int = 5
    leverage_stop_safety: float = 2.0
    """Liquidation must be at least this many stop distances away."""
    horizon_candles: int = 24
    min_horizon_hours: float = 1.0
    max_horizon_hours: float = 72.0


class SignalConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Everything `generate_signals` and the models need besides the model itself."""

    validation: ValidationConfig = msgspec.field(default_factory=ValidationConfig)
    rules: RuleConfig = msgspec.field(default_factory=RuleConfig)
    max_concurrency: int = 100
    """Assets processed at once (each provider has its own limit as well)."""
    max_prompt_chars: int = 6000
