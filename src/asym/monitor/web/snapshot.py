"""The JSON documents the dashboard and the control API read, built from a SystemView (pure).

Money stays Decimal and is encoded as strings; floats that are not finite encode as null.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Position
from asym.logging import redact_text
from asym.monitor.alerts.book import ActiveAlert
from asym.monitor.health import HealthReport
from asym.monitor.view import (
    AccountSummary,
    EquityLike,
    LatencySummary,
    ModeState,
    SignalRecord,
    StreamFreshness,
    SystemView,
    now_ms,
)

_encoder = msgspec.json.Encoder(decimal_format="string")


def encode(obj: object) -> bytes:
    """JSON bytes (Decimals as strings), with registered secrets masked (text from the system, such as a
    mode's cause or a check's reason, may quote one by accident)."""
    return redact_text(_encoder.encode(obj).decode()).encode()


class AccountDoc(msgspec.Struct, frozen=True, kw_only=True):
    """Account money with the derived figures."""

    equity: Decimal
    available_balance: Decimal
    realised_pnl: Decimal
    unrealised_pnl: Decimal
    total_pnl: Decimal
    day_start_equity: Decimal
    day_pnl: Decimal
    peak_equity: Decimal
    drawdown: Decimal


class CurvePoint(msgspec.Struct, frozen=True, kw_only=True):
    """One point of the P&L curve."""

    ts: int
    equity: Decimal
    pnl: Decimal
    """Equity minus the curve's first equity."""


class FreshnessDoc(msgspec.Struct, frozen=True, kw_only=True):
    """Freshness of one stream, with its verdict."""

    stream: str
    age_s: float | None
    max_age_s: float
    stale: bool


class QualityDoc(msgspec.Struct, frozen=True, kw_only=True):
    """Data quality for the dashboard."""

    events_by_kind: dict[str, int]
    events_total: int
    freshness: list[FreshnessDoc]
    usable_share: float | None


class HealthDoc(msgspec.Struct, frozen=True, kw_only=True):
    """Liveness, readiness and the reasons."""

    live: bool
    ready: bool
    reasons: list[str]


class StatusDoc(msgspec.Struct, frozen=True, kw_only=True):
    """GET /api/status."""

    ts_ms: int
    mode: ModeState
    account: AccountDoc
    open_positions: int
    alerts_active: int
    health: HealthDoc | None


class DashboardDoc(msgspec.Struct, frozen=True, kw_only=True):
    """GET /api/dashboard: everything the page shows."""

    ts_ms: int
    mode: ModeState
    account: AccountDoc
    curve: list[CurvePoint]
    positions: list[Position]
    signals: list[SignalRecord]
    enhanced: list[EnhancedData]
    quality: QualityDoc
    latency: list[LatencySummary]
    alerts: list[ActiveAlert]
    health: HealthDoc | None
    poll_ms: int


def account_doc(a: AccountSummary) -> AccountDoc:
    """Account with total P&L, day P&L and drawdown."""
    return AccountDoc(
        equity=a.equity,
        available_balance=a.available_balance,
        realised_pnl=a.realised_pnl,
        unrealised_pnl=a.unrealised_pnl,
        total_pnl=a.total_pnl,
        day_start_equity=a.day_start_equity,
        day_pnl=a.equity - a.day_start_equity,
        peak_equity=a.peak_equity,
        drawdown=a.drawdown.quantize(Decimal("0.000001")),
    )


def thin(points: Sequence[EquityLike], limit: int) -> list[EquityLike]:
    """At most `limit` points, evenly spaced, always keeping the first and the last."""
    n = len(points)
    if n <= limit:
        return list(points)
    if limit < 2:
        return list(points[n - limit :]) if limit > 0 else []
    step = (n - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def curve(points: Sequence[EquityLike], limit: int) -> list[CurvePoint]:
    """The P&L curve: thinned equity points with P&L relative to the first point."""
    if not points:
        return []
    base = points[0].equity
    return [CurvePoint(ts=p.ts, equity=p.equity, pnl=p.equity - base) for p in thin(points, limit)]


def quality_doc(view: SystemView) -> QualityDoc:
    """Quality counts, freshness verdicts, usable share."""
    q = view.data_quality()
    return QualityDoc(
        events_by_kind=dict(sorted(q.events_by_kind.items())),
        events_total=sum(q.events_by_kind.values()),
        freshness=[_fresh(f) for f in q.freshness],
        usable_share=q.usable_share,
    )


def _fresh(f: StreamFreshness) -> FreshnessDoc:
    return FreshnessDoc(stream=f.stream, age_s=f.age_s, max_age_s=f.max_age_s, stale=f.stale)


def health_doc(report: HealthReport | None) -> HealthDoc | None:
    """The health summary (None when no registry is attached)."""
    if report is None:
        return None
    return HealthDoc(live=report.live, ready=report.ready, reasons=list(report.reasons))


def open_positions(view: SystemView) -> list[Position]:
    """Positions with a size."""
    return [p for p in view.positions() if p.size > 0]


def status_doc(view: SystemView, health: HealthReport | None, alerts: Sequence[ActiveAlert]) -> StatusDoc:
    """GET /api/status."""
    return StatusDoc(
        ts_ms=now_ms(),
        mode=view.mode(),
        account=account_doc(view.account()),
        open_positions=len(open_positions(view)),
        alerts_active=len(alerts),
        health=health_doc(health),
    )


def dashboard_doc(
    view: SystemView,
    *,
    health: HealthReport | None,
    alerts: Sequence[ActiveAlert],
    signals_shown: int,
    curve_points: int,
    poll_ms: int,
) -> DashboardDoc:
    """GET /api/dashboard."""
    enhanced = view.enhanced_data()
    return DashboardDoc(
        ts_ms=now_ms(),
        mode=view.mode(),
        account=account_doc(view.account()),
        curve=curve(view.equity_history(), curve_points),
        positions=open_positions(view),
        signals=list(view.recent_signals(signals_shown)),
        enhanced=[enhanced[k] for k in sorted(enhanced)],
        quality=quality_doc(view),
        latency=list(view.api_latency()),
        alerts=list(alerts),
        health=health_doc(health),
        poll_ms=poll_ms,
    )
