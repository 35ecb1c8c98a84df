"""The alerting shell: every tick, snapshot the view and metrics, evaluate the rules, update the book, and
drain each channel's outbox over HTTP under its rate limit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import aiohttp

from asym.logging import get_logger
from asym.monitor.alerts.book import ActiveAlert, AlertBook, Notification, Outbox, RateLimiter
from asym.monitor.alerts.rules import AlertInputs, Rule, default_rules, evaluate_all
from asym.monitor.alerts.sinks import DeliveryError, Sink
from asym.monitor.metrics import Metrics
from asym.monitor.view import SystemView, now_ms

log = get_logger("monitor.alerts")


def gather_inputs(
    view: SystemView, metrics: Metrics | None, loop_lag_s: float = 0.0, ts_ms: int | None = None
) -> AlertInputs:
    """Snapshot of what the rules look at."""
    quality = view.data_quality()
    return AlertInputs(
        ts_ms=now_ms() if ts_ms is None else ts_ms,
        mode=view.mode(),
        drawdown=view.account().drawdown,
        freshness=tuple(quality.freshness),
        usable_share=quality.usable_share,
        quality_events_total=sum(quality.events_by_kind.values()),
        api_requests_total=metrics.api_request_total if metrics else 0,
        api_errors_total=metrics.api_error_total if metrics else 0,
        loop_lag_s=loop_lag_s,
    )


class _Channel:
    def __init__(self, sink: Sink, limiter: RateLimiter, capacity: int) -> None:
        self.sink = sink
        self.limiter = limiter
        self.outbox = Outbox(capacity)
        self.sent: list[Notification] = []


class AlertManager:
    """Evaluates rules against the system and delivers deduplicated, rate-limited notifications."""

    def __init__(
        self,
        view: SystemView,
        sinks: Sequence[Sink],
        *,
        metrics: Metrics | None = None,
        rules: Sequence[Rule] | None = None,
        loop_lag: Callable[[], float] | None = None,
        max_per_window: int = 10,
        window_s: float = 60.0,
        max_attempts: int = 5,
        outbox_capacity: int = 200,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.view = view
        self.metrics = metrics
        self.rules = list(rules) if rules is not None else default_rules()
        self.loop_lag = loop_lag or (lambda: 0.0)
        self.book = AlertBook()
        self.max_attempts = max_attempts
        self.clock_ms = clock_ms
        self.channels = [_Channel(s, RateLimiter(max_per_window, window_s), outbox_capacity) for s in sinks]
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._rule_names = sorted({r.name for r in self.rules} | {"rule_error"})

    def active(self) -> list[ActiveAlert]:
        """Alerts firing now, oldest first."""
        return sorted(self.book.active.values(), key=lambda a: (a.started_ms, a.key))

    async def tick(self) -> list[Notification]:
        """One evaluation and delivery round; returns the new notifications."""
        now = self.clock_ms()
        inputs = gather_inputs(self.view, self.metrics, self.loop_lag(), now)
        notes = self.book.update(evaluate_all(self.rules, inputs), now)
        for n in notes:
            log.info("alert", status=n.status.value, key=n.key, severity=n.severity.value, summary=n.summary)
            for ch in self.channels:
                before = ch.outbox.dropped
                ch.outbox.put(n)
                self._count(ch, "dropped", ch.outbox.dropped - before)
        if self.metrics is not None:
            self.metrics.set_alerts_firing(self._rule_names, self.book.count_by_rule())
        await self.deliver(now)
        return notes

    async def deliver(self, now: int | None = None) -> None:
        """Drain every outbox as far as its rate limit allows; failures stay queued for the next round."""
        if not any(len(ch.outbox) for ch in self.channels):
            return
        now = self.clock_ms() if now is None else now
        session = self._ensure_session()
        await asyncio.gather(*(self._drain(ch, session, now) for ch in self.channels))

    async def _drain(self, ch: _Channel, session: aiohttp.ClientSession, now: int) -> None:
        while (n := ch.outbox.head()) is not None:
            if not ch.limiter.allowed(now):
                self._count(ch, "rate_limited", 1)
                return
            ch.limiter.take(now)
            try:
                await ch.sink.send(n, session)
            except Exception as exc:  # DeliveryError, or a sink's bug: either way retry, then give up
                if not isinstance(exc, DeliveryError):
                    exc = DeliveryError(f"{ch.sink.name}: {type(exc).__name__}")
                gave_up = ch.outbox.failed(self.max_attempts)
                self._count(ch, "failed", 1)
                self._count(ch, "dropped", 1 if gave_up else 0)
                log.warning(
                    "alert delivery failed", channel=ch.sink.name, key=n.key, error=str(exc), gave_up=gave_up
                )
                return
            ch.outbox.done()
            ch.sent.append(n)
            del ch.sent[:-100]
            self._count(ch, "sent", 1)

    def _count(self, ch: _Channel, outcome: str, n: int) -> None:
        if self.metrics is not None and n > 0:
            for _ in range(n):
                self.metrics.count_alert_delivery(ch.sink.name, outcome)

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def run(self, interval_s: float = 5.0) -> None:
        """Tick every `interval_s` until cancelled; an unexpected error is logged, never fatal."""
        while True:
            try:
                await self.tick()
            except Exception as exc:  # alerting must outlive its own bugs
                log.error("alert tick failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(interval_s)

    def start(self, interval_s: float = 5.0) -> asyncio.Task[None]:
        """Start the ticking task."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(interval_s), name="asym-alerts")
        return self._task

    async def close(self) -> None:
        """Stop ticking and close the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
