"""Rate limits over real HTTP: 10006 with Bybit's headers, batches counted per order, the 403 IP ban."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from asym.sim.server.testing import running_simulator

from .conftest import Api

pytestmark = pytest.mark.timeout(60)


async def test_endpoint_limit_answers_10006_with_headers() -> None:
    async with running_simulator(symbols=2) as sim, aiohttp.ClientSession() as s:
        api = Api(s, sim)
        answers = [await api.get("/v5/account/fee-rate", "category=linear", signed=True) for _ in range(7)]
    codes = [body["retCode"] for _, _, body in answers]
    # fee-rate allows 5 per rolling second; 7 quick calls: the 6th and 7th are refused (HTTP 200).
    assert codes[:5] == [0] * 5 and codes[5:] == [10006, 10006], codes
    for i, (status, headers, _) in enumerate(answers):
        assert status == 200
        assert headers["X-Bapi-Limit"] == "5"
        assert headers["X-Bapi-Limit-Status"] == str(max(0, 4 - i))
        assert int(headers["X-Bapi-Limit-Reset-Timestamp"]) > 0
    status, headers, body = answers[5]
    assert body["retMsg"] == "Too many visits!"
    reset = int(headers["X-Bapi-Limit-Reset-Timestamp"])
    assert 0 < reset - time.time() * 1000 <= 1000, "resets when the oldest hit leaves the 1 s window"


async def test_public_endpoints_carry_no_limit_headers() -> None:
    async with running_simulator(symbols=2) as sim, aiohttp.ClientSession() as s:
        status, headers, _ = await Api(s, sim).get("/v5/market/time")
    assert status == 200 and "X-Bapi-Limit" not in headers


async def test_batch_counts_orders_not_requests() -> None:
    async with running_simulator(symbols=2) as sim, aiohttp.ClientSession() as s:
        api = Api(s, sim)
        book = await api.ok("/v5/market/orderbook", "category=linear&symbol=BTCUSDT&limit=1")
        inst = sim.exchange.instrument("BTCUSDT")
        assert inst is not None
        from decimal import Decimal

        price = inst.price.to_str(inst.price.round_int(Decimal(book["b"][0][0]) * Decimal("0.9")))
        items = [
            {
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.001",
                "price": price,
                "orderLinkId": f"rl-{i}",
            }
            for i in range(12)
        ]
        status, headers, out = await api.post(
            "/v5/order/create-batch", {"category": "linear", "request": items}
        )
        assert status == 200 and out["retCode"] == 0
        codes = [e["code"] for e in out["retExtInfo"]["list"]]
        assert codes == [0] * 10 + [10006, 10006], "a 12-order batch against a 10/s budget"
        assert headers["X-Bapi-Limit-Status"] == "0"
        assert [r["orderId"] != "" for r in out["result"]["list"]] == [True] * 10 + [False, False]
        status, _, again = await api.post(
            "/v5/order/create-batch", {"category": "linear", "request": items[:1]}
        )
        assert again["retCode"] == 10006


async def test_ip_limit_bans_with_403_then_recovers() -> None:
    async with running_simulator(symbols=1, ip_ban_seconds=1.0) as sim, aiohttp.ClientSession() as s:
        url = sim.rest_url + "/v5/market/time"

        async def hit() -> int:
            async with s.get(url) as r:
                await r.read()
                return r.status

        statuses: list[int] = []
        for _ in range(14):
            statuses += await asyncio.gather(*(hit() for _ in range(50)))
        assert statuses.count(200) == 600, "600 per 5 s are fine"
        assert statuses.count(403) == 100, "the 601st request and every one after it during the ban"
        first_403 = statuses.index(403)
        assert first_403 == 600
        async with s.get(url) as r:
            assert r.status == 403
            assert "too frequent" in await r.text()
        await asyncio.sleep(1.1)
        async with s.get(url) as r:
            assert r.status == 200, "the ban ended"


async def test_scale_and_switch_off() -> None:
    async with running_simulator(symbols=1, rate_limit_scale=0.4) as sim, aiohttp.ClientSession() as s:
        api = Api(s, sim)
        codes = [
            (await api.get("/v5/account/fee-rate", "category=linear", signed=True))[2]["retCode"]
            for _ in range(3)
        ]
        assert codes == [0, 0, 10006], "5 x 0.4 = 2 per second"
    async with running_simulator(symbols=1, rate_limits=False) as sim, aiohttp.ClientSession() as s:
        api = Api(s, sim)
        codes = [
            (await api.get("/v5/account/fee-rate", "category=linear", signed=True))[2]["retCode"]
            for _ in range(12)
        ]
        assert codes == [0] * 12
