"""Cross-validation against a second exchange through unmodified ccxt: a second simulator plays it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient
from asym.domain import Interval
from asym.errors import ConfigError
from asym.market.collector import Collector
from asym.market.config import CollectorConfig
from asym.market.quality import QualityKind, ValidationConfig
from asym.market.reference import (
    CcxtReference,
    ReferenceConfig,
    linear_usdt_index,
    rehost,
    ticker_prices,
)
from asym.market.results import CycleResult
from asym.sim.server.testing import running_simulator

START_MS = 1_760_000_000_000
SMALL: dict[str, Any] = {
    "candles": {Interval.H1: 30},
    "oi_limit": 4,
    "ls_limit": 4,
    "funding_limit": 4,
    "streams": False,
}


def _market(symbol: str, mid: str, **kw: object) -> dict[str, object]:
    base = mid.removesuffix("USDT")
    return {
        "id": mid,
        "symbol": symbol,
        "base": base,
        "quote": "USDT",
        "settle": "USDT",
        "swap": True,
        "linear": True,
        "active": True,
    } | kw


def test_rehost_moves_scheme_and_host_and_keeps_paths() -> None:
    api = {
        "public": "https://api.{hostname}",
        "fapiPublic": "https://fapi.binance.com/fapi/v1?x=1",
        "ws": {"public": "wss://stream.example/ws"},
        "n": 3,
    }
    out = rehost(api, "http://127.0.0.1:9000")
    assert out == {
        "public": "http://127.0.0.1:9000",
        "fapiPublic": "http://127.0.0.1:9000/fapi/v1?x=1",
        "ws": {"public": "wss://stream.example/ws"},  # not REST: untouched
        "n": 3,
    }


def test_symbols_map_to_linear_usdt_perpetuals_only() -> None:
    markets = {
        "BTC/USDT:USDT": _market("BTC/USDT:USDT", "BTCUSDT"),
        "PEPE/USDT:USDT": _market("PEPE/USDT:USDT", "1000PEPEUSDT", base="PEPE"),
        "ETH/USDT": _market("ETH/USDT", "ETHUSDT", swap=False),  # spot
        "ETH/USD:ETH": _market("ETH/USD:ETH", "ETHUSD", linear=False, settle="ETH", quote="USD"),
        "SOL/USDC:USDC": _market("SOL/USDC:USDC", "SOLUSDC", settle="USDC", quote="USDC"),
        "OLD/USDT:USDT": _market("OLD/USDT:USDT", "OLDUSDT", active=False),
    }
    index = linear_usdt_index(markets)
    assert index["BTCUSDT"] == "BTC/USDT:USDT"
    assert index["1000PEPEUSDT"] == "PEPE/USDT:USDT"  # by the exchange's own id
    assert index["PEPEUSDT"] == "PEPE/USDT:USDT"  # and by base + quote
    assert "ETHUSDT" not in index and "SOLUSDT" not in index and "OLDUSDT" not in index


def test_reference_prices_are_never_repaired() -> None:
    index = {s: f"{s[:-4]}/USDT:USDT" for s in ("A1USDT", "A2USDT", "A3USDT", "A4USDT", "A5USDT", "A6USDT")}
    now = 1_000_000
    tickers: dict[str, dict[str, object]] = {
        "A1/USDT:USDT": {"last": 0.1 + 0.2, "timestamp": now},
        "A2/USDT:USDT": {"last": float("nan"), "timestamp": now},
        "A3/USDT:USDT": {"last": 0.0, "timestamp": now},
        "A4/USDT:USDT": {"last": 42000.5, "timestamp": now - 60_001},  # too old
        "A5/USDT:USDT": {"last": True, "timestamp": now},  # not a number
        "A6/USDT:USDT": {"last": 7, "timestamp": None},  # no timestamp: accepted
    }
    got = ticker_prices(tickers, index, [*index, "NOPEUSDT"], now, 60_000)
    assert got == {"A1USDT": Decimal("0.30000000000000004"), "A6USDT": Decimal("7")}


def test_an_unknown_exchange_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown ccxt exchange id 'nosuchexchange'"):
        CcxtReference(ReferenceConfig(exchange="nosuchexchange"))


async def test_the_second_exchange_agrees_and_disagrees_through_ccxt() -> None:
    async with (
        running_simulator(symbols=3, rate_limits=False, seed=5, start_ms=START_MS) as venue,
        running_simulator(symbols=3, rate_limits=False, seed=5, start_ms=START_MS) as twin,
        running_simulator(symbols=3, rate_limits=False, seed=99, start_ms=START_MS) as other,
        BybitClient(venue.rest_url, Credentials(venue.api_key, venue.api_secret)) as client,
    ):

        async def cycle(url: str, validation: ValidationConfig | None = None) -> CycleResult:
            ref = ReferenceConfig(exchange="bybit", name="second", url=url)
            config = CollectorConfig(**SMALL, reference=ref)
            collector = Collector(client, config, validation=validation or ValidationConfig())
            try:
                return await collector.collect_once()
            finally:
                await collector.close()

        # The same market (same seed and start) agrees: no reference event, no flag.
        same = await cycle(twin.rest_url)
        assert len(same.universe) == 3 and same.failures == {}
        assert not [e for e in same.quality.events if e.source == "reference"]
        assert not any("reference" in f for r in same.results for f in r.enhanced.quality_flags)
        # ... and that is because the prices were compared, not because there were none.
        twin_ref = CcxtReference(ReferenceConfig(exchange="bybit", url=twin.rest_url))
        try:
            prices = await twin_ref.prices(same.universe, START_MS)
        finally:
            await twin_ref.close()
        assert set(prices) == set(same.universe)
        for r in same.results:
            assert r.inputs.ticker is not None
            assert abs(prices[r.symbol] / r.inputs.ticker.last_price - 1) < Decimal("0.01")

        # Another market disagrees beyond a tight tolerance: one event per symbol, flagged.
        tight = ValidationConfig(default_cross_tolerance_pct=Decimal("0.0001"))
        diff = await cycle(other.rest_url, tight)
        events = [e for e in diff.quality.events if e.source == "reference"]
        assert {e.symbol for e in events} == set(diff.universe)
        assert all(e.kind is QualityKind.SOURCE_MISMATCH and e.field == "last~second" for e in events)
        assert all("reference_source_mismatch" in r.enhanced.quality_flags for r in diff.results)

        # A reference that cannot be reached: the cycle completes, every symbol says so.
        down = await cycle("http://127.0.0.1:9")
        assert down.completeness.ratio == 1.0
        assert down.failures == {"reference:RetryableError": 1}
        # The reference's call is not a venue request (the cycle's floor counts the venue's only).
        plain = Collector(client, CollectorConfig(**SMALL))
        try:
            assert (await plain.collect_once()).requests == same.requests == down.requests
        finally:
            await plain.close()
        assert all("reference_unavailable:second" in r.enhanced.quality_flags for r in down.results)
