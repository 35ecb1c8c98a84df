"""Public WebSocket over real sockets: acks, pongs, order-book snapshot/delta consistency, tickers, trades."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from asym.sim.server.testing import RunningSimulator, running_simulator

from .conftest import Api

pytestmark = pytest.mark.timeout(60)


async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def recv_topic(
    ws: aiohttp.ClientWebSocketResponse, topic: str, timeout: float = 10.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        m = await recv(ws, max(0.05, deadline - time.monotonic()))
        if m.get("topic") == topic:
            return m


class LocalBook:
    """A client-side book built the way pybit/ccxt do: snapshot replaces, delta size '0' deletes."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        assert snapshot["type"] == "snapshot"
        self.bids = dict(map(tuple, snapshot["data"]["b"]))
        self.asks = dict(map(tuple, snapshot["data"]["a"]))
        self.u = snapshot["data"]["u"]

    def apply(self, msg: dict[str, Any]) -> None:
        data = msg["data"]
        if msg["type"] == "snapshot":
            self.__init__(msg)  # type: ignore[misc]
            return
        assert data["u"] == self.u + 1, f"u jumped from {self.u} to {data['u']}"
        self.u = data["u"]
        for side, book in (("b", self.bids), ("a", self.asks)):
            for price, size in data[side]:
                if Decimal(size) == 0:
                    assert price in book, f"delete of unpublished level {price}"
                    del book[price]
                else:
                    book[price] = size

    def state(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        bids = sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return bids, asks


async def test_orderbook_deltas_rebuild_the_book_a_fresh_subscriber_sees(sim: RunningSimulator) -> None:
    topic = "orderbook.50.BTCUSDT"
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
        await ws.send_json({"op": "subscribe", "req_id": 17, "args": [topic]})
        ack = await recv(ws)
        assert ack == {
            "success": True,
            "ret_msg": "",
            "conn_id": ack["conn_id"],
            "req_id": 17,
            "op": "subscribe",
        }
        snap = await recv(ws)
        assert snap["topic"] == topic and snap["type"] == "snapshot" and len(snap["data"]["b"]) == 50
        assert (
            isinstance(snap["ts"], int)
            and isinstance(snap["cts"], int)
            and isinstance(snap["data"]["seq"], int)
        )
        book = LocalBook(snap)
        deltas = 0
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            m = await recv_topic(ws, topic)
            assert m["type"] == "delta" and set(m["data"]) == {"s", "b", "a", "u", "seq"}
            book.apply(m)
            bids, asks = book.state()
            assert len(bids) == 50 and len(asks) == 50
            assert Decimal(bids[0][0]) < Decimal(asks[0][0])
            deltas += 1
        assert deltas >= 3, "a live market changes its book every 100 ms"
        # A second subscriber's snapshot is the last published state: our rebuilt book at the same u.
        async with s.ws_connect(sim.ws_public_url) as ws2:
            await ws2.send_json({"op": "subscribe", "req_id": "two", "args": [topic]})
            assert (await recv(ws2))["req_id"] == "two"
            fresh = LocalBook(await recv(ws2))
            while book.u < fresh.u:
                book.apply(await recv_topic(ws, topic))
            assert book.u == fresh.u
            assert book.state() == fresh.state()


async def test_level1_is_snapshot_only(sim: RunningSimulator) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
        await ws.send_json({"op": "subscribe", "args": ["orderbook.1.ETHUSDT"]})
        assert (await recv(ws))["req_id"] == ""
        us = []
        for _ in range(4):
            m = await recv_topic(ws, "orderbook.1.ETHUSDT")
            assert m["type"] == "snapshot" and len(m["data"]["b"]) == 1 and len(m["data"]["a"]) == 1
            us.append(m["data"]["u"])
        assert us == sorted(us)


async def test_tickers_snapshot_then_changed_fields(sim: RunningSimulator) -> None:
    topic = "tickers.BTCUSDT"
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
        await ws.send_json({"op": "subscribe", "req_id": "t", "args": [topic]})
        await recv(ws)
        snap = await recv(ws)
        assert snap["type"] == "snapshot" and isinstance(snap["cs"], int)
        assert snap["data"]["openInterestValue"] and snap["data"]["symbol"] == "BTCUSDT"
        merged = dict(snap["data"])
        merged_cs = snap["cs"]
        for _ in range(3):
            d = await recv_topic(ws, topic)
            assert d["type"] == "delta" and d["data"]["symbol"] == "BTCUSDT"
            assert len(d["data"]) < len(merged), "only the changed fields"
            merged.update(d["data"])
            merged_cs = d["cs"]
        async with s.ws_connect(sim.ws_public_url) as ws2:
            await ws2.send_json({"op": "subscribe", "args": [topic]})
            await recv(ws2)
            fresh = await recv(ws2)
            while merged_cs < fresh["cs"]:
                d = await recv_topic(ws, topic)
                merged.update(d["data"])
                merged_cs = d["cs"]
            assert merged_cs == fresh["cs"]
            assert merged == fresh["data"]


async def test_public_trades_include_the_accounts_own_fill(sim: RunningSimulator, api: Api) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
        await ws.send_json({"op": "subscribe", "args": ["publicTrade.SOLUSDT"]})
        await recv(ws)
        await api.ok_post(
            "/v5/order/create",
            {"category": "linear", "symbol": "SOLUSDT", "side": "Sell", "orderType": "Market", "qty": "5"},
        )
        got: list[dict[str, Any]] = []
        while sum(Decimal(t["v"]) for t in got if t["S"] == "Sell") < 5:
            m = await recv_topic(ws, "publicTrade.SOLUSDT")
            assert m["type"] == "snapshot"
            got += m["data"]
        t = got[-1]
        assert set(t) >= {"T", "s", "S", "v", "p", "L", "i", "BT", "seq"} and isinstance(t["T"], int)


async def test_kline_stream(sim: RunningSimulator) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
        await ws.send_json({"op": "subscribe", "args": ["kline.1.BTCUSDT"]})
        await recv(ws)
        m = await recv_topic(ws, "kline.1.BTCUSDT")
        k = m["data"][-1]
        assert k["interval"] == "1" and k["end"] - k["start"] == 59_999 and k["confirm"] is False
        assert Decimal(k["low"]) <= Decimal(k["close"]) <= Decimal(k["high"])


async def test_ping_pong_errors_and_unsubscribe(sim: RunningSimulator) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url, autoping=False) as ws:
        await ws.send_json({"op": "ping", "req_id": 5})
        pong = await recv(ws)
        assert (
            pong["ret_msg"] == "pong"
            and pong["op"] == "ping"
            and pong["req_id"] == 5
            and pong["success"] is True
        )
        await ws.ping(b"hb")
        control = await ws.receive(timeout=10)
        assert control.type == aiohttp.WSMsgType.PONG and control.data == b"hb", "protocol pings are answered"
        await ws.send_json({"op": "subscribe", "req_id": "x", "args": ["orderbook.50.NOPEUSDT"]})
        nack = await recv(ws)
        assert (
            nack["success"] is False
            and nack["ret_msg"] == "error:handler not found,topic:orderbook.50.NOPEUSDT"
        )
        assert nack["req_id"] == "x"
        await ws.send_json(
            {"op": "subscribe", "req_id": "y", "args": ["tickers.BTCUSDT", "orderbook.7.BTCUSDT"]}
        )
        assert (await recv(ws))["success"] is False
        await ws.send_json({"op": "subscribe", "req_id": "z", "args": ["tickers.BTCUSDT"]})
        assert (await recv(ws))["success"] is True
        assert (await recv(ws))["type"] == "snapshot"
        await ws.send_json({"op": "subscribe", "req_id": "z2", "args": ["tickers.BTCUSDT"]})
        assert (await recv_topic_or_op(ws, "subscribe"))["ret_msg"].startswith("error:already subscribed")
        await ws.send_json({"op": "unsubscribe", "req_id": "u", "args": ["tickers.BTCUSDT"]})
        ack = await recv_topic_or_op(ws, "unsubscribe")
        assert ack["success"] is True and ack["req_id"] == "u"
        await ws.send_json({"op": "dance"})
        assert (await recv_topic_or_op(ws, "dance"))["ret_msg"] == "error:invalid op"
        await ws.send_str("{not json")
        assert (await recv_topic_or_op(ws, ""))["success"] is False
        assert sim.server is not None
        assert "tickers.BTCUSDT" not in sim.server.hub.streams, "the last unsubscribe ends the stream"


async def recv_topic_or_op(ws: aiohttp.ClientWebSocketResponse, op: str) -> dict[str, Any]:
    for _ in range(50):
        m = await recv(ws)
        if "topic" not in m and m.get("op") == op:
            return m
    raise AssertionError(f"no {op!r} answer")


@pytest.mark.parametrize("kind", ["spot", "inverse", "option"])
async def test_other_public_streams_accept_and_refuse_topics(sim: RunningSimulator, kind: str) -> None:
    url = sim.ws_public_url.replace("/linear", f"/{kind}")
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        await ws.send_json({"op": "ping"})
        pong = await recv(ws)
        assert pong.get("ret_msg") == "pong" or pong.get("op") == "pong"
        await ws.send_json({"op": "subscribe", "req_id": "1", "args": ["orderbook.50.BTCUSDT"]})
        nack = await recv(ws)
        assert nack["success"] is False
        if kind == "option":
            assert nack["type"] == "COMMAND_RESP" and nack["data"]["failTopics"] == ["orderbook.50.BTCUSDT"]


async def test_streams_share_one_encoding(sim: RunningSimulator) -> None:
    """Two subscribers of one topic receive byte-identical messages (encode once, fan out)."""
    topic = "orderbook.200.BTCUSDT"
    async with (
        aiohttp.ClientSession() as s,
        s.ws_connect(sim.ws_public_url) as a,
        s.ws_connect(sim.ws_public_url) as b,
    ):
        for ws in (a, b):
            await ws.send_json({"op": "subscribe", "args": [topic]})
            await recv(ws)
            await recv(ws)
        raw_a = (await a.receive(timeout=10)).data
        for _ in range(20):
            raw_b = (await b.receive(timeout=10)).data
            if raw_b == raw_a:
                break
        assert raw_b == raw_a


async def test_slow_start_many_topics_and_close() -> None:
    async with running_simulator(symbols=3, rate_limits=False) as sim:
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
            topics = [
                f"{t}.{sym}"
                for sym in ("BTCUSDT", "ETHUSDT", "SOLUSDT")
                for t in ("orderbook.1", "tickers", "publicTrade")
            ]
            await ws.send_json({"op": "subscribe", "req_id": "all", "args": topics})
            assert (await recv(ws))["success"] is True
            seen: set[str | None] = set()
            end = time.monotonic() + 2
            while time.monotonic() < end and len(seen) < 6:
                m = await recv(ws)
                seen.add(m.get("topic"))
            assert {f"orderbook.1.{s}" for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")} <= seen
        await asyncio.sleep(0)


async def test_a_public_connection_carries_at_most_21000_characters_of_args(sim: RunningSimulator) -> None:
    """Bybit caps the subscribed args of one public connection at 21,000 characters: a request that would
    pass it is refused whole (nothing subscribed), and the topics already carried keep flowing."""
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.ws_public_url) as ws:
        await ws.send_json({"req_id": "ok", "op": "subscribe", "args": ["tickers.BTCUSDT"]})
        ack = await recv(ws)
        assert ack["success"] is True
        # 21,000 - 15 characters of room: one topic name too many (made-up names: the size check comes
        # first, as it must for a request this large).
        names = [f"orderbook.50.X{i:06d}USDT" for i in range(1000)]  # 24 characters each
        # A real topic in it too: were the request applied in part, subscribing it later would fail.
        big = ["orderbook.50.BTCUSDT", *names[:875]]
        await ws.send_json({"req_id": "big", "op": "subscribe", "args": big})
        refused = await recv(ws)
        while refused.get("req_id") != "big":
            refused = await recv(ws)
        assert refused["success"] is False
        assert refused["ret_msg"].startswith("error:args size >21000")
        assert (await recv_topic(ws, "tickers.BTCUSDT"))["topic"] == "tickers.BTCUSDT"
        await ws.send_json({"req_id": "fits", "op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
        ack = await recv(ws)
        while ack.get("req_id") != "fits":
            ack = await recv(ws)
        assert ack["success"] is True, ack  # nothing of the refused request was subscribed
