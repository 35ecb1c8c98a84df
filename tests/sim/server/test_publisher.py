"""The publisher and the REST shell under load-shaped scenarios: books publish only when the market
moved, one message reaches every subscriber as the same bytes (counted per subscriber), a cold
all-symbols request does not hold other requests back, and the dedicated-process GC tuning is undone."""

from __future__ import annotations

import asyncio
import gc
import json

import aiohttp
import pytest

from asym.sim.clock import ManualClock
from asym.sim.config import SimConfig
from asym.sim.server.app import GC_THRESHOLDS, SimServer
from asym.sim.server.testing import running_simulator

from .test_ws_public import LocalBook, recv, recv_topic

pytestmark = pytest.mark.timeout(60)
START_MS = 1_750_000_000_000


async def _frames(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> list[dict[str, object]]:
    out = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            msg = await ws.receive(timeout=left)
        except TimeoutError:
            break
        out.append(json.loads(msg.data))
    return out


async def test_books_and_tickers_publish_only_when_market_time_moves() -> None:
    clock = ManualClock(START_MS)
    server = SimServer(SimConfig(symbols=5, rate_limits=False, start_ms=START_MS), clock)
    await server.start()
    try:
        async with aiohttp.ClientSession() as s, s.ws_connect(server.ws_public_url) as ws:
            topics = ["orderbook.50.BTCUSDT", "tickers.BTCUSDT", "orderbook.50.ETHUSDT"]
            await ws.send_json({"op": "subscribe", "args": topics})
            assert (await recv(ws))["success"] is True
            books = {}
            for _ in range(3):
                m = await recv(ws)
                if m["topic"].startswith("orderbook"):
                    books[m["topic"]] = LocalBook(m)
            assert await _frames(ws, 0.4) == [], "market time stood still: nothing may be published"
            deltas = 0
            for _ in range(5):
                clock.advance(100)  # one book step
                got = await _frames(ws, 0.3)
                for m in got:
                    if m["topic"] in books:
                        books[m["topic"]].apply(m)  # consistent against the last published state
                        deltas += 1
                assert len([m for m in got if m["topic"] == "tickers.BTCUSDT"]) <= 1
            assert deltas >= 5
            # After the steps the published books equal fresh snapshots of the same state.
            async with s.ws_connect(server.ws_public_url) as ws2:
                await ws2.send_json({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
                snap = await recv_topic(ws2, "orderbook.50.BTCUSDT")
                fresh = LocalBook(snap)
                assert (fresh.bids, fresh.asks, fresh.u) == (
                    books["orderbook.50.BTCUSDT"].bids,
                    books["orderbook.50.BTCUSDT"].asks,
                    books["orderbook.50.BTCUSDT"].u,
                )
    finally:
        await server.stop()


async def test_one_message_reaches_every_subscriber_and_is_counted_per_subscriber() -> None:
    async with (
        running_simulator(symbols=3, rate_limits=False) as sim,
        aiohttp.ClientSession() as s,
        s.ws_connect(sim.ws_public_url) as a,
        s.ws_connect(sim.ws_public_url) as b,
    ):
        assert sim.server is not None
        hub = sim.server.hub
        topics = ["orderbook.50.SOLUSDT", "tickers.SOLUSDT"]
        for ws in (a, b):
            await ws.send_json({"op": "subscribe", "args": topics})
            assert (await recv(ws))["success"] is True
        sent_before = {t: hub.streams[t].sent for t in topics}
        published_before = hub.published
        got_a = await _frames(a, 1.0)
        got_b = await _frames(b, 0.3)
        sent = {t: hub.streams[t].sent - sent_before[t] for t in topics}
        assert sent["orderbook.50.SOLUSDT"] >= 5
        # Counted once per subscriber (two), each message framed once for both.
        assert hub.published - published_before == 2 * sum(sent.values())
        by_u_a = {(m["topic"], m["data"]["u"]): m for m in got_a if str(m["topic"]).startswith("orderbook")}  # type: ignore[index]
        by_u_b = {(m["topic"], m["data"]["u"]): m for m in got_b if str(m["topic"]).startswith("orderbook")}  # type: ignore[index]
        common = set(by_u_a) & set(by_u_b)
        assert len(common) >= 3
        assert all(by_u_a[k] == by_u_b[k] for k in common)


async def test_cold_all_symbol_tickers_do_not_hold_back_other_requests() -> None:
    async with running_simulator(symbols=60, rate_limits=False) as sim, aiohttp.ClientSession() as s:
        market = sim.exchange.market
        assert not any(market.built(i.symbol) for i in market.instruments())  # type: ignore[attr-defined]
        order: list[str] = []

        async def get(path: str, tag: str) -> dict[str, object]:
            async with s.get(sim.rest_url + path) as r:
                body = await r.json()
            order.append(tag)
            return body

        all_tickers = asyncio.create_task(get("/v5/market/tickers?category=linear", "all"))
        await asyncio.sleep(0.05)  # the building has started
        one = await get("/v5/market/tickers?category=linear&symbol=SOLUSDT", "one")
        body = await all_tickers
        assert order == ["one", "all"], "a single ticker waited for 60 symbols to be built"
        assert one["retCode"] == 0 and body["retCode"] == 0
        assert len(body["result"]["list"]) == 60  # type: ignore[index]
        assert all(market.built(i.symbol) for i in market.instruments())  # type: ignore[attr-defined]


async def test_dedicated_process_gc_tuning_is_undone_on_stop() -> None:
    saved = gc.get_threshold()
    server = SimServer(SimConfig(symbols=3, rate_limits=False), warm_up=True)
    await server.start()
    try:
        assert gc.get_threshold() == GC_THRESHOLDS
        for _ in range(200):
            if server._warm_task is not None and server._warm_task.done():
                break
            await asyncio.sleep(0.02)
        assert all(server.exchange.market.built(i.symbol) for i in server.exchange.instruments())  # type: ignore[attr-defined]
    finally:
        await server.stop()
    assert gc.get_threshold() == saved
    assert gc.get_freeze_count() == 0
