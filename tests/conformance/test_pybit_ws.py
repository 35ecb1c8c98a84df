"""Unmodified pybit 5.17.0 WebSocket against the simulator: public streams merged by pybit itself, and the
private order/position/execution/wallet streams after a trade."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pybit.unified_trading as ut
import pytest
from pybit.unified_trading import HTTP

from asym.sim.server.testing import RunningSimulator

pytestmark = pytest.mark.timeout(120)


class Inbox:
    """Collects callback messages from pybit's threads."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, msg: dict[str, Any]) -> None:
        with self.lock:
            self.items.append(msg)

    def wait(
        self, pred: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                snapshot = list(self.items)
            if pred(snapshot):
                return snapshot
            time.sleep(0.05)
        raise AssertionError(f"condition not met; got {len(self.items)} messages")


@pytest.fixture
def urls(sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    base = sim.rest_url.replace("http://", "ws://")
    monkeypatch.setattr(ut, "PUBLIC_WSS", base + "/v5/public/{CHANNEL_TYPE}")
    monkeypatch.setattr(ut, "PRIVATE_WSS", base + "/v5/private")
    _network_round_trip(sim, monkeypatch)
    yield


def _network_round_trip(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch, delay_s: float = 0.02
) -> None:
    """The simulator reads each client message 20 ms after it arrived, as a network would deliver it.

    pybit 5.17 records a subscription's req_id only after `ws.send()` returned; an ack that comes back
    before that (possible only on localhost, between threads) is a KeyError in pybit's receive thread,
    which then drops the connection and never reconnects. Without a delay this failed 2 runs in 6.
    """
    assert sim.server is not None
    hub = sim.server.hub
    on_text = hub._on_text

    def later(conn: Any, raw: bytes) -> None:
        def deliver() -> None:
            if conn in hub.conns:
                on_text(conn, raw)

        asyncio.get_running_loop().call_later(delay_s, deliver)

    monkeypatch.setattr(hub, "_on_text", later)


def test_public_streams(sim: RunningSimulator, urls: None) -> None:
    ws = ut.WebSocket(channel_type="linear", testnet=False)
    try:
        books, tickers, trades, klines = Inbox(), Inbox(), Inbox(), Inbox()
        ws.orderbook_stream(50, "BTCUSDT", books)
        ws.ticker_stream("BTCUSDT", tickers)
        ws.trade_stream("ETHUSDT", trades)
        ws.kline_stream(1, "BTCUSDT", klines)
        # pybit merges deltas into its own book and hands over the merged snapshot each time: after many
        # deltas its book must still hold 50 valid levels per side (a delete of an unknown price would
        # have raised inside pybit and stopped the updates).
        got = books.wait(lambda m: len(m) >= 20)
        last = got[-1]["data"]
        assert len(last["b"]) == 50 and len(last["a"]) == 50
        bids = sorted((Decimal(p) for p, _ in last["b"]), reverse=True)
        asks = sorted(Decimal(p) for p, _ in last["a"])
        assert bids[0] < asks[0], "pybit's merged book is not crossed"
        assert len({p for p, _ in last["b"]}) == 50, "no duplicate levels"
        t = tickers.wait(lambda m: len(m) >= 3)[-1]["data"]
        assert (
            t["symbol"] == "BTCUSDT"
            and t["openInterestValue"]
            and Decimal(t["bid1Price"]) < Decimal(t["ask1Price"])
        )
        k = klines.wait(lambda m: len(m) >= 1)[0]["data"][0]
        assert k["interval"] == "1" and k["confirm"] is False
        http = HTTP(api_key=sim.api_key, api_secret=sim.api_secret)
        http.endpoint = sim.rest_url
        http.place_order(category="linear", symbol="ETHUSDT", side="Buy", orderType="Market", qty="0.5")
        fills = trades.wait(
            lambda m: (
                sum(Decimal(x["v"]) for msg in m for x in msg["data"] if x["S"] == "Buy") >= Decimal("0.5")
            )
        )
        assert all(msg["topic"] == "publicTrade.ETHUSDT" for msg in fills)
    finally:
        ws.exit()


def test_private_streams(sim: RunningSimulator, urls: None) -> None:
    ws = ut.WebSocket(channel_type="private", testnet=False, api_key=sim.api_key, api_secret=sim.api_secret)
    try:
        orders, positions, executions, wallets = Inbox(), Inbox(), Inbox(), Inbox()
        ws.order_stream(orders)
        ws.position_stream(positions)
        ws.execution_stream(executions)
        ws.wallet_stream(wallets)
        # Wait for the venue to hold the four subscriptions (a fixed sleep lost the race under load: the
        # order's events were published before pybit had subscribed).
        assert sim.server is not None
        hub = sim.server.hub
        end = time.monotonic() + 30
        while not any({"order", "position", "execution", "wallet"} <= c.topics for c in list(hub.conns)):
            assert time.monotonic() < end, "pybit never subscribed its private topics"
            time.sleep(0.05)
        http = HTTP(api_key=sim.api_key, api_secret=sim.api_secret)
        http.endpoint = sim.rest_url
        http.place_order(
            category="linear",
            symbol="XRPUSDT",
            side="Sell",
            orderType="Market",
            qty="100",
            orderLinkId="pbws-1",
        )
        got = orders.wait(
            lambda m: any(
                o["orderLinkId"] == "pbws-1" and o["orderStatus"] == "Filled" for x in m for o in x["data"]
            )
        )
        assert all(x["topic"] == "order" for x in got)
        ex = executions.wait(lambda m: sum(Decimal(e["execQty"]) for x in m for e in x["data"]) >= 100)
        fills = [e for x in ex for e in x["data"]]
        assert all(Decimal(e["execFee"]) == Decimal(e["execValue"]) * Decimal("0.00055") for e in fills)
        pos = positions.wait(
            lambda m: any(p["symbol"] == "XRPUSDT" and p["size"] == "100" for x in m for p in x["data"])
        )
        last = [p for x in pos for p in x["data"] if p["symbol"] == "XRPUSDT"][-1]
        assert last["side"] == "Sell"
        w = wallets.wait(lambda m: len(m) >= 1)[-1]["data"][0]
        assert w["accountType"] == "UNIFIED"
    finally:
        ws.exit()
