"""The monitor's HTTP server: dashboard, control API, health and metrics."""

from asym.monitor.web.app import RunningMonitor, create_app, serve
from asym.monitor.web.openapi import openapi_document

__all__ = ["RunningMonitor", "create_app", "openapi_document", "serve"]
