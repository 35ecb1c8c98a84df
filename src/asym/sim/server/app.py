"""The simulator's aiohttp application and server: REST and WebSocket on one host:port.

`SimServer(config).start(host, port)` binds (port 0 = any free port), serves `/v5/...` REST plus
`/v5/public/{linear|spot|inverse|option}` and `/v5/private` WebSockets, and `stop()` shuts it down cleanly
(hung requests released, WebSockets closed with 1001 "going away").
"""

from __future__ import annotations

import asyncio
import gc

from aiohttp import web

from asym.logging import register_secret
from asym.sim.clock import Clock
from asym.sim.config import SimConfig
from asym.sim.exchange import SimExchange
from asym.sim.faults import FaultInjector, parse_faults
from asym.sim.server.caches import Caches
from asym.sim.server.rest import RestApi
from asym.sim.server.ws_hub import Hub


def build_app(exchange: SimExchange) -> tuple[web.Application, RestApi, Hub]:
    """The aiohttp application for `exchange` (routes, REST pipeline and WebSocket hub)."""
    config = exchange.config
    spec = parse_faults(config.faults)
    faults = FaultInjector(spec, config.seed) if (spec.any_rest or spec.any_ws) else None
    caches = Caches(exchange.market)
    rest = RestApi(exchange, caches, faults)
    hub = Hub(exchange, faults, rest.keys)
    app = web.Application(client_max_size=config.max_body_bytes)
    app.router.add_get("/v5/public/{kind}", hub.handle)
    app.router.add_get("/v5/private", hub.handle)
    # Plain paths resolve through aiohttp's path index (a dict lookup); the catch-all answers 404s.
    for path in rest.routes:
        app.router.add_route("*", path, rest.handle)
    app.router.add_route("*", "/{tail:.*}", rest.handle)
    return app, rest, hub


GC_THRESHOLDS = (50_000, 50, 20)
"""Collector thresholds of a dedicated server process: publishing allocates many short-lived objects
(levels, messages), and with Python's defaults (700, 10, 10) the cyclic collector took ~40 % of the CPU
of a 500-symbol stream (full collections over a large heap); objects are freed by reference counting."""


class SimServer:
    """One running simulator: exchange + aiohttp server on one port.

    `warm_up=True` is the mode of a dedicated process (`asym sim serve`): every symbol is built in the
    background after start, then the long-lived heap is frozen out of the cyclic collector's reach and
    its thresholds raised (restored on stop). Test helpers run without it (a shared process)."""

    def __init__(
        self,
        config: SimConfig,
        clock: Clock | None = None,
        exchange: SimExchange | None = None,
        *,
        warm_up: bool = False,
    ) -> None:
        self.config = config
        self.warm_up = warm_up
        self._warm_task: asyncio.Task[None] | None = None
        register_secret(config.api_secret)
        # Validate the fault spec before building the (possibly large) market.
        parse_faults(config.faults)
        self.exchange = exchange if exchange is not None else SimExchange(config, clock)
        self.app, self.rest, self.hub = build_app(self.exchange)
        self._runner: web.AppRunner | None = None
        self._gc_saved: tuple[int, int, int] | None = None
        self.host = ""
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind and start serving in the running event loop."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addr = self._runner.addresses[0]
        self.host = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        self.port = int(addr[1])
        self.hub.start()
        if self.warm_up:
            self._gc_saved = gc.get_threshold()
            gc.set_threshold(*GC_THRESHOLDS)
            self._warm_task = asyncio.create_task(self._warm(), name="sim-warm-up")

    async def _warm(self) -> None:
        # The model builds a symbol's history on first touch: do it in the background, a slice of work
        # per loop turn, so that a first all-symbols request finds them built.
        await self.rest.caches.build_all()
        gc.collect()
        gc.freeze()  # the built market is long-lived: keep full collections from rescanning it

    @property
    def rest_url(self) -> str:
        """Base URL for REST, e.g. http://127.0.0.1:8080."""
        return f"http://{self._host_for_url()}:{self.port}"

    @property
    def ws_public_url(self) -> str:
        """The linear public stream URL."""
        return f"ws://{self._host_for_url()}:{self.port}/v5/public/linear"

    @property
    def ws_private_url(self) -> str:
        """The private stream URL."""
        return f"ws://{self._host_for_url()}:{self.port}/v5/private"

    def _host_for_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    async def stop(self) -> None:
        """Release hung requests, close WebSockets and stop serving."""
        self.rest.stopping.set()
        if self._warm_task is not None:
            self._warm_task.cancel()
            try:
                await self._warm_task
            except asyncio.CancelledError:
                pass
        await self.rest.caches.close()
        await self.hub.stop()
        if self._gc_saved is not None:
            gc.unfreeze()
            gc.set_threshold(*self._gc_saved)
            self._gc_saved = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await asyncio.sleep(0)
