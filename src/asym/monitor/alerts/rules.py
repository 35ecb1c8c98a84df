"""Alert rules: pure functions of `AlertInputs` (a snapshot of the view and the metrics) to firings.

A rule returns one `Firing` per problem it sees now, keyed so the same problem keeps the same key while it
lasts (e.g. 'stale_data:book'); the `AlertBook` turns key changes into firing / resolved notifications.
Windowed rules keep their own samples of cumulative counters, so they need no I/O and no clock of their own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

import msgspec

from asym.errors import ConfigError
from asym.monitor.view import ModeState, StreamFreshness
from asym.trading.modes import Mode


class Severity(StrEnum):
    """How urgent an alert is."""

    WARNING = "warning"
    CRITICAL = "critical"


class Firing(msgspec.Struct, frozen=True, kw_only=True):
    """A problem a rule sees now."""

    key: str
    rule: str
    severity: Severity
    summary: str


class AlertInputs(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the rules look at, taken at one instant."""

    ts_ms: int
    mode: ModeState
    drawdown: Decimal
    freshness: tuple[StreamFreshness, ...] = ()
    usable_share: float | None = None
    quality_events_total: int = 0
    """Cumulative data-quality events (all kinds)."""
    api_requests_total: int = 0
    api_errors_total: int = 0
    loop_lag_s: float = 0.0
    """Largest recent event-loop lag."""


class Rule(Protocol):
    """An alert rule."""

    name: str

    def evaluate(self, inputs: AlertInputs) -> list[Firing]:
        """The problems seen now (empty when all is well)."""
        ...


class _Window:
    """Samples of cumulative counters; the increase over the last `window_s`."""

    def __init__(self, window_s: float) -> None:
        self.window_ms = int(window_s * 1000)
        self.samples: deque[tuple[int, tuple[int, ...]]] = deque()

    def add(self, ts_ms: int, values: tuple[int, ...]) -> tuple[int, ...]:
        """Record a sample; return the increase since the newest sample at or before the window's start."""
        if self.samples and any(v < old for v, old in zip(values, self.samples[-1][1], strict=True)):
            self.samples.clear()  # counters went down: a restart; start over
        self.samples.append((ts_ms, values))
        start = ts_ms - self.window_ms
        while len(self.samples) > 1 and self.samples[1][0] <= start:
            self.samples.popleft()
        base = self.samples[0][1]
        return tuple(v - b for v, b in zip(values, base, strict=True))


def _check_fraction(name: str, value: float | Decimal) -> None:
    if not 0 < value <= 1:
        raise ConfigError(f"{name} must be in (0, 1], got {value}")


class DataQualityRule:
    """Data quality degraded: too few usable assets, or a burst of quality events."""

    name = "data_quality"

    def __init__(self, min_usable_share: float = 0.5, max_events: int = 100, window_s: float = 300.0) -> None:
        _check_fraction("min_usable_share", min_usable_share)
        if max_events < 1:
            raise ConfigError("max_events must be >= 1")
        self.min_usable_share = min_usable_share
        self.max_events = max_events
        self.window = _Window(window_s)
        self.window_s = window_s

    def evaluate(self, inputs: AlertInputs) -> list[Firing]:
        """Usable share below the floor; events over the window above the ceiling."""
        out = []
        share = inputs.usable_share
        if share is not None and share < self.min_usable_share:
            out.append(
                Firing(
                    key="data_quality:usable_share",
                    rule=self.name,
                    severity=Severity.CRITICAL,
                    summary=f"usable data on {share:.0%} of assets (floor {self.min_usable_share:.0%})",
                )
            )
        (events,) = self.window.add(inputs.ts_ms, (inputs.quality_events_total,))
        if events > self.max_events:
            out.append(
                Firing(
                    key="data_quality:events",
                    rule=self.name,
                    severity=Severity.WARNING,
                    summary=f"{events} data-quality events in {self.window_s:g}s (limit {self.max_events})",
                )
            )
        return out


class ApiErrorRateRule:
    """Venue API error rate over a window above a limit (needs a minimum number of requests)."""

    name = "api_error_rate"

    def __init__(self, max_ratio: float = 0.2, min_requests: int = 20, window_s: float = 300.0) -> None:
        _check_fraction("max_ratio", max_ratio)
        self.max_ratio = max_ratio
        self.min_requests = max(1, min_requests)
        self.window = _Window(window_s)
        self.window_s = window_s

    def evaluate(self, inputs: AlertInputs) -> list[Firing]:
        """Errors / requests over the window."""
        req, err = self.window.add(inputs.ts_ms, (inputs.api_requests_total, inputs.api_errors_total))
        if req < self.min_requests:
            return []
        ratio = err / req
        if ratio < self.max_ratio:
            return []
        return [
            Firing(
                key="api_error_rate",
                rule=self.name,
                severity=Severity.CRITICAL if ratio >= 0.5 else Severity.WARNING,
                summary=(
                    f"API errors {err}/{req} ({ratio:.0%}) in {self.window_s:g}s (limit {self.max_ratio:.0%})"
                ),
            )
        ]


class StaleDataRule:
    """A stream stopped updating (one alert per stream)."""

    name = "stale_data"

    def evaluate(self, inputs: AlertInputs) -> list[Firing]:
        """One firing per stale stream."""
        out = []
        for f in inputs.freshness:
            if not f.stale:
                continue
            what = "never received" if f.age_s is None else f"{f.age_s:.0f}s old (limit {f.max_age_s:g}s)"
            out.append(
                Firing(
                    key=f"stale_data:{f.stream}",
                    rule=self.name,
                    severity=Severity.WARNING,
                    summary=f"{f.stream} data {what}",
                )
            )
        return out


class DrawdownRule:
    """Drawdown from the peak equity at or above a limit."""

    name = "drawdown"

    def __init__(self, limit: Decimal = Decimal("0.05"), critical: Decimal = Decimal("0.10")) -> None:
        _check_fraction("limit", limit)
        _check_fraction("critical", critical)
        self.limit = limit
        self.critical = critical

    def evaluate(self, inputs: AlertInputs) -> list[Firing]:
        """Fires while drawdown >= limit."""
        dd = inputs.drawdown
        if dd < self.limit:
            return []
        sev = Severity.CRITICAL if dd >= self.critical else Severity.WARNING
        summary = f"drawdown {dd:.2%} from peak (limit {self.limit:.2%})"
        return [Firing(key="drawdown", rule=self.name, severity=sev, summary=summary)]


class EmergencyModeRule:
    """The system left NORMAL (EMERGENCY or HALTED); the mode is part of the key."""

    name = "mode"

    def evaluate(self, inputs: AlertInputs) -> list[Firing]:
        """Fires outside NORMAL."""
        st = inputs.mode
        if st.mode is Mode.NORMAL:
            return []
        summary = f"mode {st.mode.value}" + (f": {st.cause}" if st.cause else "")
        return [
            Firing(key=f"mode:{st.mode.value}", rule=self.name, severity=Severity.CRITICAL, summary=summary)
        ]


class EventLoopLagRule:
    """The event loop was blocked longer than a limit."""

    name = "event_loop_lag"

    def __init__(self, limit_s: float = 0.5) -> None:
        if limit_s <= 0:
            raise ConfigError("limit_s must be > 0")
        self.limit_s = limit_s

    def evaluate(self, inputs: AlertInputs) -> list[Firing]:
        """Fires while the recent max lag is above the limit."""
        if inputs.loop_lag_s <= self.limit_s:
            return []
        return [
            Firing(
                key="event_loop_lag",
                rule=self.name,
                severity=Severity.WARNING,
                summary=(
                    f"event loop lag {inputs.loop_lag_s * 1000:.0f} ms (limit {self.limit_s * 1000:.0f} ms)"
                ),
            )
        ]


def default_rules() -> list[Rule]:
    """Every rule with its default thresholds."""
    return [
        DataQualityRule(),
        ApiErrorRateRule(),
        StaleDataRule(),
        DrawdownRule(),
        EmergencyModeRule(),
        EventLoopLagRule(),
    ]


def evaluate_all(rules: Sequence[Rule], inputs: AlertInputs) -> list[Firing]:
    """Every rule's firings; a key seen twice keeps the first; a rule that raises fires 'rule_error'."""
    seen: dict[str, Firing] = {}
    for rule in rules:
        try:
            firings = rule.evaluate(inputs)
        except Exception as exc:  # one broken rule must not silence the others
            firings = [
                Firing(
                    key=f"rule_error:{rule.name}",
                    rule="rule_error",
                    severity=Severity.WARNING,
                    summary=f"alert rule {rule.name} failed: {type(exc).__name__}",
                )
            ]
        for f in firings:
            seen.setdefault(f.key, f)
    return list(seen.values())
