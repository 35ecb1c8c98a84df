"""`asym run`, composed: collect -> enhanced data -> signals -> risk -> execution, every cycle, with the
portfolio followed continuously between cycles (private streams, marks, reconciliation) and the monitor's
HTTP server (metrics, health, dashboard, control API) alongside.

    result = await run(RunConfig(venue="sim", cycles=30, speed=300, cycle_seconds=2))
    print(result.summary)

`run` returns when the cycles are done or `stop` is set (SIGINT/SIGTERM in the CLI); it always shuts down
cleanly: streams closed, the store flushed and closed, positions left as they are (each has its stop on
the venue).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asym.analytics import AnalyticsConfig
from asym.app.venues import SimOptions, TradingVenue, open_trading_venue
from asym.app.view import SessionController, SessionView
from asym.domain import Interval
from asym.errors import AsymError, ConfigError
from asym.logging import get_logger
from asym.market.collector import Collector
from asym.market.config import CollectorConfig
from asym.market.reference import ReferenceConfig
from asym.market.results import CycleResult
from asym.monitor import (
    HealthRegistry,
    Heartbeat,
    Kind,
    LatencyWindow,
    Metrics,
    MetricsObserver,
    MonitorConfig,
    RunningMonitor,
    load_token,
    parse_http_address,
    serve,
    standard_checks,
)
from asym.signals import SignalConfig, build_model, generate_signals
from asym.signals.schema import Signal, SignalOutcome
from asym.store import Store, StoreConfig
from asym.trading.monitoring import FollowConfig, PositionMonitor, SessionSummary
from asym.trading.session import CycleReport, SessionConfig, TradingSession

log = get_logger("app.run")


@dataclass
class RunConfig:
    """Everything `run` needs (the CLI builds it from its options)."""

    venue: str = "sim"
    model: str = "rules"
    cycles: int | None = None
    """None: until stopped."""
    speed: float = 1.0
    """Market time x wall time: the embedded simulator's acceleration, or a running simulator's speed."""
    cycle_seconds: float = 1800.0
    """Wall seconds between cycle starts."""
    symbols: tuple[str, ...] | None = None
    max_symbols: int | None = None
    db: str | None = None
    """The store; None: in memory for `sim` (its account dies with the process), data/asym.duckdb else."""
    http: str | None = "127.0.0.1:8077"
    token_file: Path | None = Path("data/monitor.token")
    live: bool = False
    sim: SimOptions = field(default_factory=SimOptions)
    session: SessionConfig = field(default_factory=SessionConfig)
    signals: SignalConfig = field(default_factory=SignalConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    candles: dict[Interval, int] | None = None
    follow: FollowConfig = field(default_factory=FollowConfig)
    reference: ReferenceConfig | None = None
    """A second exchange whose last prices cross-check the venue's (see docs/collector.md)."""


@dataclass
class CycleInfo:
    """One finished cycle, for progress output."""

    n: int
    wall_s: float
    result: CycleResult
    outcomes: list[SignalOutcome]
    report: CycleReport
    session: TradingSession


@dataclass
class RunResult:
    """How a run ended."""

    summary: SessionSummary
    cycles: int
    stopped: bool
    """True when stopped by a signal before the planned cycles."""
    monitor_url: str | None = None


def store_path(cfg: RunConfig, venue_kind: str) -> str:
    """The store for this run (see RunConfig.db)."""
    if cfg.db is not None:
        return cfg.db
    return ":memory:" if venue_kind == "sim" else "data/asym.duckdb"


def collector_config(cfg: RunConfig) -> CollectorConfig:
    """The collector's settings for the run (the indicator interval's candles always included)."""
    candles = dict(cfg.candles) if cfg.candles else {Interval.H1: 200, Interval.M5: 288}
    for iv in (
        cfg.analytics.indicator_interval,
        cfg.analytics.vol_short_interval,
        cfg.analytics.vol_long_interval,
    ):
        candles.setdefault(Interval(iv), 200)
    return CollectorConfig(
        symbols=cfg.symbols,
        max_symbols=cfg.max_symbols,
        cycle_seconds=cfg.cycle_seconds,
        candles=candles,
        reference=cfg.reference,
    )


async def _start_monitor(
    cfg: RunConfig, view: SessionView, controller: SessionController, metrics: Metrics, heartbeat: Heartbeat
) -> RunningMonitor | None:
    if not cfg.http:
        return None
    host, port = parse_http_address(cfg.http)
    token = load_token(cfg.token_file, create=cfg.token_file is not None)
    health = HealthRegistry()
    standard_checks(health, view)
    health.register("trading_loop", heartbeat.check, Kind.LIVENESS)
    return await serve(
        view, controller, metrics, MonitorConfig(host=host, port=port, token=token), health=health
    )


async def run(
    cfg: RunConfig,
    *,
    stop: asyncio.Event | None = None,
    on_cycle: Callable[[CycleInfo], None] | None = None,
    on_ready: Callable[[TradingVenue, TradingSession, str | None], None] | None = None,
    on_finish: Callable[[TradingVenue, TradingSession], None] | None = None,
) -> RunResult:
    """Run the trading loop (see the module docstring)."""
    if cfg.cycles is not None and cfg.cycles < 1:
        raise ConfigError(f"--cycles must be >= 1, got {cfg.cycles}")
    if cfg.cycle_seconds <= 0:
        raise ConfigError(f"--cycle-seconds must be > 0, got {cfg.cycle_seconds}")
    stop = stop or asyncio.Event()
    metrics = Metrics(process=False)
    latency = LatencyWindow()
    observer = MetricsObserver(metrics, latency)
    model = build_model(cfg.model)
    async with open_trading_venue(
        cfg.venue, live=cfg.live, speed=cfg.speed, sim=cfg.sim, observer=observer
    ) as tv:
        store = await Store.open(StoreConfig(path=store_path(cfg, tv.kind)))
        session = TradingSession(tv.client, tv.clock, cfg.session, store=store, venue_name=tv.name)
        collector = Collector(tv.client, collector_config(cfg), analytics=cfg.analytics, clock=tv.clock)
        monitor = PositionMonitor(tv.client, session, cfg.follow)
        view = SessionView(session, latency)
        heartbeat = Heartbeat("trading loop", max(120.0, cfg.cycle_seconds * 3))
        http: RunningMonitor | None = None
        n = 0
        try:
            await session.start()
            await monitor.start()
            http = await _start_monitor(cfg, view, SessionController(session), metrics, heartbeat)
            if on_ready is not None:
                on_ready(tv, session, http.url if http else None)
            while not stop.is_set() and (cfg.cycles is None or n < cfg.cycles):
                started = time.monotonic()
                if tv.stepped is not None:
                    tv.stepped.pause()  # decide on a still market (see asym.app.clock)
                try:
                    info = await _cycle(n + 1, tv, session, collector, model, cfg, view, metrics)
                except AsymError as exc:  # the venue failed this cycle: the next one tries again
                    log.error("cycle_failed", cycle=n + 1, error=str(exc))
                    session.note_api_failure(f"cycle {n + 1}: {exc}")
                    info = None
                n += 1
                if info is not None:
                    heartbeat.beat()
                    if on_cycle is not None:
                        on_cycle(info)
                target = None
                if tv.stepped is not None:
                    target = tv.stepped.now_ms() + int(cfg.cycle_seconds * 1000 * tv.stepped.speed)
                    tv.stepped.run(until_ms=target)
                if cfg.cycles is not None and n >= cfg.cycles:
                    break
                # The embedded simulator's market stands still while asym works: wait the whole cycle.
                spent = 0.0 if tv.stepped is not None else time.monotonic() - started
                wait = cfg.cycle_seconds - spent
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), wait)
                if tv.stepped is not None and target is not None and not stop.is_set():
                    # Every cycle covers exactly speed x cycle_seconds of market time (a repeatable run).
                    tv.stepped.pause()
                    tv.stepped.advance(max(0, target - tv.stepped.now_ms()))
            if tv.stepped is not None:
                tv.stepped.pause()
            with contextlib.suppress(Exception):
                await session.reconcile(tv.clock())
            summary = session.summary()
            if on_finish is not None:
                on_finish(tv, session)
        finally:
            await monitor.stop()
            await collector.close()
            with contextlib.suppress(Exception):
                await model.aclose()
            if http is not None:
                await http.stop()
            if session.started:  # (a session that never loaded its store must not empty the journal)
                with contextlib.suppress(Exception):
                    await session.close()
            await store.close()
    return RunResult(
        summary=summary,
        cycles=n,
        stopped=stop.is_set(),
        monitor_url=http.url if http is not None else None,
    )


async def _cycle(
    n: int,
    tv: TradingVenue,
    session: TradingSession,
    collector: Collector,
    model: object,
    cfg: RunConfig,
    view: SessionView,
    metrics: Metrics,
) -> CycleInfo:
    t0 = time.monotonic()
    result = await collector.collect_once()
    for r in result.results:
        if r.inputs.ticker is not None:
            tv.observe_market_time(r.inputs.ticker.ts)
    enhanced = [r.enhanced for r in result.results]
    now = tv.clock()
    inputs = session.signal_inputs(enhanced, now)
    outcomes = await generate_signals(inputs, model, cfg.signals)  # type: ignore[arg-type]
    sent_before = len(session.executor.send_latency_s)
    report = await session.on_cycle(enhanced, outcomes, now)
    for seconds in session.executor.send_latency_s[sent_before:]:
        metrics.observe_signal_to_order(seconds)
    view.record_cycle(result, outcomes, now)
    complete = sum(1 for r in result.results if not r.enhanced.quality_flags)
    metrics.observe_collection_cycle(result.duration_s, len(result.universe), complete)
    for o in outcomes:
        if isinstance(o, Signal):
            metrics.count_signal("accepted", o.action.value)
        else:
            metrics.count_signal("rejected", reason=o.code.value)
    return CycleInfo(
        n=n, wall_s=time.monotonic() - t0, result=result, outcomes=outcomes, report=report, session=session
    )


__all__ = ["CycleInfo", "RunConfig", "RunResult", "collector_config", "run", "store_path"]
