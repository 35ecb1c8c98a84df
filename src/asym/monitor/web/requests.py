"""Request and response bodies of the control API (strict: unknown fields are refused)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Position
from asym.monitor.alerts.book import ActiveAlert
from asym.monitor.view import SignalRecord
from asym.trading.modes import Mode

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]
OptionalReason = Annotated[str, msgspec.Meta(max_length=500)]


class HaltRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """POST /api/halt: why (kept in the audit log and shown as the mode's cause)."""

    reason: Reason


class ResumeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """POST /api/resume (the body is optional)."""

    reason: OptionalReason = ""


class ModeRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """POST /api/mode."""

    mode: Mode
    reason: OptionalReason = ""


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    """What went wrong."""

    code: str
    message: str


class ErrorDoc(msgspec.Struct, frozen=True, kw_only=True):
    """Every error answer."""

    error: ErrorBody


class PositionsDoc(msgspec.Struct, frozen=True, kw_only=True):
    """GET /api/positions."""

    positions: list[Position]


class SignalsDoc(msgspec.Struct, frozen=True, kw_only=True):
    """GET /api/signals."""

    signals: list[SignalRecord]


class EnhancedDoc(msgspec.Struct, frozen=True, kw_only=True):
    """GET /api/enhanced."""

    enhanced: list[EnhancedData]


class AlertsDoc(msgspec.Struct, frozen=True, kw_only=True):
    """GET /api/alerts."""

    alerts: list[ActiveAlert]
