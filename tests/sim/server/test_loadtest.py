"""The benchmark's load tools: the frame-counting WebSocket client against the real server (frames split
anywhere, long frames, acks told apart from topic messages), wrk's output parsing, the CPU arithmetic."""

from __future__ import annotations

import asyncio
import json

import pytest

from asym.sim.server.envelope import encode
from asym.sim.server.loadtest import (
    WsCounter,
    _ms,
    child,
    cpu_share,
    per_cpu_second,
    report,
    ws_connect,
)
from asym.sim.server.testing import running_simulator
from asym.sim.server.ws_protocol import text_frame

pytestmark = pytest.mark.timeout(60)


async def test_counter_parses_frames_split_at_every_byte() -> None:
    counter = WsCounter("h:1", "/")
    counter.upgraded.set_result(True)
    msgs = [  # compact JSON, as the server encodes it
        encode({"topic": "orderbook.50.BTCUSDT", "data": {"b": [["1", "2"]] * 20}}),  # 126+ bytes
        encode({"topic": "tickers.BTCUSDT", "data": {}}),
        encode({"success": True, "op": "subscribe"}),
        encode({"topic": "allLiquidation.BTCUSDT", "data": ["x" * 70_000]}),  # a 64-bit length
    ]
    stream = b"".join(text_frame(m) for m in msgs)
    for size in (1, 7, 1000, len(stream)):
        c = WsCounter("h:1", "/")
        c.upgraded.set_result(True)
        for i in range(0, len(stream), size):
            c.data_received(stream[i : i + size])
        assert (c.frames, c.other, c.kinds) == (3, 1, {"o": 1, "t": 1, "a": 1})
        assert c.nbytes == len(stream)
    assert counter.frames == 0


async def test_counter_against_the_real_server_counts_what_the_server_publishes() -> None:
    async with running_simulator(symbols=3, rate_limits=False) as sim:
        assert sim.server is not None
        c = await ws_connect(sim.ws_public_url)
        try:
            c.send_text(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT", "tickers.BTCUSDT"]}))
            await asyncio.sleep(1.0)
            assert c.other == 1  # the one ack
            published = sim.server.hub.published
            assert c.frames >= 5 and c.kinds.keys() <= {"o", "t"}
            # Snapshots (one per topic) go to the new subscriber only and are not counted as published.
            assert 0 <= published - (c.frames - 2) <= 2
        finally:
            assert c.transport is not None
            c.transport.close()


async def test_a_reader_process_on_the_default_loop_subscribes_and_counts() -> None:
    """The benchmark's reader child runs on asym's default loop (uvloop where installed), whose
    transports are not asyncio.Transport subclasses: `asym bench sim` once died on exactly that."""
    async with running_simulator(symbols=3, rate_limits=False) as sim:
        spec = {"url": sim.ws_public_url, "topics": ["orderbook.50.BTCUSDT", "tickers.ETHUSDT"], "conns": 2}
        async with child("reader", spec, core=0) as reader:
            first = await reader.line(30.0)
            assert first["subscribed_s"] < 10
            await asyncio.sleep(0.5)
            counts = await report([reader])
    assert counts["frames"] > 0 and set(counts["kinds"]) <= {"o", "t"}


def test_wrk_latency_units_and_cpu_arithmetic() -> None:
    assert _ms("812.00us") == pytest.approx(0.812)
    assert _ms("12.5ms") == 12.5
    assert _ms("1.20s") == 1200.0
    assert _ms("") != _ms("")  # NaN: no figure
    a = {"cpu_s": 10.0, "wall_s": 100.0}
    b = {"cpu_s": 13.0, "wall_s": 106.0}
    assert cpu_share(a, b) == pytest.approx(50.0)
    assert per_cpu_second(300, a, b) == pytest.approx(100.0)
