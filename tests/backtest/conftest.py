"""Shared builders for the backtest tests: synthetic candles (fast, no files) and the shared data sets."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import structlog

from asym.backtest.data import MarketData, SymbolData, load_files, symbol_data, trim
from asym.domain import Candle, FundingRate, Interval

HOUR = 3_600_000
DAY = 86_400_000
T0 = 1_748_736_000_000  # 2025-06-01 00:00 UTC


@pytest.fixture(autouse=True)
def _quiet_logs() -> Iterator[None]:
    """The session logs every decision at INFO; these tests read results, not logs (restored after)."""
    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    yield
    structlog.configure(**previous)


def synthetic(
    symbol: str = "BTCUSDT",
    *,
    start: int = T0 - 10 * DAY,
    n: int = 24 * 30,
    interval: Interval = Interval.H1,
    price: float = 50_000.0,
    amp: float = 0.03,
    period: float = 96.0,
    funding_rate: str = "0.0001",
) -> SymbolData:
    """Deterministic candles: a slow sine around `price` (+-amp), ranges of 0.4 %, 8h funding."""
    tick = Decimal("0.1") if price > 1000 else Decimal("0.0001")
    candles = []
    prev = Decimal(str(price)).quantize(tick)
    for i in range(n):
        c = Decimal(str(price * (1 + amp * math.sin(2 * math.pi * i / period)))).quantize(tick)
        hi = (max(prev, c) * Decimal("1.002")).quantize(tick)
        lo = (min(prev, c) * Decimal("0.998")).quantize(tick)
        candles.append(
            Candle(
                symbol=symbol,
                interval=interval,
                start=start + i * interval.ms,
                open=prev,
                high=hi,
                low=lo,
                close=c,
                volume=Decimal(1000),
                turnover=(Decimal(1000) * c).quantize(Decimal("0.01")),
            )
        )
        prev = c
    end = start + n * interval.ms
    rates = [
        FundingRate(symbol=symbol, rate=Decimal(funding_rate), ts=ts)
        for ts in range(start - start % (8 * HOUR) + 8 * HOUR, end, 8 * HOUR)
    ]
    return symbol_data(symbol, candles, rates, "synthetic")


def market(*symbols: SymbolData) -> MarketData:
    """MarketData of the given series."""
    return MarketData({s.symbol: s for s in symbols})


@pytest.fixture(scope="session")
def multi_venue(shared_data: Path) -> MarketData:
    """Bybit 1h candles and funding of BTC, ETH and SOL, the whole year (loaded once)."""
    return load_files(shared_data / "bybit" / "multi-venue-1h-funding", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])


def window(data: MarketData, start: int, end: int) -> MarketData:
    """Candles in [start, end)."""
    return trim(data, start, end)
