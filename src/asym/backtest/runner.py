"""The backtest runner: the code that trades, stepped through history on a simulated clock.

    data  ──► EnhancedData per symbol and step (data at or before the step only; `asym.backtest.inputs`)
    for each decision time t (every close of the decision interval):
        venue.advance_to(t)            market and engine move: fills, TP/SL, funding, liquidation
        session.on_order/... (events)  the private events, as the live streams deliver them
        session.on_mark, on_tick       unrealised P&L, exits of filled entries, timeouts
        signals(session.signal_inputs(enhanced_t, t))       rules (or an AI model through the cache)
        session.on_cycle(enhanced_t, outcomes, t)           risk -> execution, every decision recorded
        events again                   entries fill at once against the book at t

`TradingSession` is `asym.trading.session`'s, unchanged; the venue is `CoreVenue` over `BarMarket` (or the
simulator's replay `Market` with `execution_model="replay"`). The run is deterministic: the same config
and data give the same decisions, fills and metrics.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from asym.analytics import AnalyticsConfig
from asym.analytics.types import EnhancedData
from asym.backtest.ai import check_cutoff, is_ai, parse_cutoff
from asym.backtest.clock import SimClock
from asym.backtest.config import BacktestConfig
from asym.backtest.data import MarketData, load_data
from asym.backtest.inputs import analytics_config_for, bar_market, step_times
from asym.backtest.precompute import Series, compute_all, fingerprint
from asym.backtest.venue import CoreVenue
from asym.domain import Execution, WalletBalance
from asym.errors import ConfigError, DataError
from asym.logging import get_logger
from asym.signals import (
    FileCache,
    MemoryCache,
    RulesModel,
    SignalConfig,
    SignalOutcome,
    UsageLedger,
    build_model,
    generate_signals,
)
from asym.signals.models import SignalModel
from asym.sim.types import MarketModel
from asym.trading.modes import Mode
from asym.trading.monitoring import ClosedTrade, SessionSummary
from asym.trading.session import SessionConfig, TradingSession

log = get_logger("backtest")
DAY_MS = 86_400_000
_TRADE_ACTIONS = frozenset({"OPEN_LONG", "OPEN_SHORT", "REFUSED", "CLOSE"})
_enc = msgspec.json.Encoder(decimal_format="string", order="sorted")

Progress = Callable[[int, int], None]
"""progress(done, total) of the trading loop's steps."""


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """The account at one decision time (after the cycle): venue figures, exact."""

    ts: int
    equity: Decimal
    balance: Decimal
    unrealised: Decimal
    gross: Decimal
    """Gross notional of the open positions at their marks."""
    positions: int


@dataclass(slots=True)
class BacktestResult:
    """Everything a backtest produced (`metrics.compute_metrics` turns it into the report's figures)."""

    config: BacktestConfig
    steps: list[int]
    equity: list[EquityPoint]
    decisions: list[bytes]
    """One JSON line per recorded decision (signal and decision, latencies left out)."""
    decision_counts: dict[str, int]
    trades: tuple[ClosedTrade, ...]
    executions: list[Execution]
    summary: SessionSummary
    wallet: WalletBalance
    symbols: list[str]
    analytics: dict[str, dict[str, str]]
    """Per symbol: the analytics settings changed to fit the data's interval."""
    fingerprint: str
    warnings: list[str] = field(default_factory=list)
    model_usage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds per phase (not part of the deterministic metrics)."""


def _analytics(
    data: MarketData, base: AnalyticsConfig
) -> tuple[dict[str, AnalyticsConfig], dict[str, dict[str, str]]]:
    configs: dict[str, AnalyticsConfig] = {}
    changes: dict[str, dict[str, str]] = {}
    for sym in data.names:
        cfg = analytics_config_for(data[sym].interval, base)
        configs[sym] = cfg
        diff = {
            name: f"{getattr(base, name)} -> {getattr(cfg, name)}"
            for name in ("indicator_interval", "vol_short_interval", "vol_long_interval")
            if getattr(base, name) != getattr(cfg, name)
        }
        if diff:
            changes[sym] = diff
    return configs, changes


def _decision_line(ts: int, outcome: SignalOutcome | None, decision: Any) -> bytes:
    sig = None
    if outcome is not None:
        sig = msgspec.to_builtins(outcome, builtin_types=(Decimal,))
        sig.pop("latency_ms", None)
    return _enc.encode(
        {"ts": ts, "signal": sig, "decision": msgspec.to_builtins(decision, builtin_types=(Decimal,))}
    )


class _Loop:
    """The trading loop's state (one run)."""

    def __init__(
        self,
        cfg: BacktestConfig,
        venue: CoreVenue,
        session: TradingSession,
        model: SignalModel,
        scfg: SignalConfig,
        record_all: bool,
    ) -> None:
        self.cfg = cfg
        self.venue = venue
        self.session = session
        self.model = model
        self.scfg = scfg
        self.record_all = record_all
        self.decisions: list[bytes] = []
        self.counts: Counter[str] = Counter()
        self.equity: list[EquityPoint] = []

    async def pump(self) -> None:
        """Feed the venue's private events to the session until none are left (feeding may place exits)."""
        for _ in range(100):
            ev = self.venue.drain()
            if not ev:
                return
            s = self.session
            for o in ev.orders:
                await s.on_order(o)
            for x in ev.executions:
                await s.on_execution(x)
            for p in ev.positions:
                await s.on_position(p)
            if ev.wallet is not None:
                await s.on_wallet(ev.wallet)
        raise DataError("the venue kept producing events: an order loop between session and venue")

    async def marks(self, t: int) -> None:
        for sym in self.session.watched_symbols():
            tk = self.venue.ticker_now(sym)
            await self.session.on_mark(sym, tk.mark_price or tk.last_price, t)

    async def signals(self, enhanced: list[EnhancedData], t: int) -> list[SignalOutcome]:
        inputs = self.session.signal_inputs(enhanced, t)
        if isinstance(self.model, RulesModel):
            return [self.model.generate_sync(i, self.scfg) for i in inputs]
        return await generate_signals(inputs, self.model, self.scfg)

    async def step(self, t: int, enhanced: list[EnhancedData]) -> None:
        venue, session = self.venue, self.session
        venue.advance_to(t)
        await self.pump()
        await self.marks(t)
        if session.mode is Mode.EMERGENCY and self.cfg.auto_resume and t % DAY_MS < self.cfg.step_ms:
            await self.daily_check()
        await session.on_tick(t)
        await self.pump()
        outcomes = await self.signals(enhanced, t)
        report = await session.on_cycle(enhanced, outcomes, t)
        await self.pump()  # entries fill at once; their exits follow from on_execution
        by_symbol = {o.symbol: o for o in outcomes}
        for d in report.decisions:
            self.counts[d.action] += 1
            if self.record_all or d.action in _TRADE_ACTIONS:
                self.decisions.append(_decision_line(t, by_symbol.get(d.symbol), d))
        self.equity.append(await self.point(t))

    async def daily_check(self) -> None:
        """An operator's daily look at an emergency: resume (refused unless every trigger cleared); with
        `reset_peak_on_resume`, a drawdown that is the only reason left is acknowledged (the peak reset by
        hand, as docs/trading.md allows) and trading resumes."""
        res = await self.session.resume()
        if res.ok or not self.cfg.reset_peak_on_resume:
            return
        if res.reasons and all(r.startswith("drawdown") for r in res.reasons):
            self.session.portfolio.reset_peak()
            await self.session.resume()

    async def point(self, t: int) -> EquityPoint:
        """The venue's account now (read from the engine directly: exact, and cheap every step)."""
        engine, uid, market = self.venue.engine, self.venue.uid, self.venue.market
        w = engine.wallet(uid)
        gross = Decimal(0)
        positions = engine.positions(uid, None)
        for p in positions:
            inst = market.instrument(p.symbol)
            gross += inst.qty.to_decimal(p.size) * inst.price.to_decimal(p.mark_price)
        return EquityPoint(
            ts=t,
            equity=w.total_equity,
            balance=w.total_wallet_balance,
            unrealised=w.total_perp_upl,
            gross=gross,
            positions=len(positions),
        )


def _model(cfg: BacktestConfig, out_dir: Path | None, ledger: UsageLedger) -> SignalModel:
    if not is_ai(cfg.model):
        if cfg.model.strip() != "rules":
            return build_model(cfg.model, cache=MemoryCache(), ledger=ledger)
        return RulesModel(ledger)
    cache_dir = cfg.cache_dir or ((out_dir / "cache") if out_dir is not None else None)
    cache = FileCache(cache_dir) if cache_dir is not None else MemoryCache()
    return build_model(cfg.model, cache=cache, ledger=ledger)


def _market(cfg: BacktestConfig, data: MarketData) -> MarketModel:
    if cfg.execution_model == "bars":
        return bar_market(data, cfg.start_ms, cfg.seed)  # the venue series the enhanced data built
    from asym.sim.config import SimConfig
    from asym.sim.market import Market

    if cfg.data.suffix.lower() in (".duckdb", ".db"):
        raise ConfigError("execution_model 'replay' replays kline files; a store cannot be replayed")
    # The simulator replays a file or every kline file of a folder: one shared source file is used as is.
    sources = sorted({data[s].source for s in data.names})
    replay = Path(sources[0]) if len(sources) == 1 and Path(sources[0]).is_file() else cfg.data
    days = max(1, min(400, int(cfg.warmup_days) or 1))
    sim = SimConfig(replay=replay, seed=cfg.seed, start_ms=cfg.start_ms, history_days=days)
    return Market(sim, cfg.start_ms)


async def run_backtest(
    cfg: BacktestConfig,
    *,
    data: MarketData | None = None,
    enhanced: dict[str, Series] | None = None,
    out_dir: Path | None = None,
    progress: Progress | None = None,
    data_progress: Callable[[int], None] | None = None,
    record_all_decisions: bool = False,
    workers: int | None = None,
    enhanced_cache: Path | None = None,
) -> BacktestResult:
    """Run one backtest. `data` and `enhanced` may be given (sweeps, tests); else they are loaded/computed."""
    cfg.check()
    warnings: list[str] = []
    if is_ai(cfg.model):
        warnings += check_cutoff(
            cfg.model, cfg.start_ms, force=cfg.force, override=parse_cutoff(cfg.model_cutoff)
        )
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if data is None:
        data = await load_data(
            cfg.data,
            cfg.symbols,
            start_ms=cfg.start_ms - cfg.warmup_ms,
            end_ms=cfg.end_ms,
            venue=cfg.venue,
            funding=cfg.funding,
        )
    elif cfg.symbols is not None:
        data = MarketData({s: data[s] for s in cfg.symbols}, data.reports)
    timings["load_s"] = time.perf_counter() - t0
    steps = step_times(cfg.start_ms, cfg.end_ms, cfg.step_ms)
    if not steps:
        raise ConfigError("no decision time falls inside the period")
    configs, changes = _analytics(data, cfg.analytics_config())
    t1 = time.perf_counter()
    if enhanced is None:
        enhanced = compute_all(
            data,
            steps,
            cfg.start_ms,
            configs,
            seed=cfg.seed,
            workers=workers,
            cache_dir=enhanced_cache,
            progress=data_progress,
        )
    timings["enhanced_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    clock = SimClock(steps[0])
    market = _market(cfg, data)
    funding = {s: data[s].funding for s in data.names}
    venue = CoreVenue(market, clock, balance=cfg.balance, funding=funding, step_ms=cfg.replay_step_ms)
    scfg = cfg.signal_config()
    session = TradingSession(
        venue,
        clock,
        SessionConfig(
            risk=cfg.risk_config(),
            execution=cfg.execution_config(),
            emergency=cfg.emergency_policy(),
            signal_mode_name="backtest",
        ),
        store=None,
        venue_name="backtest",
    )
    ledger = UsageLedger()
    model = _model(cfg, out_dir, ledger)
    loop = _Loop(cfg, venue, session, model, scfg, record_all_decisions)
    try:
        await session.start(steps[0])
        await loop.pump()
        names = data.names
        for i, t in enumerate(steps):
            batch = [e for e in (enhanced[s][i] for s in names) if e is not None]
            await loop.step(t, batch)
            if progress is not None:
                progress(i + 1, len(steps))
    finally:
        await model.aclose()
    summary = session.summary()
    await session.close()
    timings["trading_s"] = time.perf_counter() - t2
    timings["instants"] = float(getattr(venue.driver, "instants", 0))
    executions = sorted(await venue.get_executions(limit=10**9), key=lambda x: (x.ts, x.exec_id))
    return BacktestResult(
        config=cfg,
        steps=steps,
        equity=loop.equity,
        decisions=loop.decisions,
        decision_counts=dict(sorted(loop.counts.items())),
        trades=summary.closed_trades,
        executions=executions,
        summary=summary,
        wallet=await venue.get_wallet(),
        symbols=list(data.names),
        analytics=changes,
        fingerprint=fingerprint(data),
        warnings=warnings,
        model_usage={k: msgspec.to_builtins(v) for k, v in ledger.snapshot().items()},
        timings=timings,
    )


__all__ = ["BacktestResult", "EquityPoint", "Progress", "run_backtest"]
