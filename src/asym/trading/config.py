"""Risk configuration of the trading engine: every limit, with its documented default (docs/trading.md).

Fractions are of account equity unless stated otherwise; money and rates are Decimal, scores are floats
(they are statistics). A `RiskConfig` validates itself on construction and raises `ConfigError` naming the
setting and the reason, so a bad limit can never silently disable a check.
"""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec

from asym.domain import TriggerBy
from asym.errors import ConfigError

_ZERO = Decimal(0)
_ONE = Decimal(1)

DEFAULT_BLOCKING_FLAGS: tuple[str, ...] = (
    "no_valid_price",
    "bad_price",
    "price_fallback",
    "ticker_",
    "book_",
    "bid_ask_missing",
    "candles_missing",
    "candles_symbol_mismatch",
    "candles_interval_unknown",
    "bad_value",
)
"""Quality-flag prefixes that make an asset's data unusable for a new position (prices, book, candles).

Flags about secondary inputs (funding or OI history too short, L/S ratio missing) do not block."""


class RiskConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Every limit the risk engine enforces; defaults are the project's documented defaults."""

    risk_per_trade: Decimal = Decimal("0.01")
    """Loss at the stop (incl. fees and slippage) as a fraction of equity: 1 %."""
    max_leverage: Decimal = Decimal(5)
    """Leverage cap; the signal's leverage is lowered to this (and to the instrument's maximum)."""
    max_concurrent_positions: int = 5
    """Open positions plus pending entries, counted per symbol."""
    max_symbol_exposure: Decimal = Decimal("1.5")
    """Notional of one symbol (position + pending entry) as a fraction of equity."""
    max_total_exposure: Decimal = Decimal(3)
    """Gross notional of all positions and pending entries as a fraction of equity."""
    max_correlated_exposure: Decimal = Decimal(2)
    """Same-direction notional of BTC-correlated symbols as a fraction of equity."""
    uncorrelated_symbols: frozenset[str] = frozenset()
    """Symbols NOT counted as BTC-correlated; by default every crypto perpetual is counted."""
    min_reward_risk: Decimal = Decimal("2.5")
    """Minimum net reward/risk, both as the signal computed it and recomputed on the rounded plan."""
    max_market_risk_score: float = 0.75
    """New positions are refused when the asset's market_risk_score is above this."""
    refuse_unknown_market_risk: bool = True
    """A missing market_risk_score refuses the trade (never read as a silent 0)."""
    max_data_age_ms: int = 120_000
    """Enhanced data older than this (now - timestamp) refuses the trade."""
    max_clock_skew_ms: int = 5_000
    """Enhanced data stamped further than this in the future refuses the trade."""
    blocking_quality_flags: tuple[str, ...] = DEFAULT_BLOCKING_FLAGS
    """Flag prefixes that refuse the trade (a flag blocks when it starts with one of them)."""
    block_on_any_quality_flag: bool = False
    """When True any quality flag at all refuses the trade."""
    daily_loss_limit: Decimal = Decimal("0.03")
    """Loss since UTC midnight, as a fraction of that midnight's equity, that enters emergency mode."""
    max_drawdown: Decimal = Decimal("0.10")
    """Drawdown from peak equity that enters emergency mode."""
    taker_fee_rate: Decimal = Decimal("0.00055")
    """Fee per side as a fraction of notional; sizing assumes taker on entry and on the stop."""
    entry_slippage_rate: Decimal = Decimal("0.0005")
    """Adverse fill assumed on a market entry, as a fraction of the mark (sizing uses the worse price)."""
    stop_slippage_rate: Decimal = Decimal("0.0005")
    """Adverse fill assumed when the stop triggers, as a fraction of the stop price."""
    margin_buffer: Decimal = Decimal("0.95")
    """Share of the available balance that margin plus entry fee of a new position may use."""
    maintenance_margin_rate: Decimal = Decimal("0.005")
    liquidation_safety: Decimal = Decimal("0.8")
    """The stop may use at most this share of the distance to the isolated-margin liquidation price."""
    fallback_stop_fraction: Decimal = Decimal("0.02")
    """Distance from the mark of a protective stop placed on a position that has none and no known stop."""
    stop_trigger_by: TriggerBy = TriggerBy.MARK
    """Price the stop watches: the mark resists single-trade wicks on thin books."""
    tp_trigger_by: TriggerBy = TriggerBy.LAST
    min_tp_leg_fraction: Decimal = Decimal(0)
    """Partial take-profit legs smaller than this share of the position are merged into the next leg."""

    def __post_init__(self) -> None:
        _fraction("risk_per_trade", self.risk_per_trade, upper=Decimal("0.1"))
        _positive("max_leverage", self.max_leverage)
        if self.max_concurrent_positions < 1:
            raise ConfigError(f"max_concurrent_positions must be >= 1, got {self.max_concurrent_positions}")
        for name in (
            "max_symbol_exposure",
            "max_total_exposure",
            "max_correlated_exposure",
            "min_reward_risk",
        ):
            _positive(name, getattr(self, name))
        _score("max_market_risk_score", self.max_market_risk_score)
        if self.max_data_age_ms <= 0 or self.max_clock_skew_ms < 0:
            raise ConfigError("max_data_age_ms must be > 0 and max_clock_skew_ms >= 0")
        _fraction("daily_loss_limit", self.daily_loss_limit, upper=_ONE)
        _fraction("max_drawdown", self.max_drawdown, upper=_ONE)
        for name in (
            "taker_fee_rate",
            "entry_slippage_rate",
            "stop_slippage_rate",
            "maintenance_margin_rate",
        ):
            _rate(name, getattr(self, name))
        _fraction("margin_buffer", self.margin_buffer, upper=_ONE)
        _fraction("liquidation_safety", self.liquidation_safety, upper=_ONE)
        _fraction("fallback_stop_fraction", self.fallback_stop_fraction, upper=Decimal("0.5"))
        _rate("min_tp_leg_fraction", self.min_tp_leg_fraction)
        if self.min_tp_leg_fraction >= 1:
            raise ConfigError(f"min_tp_leg_fraction must be < 1, got {self.min_tp_leg_fraction}")


def _finite(name: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ConfigError(f"{name} must be a finite Decimal, got {value!r}")


def _positive(name: str, value: Decimal) -> None:
    _finite(name, value)
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value}")


def _fraction(name: str, value: Decimal, *, upper: Decimal) -> None:
    _finite(name, value)
    if not _ZERO < value <= upper:
        raise ConfigError(f"{name} must be in (0, {upper}], got {value}")


def _rate(name: str, value: Decimal) -> None:
    _finite(name, value)
    if not _ZERO <= value < Decimal("0.1"):
        raise ConfigError(f"{name} must be in [0, 0.1), got {value}")


def _score(name: str, value: float) -> None:
    if not isinstance(value, float | int) or not math.isfinite(value) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a score in [0, 1], got {value!r}")
