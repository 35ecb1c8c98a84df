"""The running system as the monitor sees it: `SessionView` (the monitor's `SystemView`, real data from the
session and the collector) and `SessionController` (its `Controller`: halt / resume / mode by hand)."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from asym.analytics.types import EnhancedData
from asym.domain import Position
from asym.market.results import CycleResult
from asym.monitor.adapters import mode_state, signal_record
from asym.monitor.observer import LatencyWindow
from asym.monitor.view import (
    AccountSummary,
    ControlResult,
    DataQuality,
    EquityLike,
    LatencySummary,
    ModeState,
    SignalRecord,
    StreamFreshness,
)
from asym.signals.schema import SignalOutcome
from asym.trading.modes import Mode
from asym.trading.session import TradingSession

STREAM_MAX_AGE_S = {"book": 10.0, "ticker": 60.0, "liquidation": 3600.0}
"""Market-time age (seconds) beyond which a stream counts as stale on the dashboard."""


class SessionView:
    """`asym.monitor.SystemView` over a live session: cheap reads, never blocking the loop."""

    def __init__(
        self,
        session: TradingSession,
        latency: LatencyWindow | None = None,
        *,
        clock: Callable[[], int] | None = None,
        max_signals: int = 500,
    ) -> None:
        self.session = session
        self.latency = latency
        self.clock = clock or session.clock
        self._signals: deque[SignalRecord] = deque(maxlen=max_signals)
        self._quality: Counter[str] = Counter()
        self._last_cycle: CycleResult | None = None

    def record_cycle(self, result: CycleResult, outcomes: Sequence[SignalOutcome], now_ms: int) -> None:
        """Take in one cycle's collection and signal outcomes."""
        self._last_cycle = result
        self._quality.update(result.quality.counts_by_kind)
        for o in outcomes:
            self._signals.appendleft(signal_record(o, now_ms))

    def mode(self) -> ModeState:
        """Current mode and its causes."""
        return mode_state(self.session.modes)

    def account(self) -> AccountSummary:
        """Equity, balances and P&L of the books."""
        s = self.session
        pf = s.portfolio
        start = s.books.start.balance if s.books.start is not None else pf.balance
        now = self.clock()
        return AccountSummary(
            equity=pf.equity,
            available_balance=s.books.available,
            unrealised_pnl=pf.unrealised_pnl,
            realised_pnl=pf.balance - start,
            day_start_equity=pf.day_start_equity(max(now, pf.last_exec_ms)),
            peak_equity=pf.peak_equity,
        )

    def positions(self) -> Sequence[Position]:
        """Open positions."""
        return self.session.positions()

    def equity_history(self) -> Sequence[EquityLike]:
        """The books' equity curve."""
        return list(self.session.portfolio.history)

    def recent_signals(self, limit: int = 50) -> Sequence[SignalRecord]:
        """Newest first."""
        return list(self._signals)[: max(0, limit)]

    def enhanced_data(self) -> Mapping[str, EnhancedData]:
        """The freshest enhanced data per symbol."""
        return dict(self.session.enhanced)

    def data_quality(self) -> DataQuality:
        """Quality events since start, stream freshness (market time), usable share of the last cycle."""
        freshness: list[StreamFreshness] = []
        cycle = self._last_cycle
        if cycle is not None:
            now = self.clock()
            ages: dict[str, list[float]] = {}
            for r in cycle.results:
                ticker = r.inputs.ticker
                if ticker is not None:
                    ages.setdefault("ticker", []).append(max(0, now - ticker.ts) / 1000)
                if r.inputs.book is not None:
                    ages.setdefault("book", []).append(max(0, now - r.inputs.book.ts) / 1000)
            for stream, values in sorted(ages.items()):
                freshness.append(
                    StreamFreshness(stream=stream, age_s=max(values), max_age_s=STREAM_MAX_AGE_S[stream])
                )
        last = self.session.mode_inputs(self.clock())
        return DataQuality(
            events_by_kind=dict(self._quality), freshness=tuple(freshness), usable_share=last.data_quality
        )

    def api_latency(self) -> Sequence[LatencySummary]:
        """Venue latency per endpoint."""
        return self.latency.summary() if self.latency is not None else []


class SessionController:
    """`asym.monitor.Controller` over the session's mode machine (the real one, with its refusals)."""

    def __init__(self, session: TradingSession) -> None:
        self.session = session

    async def halt(self, reason: str) -> ControlResult:
        """HALTED: no new entries, entries cancelled, every position keeps a stop."""
        ev = await self.session.halt(reason or "halt by hand")
        return ControlResult(ok=True, mode=self.session.mode, detail=ev.detail)

    async def resume(self) -> ControlResult:
        """NORMAL, or refused with the reasons of every trigger not yet cleared."""
        res = await self.session.resume()
        return ControlResult(ok=res.ok, mode=res.mode, reasons=res.reasons, detail=res.event.detail)

    async def set_mode(self, mode: Mode, reason: str) -> ControlResult:
        """HALTED = halt, NORMAL = resume, EMERGENCY = emergency by hand (not out of HALTED)."""
        if mode is Mode.HALTED:
            return await self.halt(reason)
        if mode is Mode.NORMAL:
            return await self.resume()
        if self.session.mode is Mode.HALTED:
            return ControlResult(
                ok=False, mode=Mode.HALTED, reasons=("HALTED is left only by resume, not by EMERGENCY",)
            )
        ev = await self.session.enter_emergency(reason or "emergency by hand")
        detail = ev.detail if ev is not None else "already EMERGENCY"
        return ControlResult(ok=True, mode=self.session.mode, detail=detail)


def money(value: Decimal) -> str:
    """A USDT amount for tables: two decimals, sign kept."""
    return f"{value:,.2f}"


__all__ = ["SessionController", "SessionView", "money"]
