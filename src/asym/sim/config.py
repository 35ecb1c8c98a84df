"""Simulator configuration: typed, immutable, validated at construction."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SimConfig(BaseModel):
    """Everything that shapes one simulator run. The same config and seed give the same market."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols: int = Field(50, ge=1, le=1000, description="number of linear USDT perpetuals listed")
    replay: Path | None = Field(None, description="recorded klines (CSV/Parquet file or folder) to replay")
    seed: int = Field(7, description="seed of every random choice of the market and the faults")
    speed: float = Field(1.0, gt=0, le=100_000, description="market time runs this many times faster")
    start_ms: int | None = Field(None, description="market start time (default: now)")
    history_days: int = Field(30, ge=1, le=400, description="days of 1m history before the start")
    balance_usdt: Decimal = Field(Decimal("100000"), ge=0, description="funded balance of the account")
    api_key: str = Field("asym-sim-key", min_length=1)
    api_secret: str = Field("asym-sim-secret", min_length=1)
    rate_limits: bool = Field(True, description="enforce Bybit's IP and per-endpoint limits")
    rate_limit_scale: float = Field(1.0, gt=0, description="multiply every limit by this")
    ip_ban_seconds: float = Field(600.0, ge=0, description="how long an IP limit breach bans (Bybit: 10 min)")
    faults: str = Field("", description="fault spec, e.g. error_rate=0.1,latency_ms=20-50")
    max_body_bytes: int = Field(1_000_000, ge=1024)
