"""Liveness and readiness from checks that parts register.

A check is a function (sync or async) returning None when healthy, or a short reason string when not
("book stream stale for 42 s", "venue unreachable: 5 failures in a row"). Liveness answers "is the process
working at all" (a restart would help); readiness answers "should it be trusted to trade now". A check that
raises or times out counts as failing, with that as its reason: the endpoint itself never fails.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

import msgspec

from asym.logging import redact_text
from asym.monitor.view import SystemView
from asym.trading.modes import Mode

CheckFn = Callable[[], str | Awaitable[str | None] | None]


class Kind(StrEnum):
    """Which question a check answers."""

    LIVENESS = "liveness"
    READINESS = "readiness"


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """One check's answer."""

    name: str
    kind: Kind
    ok: bool
    reason: str = ""


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    """Liveness, readiness, the reasons when not, and every check."""

    live: bool
    ready: bool
    reasons: tuple[str, ...]
    checks: tuple[CheckResult, ...]


class HealthRegistry:
    """Named checks of both kinds; `report()` runs them all (concurrently, each with a timeout)."""

    def __init__(self, timeout_s: float = 2.0) -> None:
        self.timeout_s = timeout_s
        self._checks: dict[str, tuple[Kind, CheckFn]] = {}

    def register(self, name: str, check: CheckFn, kind: Kind | str = Kind.READINESS) -> None:
        """Add (or replace) a check."""
        self._checks[name] = (Kind(kind), check)

    def unregister(self, name: str) -> None:
        """Remove a check (no error when absent)."""
        self._checks.pop(name, None)

    @property
    def names(self) -> list[str]:
        """Registered check names."""
        return list(self._checks)

    async def _run(self, name: str, kind: Kind, check: CheckFn) -> CheckResult:
        try:
            out = check()
            if inspect.isawaitable(out):
                out = await asyncio.wait_for(out, self.timeout_s)
        except TimeoutError:
            return CheckResult(name=name, kind=kind, ok=False, reason=f"{name}: check timed out")
        except Exception as exc:  # a broken check must not break the health endpoint
            text = redact_text(f"{type(exc).__name__}: {exc}")[:300]
            return CheckResult(name=name, kind=kind, ok=False, reason=f"{name}: check failed: {text}")
        if out is None:
            return CheckResult(name=name, kind=kind, ok=True)
        return CheckResult(name=name, kind=kind, ok=False, reason=redact_text(str(out))[:500] or name)

    async def report(self) -> HealthReport:
        """Run every check: live = every liveness check ok; ready = live and every readiness check ok."""
        results = await asyncio.gather(*(self._run(n, k, c) for n, (k, c) in self._checks.items()))
        live = all(r.ok for r in results if r.kind is Kind.LIVENESS)
        ready = live and all(r.ok for r in results if r.kind is Kind.READINESS)
        reasons = tuple(r.reason for r in results if not r.ok)
        return HealthReport(live=live, ready=ready, reasons=reasons, checks=tuple(results))


class Heartbeat:
    """The trading loop calls `beat()` each cycle; `check` fails when it stopped beating (liveness)."""

    def __init__(self, name: str, max_age_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.max_age_s = max_age_s
        self._clock = clock
        self._last: float | None = None

    def beat(self) -> None:
        """One cycle done."""
        self._last = self._clock()

    def check(self) -> str | None:
        """None while beating; the reason otherwise."""
        if self._last is None:
            return f"{self.name} has not completed a cycle yet"
        age = self._clock() - self._last
        if age > self.max_age_s:
            return f"{self.name} silent for {age:.1f} s (limit {self.max_age_s:g} s)"
        return None


def mode_check(view: SystemView) -> CheckFn:
    """Not ready outside NORMAL (EMERGENCY or HALTED), with the cause."""

    def check() -> str | None:
        st = view.mode()
        if st.mode is Mode.NORMAL:
            return None
        return f"mode {st.mode.value}" + (f": {st.cause}" if st.cause else "")

    return check


def freshness_check(view: SystemView) -> CheckFn:
    """Not ready while any stream is stale (or never received)."""

    def check() -> str | None:
        stale = [f for f in view.data_quality().freshness if f.stale]
        if not stale:
            return None
        parts = [
            f"{f.stream} never received"
            if f.age_s is None
            else f"{f.stream} {f.age_s:.1f}s old > {f.max_age_s:g}s"
            for f in stale
        ]
        return "data stale: " + ", ".join(parts)

    return check


def data_quality_check(view: SystemView, min_usable_share: float = 0.5) -> CheckFn:
    """Not ready when too few assets have usable data."""

    def check() -> str | None:
        share = view.data_quality().usable_share
        if share is None or share >= min_usable_share:
            return None
        return f"usable data on {share:.0%} of assets < {min_usable_share:.0%}"

    return check


def loop_lag_check(max_lag: Callable[[], float], limit_s: float = 1.0) -> CheckFn:
    """Not live when the event loop was blocked longer than `limit_s` recently."""

    def check() -> str | None:
        lag = max_lag()
        return None if lag <= limit_s else f"event loop lag {lag:.3f}s > {limit_s:g}s"

    return check


def standard_checks(registry: HealthRegistry, view: SystemView, min_usable_share: float = 0.5) -> None:
    """Register the view-based readiness checks: mode, freshness, data quality."""
    registry.register("mode", mode_check(view), Kind.READINESS)
    registry.register("freshness", freshness_check(view), Kind.READINESS)
    registry.register("data_quality", data_quality_check(view, min_usable_share), Kind.READINESS)
