"""Collector configuration: typed, immutable, validated at load."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from asym.domain import Interval, PeriodInterval
from asym.market.reference import ReferenceConfig


class CollectorConfig(BaseModel):
    """What one collection cycle gathers, for which symbols, and how often."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols: tuple[str, ...] | None = Field(None, description="fixed symbol list; None = the whole universe")
    min_turnover_24h: Decimal = Field(Decimal(0), ge=0, description="universe filter: 24h turnover in USDT")
    max_symbols: int | None = Field(None, ge=1, description="keep only the N symbols with the most turnover")
    cycle_seconds: float = Field(1800.0, gt=0, description="time between cycle starts (default 30 min)")
    candles: dict[Interval, int] = Field(
        default_factory=lambda: {Interval.H1: 200, Interval.M5: 288},
        description="kline interval -> lookback in candles",
    )
    book_depth: int = Field(25, ge=1, le=500)
    funding_limit: int = Field(100, ge=1, le=200, description="settled funding rates kept (8h each)")
    oi_interval: PeriodInterval = PeriodInterval.H1
    oi_limit: int = Field(48, ge=2, le=200)
    ls_period: PeriodInterval = PeriodInterval.H1
    ls_limit: int = Field(48, ge=1, le=500)
    liquidation_window_s: int = Field(3600, ge=60, description="liquidations kept for nearby_liquidations")
    concurrency: int = Field(32, ge=1, le=512, description="symbols collected at once (the client paces)")
    streams: bool = Field(True, description="WebSocket streams for books, tickers and liquidations")
    book_stream_max_age_ms: int = Field(
        5_000, ge=100, description="a streamed book older than this is refetched"
    )
    reference: ReferenceConfig | None = Field(
        None, description="a second exchange (through ccxt) whose last prices cross-check the venue's"
    )

    @field_validator("candles")
    @classmethod
    def _lookbacks(cls, v: dict[Interval, int]) -> dict[Interval, int]:
        for interval, n in v.items():
            if not 2 <= n <= 5000:
                raise ValueError(f"lookback for interval {interval.value} must be 2..5000, got {n}")
        return v
