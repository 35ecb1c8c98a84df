"""Observability and control of a running asym: Prometheus metrics, health, alerts, structured logs, the
dashboard and the control API (halt / resume / mode), all on one aiohttp server.

The monitor reads the system through `SystemView` and steers it only through `Controller`; the trading loop
implements both, and `StaticSystemView` / `MemoryController` are the in-memory versions.
"""

from asym.monitor.alerts import AlertManager, TelegramSink, WebhookSink, default_rules
from asym.monitor.client import ControlClient, ControlError
from asym.monitor.config import MonitorConfig, is_loopback, load_token, parse_http_address
from asym.monitor.health import HealthRegistry, HealthReport, Heartbeat, Kind, standard_checks
from asym.monitor.logs import LogPipeline, start_logging
from asym.monitor.metrics import Metrics
from asym.monitor.observer import LatencyWindow, MetricsObserver
from asym.monitor.runtime import EventLoopLagMonitor
from asym.monitor.stack import Monitoring, start_monitoring
from asym.monitor.view import (
    AccountSummary,
    Controller,
    ControlResult,
    DataQuality,
    EquitySample,
    LatencySummary,
    MemoryController,
    ModeState,
    SignalRecord,
    StaticSystemView,
    StreamFreshness,
    SystemView,
)
from asym.monitor.web import RunningMonitor, create_app, openapi_document, serve

__all__ = [
    "AccountSummary",
    "AlertManager",
    "ControlClient",
    "ControlError",
    "ControlResult",
    "Controller",
    "DataQuality",
    "EquitySample",
    "EventLoopLagMonitor",
    "HealthRegistry",
    "HealthReport",
    "Heartbeat",
    "Kind",
    "LatencySummary",
    "LatencyWindow",
    "LogPipeline",
    "MemoryController",
    "Metrics",
    "MetricsObserver",
    "ModeState",
    "MonitorConfig",
    "Monitoring",
    "RunningMonitor",
    "SignalRecord",
    "StaticSystemView",
    "StreamFreshness",
    "SystemView",
    "TelegramSink",
    "WebhookSink",
    "create_app",
    "default_rules",
    "is_loopback",
    "load_token",
    "openapi_document",
    "parse_http_address",
    "serve",
    "standard_checks",
    "start_logging",
    "start_monitoring",
]
