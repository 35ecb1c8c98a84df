"""Private WebSocket over real sockets: auth (number and string expires), topics, account events."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from asym.sim.clock import wall_ms
from asym.sim.server.testing import RunningSimulator, ws_auth_args

from .conftest import Api

pytestmark = pytest.mark.timeout(60)


async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def test_auth_number_expires_without_req_id(sim: RunningSimulator) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_private_url) as ws:
        await ws.send_json({"op": "auth", "args": ws_auth_args(sim.api_key, sim.api_secret)})
        ack = await recv(ws)
        assert ack == {"success": True, "ret_msg": "", "op": "auth", "conn_id": ack["conn_id"]}
        await ws.send_json({"op": "ping", "req_id": "p"})
        pong = await recv(ws)
        assert pong["op"] == "pong" and pong["req_id"] == "p" and pong["args"][0].isdigit()
        await ws.send_json({"op": "auth", "args": ws_auth_args(sim.api_key, sim.api_secret)})
        assert (await recv(ws))["success"] is False, "repeat auth"


async def test_auth_string_expires_with_req_id(sim: RunningSimulator) -> None:
    args = ws_auth_args(sim.api_key, sim.api_secret)
    args[1] = str(args[1])
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_private_url) as ws:
        await ws.send_json({"req_id": "10001", "op": "auth", "args": args})
        ack = await recv(ws)
        assert ack["success"] is True and ack["req_id"] == "10001"


@pytest.mark.parametrize("case", ["bad-sig", "expired", "unknown-key"])
async def test_auth_failures_answer_params_error(sim: RunningSimulator, case: str) -> None:
    args = ws_auth_args(sim.api_key, sim.api_secret)
    if case == "bad-sig":
        args[2] = "0" * 64
    elif case == "expired":
        args = ws_auth_args(sim.api_key, sim.api_secret, expires_ms=wall_ms() - 1000)
    else:
        args[0] = "someone-else"
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_private_url) as ws:
        await ws.send_json({"op": "subscribe", "args": ["order"]})
        assert (await recv(ws))["ret_msg"] == "Request not authorized"
        await ws.send_json({"op": "auth", "args": args})
        nack = await recv(ws)
        assert nack["success"] is False and nack["ret_msg"] == "Params Error" and nack["op"] == "auth"
        assert sim.api_secret not in json.dumps(nack)


async def test_account_events_after_a_market_order(sim: RunningSimulator, api: Api) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_private_url) as ws:
        await ws.send_json({"op": "auth", "args": ws_auth_args(sim.api_key, sim.api_secret)})
        await recv(ws)
        await ws.send_json(
            {"op": "subscribe", "req_id": 3, "args": ["order", "execution", "position", "wallet"]}
        )
        ack = await recv(ws)
        assert ack["success"] is True and ack["req_id"] == 3 and ack["op"] == "subscribe"
        await api.ok_post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.002",
                "orderLinkId": "ws-1",
            },
        )
        by_topic: dict[str, list[dict[str, Any]]] = {}
        end = time.monotonic() + 10
        while time.monotonic() < end and not {"order", "execution", "position", "wallet"} <= set(by_topic):
            m = await recv(ws)
            assert set(m) == {"id", "topic", "creationTime", "data"} and isinstance(m["creationTime"], int)
            by_topic.setdefault(m["topic"], []).extend(m["data"])
        statuses = [o["orderStatus"] for o in by_topic["order"] if o["orderLinkId"] == "ws-1"]
        assert statuses[-1] == "Filled"
        assert all(o["category"] == "linear" for o in by_topic["order"])
        execs = [e for e in by_topic["execution"] if e["orderLinkId"] == "ws-1"]
        assert sum(Decimal(e["execQty"]) for e in execs) == Decimal("0.002")
        for e in execs:
            assert Decimal(e["execFee"]) == Decimal(e["execValue"]) * Decimal("0.00055")
        pos = [p for p in by_topic["position"] if p["symbol"] == "BTCUSDT"][-1]
        assert (
            pos["size"] == "0.002" and pos["side"] == "Buy" and "entryPrice" in pos and "avgPrice" not in pos
        )
        rest_pos = (await api.ok("/v5/position/list", "category=linear&symbol=BTCUSDT", signed=True))["list"][
            0
        ]
        assert pos["entryPrice"] == rest_pos["avgPrice"]
        wallet = by_topic["wallet"][-1]
        assert wallet["accountType"] == "UNIFIED" and wallet["coin"][0]["coin"] == "USDT"


async def test_categorised_topics_and_mixing_rule(sim: RunningSimulator, api: Api) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_private_url) as ws:
        await ws.send_json({"op": "auth", "args": ws_auth_args(sim.api_key, sim.api_secret)})
        await recv(ws)
        await ws.send_json({"op": "subscribe", "args": ["order", "order.linear"]})
        assert (await recv(ws))["success"] is False
        await ws.send_json({"op": "subscribe", "args": ["order.linear", "nonsense"]})
        assert (await recv(ws))["success"] is False
        await ws.send_json({"op": "subscribe", "args": ["order.linear"]})
        assert (await recv(ws))["success"] is True
        await api.ok_post(
            "/v5/order/create",
            {"category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Market", "qty": "0.05"},
        )
        m = await recv(ws)
        assert m["topic"] == "order.linear" and m["data"][0]["symbol"] == "ETHUSDT"
        await ws.send_json({"op": "unsubscribe", "req_id": "bye", "args": ["order.linear"]})
        assert (await recv(ws))["req_id"] == "bye"
        assert sim.server is not None and "order.linear" not in sim.server.hub.private
