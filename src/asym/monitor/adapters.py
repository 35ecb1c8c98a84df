"""Bridges from other parts of asym into the monitor's types: signal outcomes into `SignalRecord`, and
the trading engine's `ModeMachine` behind the `Controller` protocol."""

from __future__ import annotations

from collections.abc import Callable

from asym.monitor.view import ControlResult, ModeState, SignalRecord, now_ms
from asym.signals.schema import Rejection, Signal, SignalOutcome
from asym.trading.modes import Mode, ModeInputs, ModeMachine


def signal_record(outcome: SignalOutcome, ts: int | None = None) -> SignalRecord:
    """The dashboard's record of a validated signal or a rejection (`ts` defaults to the data's time)."""
    if isinstance(outcome, Signal):
        return SignalRecord(
            ts=ts if ts is not None else outcome.data_timestamp,
            symbol=outcome.symbol,
            action=outcome.action.value,
            outcome="accepted",
            rationale=outcome.rationale,
            confidence=outcome.confidence,
            reward_risk=outcome.reward_risk,
            model_id=outcome.model_id,
        )
    rej: Rejection = outcome
    return SignalRecord(
        ts=ts if ts is not None else rej.data_timestamp,
        symbol=rej.symbol,
        action="",
        outcome="rejected",
        reason=f"{rej.code.value}: {rej.detail}" if rej.detail else rej.code.value,
        model_id=rej.model_id,
    )


def mode_state(machine: ModeMachine) -> ModeState:
    """The machine's mode, the causes still active, and when it last changed."""
    cause = "; ".join(f"{t.value}: {d}" for t, d in machine.active.items())
    since = next((e.ts for e in reversed(machine.events) if e.src is not e.dst), 0)
    return ModeState(mode=machine.mode, cause=cause, since_ms=since)


class ModeMachineController:
    """Controller over `asym.trading.modes.ModeMachine` (the real mode logic, with its resume refusals).

    `inputs` returns the current ModeInputs (equity, quality, ...) so a resume is judged on fresh values;
    it may return None when nothing new was measured.
    """

    def __init__(
        self,
        machine: ModeMachine,
        inputs: Callable[[], ModeInputs | None] | None = None,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.machine = machine
        self._inputs = inputs or (lambda: None)
        self._clock = clock_ms

    async def halt(self, reason: str) -> ControlResult:
        """ModeMachine.halt."""
        ev = self.machine.halt(self._clock(), reason)
        return ControlResult(ok=True, mode=self.machine.mode, detail=ev.detail)

    async def resume(self) -> ControlResult:
        """ModeMachine.resume, judged on fresh inputs."""
        res = self.machine.resume(self._clock(), self._inputs())
        return ControlResult(ok=res.ok, mode=res.mode, reasons=res.reasons, detail=res.event.detail)

    async def set_mode(self, mode: Mode, reason: str) -> ControlResult:
        """HALTED = halt, NORMAL = resume, EMERGENCY = enter emergency by hand."""
        if mode is Mode.HALTED:
            return await self.halt(reason)
        if mode is Mode.NORMAL:
            return await self.resume()
        if self.machine.mode is Mode.HALTED:
            return ControlResult(
                ok=False, mode=Mode.HALTED, reasons=("HALTED is left only by resume, not by EMERGENCY",)
            )
        ev = self.machine.enter_emergency(self._clock(), reason)
        return ControlResult(ok=True, mode=self.machine.mode, detail=ev.detail if ev else "already EMERGENCY")
