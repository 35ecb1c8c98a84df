"""Helpers to run a real simulator in tests: in this event loop, or in a thread for synchronous clients.

async with running_simulator(symbols=5, rate_limits=False) as sim:
    ...  # sim.rest_url, sim.ws_public_url, sim.ws_private_url, sim.api_key, sim.api_secret

with simulator_in_thread(symbols=5) as sim:
    pybit_session.endpoint = sim.rest_url
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from asym.sim.clock import wall_ms
from asym.sim.config import SimConfig
from asym.sim.exchange import SimExchange
from asym.sim.server.app import SimServer
from asym.sim.server.auth import sign


@dataclass
class RunningSimulator:
    """A started simulator: where to reach it and its exchange (engine, market) for assertions."""

    rest_url: str
    ws_public_url: str
    ws_private_url: str
    api_key: str
    api_secret: str
    exchange: SimExchange
    config: SimConfig
    server: SimServer | None = None

    def __repr__(self) -> str:
        return f"RunningSimulator(rest_url={self.rest_url!r}, api_key={self.api_key!r}, api_secret='***')"


def _config(config: SimConfig | None, overrides: dict[str, Any]) -> SimConfig:
    if config is None:
        return SimConfig.model_validate(overrides)
    if overrides:
        # Validated like a fresh config (model_copy(update=...) would skip validation).
        return SimConfig.model_validate({**config.model_dump(), **overrides})
    return config


def _running(server: SimServer) -> RunningSimulator:
    c = server.config
    return RunningSimulator(
        rest_url=server.rest_url,
        ws_public_url=server.ws_public_url,
        ws_private_url=server.ws_private_url,
        api_key=c.api_key,
        api_secret=c.api_secret,
        exchange=server.exchange,
        config=c,
        server=server,
    )


@asynccontextmanager
async def running_simulator(
    config: SimConfig | None = None, **overrides: Any
) -> AsyncIterator[RunningSimulator]:
    """Start the server in THIS event loop on 127.0.0.1, port 0; stop it on exit."""
    cfg = _config(config, overrides)
    server = SimServer(cfg)
    await server.start("127.0.0.1", 0)
    try:
        yield _running(server)
    finally:
        await server.stop()


@contextmanager
def simulator_in_thread(config: SimConfig | None = None, **overrides: Any) -> Iterator[RunningSimulator]:
    """Start the server in a background thread with its own loop (for synchronous clients: pybit,
    ccxt sync), stop it cleanly on exit."""
    cfg = _config(config, overrides)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        try:
            server = SimServer(cfg)
            await server.start("127.0.0.1", 0)
        except BaseException as exc:
            state["error"] = exc
            started.set()
            return
        state["server"] = server
        stop = asyncio.Event()
        state["stop"] = stop
        started.set()
        await stop.wait()
        await server.stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="asym-sim-server", daemon=True)
    thread.start()
    started.wait()
    if "error" in state:
        thread.join()
        raise state["error"]
    try:
        yield _running(state["server"])
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(timeout=30)


def auth_headers(
    api_key: str, api_secret: str, payload: str, *, timestamp_ms: int | None = None, recv_window: str = "5000"
) -> dict[str, str]:
    """Bybit V5 auth headers for a request whose query string (GET) or body (POST) is `payload`."""
    ts = str(wall_ms() if timestamp_ms is None else timestamp_ms)
    return {
        "X-BAPI-API-KEY": api_key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": recv_window,
        "X-BAPI-SIGN": sign(api_secret, ts + api_key + recv_window + payload),
        "Content-Type": "application/json",
    }


def ws_auth_args(api_key: str, api_secret: str, *, expires_ms: int | None = None) -> list[object]:
    """`args` of a WebSocket auth op: [apiKey, expires, signature of "GET/realtime" + expires]."""
    expires = wall_ms() + 10_000 if expires_ms is None else expires_ms
    return [api_key, expires, sign(api_secret, f"GET/realtime{expires}")]
