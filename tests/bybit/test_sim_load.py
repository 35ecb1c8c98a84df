"""The IP limit: a load that breaks the venue's IP limit gets a raw aiohttp client banned (HTTP 403), while
asym's client, under the same load, paces itself below the limit and is never banned.

Full scale (Bybit's 600 / 5 s, asym's default 550 / 5 s) and a scaled venue (120 / 5 s, client 110 / 5 s:
the same ratio) where the throttling is exercised even when a busy machine serves requests slowly."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from asym.bybit import ClientConfig, CountingObserver, TransportConfig
from asym.bybit.ratelimit import IpGate

from .conftest import client_for


async def _raw_load(url: str, n: int) -> list[int]:
    statuses: list[int] = []
    sem = asyncio.Semaphore(32)
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            async with sem:
                full = f"{url}/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit={1 + i % 200}"
                async with session.get(full) as resp:
                    await resp.read()
                    statuses.append(resp.status)

        sent = 0
        while 403 not in statuses and sent < 3 * n:  # as fast as the venue answers, until it bans us
            await asyncio.gather(*(one(sent + i) for i in range(n)))
            sent += n
    return statuses


async def _client_load(
    sim: Any, n: int, config: ClientConfig | None
) -> tuple[CountingObserver, list[float], float]:
    obs = CountingObserver()
    admitted: list[float] = []

    class LoggedGate(IpGate):  # the real gate decides; this only logs when it lets a request through
        def _grant(self) -> None:
            admitted.append(time.monotonic())
            super()._grant()

    async with client_for(sim, config, obs, keys=False) as c:
        old = c.transport.gate
        c.transport.gate = LoggedGate(old.window.limit, old.window.window_s)
        sem = asyncio.Semaphore(32)

        async def one(i: int) -> int:
            async with sem:
                book = await c.get_orderbook("BTCUSDT", 1 + i % 200)  # distinct URLs: no coalescing
                return len(book.bids)

        start = time.monotonic()
        depths = await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.monotonic() - start
    assert depths == [1 + i % 200 for i in range(n)]  # every request answered, complete
    return obs, admitted, elapsed


def _max_in_window(stamps: list[float], window_s: float = 5.0) -> int:
    return max(sum(1 for t in stamps[i:] if t < a + window_s) for i, a in enumerate(stamps))


async def test_full_scale_raw_client_is_banned_asym_is_not(simulator: Any) -> None:
    async with simulator(symbols=1, ip_ban_seconds=60) as sim:
        statuses = await _raw_load(sim.rest_url, 700)
    assert 403 in statuses and statuses.count(200) <= 600  # banned as soon as a window saw > 600
    async with simulator(symbols=1, ip_ban_seconds=60) as sim:
        obs, admitted, elapsed = await _client_load(sim, 700, None)
    assert obs.error_count(http_status=403) == 0  # never banned
    assert _max_in_window(admitted) <= 550
    if obs.waits["ip"]:  # the venue answered fast enough for the limit to matter
        assert elapsed >= 4.5


async def test_scaled_venue_throttling_is_exercised(simulator: Any) -> None:
    async with simulator(symbols=1, ip_ban_seconds=60, rate_limit_scale=0.2) as sim:
        statuses = await _raw_load(sim.rest_url, 150)
    assert 403 in statuses and statuses.count(200) <= 120
    cfg = ClientConfig(transport=TransportConfig(ip_limit=110))
    async with simulator(symbols=1, ip_ban_seconds=60, rate_limit_scale=0.2) as sim:
        obs, admitted, elapsed = await _client_load(sim, 150, cfg)
    assert obs.error_count(http_status=403) == 0
    assert _max_in_window(admitted) <= 110
    assert obs.waits["ip"] > 0 and elapsed >= 4.5  # 150 requests need a second window: it waited
