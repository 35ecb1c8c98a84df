"""Following the portfolio live between cycles, and the figures a run ends with.

`PositionMonitor` (the asyncio shell) feeds a `TradingSession` continuously: the private streams (orders,
executions, positions, wallet) into the order tracker and the portfolio, the mark price of every symbol
held or with a live order (ticker stream) into unrealised P&L, a housekeeping tick (entry timeouts,
unknown orders, exits of filled entries, emergency enforcement) and a periodic REST reconciliation, run at
once when a private stream reconnected (events sent while disconnected are lost).

`Books` is the account as asym books it (pure): the portfolio fed by executions and marks, the round
trips (`TradeLedger`), the largest drawdown (`DrawdownTracker`), and the venue's last word on positions and
the wallet; `Books.summary` gives the `SessionSummary` a run ends with.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from asym.domain import Execution, Instrument, Order, Position, Side, Ticker, WalletBalance
from asym.domain.venue import EventStream, MarketStream, Venue
from asym.logging import get_logger
from asym.trading.actions import AdoptPosition, TradingAction
from asym.trading.config import RiskConfig
from asym.trading.persist import SessionStart
from asym.trading.portfolio import EquityPoint, Portfolio, PositionState
from asym.trading.protection import protect

if TYPE_CHECKING:
    from asym.trading.executor import Executor, TradeManager
    from asym.trading.session import TradingSession

log = get_logger("trading.monitoring")
_ZERO = Decimal(0)
EXEC_OVERLAP_MS = 60_000
"""Execution catch-ups start this long before the last booked execution (duplicates are ignored)."""


# --------------------------------------------------------------------------------------- pure figures


class ClosedTrade(msgspec.Struct, frozen=True, kw_only=True):
    """One round trip of one symbol: flat -> position -> flat."""

    symbol: str
    side: Side
    opened_ms: int
    closed_ms: int
    max_size: Decimal
    pnl: Decimal
    """Net: price P&L minus fees minus funding paid while it was open (fees of both ends included)."""
    fees: Decimal
    funding: Decimal


@dataclass
class _OpenTrade:
    side: Side
    opened_ms: int
    net0: Decimal
    fees0: Decimal
    funding0: Decimal
    max_size: Decimal


def _net(p: PositionState | None) -> tuple[Decimal, Decimal, Decimal]:
    if p is None:
        return _ZERO, _ZERO, _ZERO
    return p.realised_pnl - p.fees - p.funding, p.fees, p.funding


@dataclass
class TradeLedger:
    """Round trips per symbol, from the portfolio's position before and after each booked execution."""

    closed: list[ClosedTrade] = field(default_factory=list)
    _open: dict[str, _OpenTrade] = field(default_factory=dict)

    def observe(
        self, before: PositionState | None, after: PositionState | None, ts: int
    ) -> ClosedTrade | None:
        """Account for one change of a symbol's position; the trade it closed, if any."""
        if after is None:
            return None
        size0 = before.size if before is not None else _ZERO
        size1 = after.size
        done: ClosedTrade | None = None
        cur = self._open.get(after.symbol)
        if cur is not None and (size1 == 0 or (size0 > 0) != (size1 > 0)):
            net1, fees1, funding1 = _net(after)
            done = ClosedTrade(
                symbol=after.symbol,
                side=cur.side,
                opened_ms=cur.opened_ms,
                closed_ms=ts,
                max_size=cur.max_size,
                pnl=net1 - cur.net0,
                fees=fees1 - cur.fees0,
                funding=funding1 - cur.funding0,
            )
            self.closed.append(done)
            del self._open[after.symbol]
            cur = None
            if size1 != 0:  # a flip opens the next trade at once (its baseline is after the flip)
                self._open[after.symbol] = _OpenTrade(
                    Side.BUY if size1 > 0 else Side.SELL, ts, net1, fees1, funding1, abs(size1)
                )
                return done
        if cur is None and size1 != 0 and size0 == 0:
            net0, fees0, funding0 = _net(before)
            self._open[after.symbol] = _OpenTrade(
                Side.BUY if size1 > 0 else Side.SELL, ts, net0, fees0, funding0, abs(size1)
            )
        elif cur is not None:
            cur.max_size = max(cur.max_size, abs(size1))
        return done

    @property
    def open_symbols(self) -> list[str]:
        """Symbols with a trade open."""
        return sorted(self._open)

    def stats(self) -> tuple[int, int, int]:
        """(trades closed, winners, losers); a trade at exactly 0 counts as neither."""
        wins = sum(1 for t in self.closed if t.pnl > 0)
        losses = sum(1 for t in self.closed if t.pnl < 0)
        return len(self.closed), wins, losses


@dataclass
class DrawdownTracker:
    """The largest fall from a running peak of equity seen so far (a fraction)."""

    peak: Decimal = _ZERO
    max_drawdown: Decimal = _ZERO

    def observe(self, equity: Decimal) -> None:
        """One equity observation."""
        if equity > self.peak:
            self.peak = equity
        elif self.peak > 0:
            dd = (self.peak - equity) / self.peak
            if dd > self.max_drawdown:
                self.max_drawdown = dd


def percentile_ms(samples_s: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100, nearest rank) of samples in seconds, in milliseconds; None if empty."""
    if not samples_s:
        return None
    s = sorted(samples_s)
    rank = max(1, min(len(s), math.ceil(q / 100 * len(s))))
    return s[rank - 1] * 1000


class SessionSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What a session did: money (exact), trades, risk, activity and internal latency."""

    venue: str
    started_ms: int
    now_ms: int
    mode: str
    start_balance: Decimal
    equity: Decimal
    balance: Decimal
    pnl: Decimal
    """equity - start_balance."""
    realised_pnl: Decimal
    """Price P&L of closed quantity (before fees and funding)."""
    unrealised_pnl: Decimal
    fees: Decimal
    funding: Decimal
    """Funding paid (negative: received)."""
    trades: int
    wins: int
    losses: int
    win_rate: float | None
    open_positions: int
    max_drawdown: Decimal
    cycles: int
    signals: int
    entries: int
    refused: int
    orders_sent: int
    orders_rejected: int
    orders_unknown: int
    signal_to_send_p50_ms: float | None
    signal_to_send_p99_ms: float | None
    ack_p50_ms: float | None
    ack_p99_ms: float | None
    closed_trades: tuple[ClosedTrade, ...] = ()


def position_from_books(symbol: str, size: Decimal, avg: Decimal, mark: Decimal | None) -> Position:
    """A Position object for a booked position (when the venue has not described it)."""
    return Position(
        symbol=symbol,
        side=Side.BUY if size > 0 else Side.SELL,
        size=abs(size),
        avg_price=avg,
        mark_price=mark if mark is not None else avg,
        leverage=Decimal(1),
        position_value=abs(size) * avg,
        unrealised_pnl=_ZERO,
        cum_realised_pnl=_ZERO,
        liq_price=None,
        take_profit=None,
        stop_loss=None,
        position_im=_ZERO,
        position_mm=_ZERO,
        updated_time=0,
    )


class Books:
    """The account as asym books it, and the venue's last word on positions and the wallet.

    Marks are cheap: `mark` updates the unrealised P&L of one symbol incrementally (O(1)) and the running
    drawdown; the portfolio itself takes the pending marks when it is next read (`portfolio`), so a busy
    ticker stream costs O(1) per update, not a revaluation of every position."""

    def __init__(self, settle_coin: str = "USDT") -> None:
        self.settle_coin = settle_coin
        self._portfolio = Portfolio(_ZERO, 0, settle_coin=settle_coin)
        self.ledger = TradeLedger()
        self.drawdown = DrawdownTracker()
        self.venue_positions: dict[str, Position] = {}
        self.wallet: WalletBalance | None = None
        self.start: SessionStart | None = None
        self._pending: dict[str, tuple[Decimal, int]] = {}
        self._unreal: dict[str, Decimal] = {}
        self._unreal_total = _ZERO

    @property
    def portfolio(self) -> Portfolio:
        """The portfolio, with every pending mark applied."""
        if self._pending:
            pf = self._portfolio
            for symbol, (price, ts) in self._pending.items():
                pf.update_mark(symbol, price, max(ts, pf.last_exec_ms))
            self._pending.clear()
        return self._portfolio

    def _revalue(self) -> None:
        """Recompute the incremental unrealised P&L after the positions changed."""
        self._unreal = {p.symbol: p.unrealised_pnl for p in self._portfolio.positions()}
        self._unreal_total = sum(self._unreal.values(), _ZERO)

    def open(self, start: SessionStart) -> None:
        """Start the books at the session's initial balance."""
        self.start = start
        self._portfolio = Portfolio(start.balance, start.ts, settle_coin=self.settle_coin)
        self._pending.clear()
        self._revalue()
        self.drawdown.observe(start.balance)

    def wallet_balance(self, wallet: WalletBalance) -> Decimal:
        """The settle coin's wallet balance of a venue wallet."""
        for c in wallet.coins:
            if c.coin == self.settle_coin:
                return c.wallet_balance
        return wallet.total_wallet_balance

    def book(self, x: Execution) -> bool:
        """Book a fill or funding payment (False: a duplicate, or older than the session)."""
        if self.start is not None and x.ts < self.start.ts:
            return False  # before this session: already inside the start balance
        pf = self.portfolio
        before = pf.position(x.symbol)
        if not pf.apply_execution(x):
            return False
        self.ledger.observe(before, pf.position(x.symbol), x.ts)
        self._revalue()
        self.drawdown.observe(pf.equity)
        return True

    def adopt(self, position: Position, ts: int) -> None:
        """Take the venue's position as the truth."""
        pf = self.portfolio
        before = pf.position(position.symbol)
        pf.adopt_position(position)
        self.ledger.observe(before, pf.position(position.symbol), ts)
        self._revalue()

    def mark(self, symbol: str, price: Decimal, ts: int) -> bool:
        """A new mark of a held symbol (others, and repeats, are ignored); True when it revalued it."""
        p = self._portfolio.position(symbol)
        if p is None or p.size == 0:
            return False
        pending = self._pending.get(symbol)
        if (pending[0] if pending is not None else p.mark) == price:
            return False
        self._pending[symbol] = (price, ts)
        u = (abs(p.size) * price - p.cost) * (1 if p.size > 0 else -1)
        self._unreal_total += u - self._unreal.get(symbol, _ZERO)
        self._unreal[symbol] = u
        self.drawdown.observe(self._portfolio.balance + self._unreal_total)
        return True

    def on_position(self, p: Position) -> bool:
        """Keep the newest venue position per symbol; True when it was newer."""
        cur = self.venue_positions.get(p.symbol)
        if cur is not None and p.updated_time < cur.updated_time:
            return False
        self.venue_positions[p.symbol] = p
        return True

    def flat_except(self, symbols: set[str]) -> None:
        """Every symbol absent from the venue's list of open positions is flat there."""
        for sym, p in list(self.venue_positions.items()):
            if sym not in symbols and p.size != 0:
                self.venue_positions[sym] = msgspec.structs.replace(p, side=None, size=_ZERO)

    def on_wallet(self, w: WalletBalance) -> None:
        """Keep the newest venue wallet."""
        if self.wallet is None or w.ts >= self.wallet.ts:
            self.wallet = w

    def held(self, symbol: str) -> Decimal:
        """Booked signed size of `symbol` (0 when flat)."""
        p = self._portfolio.position(symbol)
        return p.size if p is not None else _ZERO

    def booked_mark(self, symbol: str) -> Decimal | None:
        """The latest mark seen for a held `symbol`."""
        pending = self._pending.get(symbol)
        if pending is not None:
            return pending[0]
        p = self._portfolio.position(symbol)
        return p.mark if p is not None else None

    @property
    def available(self) -> Decimal:
        """Balance free for new margin (the venue's; the books' equity before the first wallet)."""
        return self.wallet.total_available_balance if self.wallet is not None else self.portfolio.equity

    def position(self, symbol: str) -> Position | None:
        """The open position of `symbol`: the venue's, else the books' (None when flat)."""
        vp = self.venue_positions.get(symbol)
        if vp is not None and vp.size > 0:
            return vp
        ps = self.portfolio.position(symbol)
        if ps is None or ps.size == 0:
            return None
        return position_from_books(symbol, ps.size, ps.avg_price, ps.mark)

    def positions(self) -> list[Position]:
        """Every open position (booked), as the venue last described it where it did."""
        return [p for ps in self.portfolio.positions() if (p := self.position(ps.symbol)) is not None]

    def record_equity(self, now_ms: int) -> EquityPoint:
        """Append the equity curve."""
        pf = self.portfolio
        point = pf.record_equity(max(now_ms, pf.last_exec_ms))
        self.drawdown.observe(point.equity)
        return point

    def summary(
        self,
        *,
        venue: str,
        mode: str,
        now_ms: int,
        activity: dict[str, int],
        send_latency_s: Sequence[float],
        ack_latency_s: Sequence[float],
    ) -> SessionSummary:
        """The figures of the session so far (`activity`: cycles, signals, entries, refused, orders_*)."""
        pf = self.portfolio
        trades, wins, losses = self.ledger.stats()
        start = self.start.balance if self.start is not None else pf.balance
        self.drawdown.observe(pf.equity)
        return SessionSummary(
            venue=venue,
            started_ms=self.start.ts if self.start is not None else 0,
            now_ms=now_ms,
            mode=mode,
            start_balance=start,
            equity=pf.equity,
            balance=pf.balance,
            pnl=pf.equity - start,
            realised_pnl=pf.total_realised,
            unrealised_pnl=pf.unrealised_pnl,
            fees=pf.total_fees,
            funding=pf.total_funding,
            trades=trades,
            wins=wins,
            losses=losses,
            win_rate=wins / trades if trades else None,
            open_positions=len(pf.positions()),
            max_drawdown=self.drawdown.max_drawdown,
            cycles=activity.get("cycles", 0),
            signals=activity.get("signals", 0),
            entries=activity.get("entries", 0),
            refused=activity.get("refused", 0),
            orders_sent=activity.get("orders_sent", 0),
            orders_rejected=activity.get("orders_rejected", 0),
            orders_unknown=activity.get("orders_unknown", 0),
            signal_to_send_p50_ms=percentile_ms(send_latency_s, 50),
            signal_to_send_p99_ms=percentile_ms(send_latency_s, 99),
            ack_p50_ms=percentile_ms(ack_latency_s, 50),
            ack_p99_ms=percentile_ms(ack_latency_s, 99),
            closed_trades=tuple(self.ledger.closed),
        )


class ReconcileReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a reconciliation found and repaired."""

    now_ms: int
    executions_booked: int
    discrepancies: tuple[str, ...]
    adopted: tuple[str, ...]
    protections: tuple[str, ...]


class Reconciler:
    """REST truth for the books: executions since the last one booked, open orders (and the final state
    of those that closed unseen), positions, the wallet; what still differs is taken from the venue, and
    every position without a stop gets one (`protect`)."""

    def __init__(
        self,
        venue: Venue,
        executor: Executor,
        books: Books,
        trades: TradeManager,
        instruments: Mapping[str, Instrument],
        risk: RiskConfig,
    ) -> None:
        self.venue = venue
        self.ex = executor
        self.books = books
        self.trades = trades
        self.instruments = instruments
        self.risk = risk

    async def fetch_positions(
        self, on_position: Callable[[Position], Awaitable[None]], symbol: str | None = None
    ) -> list[Position]:
        """The venue's positions (of `symbol`, else every open one), each fed to `on_position`."""
        got = await self.ex.call("get_positions", self.venue.get_positions(symbol))
        for p in got:
            await on_position(p)
        if symbol is None:
            self.books.flat_except({p.symbol for p in got if p.size > 0})
        return got

    async def run(
        self,
        now_ms: int,
        *,
        apply_execution: Callable[[Execution], Awaitable[bool]],
        on_order: Callable[[Order], Awaitable[None]],
        on_position: Callable[[Position], Awaitable[None]],
        perform: Callable[[TradingAction, int, str], Awaitable[bool]],
    ) -> tuple[ReconcileReport, WalletBalance]:
        """One reconciliation; the report and the venue's wallet."""
        start = self.books.start.ts if self.books.start else 0
        since = max(start, self.books.portfolio.last_exec_ms - EXEC_OVERLAP_MS)
        booked = 0
        for x in await self.ex.fetch_executions(since):
            booked += await apply_execution(x)
        open_orders = await self.ex.call("get_open_orders", self.venue.get_open_orders())
        open_keys = {o.order_link_id or f"#{o.order_id}" for o in open_orders}
        for o in open_orders:
            await on_order(o)
        for rec in self.ex.tracker.open_orders():
            if rec.order_link_id and rec.order_link_id not in open_keys:
                # Believed open, not open any more: learn its final state.
                found = await self.ex.call(
                    "get_order_by_link_id", self.venue.get_order_by_link_id(rec.order_link_id, rec.symbol)
                )
                if found is not None:
                    await on_order(found)
        positions = await self.fetch_positions(on_position)
        wallet = await self.ex.call("get_wallet", self.venue.get_wallet())
        self.books.on_wallet(wallet)
        issues, adopted = [], []
        for d in self.books.portfolio.reconcile(positions, wallet):
            issues.append(f"{d.kind.value}: {d.detail}")
            log.error("books_differ", kind=d.kind.value, symbol=d.symbol, detail=d.detail)
            if d.kind.value == "balance_mismatch":
                self.books.portfolio.adopt_balance(wallet)
                adopted.append("balance")
            elif d.kind.value != "avg_price_mismatch":
                venue_pos = next((p for p in positions if p.symbol == d.symbol), None)
                if venue_pos is None:  # flat at the venue
                    booked_pos = position_from_books(d.symbol, d.local, _ZERO, None)
                    venue_pos = msgspec.structs.replace(booked_pos, side=None, size=_ZERO)
                await perform(AdoptPosition(position=venue_pos, reason=d.detail), now_ms, "reconcile")
                adopted.append(d.symbol)
        protections = []
        stops = self.trades.known_stops()
        for pos in positions:
            inst = self.instruments.get(pos.symbol)
            if pos.side is None or pos.size <= 0 or inst is None:
                continue
            for action in protect(pos, open_orders, inst, stops.get(pos.symbol), self.risk, "reconcile"):
                ok = await perform(action, now_ms, "reconcile")
                protections.append(f"{type(action).__name__} {pos.symbol}: {'done' if ok else 'failed'}")
        report = ReconcileReport(
            now_ms=now_ms,
            executions_booked=booked,
            discrepancies=tuple(issues),
            adopted=tuple(adopted),
            protections=tuple(protections),
        )
        return report, wallet


# --------------------------------------------------------------------------------------- the live shell


class FollowConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the monitor follows the session (wall-clock seconds: this is the live shell)."""

    tick_interval_s: float = 0.25
    reconcile_interval_s: float = 30.0
    marks: bool = True
    """Follow the mark price (ticker stream) of every symbol held or with a live order."""


class PositionMonitor:
    """Feeds private events, marks and periodic reconciliation into a session until stopped."""

    def __init__(self, venue: Venue, session: TradingSession, config: FollowConfig | None = None) -> None:
        self.venue = venue
        self.session = session
        self.config = config or FollowConfig()
        self._tasks: list[asyncio.Task[None]] = []
        self._streams: list[Any] = []
        self._marks: dict[str, tuple[MarketStream[Ticker], asyncio.Task[None]]] = {}
        self._private: list[EventStream[Any]] = []
        self._reconnects_seen = 0
        self._reconcile_now = asyncio.Event()
        self.events = 0
        self.mark_updates = 0
        self.reconciles = 0
        self.errors = 0

    async def start(self) -> None:
        """Subscribe the private streams and start following."""
        pairs: list[tuple[Awaitable[EventStream[Any]], Callable[[Any], Awaitable[None]]]] = [
            (self.venue.stream_orders(), self._on_order),
            (self.venue.stream_executions(), self._on_execution),
            (self.venue.stream_positions(), self._on_position),
            (self.venue.stream_wallet(), self._on_wallet),
        ]
        for aw, handler in pairs:
            stream = await aw
            self._private.append(stream)
            self._streams.append(stream)
            self._tasks.append(asyncio.create_task(self._consume(stream, handler)))
        self._tasks.append(asyncio.create_task(self._ticks()))
        self._tasks.append(asyncio.create_task(self._reconciler()))

    async def stop(self) -> None:
        """Stop every task and stream."""
        tasks = self._tasks + [task for _, task in self._marks.values()]
        for t in tasks:
            t.cancel()
        if tasks:
            # asyncio.wait: the tasks' cancellations stay theirs; a cancellation of stop() itself propagates.
            await asyncio.wait(tasks)
        for s in self._streams + [stream for stream, _ in self._marks.values()]:
            with contextlib.suppress(Exception):
                await s.aclose()
        self._tasks.clear()
        self._streams.clear()
        self._marks.clear()

    def request_reconcile(self) -> None:
        """Reconcile at the next opportunity (e.g. after a reconnect)."""
        self._reconcile_now.set()

    # --- consumers -------------------------------------------------------------------------------------

    async def _consume(self, stream: EventStream[Any], handler: Callable[[Any], Awaitable[None]]) -> None:
        async for item in stream:
            self.events += 1
            try:
                await handler(item)
            except Exception as exc:  # one bad event must not stop the following
                self.errors += 1
                log.error("monitor_event_failed", error=f"{type(exc).__name__}: {exc}")

    async def _on_order(self, o: Order) -> None:
        await self.session.on_order(o)

    async def _on_execution(self, x: Execution) -> None:
        await self.session.on_execution(x)

    async def _on_position(self, p: Position) -> None:
        await self.session.on_position(p)

    async def _on_wallet(self, w: WalletBalance) -> None:
        await self.session.on_wallet(w)

    async def _follow_mark(self, symbol: str, stream: MarketStream[Ticker]) -> None:
        async for t in stream:
            mark = t.mark_price if t.mark_price is not None else t.last_price
            if mark is None or not mark.is_finite() or mark <= 0:
                continue
            self.mark_updates += 1
            try:
                await self.session.on_mark(symbol, mark, t.ts)
            except Exception as exc:
                self.errors += 1
                log.error("monitor_mark_failed", symbol=symbol, error=f"{type(exc).__name__}: {exc}")

    async def _sync_marks(self) -> None:
        """Follow the marks of the watched symbols; stop following the others."""
        watched = set(self.session.watched_symbols())
        for symbol in sorted(watched - self._marks.keys()):
            try:
                stream = await self.venue.stream_ticker(symbol)
            except Exception as exc:
                log.warning("mark_subscribe_failed", symbol=symbol, error=str(exc))
                continue
            self._marks[symbol] = (stream, asyncio.create_task(self._follow_mark(symbol, stream)))
        for symbol in sorted(self._marks.keys() - watched):
            stream, task = self._marks.pop(symbol)
            task.cancel()
            await asyncio.wait({task})  # never swallows a cancellation of this loop (suppress would)
            with contextlib.suppress(Exception):
                await stream.aclose()

    # --- periodic work ---------------------------------------------------------------------------------

    async def _ticks(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval_s)
            reconnects = sum(s.reconnects for s in self._private)
            if reconnects != self._reconnects_seen:
                self._reconnects_seen = reconnects
                log.warning("private_stream_reconnected", reconnects=reconnects)
                self._reconcile_now.set()
            try:
                if self.config.marks:
                    await self._sync_marks()
                await self.session.on_tick(self.session.clock())
            except Exception as exc:
                self.errors += 1
                log.error("monitor_tick_failed", error=f"{type(exc).__name__}: {exc}")

    async def _reconciler(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reconcile_now.wait(), self.config.reconcile_interval_s)
            self._reconcile_now.clear()
            t0 = time.monotonic()
            try:
                await self.session.reconcile(self.session.clock())
                self.reconciles += 1
            except Exception as exc:
                self.errors += 1
                log.error("monitor_reconcile_failed", error=f"{type(exc).__name__}: {exc}")
            log.debug("reconciled", seconds=round(time.monotonic() - t0, 3))


__all__ = [
    "Books",
    "ClosedTrade",
    "DrawdownTracker",
    "FollowConfig",
    "PositionMonitor",
    "ReconcileReport",
    "Reconciler",
    "SessionSummary",
    "TradeLedger",
    "percentile_ms",
    "position_from_books",
]
