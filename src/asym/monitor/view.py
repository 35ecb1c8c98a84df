"""What the monitor reads and what it may ask: the read-only `SystemView` and the `Controller` protocols.

The trading loop implements both for real; `StaticSystemView` and `MemoryController` are in-memory
implementations for tests, demos and the dashboard's own development. The monitor never mutates the system
except through `Controller`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Position
from asym.trading.modes import Mode


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class ModeState(msgspec.Struct, frozen=True, kw_only=True):
    """The trading mode, why the system is in it, and since when (epoch ms)."""

    mode: Mode
    cause: str = ""
    since_ms: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.mode, Mode):  # a plain "HALTED" from a caller: keep `is Mode.X` checks true
            msgspec.structs.force_setattr(self, "mode", Mode(self.mode))


class AccountSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Account money in the quote coin (USDT); exact Decimals."""

    equity: Decimal
    available_balance: Decimal
    unrealised_pnl: Decimal
    realised_pnl: Decimal
    """Realised P&L since the start of the run (fees and funding included)."""
    day_start_equity: Decimal
    peak_equity: Decimal

    @property
    def drawdown(self) -> Decimal:
        """Fraction below the peak equity, 0 when at or above it."""
        if self.peak_equity <= 0 or self.equity >= self.peak_equity:
            return Decimal(0)
        return (self.peak_equity - self.equity) / self.peak_equity

    @property
    def total_pnl(self) -> Decimal:
        """Realised plus unrealised P&L."""
        return self.realised_pnl + self.unrealised_pnl


class EquityLike(Protocol):
    """Anything with a time and an equity (e.g. `asym.trading.portfolio.EquityPoint`)."""

    @property
    def ts(self) -> int:
        """Epoch ms."""
        ...

    @property
    def equity(self) -> Decimal:
        """Account equity at `ts`."""
        ...


class EquitySample(msgspec.Struct, frozen=True, kw_only=True):
    """One point of the equity curve."""

    ts: int
    equity: Decimal


class SignalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A signal or a rejection as the dashboard shows it: what, why, and whether validation accepted it."""

    ts: int
    symbol: str
    action: str
    """LONG / SHORT / HOLD / CLOSE, or '' for a rejection that never parsed."""
    outcome: str
    """'accepted' or 'rejected'."""
    reason: str = ""
    """The rejection code and detail (empty when accepted)."""
    rationale: str = ""
    confidence: float | None = None
    reward_risk: Decimal | None = None
    model_id: str = ""


class StreamFreshness(msgspec.Struct, frozen=True, kw_only=True):
    """How old the newest data of one stream is, against the age at which it counts as stale."""

    stream: str
    age_s: float | None
    """Seconds since the last update; None when nothing was ever received."""
    max_age_s: float

    @property
    def stale(self) -> bool:
        """True when never received or older than allowed."""
        return self.age_s is None or self.age_s > self.max_age_s


class DataQuality(msgspec.Struct, frozen=True, kw_only=True):
    """Counts of quality events by kind (since start), freshness per stream, share of usable assets."""

    events_by_kind: dict[str, int] = msgspec.field(default_factory=dict)
    freshness: tuple[StreamFreshness, ...] = ()
    usable_share: float | None = None
    """Share of watched assets with fresh, unflagged data (0..1); None when not measured."""


class LatencySummary(msgspec.Struct, frozen=True, kw_only=True):
    """Recent latency of one venue endpoint."""

    endpoint: str
    count: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@runtime_checkable
class SystemView(Protocol):
    """Read-only view of the running system; every method is cheap and never blocks the event loop."""

    def mode(self) -> ModeState:
        """Current mode and its cause."""
        ...

    def account(self) -> AccountSummary:
        """Equity, balances and P&L."""
        ...

    def positions(self) -> Sequence[Position]:
        """Open positions."""
        ...

    def equity_history(self) -> Sequence[EquityLike]:
        """The equity curve, oldest first."""
        ...

    def recent_signals(self, limit: int = 50) -> Sequence[SignalRecord]:
        """The newest signals and rejections, newest first."""
        ...

    def enhanced_data(self) -> Mapping[str, EnhancedData]:
        """The freshest enhanced data per symbol."""
        ...

    def data_quality(self) -> DataQuality:
        """Quality event counts and stream freshness."""
        ...

    def api_latency(self) -> Sequence[LatencySummary]:
        """Venue API latency per endpoint."""
        ...


class ControlResult(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of a control request: `ok` False means refused, and `reasons` says why."""

    ok: bool
    mode: Mode
    reasons: tuple[str, ...] = ()
    detail: str = ""


@runtime_checkable
class Controller(Protocol):
    """What the control API may ask of the trading loop."""

    async def halt(self, reason: str) -> ControlResult:
        """Stop opening positions and protect what is open, until a person resumes."""
        ...

    async def resume(self) -> ControlResult:
        """Back to NORMAL, or a refusal with the reasons (a trigger has not cleared)."""
        ...

    async def set_mode(self, mode: Mode, reason: str) -> ControlResult:
        """Switch mode by hand: HALTED = halt, EMERGENCY = enter emergency, NORMAL = resume."""
        ...


@dataclass
class StaticSystemView:
    """A SystemView over plain attributes: set them, and the monitor shows them."""

    mode_state: ModeState = field(default_factory=lambda: ModeState(mode=Mode.NORMAL))
    account_summary: AccountSummary = field(
        default_factory=lambda: AccountSummary(
            equity=Decimal(0),
            available_balance=Decimal(0),
            unrealised_pnl=Decimal(0),
            realised_pnl=Decimal(0),
            day_start_equity=Decimal(0),
            peak_equity=Decimal(0),
        )
    )
    open_positions: list[Position] = field(default_factory=list)
    equity_points: list[EquitySample] = field(default_factory=list)
    signals: list[SignalRecord] = field(default_factory=list)
    """Newest first."""
    enhanced: dict[str, EnhancedData] = field(default_factory=dict)
    quality: DataQuality = field(default_factory=DataQuality)
    latency: list[LatencySummary] = field(default_factory=list)

    def mode(self) -> ModeState:
        """Current mode."""
        return self.mode_state

    def account(self) -> AccountSummary:
        """Account summary."""
        return self.account_summary

    def positions(self) -> Sequence[Position]:
        """Open positions."""
        return self.open_positions

    def equity_history(self) -> Sequence[EquityLike]:
        """Equity curve."""
        return self.equity_points

    def recent_signals(self, limit: int = 50) -> Sequence[SignalRecord]:
        """Newest signals first."""
        return self.signals[: max(0, limit)]

    def enhanced_data(self) -> Mapping[str, EnhancedData]:
        """Enhanced data per symbol."""
        return self.enhanced

    def data_quality(self) -> DataQuality:
        """Data quality."""
        return self.quality

    def api_latency(self) -> Sequence[LatencySummary]:
        """API latency."""
        return self.latency


class MemoryController:
    """A Controller holding the mode itself (and writing it into a StaticSystemView when given one).

    `blockers` are conditions that refuse a resume (e.g. 'drawdown 12% >= 10%'), set by tests or a demo.
    """

    def __init__(self, view: StaticSystemView | None = None, mode: Mode = Mode.NORMAL) -> None:
        self.view = view
        self.blockers: list[str] = []
        self.history: list[tuple[int, Mode, str]] = []
        self._state = view.mode_state if view is not None else ModeState(mode=mode, since_ms=now_ms())

    @property
    def state(self) -> ModeState:
        """Current mode and cause (the view's, when attached: it may be set there directly)."""
        return self.view.mode_state if self.view is not None else self._state

    def _set(self, mode: Mode, cause: str) -> None:
        ts = now_ms()
        self._state = ModeState(mode=mode, cause=cause, since_ms=ts)
        self.history.append((ts, mode, cause))
        if self.view is not None:
            self.view.mode_state = self._state

    async def halt(self, reason: str) -> ControlResult:
        """HALTED from any mode."""
        self._set(Mode.HALTED, reason or "halt by hand")
        return ControlResult(ok=True, mode=Mode.HALTED, detail=self.state.cause)

    async def resume(self) -> ControlResult:
        """NORMAL unless a blocker remains."""
        if self.state.mode is Mode.NORMAL:
            return ControlResult(ok=True, mode=Mode.NORMAL, detail="already NORMAL")
        if self.blockers:
            return ControlResult(ok=False, mode=self.state.mode, reasons=tuple(self.blockers))
        self._set(Mode.NORMAL, "resumed by hand")
        return ControlResult(ok=True, mode=Mode.NORMAL, detail="resumed")

    async def set_mode(self, mode: Mode, reason: str) -> ControlResult:
        """HALTED = halt, NORMAL = resume, EMERGENCY = enter emergency (not from HALTED: resume first)."""
        if mode is Mode.HALTED:
            return await self.halt(reason)
        if mode is Mode.NORMAL:
            return await self.resume()
        if self.state.mode is Mode.HALTED:
            return ControlResult(
                ok=False, mode=Mode.HALTED, reasons=("HALTED is left only by resume, not by EMERGENCY",)
            )
        if self.state.mode is not Mode.EMERGENCY:
            self._set(Mode.EMERGENCY, reason or "emergency by hand")
        return ControlResult(ok=True, mode=Mode.EMERGENCY, detail=self.state.cause)
