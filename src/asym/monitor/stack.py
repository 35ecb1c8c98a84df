"""Everything the monitor runs, started together: metrics, the loop-lag probe, health checks, alerting and
the HTTP server. The composition root (`asym run`) calls `start_monitoring` once and `stop` at exit.

    mon = await start_monitoring(view, controller, MonitorConfig(token=...), sinks=[TelegramSink(...)])
    client = BybitClient(venue, creds, observer=mon.observer)   # venue API metrics + latency table
    ...
    await mon.stop()
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from asym.monitor.alerts.manager import AlertManager
from asym.monitor.alerts.rules import Rule
from asym.monitor.alerts.sinks import Sink
from asym.monitor.config import MonitorConfig
from asym.monitor.health import HealthRegistry, Kind, loop_lag_check, standard_checks
from asym.monitor.metrics import Metrics
from asym.monitor.observer import LatencyWindow, MetricsObserver
from asym.monitor.runtime import EventLoopLagMonitor
from asym.monitor.view import Controller, SystemView
from asym.monitor.web.app import RunningMonitor, serve


@dataclass
class Monitoring:
    """The running monitor's parts."""

    metrics: Metrics
    health: HealthRegistry
    lag: EventLoopLagMonitor
    alerts: AlertManager
    server: RunningMonitor
    observer: MetricsObserver
    """Pass to BybitClient(observer=...): feeds the API metrics and `latency`."""
    latency: LatencyWindow
    """Exact recent API percentiles; a SystemView can return `latency.summary()` from api_latency()."""

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    async def stop(self) -> None:
        """Stop alerting, the probe and the server (each even if another fails)."""
        with contextlib.suppress(Exception):
            await self.alerts.close()
        with contextlib.suppress(Exception):
            await self.lag.stop()
        await self.server.stop()


async def start_monitoring(
    view: SystemView,
    controller: Controller,
    config: MonitorConfig,
    *,
    sinks: Sequence[Sink] = (),
    rules: Sequence[Rule] | None = None,
    metrics: Metrics | None = None,
    alert_interval_s: float = 5.0,
    lag_limit_s: float = 1.0,
    min_usable_share: float = 0.5,
) -> Monitoring:
    """Start every monitoring part in the running loop (ConfigError: exposed address without a token)."""
    config.validate_for_serving()
    m = metrics or Metrics()
    latency = LatencyWindow()
    lag = EventLoopLagMonitor(m)
    health = HealthRegistry(timeout_s=config.check_timeout_s)
    standard_checks(health, view, min_usable_share)
    health.register("event_loop", loop_lag_check(lambda: lag.max_s, lag_limit_s), Kind.LIVENESS)
    alerts = AlertManager(view, sinks, metrics=m, rules=rules, loop_lag=lambda: lag.max_s)
    server = await serve(view, controller, m, config, health=health, alerts=alerts)
    lag.start()
    alerts.start(alert_interval_s)
    return Monitoring(
        metrics=m,
        health=health,
        lag=lag,
        alerts=alerts,
        server=server,
        observer=MetricsObserver(m, latency),
        latency=latency,
    )
