"""The OpenAPI 3.1 description of the monitor's HTTP API (served at /api/openapi.json).

Paths are written by hand; body schemas come from the very msgspec structs the handlers encode and decode,
so the description cannot drift from the code.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import msgspec

from asym.monitor.health import HealthReport
from asym.monitor.view import ControlResult, ModeState
from asym.monitor.web.requests import (
    AlertsDoc,
    EnhancedDoc,
    ErrorDoc,
    HaltRequest,
    ModeRequest,
    PositionsDoc,
    ResumeRequest,
    SignalsDoc,
)
from asym.monitor.web.snapshot import DashboardDoc, StatusDoc

_REF = "#/components/schemas/{name}"
_TYPES: list[Any] = [
    StatusDoc,
    DashboardDoc,
    PositionsDoc,
    SignalsDoc,
    EnhancedDoc,
    AlertsDoc,
    ModeState,
    ControlResult,
    HealthReport,
    HaltRequest,
    ResumeRequest,
    ModeRequest,
    ErrorDoc,
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(name=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _inline(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS_READ = {
    "401": _json("ErrorDoc", "A bearer token is required (server bound beyond loopback) or was wrong."),
    "403": _json("ErrorDoc", "The Host header is not a loopback name (server bound to loopback)."),
}
_ERRORS_WRITE = {
    "400": _json("ErrorDoc", "The body is missing, not JSON, or fails validation."),
    "401": _json("ErrorDoc", "A valid bearer token is required for every write."),
    "403": _json("ErrorDoc", "Writes are disabled (no token configured) or the Host is not allowed."),
    "413": _json("ErrorDoc", "The body is too large."),
    "415": _json("ErrorDoc", "The body is not application/json."),
    "503": _json("ErrorDoc", "The trading loop failed to carry out the request."),
}
_READ_SECURITY: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
_WRITE_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _get(op_id: str, summary: str, ok: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "security": _READ_SECURITY,
            "responses": {"200": ok, **(extra or {}), **_ERRORS_READ},
        }
    }


def _post(op_id: str, summary: str, body: str, required: bool, refusal: bool) -> dict[str, Any]:
    responses = {"200": _json("ControlResult", "Done.")}
    if refusal:
        responses["409"] = _json("ControlResult", "Refused: `reasons` says what has not cleared.")
    return {
        "post": {
            "operationId": op_id,
            "summary": summary,
            "security": _WRITE_SECURITY,
            "requestBody": {"required": required, "content": {"application/json": {"schema": _ref(body)}}},
            "responses": {**responses, **_ERRORS_WRITE},
        }
    }


@cache
def _components() -> dict[str, Any]:
    _, comps = msgspec.json.schema_components(_TYPES, ref_template=_REF)
    return comps


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (a fresh dict each call)."""
    mode_paths = _get("getMode", "Current mode and its cause", _json("ModeState", "The mode."))
    mode_paths.update(_post("setMode", "Switch mode by hand", "ModeRequest", required=True, refusal=True))
    signals_op = _get(
        "listSignals",
        "Recent signals and rejections, newest first",
        _json("SignalsDoc", "The signals."),
        {"400": _json("ErrorDoc", "limit is not an integer 1..500.")},
    )
    signals_op["get"]["parameters"] = [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        }
    ]
    health_schema = _ref("HealthReport")
    paths: dict[str, Any] = {
        "/api/status": _get(
            "getStatus", "Mode, account, positions count, health", _json("StatusDoc", "Status.")
        ),
        "/api/positions": _get("listPositions", "Open positions", _json("PositionsDoc", "Positions.")),
        "/api/mode": mode_paths,
        "/api/halt": _post("halt", "HALT: open nothing, protect what is open", "HaltRequest", True, False),
        "/api/resume": _post(
            "resume", "Back to NORMAL unless a trigger remains", "ResumeRequest", False, True
        ),
        "/api/signals": signals_op,
        "/api/enhanced": _get("listEnhanced", "Enhanced data per symbol", _json("EnhancedDoc", "Data.")),
        "/api/alerts": _get("listAlerts", "Active alerts", _json("AlertsDoc", "Alerts.")),
        "/api/dashboard": _get(
            "getDashboard", "Everything the dashboard shows", _json("DashboardDoc", "Data.")
        ),
        "/health": _get(
            "getHealth",
            "Liveness and readiness with reasons and every check",
            _json("HealthReport", "Ready."),
            {"503": _inline(health_schema, "Not ready; `reasons` says why.")},
        ),
        "/health/ready": _get(
            "getReady",
            "Readiness",
            _inline(_ready_schema(), "Ready."),
            {"503": _inline(_ready_schema(), "Not ready.")},
        ),
        "/health/live": {
            "get": {
                "operationId": "getLive",
                "summary": "Liveness (open: no token needed)",
                "security": [{}],
                "responses": {
                    "200": _inline(_live_schema(), "Alive."),
                    "503": _inline(_live_schema(), "A liveness check failed."),
                    "403": _ERRORS_READ["403"],
                },
            }
        },
        "/metrics": _get(
            "getMetrics",
            "Prometheus metrics (text format)",
            {"description": "Metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}},
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "asym monitor and control API",
            "version": "1.0.0",
            "description": (
                "Reads are open on loopback and need the bearer token when the server is bound beyond it; "
                "every write needs the token. Money is a decimal string."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(_components()),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def _ready_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "ready": {"type": "boolean"},
            "reasons": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["ready", "reasons"],
    }


def _live_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {"live": {"type": "boolean"}}, "required": ["live"]}
