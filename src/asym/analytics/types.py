"""The enhanced per-asset data structure (the system's specification names these keys).

Produced by `asym.analytics` from collected market data, consumed by `asym.signals` and `asym.trading`.
Scores and indicators are floats (they are statistics, not money); market prices stay Decimal.
A value that could not be computed is None and the reason is in `quality_flags`: never a silent 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

from asym.domain import LiquidationRisk

Trend = Literal["UP", "DOWN", "FLAT"]
FundingDirection = Literal["LONGS_PAY", "SHORTS_PAY", "NEUTRAL"]
OiLabel = Literal["LONG_BUILDUP", "SHORT_BUILDUP", "LONG_UNWINDING", "SHORT_COVERING", "NEUTRAL"]


class FundingSentiment(msgspec.Struct, frozen=True, kw_only=True):
    """Who pays whom, and how extreme the current rate is against the symbol's own history."""

    rate: Decimal
    direction: FundingDirection
    zscore: float | None
    """Current rate vs the funding history (None when history is too short)."""
    pressure: Literal["NONE", "MILD", "STRONG", "EXTREME"]
    annualized_pct: float


class OiSentiment(msgspec.Struct, frozen=True, kw_only=True):
    """Open-interest trend against price trend over the same window."""

    oi_change_pct: float
    price_change_pct: float
    label: OiLabel
    window_hours: float


class NearbyLiquidations(msgspec.Struct, frozen=True, kw_only=True):
    """Liquidations within +-band_pct of the current price over the window."""

    count: int
    notional: Decimal
    long_count: int
    long_notional: Decimal
    short_count: int
    short_notional: Decimal
    band_pct: float
    window_s: int


class TechnicalIndicators(msgspec.Struct, frozen=True, kw_only=True):
    """Standard indicators (TA-Lib) and custom statistics; None when the input was too short."""

    rsi_14: float | None
    atr_14: float | None
    atr_pct: float | None
    realized_vol_1h: float | None
    """Annualised realised volatility from the last hour of 5m returns."""
    realized_vol_24h: float | None
    """Annualised realised volatility from the last 24 hours of 1h returns."""
    ema_fast: float | None
    ema_slow: float | None
    ema_trend: Trend | None
    bb_width: float | None
    """Bollinger band width (upper - lower) / middle, 20 periods, 2 sigma."""
    interval: str
    """Kline interval the indicators were computed on."""


class EnhancedData(msgspec.Struct, frozen=True, kw_only=True):
    """Everything asym knows about one asset at one instant, for signals and risk."""

    symbol: str
    timestamp: int
    last_price: Decimal
    mark_price: Decimal | None
    index_price: Decimal | None
    bid_price: Decimal | None
    ask_price: Decimal | None
    volume_24h: Decimal | None
    turnover_24h: Decimal | None
    funding_rate: Decimal | None
    next_funding_time: int | None
    open_interest: Decimal | None
    liquidity_score: float | None
    liquidation_risk: LiquidationRisk | None
    funding_sentiment: FundingSentiment | None
    oi_sentiment: OiSentiment | None
    market_risk_score: float | None
    spread_pct: float | None
    nearby_liquidations: NearbyLiquidations | None
    order_book_depth: int
    technical_indicators: TechnicalIndicators | None
    quality_flags: tuple[str, ...] = ()
    """Problems with this snapshot's inputs, e.g. 'book_stale', 'funding_history_missing'."""

    @property
    def is_degraded(self) -> bool:
        """True when any input was missing or failed validation."""
        return bool(self.quality_flags)
