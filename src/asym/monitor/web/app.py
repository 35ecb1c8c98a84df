"""The monitor's one HTTP server: /metrics, /health, the dashboard at /, the control API under /api/.

app = create_app(view, controller, metrics, MonitorConfig())
async with serve(view, controller, metrics, MonitorConfig(port=0)) as running:
    print(running.url)
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from types import TracebackType

from aiohttp import web

from asym.errors import ConfigError
from asym.logging import get_logger
from asym.monitor.alerts.manager import AlertManager
from asym.monitor.config import MonitorConfig
from asym.monitor.health import HealthRegistry
from asym.monitor.metrics import Metrics
from asym.monitor.view import Controller, SystemView
from asym.monitor.web import api
from asym.monitor.web.openapi import openapi_document
from asym.monitor.web.security import access_middleware, headers_middleware

log = get_logger("monitor.http")

_STATIC = {
    "dashboard.js": "application/javascript",
    "dashboard.css": "text/css",
}


def _asset(name: str) -> bytes:
    return resources.files("asym.monitor.web").joinpath("static", name).read_bytes()


def _static_routes(app: web.Application) -> None:
    index = _asset("index.html")
    assets = {name: (_asset(name), ctype) for name, ctype in _STATIC.items()}

    async def page(_: web.Request) -> web.Response:
        return web.Response(body=index, content_type="text/html", charset="utf-8")

    async def static(request: web.Request) -> web.Response:
        found = assets.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        body, ctype = found
        return web.Response(body=body, content_type=ctype, charset="utf-8")

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    app.router.add_get("/", page)
    app.router.add_get("/index.html", page)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/openapi.json", openapi)


def create_app(
    view: SystemView,
    controller: Controller,
    metrics: Metrics,
    config: MonitorConfig | None = None,
    *,
    health: HealthRegistry | None = None,
    alerts: AlertManager | None = None,
) -> web.Application:
    """The aiohttp application (the caller runs it; `serve` does that and enforces the token rule)."""
    cfg = config or MonitorConfig()
    app = web.Application(
        middlewares=[headers_middleware, access_middleware(cfg)],
        client_max_size=cfg.max_body_bytes,
    )
    app[api.CONTEXT] = api.MonitorContext(
        view=view, controller=controller, metrics=metrics, config=cfg, health=health, alerts=alerts
    )
    api.add_routes(app)
    _static_routes(app)
    return app


@dataclass
class RunningMonitor:
    """A started server: its URL and how to stop it."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8077."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop accepting and close open connections."""
        await self.runner.cleanup()

    async def __aenter__(self) -> RunningMonitor:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def serve(
    view: SystemView,
    controller: Controller,
    metrics: Metrics,
    config: MonitorConfig | None = None,
    *,
    health: HealthRegistry | None = None,
    alerts: AlertManager | None = None,
) -> RunningMonitor:
    """Start the server in the running loop; refuses a non-loopback address without a token (ConfigError)."""
    cfg = config or MonitorConfig()
    cfg.validate_for_serving()
    app = create_app(view, controller, metrics, cfg, health=health, alerts=alerts)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"monitor cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}") from None
    port = cfg.port
    for addr in runner.addresses:  # the bound port (port 0 = any free port)
        if isinstance(addr, tuple) and len(addr) >= 2:
            port = int(addr[1])
            break
    log.info("monitor listening", host=cfg.host, port=port, auth="token" if cfg.token else "none")
    return RunningMonitor(runner=runner, host=cfg.host, port=port)
