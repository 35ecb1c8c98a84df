"""Trading modes and the machine that switches between them.

NORMAL trades. EMERGENCY opens nothing new and protects what is open (see `asym.trading.emergency`).
HALTED (by hand) is an emergency that only a person ends. A trigger (daily loss, drawdown, API failure
streak, data-quality collapse, extreme market risk, or a hand) moves NORMAL -> EMERGENCY; leaving it is
always an explicit `resume`, which is refused with the reasons while any trigger has not cleared. Clearing
uses a hysteresis (`resume_fraction`) so a value hovering at its limit cannot flap the mode.
Every transition and refusal is a `ModeEvent` with cause and time.
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import StrEnum

import msgspec

from asym.errors import ConfigError
from asym.trading.config import RiskConfig

_ZERO = Decimal(0)


class Mode(StrEnum):
    """Trading mode."""

    NORMAL = "NORMAL"
    EMERGENCY = "EMERGENCY"
    HALTED = "HALTED"


class Trigger(StrEnum):
    """Why the engine left NORMAL."""

    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    API_FAILURES = "api_failures"
    DATA_QUALITY = "data_quality"
    VOLATILITY = "volatility"
    MANUAL = "manual"


class ModeConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds of the mode machine (the loss limits are RiskConfig's daily_loss_limit and max_drawdown)."""

    daily_loss_limit: Decimal = Decimal("0.03")
    max_drawdown: Decimal = Decimal("0.10")
    max_api_failure_streak: int = 5
    """Consecutive failed venue calls that enter emergency; one success resets the streak."""
    min_data_quality: float = 0.5
    """Share of watched assets with fresh, unflagged data below which the engine is flying blind."""
    max_market_stress: float = 0.9
    """Market-wide risk score (e.g. median market_risk_score) at or above which volatility is extreme."""
    resume_fraction: Decimal = Decimal("0.8")
    """A loss trigger clears at this share of its limit; quality and stress clear at the mirrored margin."""

    def __post_init__(self) -> None:
        for name in ("daily_loss_limit", "max_drawdown", "resume_fraction"):
            v = getattr(self, name)
            if not isinstance(v, Decimal) or not v.is_finite() or not _ZERO < v <= 1:
                raise ConfigError(f"{name} must be in (0, 1], got {v!r}")
        if self.max_api_failure_streak < 1:
            raise ConfigError(f"max_api_failure_streak must be >= 1, got {self.max_api_failure_streak}")
        for name in ("min_data_quality", "max_market_stress"):
            v = getattr(self, name)
            if not isinstance(v, float | int) or not math.isfinite(v) or not 0 <= v <= 1:
                raise ConfigError(f"{name} must be a score in [0, 1], got {v!r}")


def mode_config_from(risk: RiskConfig, **overrides: object) -> ModeConfig:
    """A ModeConfig whose loss limits are the RiskConfig's (one place to set them)."""
    fields: dict[str, object] = {"daily_loss_limit": risk.daily_loss_limit, "max_drawdown": risk.max_drawdown}
    fields.update(overrides)
    return ModeConfig(**fields)  # type: ignore[arg-type]


class ModeInputs(msgspec.Struct, frozen=True, kw_only=True):
    """The account and market health the triggers look at (None = not measured: that trigger is idle)."""

    equity: Decimal
    day_start_equity: Decimal
    peak_equity: Decimal
    data_quality: float | None = None
    """Share of watched assets with usable data, 0..1."""
    market_stress: float | None = None
    """Market-wide risk score 0..1 (see `market_stress`)."""


class ModeEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One transition, trigger or refused resume."""

    ts: int
    kind: str
    """'enter', 'trigger' (another cause while already out of NORMAL), 'halt', 'resume', 'resume_refused'."""
    src: Mode
    dst: Mode
    triggers: tuple[Trigger, ...]
    detail: str


class ResumeResult(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of a resume request; `reasons` says what has not cleared when refused."""

    ok: bool
    mode: Mode
    reasons: tuple[str, ...]
    event: ModeEvent


def market_stress(scores: list[float | None]) -> float | None:
    """The median of the known market_risk_scores (one thin alt spiking does not stop the engine)."""
    known = sorted(s for s in scores if s is not None and math.isfinite(s))
    if not known:
        return None
    n = len(known)
    return known[n // 2] if n % 2 else (known[n // 2 - 1] + known[n // 2]) / 2


class ModeMachine:
    """NORMAL / EMERGENCY / HALTED with explicit, recorded transitions."""

    def __init__(self, cfg: ModeConfig | None = None, mode: Mode = Mode.NORMAL) -> None:
        self.cfg = cfg or ModeConfig()
        self.mode = mode
        self.active: dict[Trigger, str] = {}
        """Triggers that fired since the last resume, with the detail of the first firing."""
        self.api_failure_streak = 0
        self.events: list[ModeEvent] = []
        self._last: ModeInputs | None = None

    @property
    def allows_entries(self) -> bool:
        """True only in NORMAL."""
        return self.mode is Mode.NORMAL

    # --- triggers --------------------------------------------------------------------------------------

    def observe(self, inputs: ModeInputs, now_ms: int) -> list[ModeEvent]:
        """Check every measured trigger; enter EMERGENCY on the first that fires."""
        self._last = inputs
        out = []
        for trig, detail in self._firing(inputs, clearing=False).items():
            ev = self._fire(trig, detail, now_ms)
            if ev is not None:
                out.append(ev)
        return out

    def record_api_failure(self, now_ms: int, detail: str = "") -> ModeEvent | None:
        """One more failed venue call; the streak's limit fires API_FAILURES."""
        self.api_failure_streak += 1
        if self.api_failure_streak >= self.cfg.max_api_failure_streak:
            limit = self.cfg.max_api_failure_streak
            text = f"{self.api_failure_streak} consecutive API failures (limit {limit})"
            return self._fire(Trigger.API_FAILURES, f"{text}; last: {detail}" if detail else text, now_ms)
        return None

    def record_api_success(self) -> None:
        """A venue call succeeded: the failure streak restarts at 0."""
        self.api_failure_streak = 0

    def enter_emergency(self, now_ms: int, detail: str) -> ModeEvent | None:
        """Emergency by hand."""
        return self._fire(Trigger.MANUAL, detail or "by hand", now_ms)

    def halt(self, now_ms: int, detail: str) -> ModeEvent:
        """HALTED by hand, from any mode."""
        self.active.setdefault(Trigger.MANUAL, detail or "halt by hand")
        return self._event(now_ms, "halt", Mode.HALTED, (Trigger.MANUAL,), detail or "halt by hand")

    def resume(self, now_ms: int, inputs: ModeInputs | None = None) -> ResumeResult:
        """Back to NORMAL if every trigger has cleared (MANUAL is cleared by this very request)."""
        if inputs is not None:
            self._last = inputs
        reasons = []
        still = self._firing(self._last, clearing=True) if self._last is not None else {}
        for trig in list(self.active) + [t for t in still if t not in self.active]:
            if trig is Trigger.MANUAL:
                continue
            if trig is Trigger.API_FAILURES:
                if self.api_failure_streak >= self.cfg.max_api_failure_streak:
                    reasons.append(f"api_failures: streak {self.api_failure_streak} not reset by a success")
                continue
            if trig in still:
                reasons.append(f"{trig.value}: {still[trig]}")
            elif self._last is None or not self._measured(trig, self._last):
                reasons.append(f"{trig.value}: not measured since it fired")
        if self.mode is Mode.NORMAL:
            ev = ModeEvent(
                ts=now_ms,
                kind="resume",
                src=Mode.NORMAL,
                dst=Mode.NORMAL,
                triggers=(),
                detail="already NORMAL",
            )
            return ResumeResult(ok=True, mode=self.mode, reasons=(), event=ev)
        if reasons:
            ev = ModeEvent(
                ts=now_ms,
                kind="resume_refused",
                src=self.mode,
                dst=self.mode,
                triggers=tuple(self.active),
                detail="; ".join(reasons),
            )
            self.events.append(ev)
            return ResumeResult(ok=False, mode=self.mode, reasons=tuple(reasons), event=ev)
        cleared = tuple(self.active)
        self.active.clear()
        ev = self._event(now_ms, "resume", Mode.NORMAL, cleared, "every trigger cleared")
        return ResumeResult(ok=True, mode=self.mode, reasons=(), event=ev)

    # --- internals -------------------------------------------------------------------------------------

    def _fire(self, trig: Trigger, detail: str, now_ms: int) -> ModeEvent | None:
        if trig in self.active:
            return None
        self.active[trig] = detail
        if self.mode is Mode.NORMAL:
            return self._event(now_ms, "enter", Mode.EMERGENCY, (trig,), detail)
        return self._event(now_ms, "trigger", self.mode, (trig,), detail)

    def _event(
        self, now_ms: int, kind: str, dst: Mode, triggers: tuple[Trigger, ...], detail: str
    ) -> ModeEvent:
        ev = ModeEvent(ts=now_ms, kind=kind, src=self.mode, dst=dst, triggers=triggers, detail=detail)
        self.mode = dst
        self.events.append(ev)
        return ev

    @staticmethod
    def _measured(trig: Trigger, inp: ModeInputs) -> bool:
        if trig is Trigger.DATA_QUALITY:
            return inp.data_quality is not None
        if trig is Trigger.VOLATILITY:
            return inp.market_stress is not None
        return True

    def _firing(self, inp: ModeInputs, *, clearing: bool) -> dict[Trigger, str]:
        """Triggers over their limit; with `clearing`, over the (stricter) level a resume needs."""
        c = self.cfg
        f = c.resume_fraction if clearing else Decimal(1)
        out: dict[Trigger, str] = {}
        if inp.day_start_equity > 0:
            loss = (inp.day_start_equity - inp.equity) / inp.day_start_equity
            if loss >= c.daily_loss_limit * f:
                out[Trigger.DAILY_LOSS] = (
                    f"daily loss {loss:.4%} of day-start equity {inp.day_start_equity} "
                    f"{'>=' if not clearing else 'not below'} {c.daily_loss_limit * f:.4%}"
                )
        if inp.peak_equity > 0:
            dd = (inp.peak_equity - inp.equity) / inp.peak_equity
            if dd >= c.max_drawdown * f:
                out[Trigger.DRAWDOWN] = (
                    f"drawdown {dd:.4%} from peak {inp.peak_equity} "
                    f"{'>=' if not clearing else 'not below'} {c.max_drawdown * f:.4%}"
                )
        ff = float(f)
        if inp.data_quality is not None:
            # Clearing needs quality back above the limit by the mirrored margin: 0.5 -> 0.6 with f=0.8.
            need = c.min_data_quality if not clearing else 1 - (1 - c.min_data_quality) * ff
            if inp.data_quality < need:
                out[Trigger.DATA_QUALITY] = f"usable data on {inp.data_quality:.1%} of assets < {need:.1%}"
        if inp.market_stress is not None:
            limit = c.max_market_stress * (ff if clearing else 1.0)
            if inp.market_stress >= limit:
                out[Trigger.VOLATILITY] = f"market stress {inp.market_stress:.3f} >= {limit:.3f}"
        return out
