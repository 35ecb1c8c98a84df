"""Handlers of the control API (/api/...), /health and /metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from asym.logging import get_logger
from asym.monitor.alerts.book import ActiveAlert
from asym.monitor.alerts.manager import AlertManager
from asym.monitor.config import MonitorConfig
from asym.monitor.health import HealthRegistry, HealthReport
from asym.monitor.metrics import Metrics
from asym.monitor.view import Controller, ControlResult, SystemView
from asym.monitor.web import snapshot
from asym.monitor.web.requests import (
    AlertsDoc,
    EnhancedDoc,
    HaltRequest,
    ModeRequest,
    PositionsDoc,
    ResumeRequest,
    SignalsDoc,
)
from asym.monitor.web.security import error_response

log = get_logger("monitor.control")

MAX_SIGNALS = 500
T = TypeVar("T")


@dataclass
class MonitorContext:
    """What the handlers work with."""

    view: SystemView
    controller: Controller
    metrics: Metrics
    config: MonitorConfig
    health: HealthRegistry | None = None
    alerts: AlertManager | None = None
    control_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def active_alerts(self) -> list[ActiveAlert]:
        """Alerts firing now (empty without an alert manager)."""
        return self.alerts.active() if self.alerts is not None else []

    async def health_report(self) -> HealthReport | None:
        """The health report (None without a registry)."""
        return await self.health.report() if self.health is not None else None


CONTEXT: web.AppKey[MonitorContext] = web.AppKey("asym_monitor", MonitorContext)


def _json(obj: object, status: int = 200) -> web.Response:
    return web.Response(body=snapshot.encode(obj), status=status, content_type="application/json")


def _ctx(request: web.Request) -> MonitorContext:
    return request.app[CONTEXT]


class _BadRequestError(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message = message[:300]
        self.status = status
        self.code = code

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message)


async def _body(request: web.Request, kind: type[T], *, optional: bool = False) -> T:
    raw = await request.read()
    if not raw.strip():
        if optional:
            return msgspec.json.decode(b"{}", type=kind)
        raise _BadRequestError("a JSON body is required")
    ctype = request.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise _BadRequestError("Content-Type must be application/json", 415, "unsupported_media_type")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise _BadRequestError(f"invalid body: {exc}") from None
    except msgspec.DecodeError:
        raise _BadRequestError("body is not valid JSON") from None


def _control_answer(result: ControlResult) -> web.Response:
    return _json(result, 200 if result.ok else 409)


async def _control(request: web.Request, action: str, reason: str, call: Any) -> web.Response:
    ctx = _ctx(request)
    async with ctx.control_lock:  # one mode change at a time
        try:
            result: ControlResult = await call
        except Exception as exc:  # the trading loop refused in a way it did not model: say so, never 500
            log.error("control failed", action=action, error=f"{type(exc).__name__}: {exc}")
            return error_response(503, "controller_error", f"{action} failed: {type(exc).__name__}")
    log.warning(
        "control",
        action=action,
        reason=reason,
        ok=result.ok,
        mode=result.mode.value,
        refused=list(result.reasons),
        remote=request.remote,
    )
    return _control_answer(result)


async def halt(request: web.Request) -> web.Response:
    """POST /api/halt."""
    try:
        body = await _body(request, HaltRequest)
    except _BadRequestError as exc:
        return exc.response()
    reason = body.reason.strip()
    return await _control(request, "halt", reason, _ctx(request).controller.halt(reason))


async def resume(request: web.Request) -> web.Response:
    """POST /api/resume."""
    try:
        body = await _body(request, ResumeRequest, optional=True)
    except _BadRequestError as exc:
        return exc.response()
    return await _control(request, "resume", body.reason.strip(), _ctx(request).controller.resume())


async def set_mode(request: web.Request) -> web.Response:
    """POST /api/mode."""
    try:
        body = await _body(request, ModeRequest)
    except _BadRequestError as exc:
        return exc.response()
    reason = body.reason.strip()
    call = _ctx(request).controller.set_mode(body.mode, reason)
    return await _control(request, f"set_mode:{body.mode.value}", reason, call)


async def get_mode(request: web.Request) -> web.Response:
    """GET /api/mode."""
    return _json(_ctx(request).view.mode())


async def status(request: web.Request) -> web.Response:
    """GET /api/status."""
    ctx = _ctx(request)
    return _json(snapshot.status_doc(ctx.view, await ctx.health_report(), ctx.active_alerts()))


async def positions(request: web.Request) -> web.Response:
    """GET /api/positions."""
    return _json(PositionsDoc(positions=snapshot.open_positions(_ctx(request).view)))


async def signals(request: web.Request) -> web.Response:
    """GET /api/signals?limit=N."""
    raw = request.query.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_SIGNALS:
        return error_response(400, "bad_request", f"limit must be an integer 1..{MAX_SIGNALS}")
    return _json(SignalsDoc(signals=list(_ctx(request).view.recent_signals(int(raw)))))


async def enhanced(request: web.Request) -> web.Response:
    """GET /api/enhanced."""
    data = _ctx(request).view.enhanced_data()
    return _json(EnhancedDoc(enhanced=[data[k] for k in sorted(data)]))


async def alerts(request: web.Request) -> web.Response:
    """GET /api/alerts."""
    return _json(AlertsDoc(alerts=_ctx(request).active_alerts()))


async def dashboard(request: web.Request) -> web.Response:
    """GET /api/dashboard: the whole page's data in one document."""
    ctx = _ctx(request)
    c = ctx.config
    doc = snapshot.dashboard_doc(
        ctx.view,
        health=await ctx.health_report(),
        alerts=ctx.active_alerts(),
        signals_shown=c.signals_shown,
        curve_points=c.curve_points,
        poll_ms=c.poll_ms,
    )
    return _json(doc)


async def health(request: web.Request) -> web.Response:
    """GET /health: 200 when ready, 503 otherwise, with the reasons and every check."""
    report = await _ctx(request).health_report() or HealthReport(live=True, ready=True, reasons=(), checks=())
    return _json(report, 200 if report.ready else 503)


async def health_live(request: web.Request) -> web.Response:
    """GET /health/live: 200 while every liveness check passes (no details: this path is open)."""
    report = await _ctx(request).health_report()
    live = report is None or report.live
    return _json({"live": live}, 200 if live else 503)


async def health_ready(request: web.Request) -> web.Response:
    """GET /health/ready: 200 when ready, 503 with the reasons otherwise."""
    report = await _ctx(request).health_report()
    ready = report is None or report.ready
    reasons = list(report.reasons) if report is not None else []
    return _json({"ready": ready, "reasons": reasons}, 200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text format (gauges refreshed from the view first)."""
    ctx = _ctx(request)
    ctx.metrics.update_from_view(ctx.view)
    return web.Response(
        body=ctx.metrics.exposition(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )


def add_routes(app: web.Application) -> None:
    """Register the API, health and metrics routes."""
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/positions", positions)
    app.router.add_get("/api/mode", get_mode)
    app.router.add_post("/api/mode", set_mode)
    app.router.add_post("/api/halt", halt)
    app.router.add_post("/api/resume", resume)
    app.router.add_get("/api/signals", signals)
    app.router.add_get("/api/enhanced", enhanced)
    app.router.add_get("/api/alerts", alerts)
    app.router.add_get("/api/dashboard", dashboard)
    app.router.add_get("/health", health)
    app.router.add_get("/health/live", health_live)
    app.router.add_get("/health/ready", health_ready)
    app.router.add_get("/metrics", metrics)
