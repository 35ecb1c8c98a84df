"""Fixtures for the monitor tests: a populated StaticSystemView and a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest

from asym.analytics.types import (
    EnhancedData,
    FundingSentiment,
    NearbyLiquidations,
    OiSentiment,
    TechnicalIndicators,
)
from asym.domain import LiquidationRisk, Position, Side
from asym.monitor import (
    AccountSummary,
    DataQuality,
    EquitySample,
    LatencySummary,
    MemoryController,
    Metrics,
    ModeState,
    MonitorConfig,
    RunningMonitor,
    SignalRecord,
    StaticSystemView,
    StreamFreshness,
    serve,
)
from asym.monitor.health import HealthRegistry, standard_checks
from asym.trading.modes import Mode

TOKEN = "test-token-0123456789abcdef"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def enhanced(symbol: str, last: str, *, flags: tuple[str, ...] = ()) -> EnhancedData:
    """A complete EnhancedData snapshot."""
    return EnhancedData(
        symbol=symbol,
        timestamp=T0,
        last_price=Decimal(last),
        mark_price=Decimal(last),
        index_price=Decimal(last),
        bid_price=Decimal(last) - Decimal("0.1"),
        ask_price=Decimal(last) + Decimal("0.1"),
        volume_24h=Decimal("12345.6"),
        turnover_24h=Decimal("987654321.5"),
        funding_rate=Decimal("0.0001"),
        next_funding_time=T0 + 3_600_000,
        open_interest=Decimal("5000"),
        liquidity_score=0.83,
        liquidation_risk=LiquidationRisk.MEDIUM,
        funding_sentiment=FundingSentiment(
            rate=Decimal("0.0001"), direction="LONGS_PAY", zscore=1.2, pressure="MILD", annualized_pct=10.95
        ),
        oi_sentiment=OiSentiment(
            oi_change_pct=3.1, price_change_pct=1.4, label="LONG_BUILDUP", window_hours=24.0
        ),
        market_risk_score=0.42,
        spread_pct=0.0021,
        nearby_liquidations=NearbyLiquidations(
            count=7,
            notional=Decimal("152000.5"),
            long_count=4,
            long_notional=Decimal("100000"),
            short_count=3,
            short_notional=Decimal("52000.5"),
            band_pct=2.0,
            window_s=3600,
        ),
        order_book_depth=25,
        technical_indicators=TechnicalIndicators(
            rsi_14=61.7,
            atr_14=412.5,
            atr_pct=0.66,
            realized_vol_1h=0.45,
            realized_vol_24h=0.52,
            ema_fast=62010.0,
            ema_slow=61500.0,
            ema_trend="UP",
            bb_width=0.031,
            interval="5",
        ),
        quality_flags=flags,
    )


def position(symbol: str, side: Side, size: str, avg: str, mark: str, upnl: str) -> Position:
    """An open position."""
    return Position(
        symbol=symbol,
        side=side,
        size=Decimal(size),
        avg_price=Decimal(avg),
        mark_price=Decimal(mark),
        leverage=Decimal("3"),
        position_value=Decimal(size) * Decimal(mark),
        unrealised_pnl=Decimal(upnl),
        cum_realised_pnl=Decimal("0"),
        liq_price=Decimal("41000.5"),
        take_profit=Decimal("65000"),
        stop_loss=Decimal("59000"),
        position_im=Decimal("100"),
        position_mm=Decimal("5"),
        updated_time=T0,
    )


def sample_view() -> StaticSystemView:
    """A view with every section populated (numbers chosen so they are easy to find in the page)."""
    curve = [
        EquitySample(ts=T0 + i * 60_000, equity=Decimal("10000") + Decimal(i * 7 % 50) - 20)
        for i in range(120)
    ]
    curve.append(EquitySample(ts=T0 + 120 * 60_000, equity=Decimal("10234.56")))
    return StaticSystemView(
        mode_state=ModeState(mode=Mode.NORMAL, cause="", since_ms=T0),
        account_summary=AccountSummary(
            equity=Decimal("10234.56"),
            available_balance=Decimal("8000.25"),
            unrealised_pnl=Decimal("123.45"),
            realised_pnl=Decimal("111.11"),
            day_start_equity=Decimal("10100.00"),
            peak_equity=Decimal("10300.00"),
        ),
        open_positions=[
            position("BTCUSDT", Side.BUY, "0.015", "61000.5", "62000.1", "14.99"),
            position("ETHUSDT", Side.SELL, "1.2", "3100", "3050.25", "59.70"),
        ],
        equity_points=curve,
        signals=[
            SignalRecord(
                ts=T0 + 60_000,
                symbol="BTCUSDT",
                action="LONG",
                outcome="accepted",
                rationale="Funding neutral, OI building with price; R:R 3.1 to the range high.",
                confidence=0.72,
                reward_risk=Decimal("3.1"),
                model_id="rules-v1",
            ),
            SignalRecord(
                ts=T0,
                symbol="SOLUSDT",
                action="",
                outcome="rejected",
                reason="reward_risk_below_min: net R:R 1.4 < 2",
                model_id="deepseek-chat",
            ),
        ],
        enhanced={
            "BTCUSDT": enhanced("BTCUSDT", "62000.1"),
            "ETHUSDT": enhanced("ETHUSDT", "3050.25", flags=("book_stale",)),
        },
        quality=DataQuality(
            events_by_kind={"stale": 3, "crossed_book": 1},
            freshness=(
                StreamFreshness(stream="ticker", age_s=1.5, max_age_s=5.0),
                StreamFreshness(stream="book", age_s=2.0, max_age_s=5.0),
            ),
            usable_share=0.9,
        ),
        latency=[
            LatencySummary(
                endpoint="/v5/market/kline", count=40, errors=1, p50_ms=12.5, p95_ms=40.0, p99_ms=88.0
            )
        ],
    )


@pytest.fixture
def view() -> StaticSystemView:
    """A populated view."""
    return sample_view()


@pytest.fixture
def monitor_server() -> Callable[..., AbstractAsyncContextManager[tuple[RunningMonitor, dict[str, Any]]]]:
    """`async with monitor_server(view, **config) as (running, parts)`: a real server on 127.0.0.1:0."""

    @asynccontextmanager
    async def run(
        view: StaticSystemView, *, controller: Any = None, health: bool = True, **cfg: Any
    ) -> AsyncIterator[tuple[RunningMonitor, dict[str, Any]]]:
        cfg.setdefault("host", "127.0.0.1")
        cfg.setdefault("port", 0)
        config = MonitorConfig(**cfg)
        ctl = controller or MemoryController(view)
        metrics = Metrics()
        registry = HealthRegistry()
        if health:
            standard_checks(registry, view)
        running = await serve(view, ctl, metrics, config, health=registry)
        try:
            yield running, {"controller": ctl, "metrics": metrics, "health": registry, "config": config}
        finally:
            await running.stop()

    return run


class ThreadedMonitor:
    """A monitor server running in its own thread and event loop (for synchronous clients)."""

    def __init__(self, view: StaticSystemView, **cfg: Any) -> None:
        import asyncio
        import threading

        cfg.setdefault("host", "127.0.0.1")
        cfg.setdefault("port", 0)
        self.view = view
        self.controller = MemoryController(view)
        self.config = MonitorConfig(**cfg)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._running: RunningMonitor | None = None
        self._thread = threading.Thread(target=self._run, name="monitor-test-server", daemon=True)

    def _run(self) -> None:
        import asyncio

        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            registry = HealthRegistry()
            standard_checks(registry, self.view)
            self._running = await serve(self.view, self.controller, Metrics(), self.config, health=registry)
            self._started.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()
        assert self._running is not None
        self._loop.run_until_complete(self._running.stop())
        self._loop.close()

    @property
    def url(self) -> str:
        """Base URL."""
        assert self._running is not None
        return self._running.url

    def __enter__(self) -> ThreadedMonitor:
        self._thread.start()
        assert self._started.wait(30), "monitor did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
