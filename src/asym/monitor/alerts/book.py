"""Alert state, deduplication and rate limiting (pure; time is passed in).

`AlertBook` remembers which keys are active: a new key makes one 'firing' notification, a key that stays
makes none (deduplicated), a key that disappears makes one 'resolved'. Each delivery channel has an
`Outbox`: a bounded queue drained under a sliding-window `RateLimiter`; a notification that could not be
sent stays queued for the next tick, and a firing whose resolve arrives before it was sent is dropped with
it (a flap nobody needs to hear about).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from enum import StrEnum

import msgspec

from asym.errors import ConfigError
from asym.monitor.alerts.rules import Firing, Severity


class Status(StrEnum):
    """Notification kind."""

    FIRING = "firing"
    RESOLVED = "resolved"


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """One message to deliver about one alert."""

    status: Status
    key: str
    rule: str
    severity: Severity
    summary: str
    started_ms: int
    ended_ms: int | None = None


class ActiveAlert(msgspec.Struct, frozen=True, kw_only=True):
    """An alert that is firing now."""

    key: str
    rule: str
    severity: Severity
    summary: str
    """The latest summary (values in it change while the alert lasts)."""
    started_ms: int


class AlertBook:
    """Active alerts by key; turns the current firings into notifications."""

    def __init__(self) -> None:
        self.active: dict[str, ActiveAlert] = {}

    def update(self, firings: Iterable[Firing], now_ms: int) -> list[Notification]:
        """Vanished keys resolve, new keys fire (in that order), the rest only refresh their summary."""
        current = {f.key: f for f in firings}
        out: list[Notification] = []
        for key in [k for k in self.active if k not in current]:
            gone = self.active.pop(key)
            out.append(
                Notification(
                    status=Status.RESOLVED,
                    key=key,
                    rule=gone.rule,
                    severity=gone.severity,
                    summary=gone.summary,
                    started_ms=gone.started_ms,
                    ended_ms=now_ms,
                )
            )
        for key, f in current.items():
            old = self.active.get(key)
            if old is None:
                self.active[key] = ActiveAlert(
                    key=key, rule=f.rule, severity=f.severity, summary=f.summary, started_ms=now_ms
                )
                out.append(
                    Notification(
                        status=Status.FIRING,
                        key=key,
                        rule=f.rule,
                        severity=f.severity,
                        summary=f.summary,
                        started_ms=now_ms,
                    )
                )
            elif old.summary != f.summary or old.severity != f.severity:
                self.active[key] = msgspec.structs.replace(old, summary=f.summary, severity=f.severity)
        return out

    def count_by_rule(self) -> dict[str, int]:
        """Active alerts per rule."""
        counts: dict[str, int] = {}
        for a in self.active.values():
            counts[a.rule] = counts.get(a.rule, 0) + 1
        return counts


class RateLimiter:
    """At most `max_events` in any `window_s` (sliding window)."""

    def __init__(self, max_events: int, window_s: float) -> None:
        if max_events < 1 or window_s <= 0:
            raise ConfigError("rate limit needs max_events >= 1 and window_s > 0")
        self.max_events = max_events
        self.window_ms = int(window_s * 1000)
        self._times: deque[int] = deque()

    def _trim(self, now_ms: int) -> None:
        while self._times and self._times[0] <= now_ms - self.window_ms:
            self._times.popleft()

    def allowed(self, now_ms: int) -> bool:
        """True when one more event fits now (does not take it)."""
        self._trim(now_ms)
        return len(self._times) < self.max_events

    def take(self, now_ms: int) -> None:
        """Count one event."""
        self._times.append(now_ms)


class _Queued:
    __slots__ = ("attempts", "n")

    def __init__(self, n: Notification) -> None:
        self.n = n
        self.attempts = 0


class Outbox:
    """Notifications waiting for one channel, oldest first, at most `capacity` (oldest dropped)."""

    def __init__(self, capacity: int = 200) -> None:
        self.capacity = capacity
        self._items: deque[_Queued] = deque()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def items(self) -> list[Notification]:
        """The queued notifications, oldest first."""
        return [q.n for q in self._items]

    def put(self, n: Notification) -> None:
        """Queue `n`; a resolve whose firing is still queued (never sent) cancels both."""
        if n.status is Status.RESOLVED:
            for q in self._items:
                f = q.n
                if f.status is Status.FIRING and f.key == n.key and f.started_ms == n.started_ms:
                    self._items.remove(q)
                    return
        self._items.append(_Queued(n))
        while len(self._items) > self.capacity:
            self._items.popleft()
            self.dropped += 1

    def head(self) -> Notification | None:
        """The next notification to send."""
        return self._items[0].n if self._items else None

    def done(self) -> None:
        """The head was delivered."""
        self._items.popleft()

    def failed(self, max_attempts: int) -> bool:
        """The head failed once more; True (and dropped) when it reached `max_attempts`."""
        q = self._items[0]
        q.attempts += 1
        if q.attempts >= max_attempts:
            self._items.popleft()
            self.dropped += 1
            return True
        return False
