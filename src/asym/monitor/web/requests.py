"""Request and response bodies of the control API (strict: unknown fields are refused)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Position
from asym.monitor.alerts.book import ActiveAlert
from asym.monitor.view import SignalRecord
from asym.trading.modes import Mode

NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"
r"""At least one character that is not white space in either regex dialect: Python's `\s` (which decodes
bodies) also counts \x1c-\x1f and \x85, JSON Schema's ECMA `\s` (which clients and fuzzers read from
/api/openapi.json) also counts \ufeff; this class excludes the union, so both agree."""
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=NOT_BLANK)]
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
