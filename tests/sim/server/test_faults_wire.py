"""Fault injection over real sockets: each kind observed by a client, and writes failing after applying."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import aiohttp
import pytest

from asym.sim.server.testing import RunningSimulator, auth_headers, running_simulator

from .conftest import Api

pytestmark = pytest.mark.timeout(60)


async def test_error_rate_gives_10006_10016_and_5xx_only() -> None:
    async with (
        running_simulator(symbols=1, rate_limits=False, faults="error_rate=1") as sim,
        aiohttp.ClientSession() as s,
    ):
        api = Api(s, sim)
        seen: dict[str, int] = {}
        for _ in range(60):
            status, headers, body = await api.get("/v5/market/time")
            if status == 200:
                assert body["retCode"] in (10006, 10016), body
                if body["retCode"] == 10006:
                    assert {"X-Bapi-Limit", "X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp"} <= set(
                        headers
                    )
                key = str(body["retCode"])
            else:
                assert status in (500, 502, 503)
                key = "5xx"
            seen[key] = seen.get(key, 0) + 1
        assert set(seen) == {"10006", "10016", "5xx"}, seen


async def test_reset_drops_the_connection() -> None:
    async with (
        running_simulator(symbols=1, rate_limits=False, faults="reset_rate=1") as sim,
        aiohttp.ClientSession() as s,
    ):
        with pytest.raises(aiohttp.ClientError):
            async with s.get(sim.rest_url + "/v5/market/time") as r:
                await r.read()


async def test_hang_holds_until_the_client_gives_up_and_stop_releases_it() -> None:
    async with running_simulator(symbols=1, rate_limits=False, faults="hang_rate=1,hang_s=30") as sim:
        async with aiohttp.ClientSession() as s:
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                async with s.get(
                    sim.rest_url + "/v5/market/time", timeout=aiohttp.ClientTimeout(total=0.5)
                ) as r:
                    await r.read()
            assert time.monotonic() - started >= 0.5
        stop_started = time.monotonic()
    assert time.monotonic() - stop_started < 10, "shutdown does not wait for the 30 s hang"


async def test_latency_is_added() -> None:
    async with (
        running_simulator(symbols=1, rate_limits=False, faults="latency_ms=150") as sim,
        aiohttp.ClientSession() as s,
    ):
        started = time.monotonic()
        body = await Api(s, sim).ok("/v5/market/time")
        assert body["timeSecond"]
        assert time.monotonic() - started >= 0.15


async def _place(api: Api, link: str) -> tuple[int, Any]:
    body = {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Market",
        "qty": "0.001",
        "orderLinkId": link,
    }
    try:
        status, _, out = await api.post("/v5/order/create", body)
    except aiohttp.ClientError:
        return -1, None
    return status, out


@pytest.mark.parametrize(("share", "applied"), [("1", 1), ("0", 0)])
async def test_write_faults_before_and_after_applying(share: str, applied: int) -> None:
    """write_after_share=1: the order exists although the client saw a failure; 0: it never happened."""
    spec = f"error_rate=0.5,reset_rate=0.5,write_after_share={share}"
    async with (
        running_simulator(symbols=1, rate_limits=False, faults=spec) as sim,
        aiohttp.ClientSession() as s,
    ):
        api = Api(s, sim)
        for i in range(6):
            status, out = await _place(api, f"f-{i}")
            assert status == -1 or status >= 500 or out["retCode"] in (10006, 10016), (status, out)
            assert sim.exchange.engine.order_count_by_link_id(sim.exchange.uid, f"f-{i}") == applied


async def test_ws_drop_every_closes_connections() -> None:
    async with (
        running_simulator(symbols=1, rate_limits=False, faults="ws_drop_every_s=0.3") as sim,
        aiohttp.ClientSession() as s,
        s.ws_connect(sim.ws_public_url) as ws,
    ):
        await ws.send_json({"op": "subscribe", "args": ["tickers.BTCUSDT"]})
        started = time.monotonic()
        while True:
            msg = await ws.receive(timeout=10)
            if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                break
        assert time.monotonic() - started < 5, "dropped on the 0.3 s period, not by an idle timeout"


async def _book_messages(
    sim: RunningSimulator, seconds: float, topic: str = "orderbook.50.BTCUSDT"
) -> list[Any]:
    out: list[Any] = []
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
        await ws.send_json({"op": "subscribe", "args": [topic, "tickers.BTCUSDT"]})
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                msg = await ws.receive(timeout=max(0.05, end - time.monotonic()))
            except TimeoutError:
                break
            if msg.type == aiohttp.WSMsgType.TEXT:
                out.append(msg.data)
    return out


async def test_seq_gap_skips_deltas() -> None:
    async with running_simulator(symbols=1, rate_limits=False, faults="seq_gap_rate=0.5") as sim:
        raw = await _book_messages(sim, 1.5)
    us = [m["data"]["u"] for m in map(json.loads, raw) if m.get("topic") == "orderbook.50.BTCUSDT"]
    jumps = [b - a for a, b in itertools.pairwise(us)]
    assert jumps and all(j >= 1 for j in jumps)
    assert any(j >= 2 for j in jumps), "a skipped delta shows as a jump of u"


async def test_malformed_messages_are_invalid_json() -> None:
    async with running_simulator(symbols=1, rate_limits=False, faults="malformed_rate=1") as sim:
        raw = await _book_messages(sim, 1.0)
    published = raw[3:]  # the ack and the two snapshots are answers, not published messages
    assert published
    for text in published:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)


async def test_stale_book_freezes_the_book_but_not_tickers() -> None:
    async with running_simulator(
        symbols=1, rate_limits=False, faults="stale_book_rate=1,stale_book_s=60"
    ) as sim:
        raw = await _book_messages(sim, 1.5)
    topics = [json.loads(m).get("topic") for m in raw if m.startswith("{")]
    book = [m for m in map(json.loads, raw) if m.get("topic") == "orderbook.50.BTCUSDT"]
    assert [m["type"] for m in book] == ["snapshot"], "frozen: no delta after the snapshot"
    assert topics.count("tickers.BTCUSDT") >= 3, "the rest of the feed keeps flowing"


async def test_fault_counts_and_signed_requests_under_faults() -> None:
    async with (
        running_simulator(symbols=1, rate_limits=False, faults="error_rate=0.5") as sim,
        aiohttp.ClientSession() as s,
    ):
        ok = 0
        for _ in range(30):
            q = "accountType=UNIFIED"
            async with s.get(
                f"{sim.rest_url}/v5/account/wallet-balance?{q}",
                headers=auth_headers(sim.api_key, sim.api_secret, q),
            ) as r:
                body = json.loads(await r.text()) if r.content_type == "application/json" else None
                ok += int(r.status == 200 and body is not None and body["retCode"] == 0)
        assert 5 < ok < 25
        assert sim.server is not None and sim.server.rest.faults is not None
        assert sum(sim.server.rest.faults.counts.values()) == 30 - ok
