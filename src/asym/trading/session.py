"""`TradingSession`: the trading engine's shell. Signals -> risk -> execution, private events -> books,
restart and emergency handling, over nothing but the `Venue` protocol and an injected clock.

How to drive it (live: `asym.app`; a backtest: an in-process venue and a simulated clock)::

    session = TradingSession(venue, clock, SessionConfig(...), store=None, venue_name="backtest")
    await session.start()                      # instruments, wallet, restore from the store, restart
    loop:
        await session.on_mark(symbol, mark, now)           # whenever a mark moves (unrealised P&L)
        await session.on_order(order) / on_execution(x) / on_position(p) / on_wallet(w)   # private events
        await session.on_tick(now)                         # housekeeping, as often as you like
        every cycle:
            inputs = session.signal_inputs(enhanced, now)  # SignalInput per asset (position, risk state)
            outcomes = await generate_signals(inputs, model)
            report = await session.on_cycle(enhanced, outcomes, now)
        now and then: await session.reconcile(now)         # REST truth (orders, positions, wallet, fills)
    summary = session.summary()                            # equity, P&L, trades, win rate, drawdown, ...
    await session.close()

`clock()` returns market time in epoch ms and must never go backwards; every `now_ms` passed in should be
that clock's time. Events can be fed in any order and more than once (the tracker and the portfolio
deduplicate). `on_tick` is where work that needs the venue happens between cycles (exits of filled entries,
post-only timeouts and their market fallback, unknown outcomes, emergency enforcement); `on_execution`
also places the exits of a filled entry at once when nothing else holds the session's lock. Venue calls
that change anything are serialised by that lock; `halt()` takes effect at once (risk refuses the next
signal) and is enforced as soon as the lock is free. docs/running.md describes the loop, modes, restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Execution, Instrument, Order, Position, Side, WalletBalance
from asym.domain.venue import Venue
from asym.errors import AsymError, ConfigError, DataError, VenueError
from asym.logging import get_logger
from asym.signals.schema import Action, Rejection, RiskState, Signal, SignalInput, SignalOutcome
from asym.store import DecisionRecord, Store
from asym.trading.actions import AdoptPosition, ClosePosition, SyncExecutions, TradingAction, action_to_json
from asym.trading.config import RiskConfig
from asym.trading.emergency import EmergencyPolicy, emergency_actions
from asym.trading.executor import ExecutionConfig, Executor, TradeManager, entry_request
from asym.trading.ids import LegKind, signal_id
from asym.trading.intents import intent_from_signal
from asym.trading.modes import (
    Mode,
    ModeConfig,
    ModeEvent,
    ModeInputs,
    ModeMachine,
    ResumeResult,
    market_stress,
    mode_config_from,
)
from asym.trading.monitoring import EXEC_OVERLAP_MS, Books, Reconciler, ReconcileReport, SessionSummary
from asym.trading.order_states import OrderState
from asym.trading.orders import OrderTracker
from asym.trading.persist import (
    BOOKS_ACCOUNT,
    VENUE_ACCOUNT,
    Kind,
    SessionStart,
    TradingStore,
    books_wallet,
    checks_detail,
    decision_id,
    mode_rows,
    open_decision_id,
    plan_to_json,
    signal_row,
)
from asym.trading.plan import OrderPlan
from asym.trading.portfolio import Portfolio
from asym.trading.protection import close_action
from asym.trading.restart import LocalView, RestartPolicy, VenueView, plan_restart
from asym.trading.risk import account_view, data_quality_share, evaluate
from asym.trading.views import MarketView

log = get_logger("trading.session")
_ZERO = Decimal(0)
_COMMITTED = frozenset({"OPEN_LONG", "OPEN_SHORT"})


class SessionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the session decides with."""

    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    modes: ModeConfig | None = None
    """Default: `mode_config_from(risk)` (loss limits set in one place)."""
    emergency: EmergencyPolicy = msgspec.field(default_factory=EmergencyPolicy)
    restart: RestartPolicy = msgspec.field(default_factory=RestartPolicy)
    execution: ExecutionConfig = msgspec.field(default_factory=ExecutionConfig)
    settle_coin: str = "USDT"
    resend_entry_max_age_ms: int = 60_000
    """An entry found missing at the venue is re-sent only this soon after its decision, else dropped."""
    signal_mode_name: str = "live"
    """How the signal layer's RiskState names the mode while NORMAL (live, demo, paper, backtest)."""


class CycleReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one cycle decided and did."""

    now_ms: int
    mode: Mode
    decisions: tuple[DecisionRecord, ...]
    entries: tuple[str, ...]
    """orderLinkIds of the entries sent."""
    closes: tuple[str, ...]
    """Symbols closed by a CLOSE signal."""
    refused: int
    mode_events: tuple[ModeEvent, ...]
    equity: Decimal


class RestartReport(msgspec.Struct, frozen=True, kw_only=True):
    """The restart plan as executed: each action (JSON) with whether it was done, and the notes."""

    now_ms: int
    actions: tuple[tuple[str, bool], ...]
    notes: tuple[str, ...]


class TradingSession:
    """One account traded by asym: decisions, orders, books, modes, restart (see the module docstring)."""

    def __init__(
        self,
        venue: Venue,
        clock: Callable[[], int],
        config: SessionConfig | None = None,
        *,
        store: Store | TradingStore | None = None,
        venue_name: str = "venue",
    ) -> None:
        self.venue = venue
        self.clock = clock
        self.config = cfg = config or SessionConfig()
        self.venue_name = venue_name
        self.store = store if isinstance(store, TradingStore) else TradingStore(store, venue_name)
        self.modes = ModeMachine(cfg.modes or mode_config_from(cfg.risk))
        self.executor = Executor(
            venue, OrderTracker(), self.store, clock, on_api=self._api_result, config=cfg.execution
        )
        self.books = Books(cfg.settle_coin)
        self.instruments: dict[str, Instrument] = {}
        self.trades = TradeManager(self.executor, cfg.risk, self.books.held, self.instruments)
        self.reconciler = Reconciler(
            venue, self.executor, self.books, self.trades, self.instruments, cfg.risk
        )
        self.enhanced: dict[str, EnhancedData] = {}
        self.started = False
        self.activity = {"cycles": 0, "signals": 0, "entries": 0, "refused": 0}
        self._lock = asyncio.Lock()
        self._last_inputs: ModeInputs | None = None
        self._mode_events_recorded = 0
        self._mode_epoch = 0
        self._enforced_epoch = -1

    @property
    def tracker(self) -> OrderTracker:
        """The order tracker (shared with the executor)."""
        return self.executor.tracker

    @property
    def portfolio(self) -> Portfolio:
        """The books' portfolio (positions, balance, P&L, equity)."""
        return self.books.portfolio

    @property
    def mode(self) -> Mode:
        """The current trading mode."""
        return self.modes.mode

    # ------------------------------------------------------------------------------------ start / restart

    async def start(self, now_ms: int | None = None) -> RestartReport:
        """Load instruments and the wallet, restore the stored state, run the restart reconciliation."""
        now = self.clock() if now_ms is None else now_ms
        await self._load_instruments()
        restored = await self.store.load()
        if restored.start is not None and restored.start.venue != self.venue_name:
            raise ConfigError(
                f"the store belongs to venue {restored.start.venue!r}, not {self.venue_name!r}: "
                "use another --db for this venue"
            )
        wallet = await self.executor.call("get_wallet", self.venue.get_wallet())
        self.books.on_wallet(wallet)
        start = restored.start
        if start is None:
            start = SessionStart(ts=now, venue=self.venue_name, balance=self.books.wallet_balance(wallet))
            await self.store.record_start(start)
        self.books.open(start)
        self.executor.tracker = restored.tracker
        self.executor.requests.update(restored.requests)
        for x in restored.executions:
            self.books.book(x)
        self.trades.restore(restored.plans)
        if restored.mode is not Mode.NORMAL:
            # The triggers cannot be re-measured across a restart: a person resumes.
            detail = f"restored after restart ({restored.mode.value}: {restored.mode_detail})"[:300]
            if restored.mode is Mode.HALTED:
                self.modes.halt(now, detail)
            else:
                self.modes.enter_emergency(now, detail)
            self._mode_epoch += 1
            self._mode_events_recorded = len(self.modes.events)
        self.started = True
        log.info(
            "session_started",
            venue=self.venue_name,
            balance=str(start.balance),
            restored_orders=len(self.tracker),
            restored_executions=len(restored.executions),
            mode=self.mode.value,
        )
        return await self.restart(now)

    async def _load_instruments(self) -> None:
        got = await self.executor.call("get_instruments", self.venue.get_instruments())
        self.instruments.update({i.symbol: i for i in got})

    async def restart(self, now_ms: int) -> RestartReport:
        """Restart reconciliation (`plan_restart`): book missed fills, resolve what is unknown, cancel stray
        entries, adopt or close unknown positions, protect every position, re-place missing exits."""
        async with self._lock:
            open_orders = await self.executor.call("get_open_orders", self.venue.get_open_orders())
            positions = await self._fetch_positions()
            local = LocalView(
                orders=tuple(self.tracker.records()),
                positions={p.symbol: p.size for p in self.portfolio.positions()},
                stops=self.trades.known_stops(),
                plans=tuple(p for p in self.trades.plans.values() if self.trades.filled(p.intent_key) > 0),
                last_exec_ms=max(self.tracker.last_exec_ms, self.portfolio.last_exec_ms),
            )
            venue = VenueView(open_orders=tuple(open_orders), positions=tuple(positions))
            plan = plan_restart(local, venue, self.instruments, self.config.risk, self.config.restart)
            done: list[tuple[str, bool]] = []
            for action in plan.actions:
                done.append((action_to_json(action), await self._perform(action, now_ms, "restart")))
            for note in plan.notes:
                log.warning("restart_note", note=note)
            self.store.submit(
                decisions=[
                    DecisionRecord(
                        decision_id=decision_id(Kind.RESTART, now_ms, len(done)),
                        ts=now_ms,
                        symbol="",
                        action=Kind.RESTART.value,
                        reasons=tuple(plan.notes)[:50],
                        mode=self.mode.value,
                        detail={"actions": [{"action": a, "done": ok} for a, ok in done]},
                    )
                ]
            )
            await self._housekeeping(now_ms)
        await self.reconcile(now_ms)
        return RestartReport(now_ms=now_ms, actions=tuple(done), notes=plan.notes)

    async def _perform(self, action: TradingAction, now_ms: int, why: str) -> bool:
        """One planned action: the books' ones here, the venue's through the executor."""
        try:
            if isinstance(action, SyncExecutions):
                since = max(action.since_ms, self.books.start.ts if self.books.start else 0)
                for x in await self.executor.fetch_executions(since):
                    await self._apply_execution(x)
                return True
            if isinstance(action, AdoptPosition):
                log.warning("position_adopted", symbol=action.position.symbol, reason=action.reason)
                self.books.adopt(action.position, now_ms)
                return True
            ok = await self.executor.perform(action, now_ms)
            if isinstance(action, ClosePosition) or not ok:
                log.warning("action", why=why, action=action_to_json(action)[:300], done=ok)
            return ok
        except VenueError as exc:
            log.error("action_failed", why=why, action=type(action).__name__, error=str(exc))
            return False

    # ------------------------------------------------------------------------------------ the cycle

    def signal_inputs(self, enhanced: Iterable[EnhancedData], now_ms: int) -> list[SignalInput]:
        """What the signal layer needs per asset: the data, the position, the account's state."""
        names = {Mode.HALTED: "halted", Mode.EMERGENCY: "emergency"}
        risk = RiskState(
            equity=self.portfolio.equity,
            open_positions=len(self.portfolio.positions()),
            daily_pnl=self.portfolio.daily_pnl(max(now_ms, self.portfolio.last_exec_ms)),
            mode=names.get(self.mode, self.config.signal_mode_name),
        )
        return [SignalInput(data=d, position=self.books.position(d.symbol), risk=risk) for d in enhanced]

    async def on_cycle(
        self, enhanced: Sequence[EnhancedData], outcomes: Sequence[SignalOutcome], now_ms: int
    ) -> CycleReport:
        """One decision cycle: modes from this cycle's data, then risk -> execution for every outcome;
        every decision recorded with its reasons."""
        t_validated = time.perf_counter()
        async with self._lock:
            self.activity["cycles"] += 1
            for d in enhanced:
                self.enhanced[d.symbol] = d
                mark = d.mark_price if d.mark_price is not None else d.last_price
                if mark is not None and mark > 0:
                    self.books.mark(d.symbol, mark, now_ms)
            if self.books.wallet is None:
                await self._refresh_wallet()
            n_events = len(self.modes.events)
            self._observe_modes(enhanced, now_ms)
            await self._enforce(now_ms)
            decisions, entries, closes = [], [], []
            refused_before = self.activity["refused"]
            for outcome in outcomes:
                self.activity["signals"] += 1
                rec, entry, closed = await self._decide(outcome, now_ms, t_validated)
                decisions.append(rec)
                entries += [entry] if entry else []
                closes += [closed] if closed else []
            await self._housekeeping(now_ms)
            # The wallet (available margin) for the next cycle: off the signal-to-order path.
            await self._refresh_wallet()
            self.store.submit(
                # One decision per outcome, in order: the decision carries the signal id already computed.
                signals=[
                    signal_row(o, now_ms, d.signal_id) for o, d in zip(outcomes, decisions, strict=True)
                ],
                decisions=[d for d in decisions if d.action not in _COMMITTED],
            )
            self._record_equity(now_ms)
            self._record_mode_events()
            return CycleReport(
                now_ms=now_ms,
                mode=self.mode,
                decisions=tuple(decisions),
                entries=tuple(entries),
                closes=tuple(closes),
                refused=self.activity["refused"] - refused_before,
                mode_events=tuple(self.modes.events[n_events:]),
                equity=self.portfolio.equity,
            )

    async def _decide(
        self, outcome: SignalOutcome, now_ms: int, t_validated: float
    ) -> tuple[DecisionRecord, str, str]:
        """Decide on one outcome: (decision, entry link sent or '', symbol closed or '')."""
        if isinstance(outcome, Rejection):
            reason = f"rejected: {outcome.code.value}"
            return self._decision(now_ms, outcome.symbol, "SKIP", (reason,)), "", ""
        sid = signal_id(outcome)
        if outcome.action is Action.HOLD:
            return self._decision(now_ms, outcome.symbol, "HOLD", (outcome.rationale[:200],), sid), "", ""
        if outcome.action is Action.CLOSE:
            return await self._close_by_signal(outcome, sid, now_ms)
        return await self._open_by_signal(outcome, sid, now_ms, t_validated)

    async def _open_by_signal(
        self, signal: Signal, sid: str, now_ms: int, t_validated: float
    ) -> tuple[DecisionRecord, str, str]:
        sym = signal.symbol
        try:
            intent = intent_from_signal(signal, self._mark(sym), sid)
        except DataError as exc:
            return self._decision(now_ms, sym, "SKIP", (f"unusable signal: {exc}",), sid), "", ""
        if intent.signal_id in self.trades.plans:
            return self._decision(now_ms, sym, "SKIP", ("signal already executed",), sid), "", ""
        inst = self.instruments.get(sym)
        if inst is None:
            try:
                await self._load_instruments()
            except VenueError as exc:
                log.warning("instruments_refresh_failed", error=str(exc))
            inst = self.instruments.get(sym)
        if inst is None:
            self.activity["refused"] += 1
            return self._decision(now_ms, sym, "REFUSED", ("instrument: unknown symbol",), sid), "", ""
        view = account_view(self.portfolio, self.tracker, self.mode, self.books.available)
        market = MarketView(data=self.enhanced.get(sym))
        decision = evaluate(intent, inst, view, market, self.config.risk, now_ms)
        if not decision.accepted or decision.plan is None:
            self.activity["refused"] += 1
            detail = checks_detail(decision)
            return self._decision(now_ms, sym, "REFUSED", decision.reasons, sid, detail=detail), "", ""
        plan = decision.plan
        rec = self._decision(
            now_ms,
            sym,
            "OPEN_LONG" if plan.side is Side.BUY else "OPEN_SHORT",
            tuple(f"{c.name}: {c.detail}" for c in decision.checks)[:40],
            sid,
            links=(plan.entry.order_link_id,),
            detail={"plan": plan_to_json(plan), **checks_detail(decision)},
            did=open_decision_id(plan.intent_key),
        )
        return rec, await self._open(plan, rec, now_ms, t_validated), ""

    async def _open(self, plan: OrderPlan, rec: DecisionRecord, now_ms: int, t_validated: float) -> str:
        """Send the entry of an accepted plan (leverage first; the plan and the intent made durable)."""
        try:
            await self.executor.set_leverage(plan.symbol, plan.leverage)
        except VenueError as exc:
            log.error("leverage_failed", symbol=plan.symbol, error=str(exc))
            self.store.submit(decisions=[rec])
            return ""
        data = self.enhanced.get(plan.symbol)
        style = self.config.execution.entry_style
        request = entry_request(
            plan, style, data.bid_price if data else None, data.ask_price if data else None
        )
        try:
            await self.store.record_trade(rec, [request], now_ms)
        except (OSError, AsymError) as exc:
            log.error("trade_not_durable", symbol=plan.symbol, error=str(exc))  # so: not sent
            return ""
        self.trades.begin(plan)
        self.activity["entries"] += 1
        await self.executor.place(
            request,
            now_ms,
            role=LegKind.ENTRY,
            intent_key=plan.intent_key,
            ref_price=plan.worst_entry,
            decision=rec.decision_id,
            t_validated=t_validated,
            intent_recorded=True,
        )
        log.info("entry_sent", symbol=plan.symbol, side=plan.side.value, qty=str(plan.qty))
        return request.order_link_id

    async def _close_by_signal(
        self, signal: Signal, sid: str, now_ms: int
    ) -> tuple[DecisionRecord, str, str]:
        sym = signal.symbol
        if self.books.held(sym) == 0:
            return self._decision(now_ms, sym, "SKIP", ("CLOSE without a position",), sid), "", ""
        try:
            ok = await self._close(sym, now_ms, f"CLOSE signal: {signal.rationale[:120]}")
        except VenueError as exc:
            log.error("close_failed", symbol=sym, error=str(exc))
            ok = False
        reasons = ("closed at market by signal",) if ok else ("close failed; retried next cycle",)
        return self._decision(now_ms, sym, "CLOSE", reasons, sid), "", sym if ok else ""

    async def _close(self, symbol: str, now_ms: int, reason: str) -> bool:
        """Cancel the trade's live orders, then flatten with reduce-only market orders."""
        key = self.trades.active.get(symbol)
        if key is not None:
            await self.trades.cancel_orders(key, now_ms, reason)
        positions = await self._fetch_positions(symbol)
        pos = next((p for p in positions if p.symbol == symbol and p.size > 0 and p.side is not None), None)
        inst = self.instruments.get(symbol)
        if pos is None or inst is None:
            return pos is None
        return await self.executor.perform(close_action(pos, inst, reason), now_ms)

    # ------------------------------------------------------------------------------------ between cycles

    async def on_tick(self, now_ms: int) -> None:
        """Between cycles: enforce the mode, resolve unknown orders, time out entries, place exits."""
        async with self._lock:
            await self._enforce(now_ms)
            await self._housekeeping(now_ms)
            self._record_mode_events()

    async def _housekeeping(self, now_ms: int) -> None:
        normal = self.mode is Mode.NORMAL
        await self.trades.resolve_unknown(
            now_ms, entries=normal, entry_max_age_ms=self.config.resend_entry_max_age_ms
        )
        await self.trades.entry_timeouts(now_ms, fallback=normal)
        await self._missing_fills()
        await self.trades.follow_all(now_ms, exits=normal or not self.config.emergency.flatten)

    async def _missing_fills(self) -> None:
        missing = self.tracker.missing_fills()
        if not missing:
            return
        since = max(0, min(r.created_ms for r in missing) - EXEC_OVERLAP_MS)
        for sym in sorted({r.symbol for r in missing}):
            try:
                for x in await self.executor.fetch_executions(since, sym):
                    await self._apply_execution(x)
            except VenueError as exc:
                log.warning("missing_fills_fetch_failed", symbol=sym, error=str(exc))

    # ------------------------------------------------------------------------------------ modes

    def _observe_modes(self, enhanced: Sequence[EnhancedData], now_ms: int) -> None:
        inputs = ModeInputs(
            equity=self.portfolio.equity,
            day_start_equity=self.portfolio.day_start_equity(max(now_ms, self.portfolio.last_exec_ms)),
            peak_equity=self.portfolio.peak_equity,
            data_quality=data_quality_share(enhanced, self.config.risk, now_ms) if enhanced else None,
            market_stress=market_stress([d.market_risk_score for d in enhanced]) if enhanced else None,
        )
        self._last_inputs = inputs
        before = self.mode
        for ev in self.modes.observe(inputs, now_ms):
            log.error("mode_trigger", kind=ev.kind, mode=ev.dst.value, detail=ev.detail)
        if self.mode is not before:
            self._mode_epoch += 1

    def note_api_failure(self, detail: str) -> None:
        """A venue call made outside the session failed (e.g. the collection): it counts for the streak."""
        self._api_result(False, detail)

    def _api_result(self, ok: bool, detail: str) -> None:
        if ok:
            self.modes.record_api_success()
            return
        before = self.mode
        ev = self.modes.record_api_failure(self.clock(), detail)
        if ev is not None:
            log.error("mode_trigger", kind=ev.kind, mode=ev.dst.value, detail=ev.detail)
        if self.mode is not before:
            self._mode_epoch += 1

    async def _enforce(self, now_ms: int) -> None:
        """Outside NORMAL: cancel entries, protect every position, flatten if the policy says so. Done at
        each change of mode and then every cycle (idempotent: protected positions need nothing)."""
        if self.mode is Mode.NORMAL:
            return
        try:
            positions = await self._fetch_positions()
            open_orders = await self.executor.call("get_open_orders", self.venue.get_open_orders())
        except VenueError as exc:
            log.error("emergency_read_failed", error=str(exc))
            return
        reason = f"{self.mode.value}: " + "; ".join(t.value for t in self.modes.active)
        plan = emergency_actions(
            self.tracker.records(),
            positions,
            open_orders,
            self.instruments,
            self.trades.known_stops(),
            self.config.risk,
            self.config.emergency,
            reason,
        )
        for link in plan.abandon:
            await self.executor.abandon(link, now_ms, reason)
        done = [
            {"action": action_to_json(a), "done": await self._perform(a, now_ms, "emergency")}
            for a in plan.actions
        ]
        if self._enforced_epoch == self._mode_epoch and not done:
            return
        self._enforced_epoch = self._mode_epoch
        log.warning(
            "emergency_enforced", mode=self.mode.value, actions=len(done), abandoned=len(plan.abandon)
        )
        row = DecisionRecord(
            decision_id=decision_id(Kind.EMERGENCY, now_ms, self._mode_epoch, len(done)),
            ts=now_ms,
            symbol="",
            action=Kind.EMERGENCY.value,
            reasons=(reason[:300],),
            mode=self.mode.value,
            order_link_ids=tuple(plan.abandon),
            detail={"actions": done},
        )
        self.store.submit(decisions=[row])

    def mode_inputs(self, now_ms: int) -> ModeInputs:
        """What a resume is judged on: the account now, data quality and stress of the last cycle."""
        last = self._last_inputs
        pf = self.portfolio
        return ModeInputs(
            equity=pf.equity,
            day_start_equity=pf.day_start_equity(max(now_ms, pf.last_exec_ms)),
            peak_equity=pf.peak_equity,
            data_quality=last.data_quality if last is not None else None,
            market_stress=last.market_stress if last is not None else None,
        )

    async def halt(self, reason: str) -> ModeEvent:
        """HALTED by hand: no new entries at once; entries cancelled and stops ensured right after."""
        now = self.clock()
        ev = self.modes.halt(now, reason)
        self._mode_epoch += 1
        log.error("halted", reason=reason)
        async with self._lock:
            await self._enforce(now)
            self._record_mode_events()
        return ev

    async def enter_emergency(self, reason: str) -> ModeEvent | None:
        """EMERGENCY by hand (a MANUAL trigger), enforced at once."""
        now = self.clock()
        before = self.mode
        ev = self.modes.enter_emergency(now, reason)
        self._mode_epoch += self.mode is not before
        async with self._lock:
            await self._enforce(now)
            self._record_mode_events()
        return ev

    async def resume(self) -> ResumeResult:
        """Back to NORMAL if every trigger has cleared (refused with the reasons otherwise)."""
        now = self.clock()
        res = self.modes.resume(now, self.mode_inputs(now))
        self._mode_epoch += res.ok
        log.warning("resume", ok=res.ok, reasons=list(res.reasons))
        self._record_mode_events()
        return res

    def _record_mode_events(self) -> None:
        new = self.modes.events[self._mode_events_recorded :]
        if new:
            self.store.submit(decisions=mode_rows(new, self._mode_events_recorded))
            self._mode_events_recorded = len(self.modes.events)

    # ------------------------------------------------------------------------------------ private events

    async def on_order(self, order: Order) -> None:
        """A venue order snapshot (stream or REST)."""
        if self.tracker.apply_order(order, self.clock()).applied:
            self.store.submit(orders=[order])

    async def on_execution(self, execution: Execution) -> None:
        """A fill or funding payment; the exits of a filled entry follow at once when the session is idle
        (else at the next tick or cycle)."""
        await self._apply_execution(execution)
        if self.started and not self._lock.locked():
            async with self._lock:
                key = self.trades.active.get(execution.symbol)
                if key is not None:
                    exits = self.mode is Mode.NORMAL or not self.config.emergency.flatten
                    await self.trades.follow(execution.symbol, key, self.clock(), exits=exits)

    async def _apply_execution(self, x: Execution) -> bool:
        self.tracker.apply_execution(x, self.clock())
        booked = self.books.book(x)
        if booked:
            self.store.submit(executions=[x])
        return booked

    async def on_position(self, position: Position) -> None:
        """A venue position update (kept for protection, emergency and close sizes)."""
        if self.books.on_position(position):
            self.store.submit(positions=[position])

    async def on_wallet(self, wallet: WalletBalance) -> None:
        """A venue wallet update (the available balance risk sizes margin against)."""
        self.books.on_wallet(wallet)

    async def on_mark(self, symbol: str, price: Decimal, now_ms: int) -> None:
        """A new mark price: unrealised P&L, equity, drawdown."""
        self.books.mark(symbol, price, now_ms)

    # ------------------------------------------------------------------------------------ reconciliation

    async def reconcile(self, now_ms: int) -> ReconcileReport:
        """REST truth: executions, open orders, positions, wallet; books repaired, positions protected."""
        async with self._lock:
            report, wallet = await self.reconciler.run(
                now_ms,
                apply_execution=self._apply_execution,
                on_order=self.on_order,
                on_position=self.on_position,
                perform=self._perform,
            )
            self.store.submit_equity(wallet, VENUE_ACCOUNT)
            await self.store.compact()  # under the lock: no intent is being recorded
            await self._enforce(now_ms)
            await self._housekeeping(now_ms)
            self._record_mode_events()
            return report

    async def _fetch_positions(self, symbol: str | None = None) -> list[Position]:
        return await self.reconciler.fetch_positions(self.on_position, symbol)

    async def _refresh_wallet(self) -> None:
        try:
            self.books.on_wallet(await self.executor.call("get_wallet", self.venue.get_wallet()))
        except VenueError as exc:
            log.warning("wallet_refresh_failed", error=str(exc))

    # ------------------------------------------------------------------------------------ views

    def watched_symbols(self) -> list[str]:
        """Symbols held or with a live order (their marks are followed)."""
        syms = {p.symbol for p in self.portfolio.positions()}
        syms.update(r.symbol for r in self.tracker.in_state(OrderState.NEW, OrderState.PARTIALLY_FILLED))
        syms.update(self.trades.active)
        return sorted(syms)

    def positions(self) -> list[Position]:
        """Open positions (as the venue last described them where it did)."""
        return self.books.positions()

    def summary(self) -> SessionSummary:
        """Equity, P&L, trades, win rate, drawdown, fees, funding, activity and internal latency."""
        ex = self.executor
        activity = {
            **self.activity,
            "orders_sent": ex.sent,
            "orders_rejected": ex.rejected,
            "orders_unknown": ex.unknown,
        }
        return self.books.summary(
            venue=self.venue_name,
            mode=self.mode.value,
            now_ms=self.clock(),
            activity=activity,
            send_latency_s=ex.send_latency_s,
            ack_latency_s=ex.ack_latency_s,
        )

    async def close(self) -> None:
        """Record the final equity, flush the store and empty the intent journal (positions and orders
        stay as they are: each position keeps its stop on the venue)."""
        self._record_equity(self.clock())
        self._record_mode_events()
        await self.store.close()

    # ------------------------------------------------------------------------------------ helpers

    def _mark(self, symbol: str) -> Decimal | None:
        mark = self.books.booked_mark(symbol)
        if mark is not None:
            return mark
        d = self.enhanced.get(symbol)
        if d is None:
            return None
        return d.mark_price if d.mark_price is not None else d.last_price

    def _record_equity(self, now_ms: int) -> None:
        point = self.books.record_equity(now_ms)
        wallet = books_wallet(
            point.ts,
            point.equity,
            point.balance,
            point.unrealised,
            self.books.available,
            self.config.settle_coin,
        )
        self.store.submit_equity(wallet, BOOKS_ACCOUNT)

    def _decision(
        self,
        now_ms: int,
        symbol: str,
        action: str,
        reasons: Sequence[str],
        sid: str | None = None,
        *,
        links: tuple[str, ...] = (),
        detail: dict[str, object] | None = None,
        did: str | None = None,
    ) -> DecisionRecord:
        return DecisionRecord(
            decision_id=did or decision_id(action, symbol, sid or "", now_ms, self.activity["cycles"]),
            ts=now_ms,
            symbol=symbol,
            action=action,
            reasons=tuple(r[:300] for r in reasons),
            mode=self.mode.value,
            signal_id=sid,
            order_link_ids=links,
            detail=dict(detail or {}),
        )


__all__ = [
    "CycleReport",
    "ReconcileReport",
    "RestartReport",
    "SessionConfig",
    "TradingSession",
]
