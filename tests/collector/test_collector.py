"""The collector against the real simulator over real sockets (REST + WebSocket)."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from asym.analytics import to_json_dict
from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient
from asym.domain import Interval
from asym.errors import RetryableError
from asym.market.collector import Collector
from asym.market.config import CollectorConfig
from asym.market.results import CycleResult
from asym.market.validation import find_candle_gaps
from asym.sim.server.testing import RunningSimulator, running_simulator


def _small_kwargs() -> dict[str, Any]:
    return {
        "candles": {Interval.H1: 60, Interval.M5: 60},
        "oi_limit": 24,
        "ls_limit": 24,
        "funding_limit": 30,
    }


ENHANCED_KEYS = {
    "liquidity_score",
    "liquidation_risk",
    "funding_sentiment",
    "oi_sentiment",
    "market_risk_score",
    "spread_pct",
    "nearby_liquidations",
    "order_book_depth",
    "technical_indicators",
}
SMALL = CollectorConfig(**_small_kwargs())


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator(symbols=6, rate_limits=False, speed=60) as s:
        yield s


async def _client(sim: RunningSimulator) -> BybitClient:
    return await BybitClient(sim.rest_url, Credentials(sim.api_key, sim.api_secret)).start()


async def test_one_cycle_is_complete_and_in_range(sim: RunningSimulator) -> None:
    client = await _client(sim)
    collector = Collector(client, SMALL)
    try:
        result = await collector.collect_once()
    finally:
        await collector.close()
        await client.close()
    assert len(result.universe) == 6
    assert result.completeness.ratio == 1.0, result.completeness.missing
    assert not result.failures
    for r in result.results:
        e = r.enhanced
        doc = to_json_dict(e)
        assert doc.keys() >= ENHANCED_KEYS
        assert e.last_price > 0
        assert e.liquidity_score is not None and 0 <= e.liquidity_score <= 1
        assert e.market_risk_score is not None and 0 <= e.market_risk_score <= 1
        assert e.spread_pct is not None and e.spread_pct >= 0
        assert e.order_book_depth == 25
        assert e.technical_indicators is not None and e.technical_indicators.rsi_14 is not None
        assert e.funding_sentiment is not None and e.oi_sentiment is not None
        assert e.nearby_liquidations is not None
        book = r.inputs.book
        assert book is not None and book.bids[0][0] < book.asks[0][0]
        assert len(r.inputs.candles["60"]) >= 60


async def test_second_cycle_fetches_only_what_is_new(sim: RunningSimulator) -> None:
    client = await _client(sim)
    collector = Collector(client, SMALL)
    try:
        first = await collector.collect_once()
        second = await collector.collect_once()
    finally:
        await collector.close()
        await client.close()
    # First cycle: instruments + tickers, then per symbol 2 kline series + book + funding + OI + ratio.
    assert first.requests >= 2 + 6 * 5
    # Second cycle: funding is not due, OI/ratio not due within the hour, books come from the stream.
    assert second.requests < first.requests / 2
    assert second.completeness.ratio == 1.0


async def test_trades_stream_between_cycles_and_a_quiet_stream_is_flagged_stale(
    sim: RunningSimulator,
) -> None:
    client = await _client(sim)
    collector = Collector(client, SMALL)
    try:
        symbols = set((await collector.collect_once()).universe)
        ok = False
        for _ in range(100):  # the simulator trades on every tick; at x60 each symbol trades within 1 s
            if symbols <= collector.last_trades.keys():
                ok = True
                break
            await asyncio.sleep(0.05)
        assert ok, symbols - collector.last_trades.keys()
        assert all(t.symbol == s and t.price > 0 for s, t in collector.last_trades.items())
        ages = collector.freshness.snapshot(collector.clock())["trade"]
        assert symbols <= ages.keys() and max(ages.values()) < 5_000
    finally:
        await collector.close()

    # A trade stream that goes quiet for longer than its threshold (60 s) is reported, not trusted.
    now = [collector.clock()]
    quiet = Collector(_QuietTrades(client), SMALL, clock=lambda: now[0])
    try:
        await quiet.collect_once()
        now[0] += 61_000
        result = await quiet.collect_once()
    finally:
        await quiet.close()
        await client.close()
    for r in result.results:
        assert "trade_stale" in r.enhanced.quality_flags, r.enhanced.quality_flags
    assert not quiet.last_trades


class _QuietTrades:
    """The real client, except that its trade streams never deliver (a market where nothing trades)."""

    def __init__(self, client: BybitClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def stream_trades(self, symbol: str, *args: Any) -> Any:
        return _Silent()


class _Silent:
    def __aiter__(self) -> _Silent:
        return self

    async def __anext__(self) -> Any:
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        return None


class _FailingFunding:
    """The real client with one endpoint failing: pins *which* input is missing (the simulator's own
    fault injection is random across endpoints; it is exercised in the fault test below)."""

    def __init__(self, client: BybitClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def get_funding_history(self, *args: Any, **kwargs: Any) -> Any:
        raise RetryableError("funding endpoint down (test)", endpoint="/v5/market/funding/history")


async def test_missing_input_is_flagged_not_zero_filled(sim: RunningSimulator) -> None:
    client = await _client(sim)
    collector = Collector(_FailingFunding(client), SMALL)
    try:
        result = await collector.collect_once()
    finally:
        await collector.close()
        await client.close()
    assert result.failures.get("funding:RetryableError") == 6
    for r in result.results:
        e = r.enhanced
        assert r.inputs.funding_history is None
        assert "funding_fetch_failed" in e.quality_flags
        assert any(f.startswith("funding") for f in e.quality_flags)
        # Basic market data is still delivered.
        assert e.last_price > 0 and e.spread_pct is not None
        assert e.technical_indicators is not None
    missing = {f for _, f in result.completeness.missing}
    assert missing == {"funding"}


async def test_cycles_under_faults_stay_complete_or_flagged() -> None:
    faults = ",".join(
        [
            "error_rate=0.1",
            "latency_ms=1-5",
            "reset_rate=0.02",
            "ws_drop_every_s=3",
            "seq_gap_rate=0.02",
            "malformed_rate=0.01",
        ]
    )
    async with running_simulator(symbols=4, rate_limits=False, speed=120, faults=faults, seed=11) as sim:
        client = await _client(sim)
        collector = Collector(client, SMALL)
        assert sim.server is not None and sim.server.rest.faults is not None
        injected = sim.server.rest.faults.counts
        results: list[CycleResult] = []
        try:
            tracemalloc.start()
            for i in range(6):
                results.append(await collector.collect_once())
                if i == 1:
                    gc.collect()
                    base, _ = tracemalloc.get_traced_memory()
                await asyncio.sleep(0.5)
            gc.collect()
            end, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            await collector.close()
            await client.close()
    for res in results:
        assert len(res.results) == 4
        for r in res.results:
            present = {
                "book": r.inputs.book,
                "funding": r.inputs.funding_history,
                "open_interest": r.inputs.open_interest_history,
            }
            for name, value in present.items():
                # Complete, or explicitly flagged: never silently absent.
                assert value is not None or any(name in f for f in r.enhanced.quality_flags), (name, r.symbol)
            book = r.inputs.book
            if book is not None:
                assert book.bids[0][0] < book.asks[0][0]
                assert list(book.bids) == sorted(book.bids, key=lambda lv: -lv[0])
                assert list(book.asks) == sorted(book.asks, key=lambda lv: lv[0])
            for iv, candles in r.inputs.candles.items():
                starts = candles.start.tolist()  # type: ignore[union-attr]
                assert not find_candle_gaps(starts, Interval(iv)) or any(
                    "gap" in f for f in r.enhanced.quality_flags
                )
    # Faults really happened (REST errors, resets, WS drops, gaps, malformed messages) and were survived.
    assert sum(v for k, v in injected.items() if k.startswith("rest_")) > 0, injected
    assert injected.get("ws_seq_gap", 0) + injected.get("ws_malformed", 0) > 0, injected
    # The process does not grow cycle over cycle (allow for caches filling to their bounds).
    assert end - base < 8 * 1024 * 1024


async def test_json_line_round_trips_exact_decimals(sim: RunningSimulator) -> None:
    client = await _client(sim)
    collector = Collector(client, CollectorConfig(symbols=("BTCUSDT",), streams=False, **_small_kwargs()))
    try:
        result = await collector.collect_once()
    finally:
        await collector.close()
        await client.close()
    assert result.universe == ("BTCUSDT",)
    e = result.results[0].enhanced
    doc = msgspec.json.decode(msgspec.json.encode(to_json_dict(e)))
    assert Decimal(doc["last_price"]) == e.last_price
    assert doc["symbol"] == "BTCUSDT"
