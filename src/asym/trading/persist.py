"""The trading session's store adapter: what the session writes, and how its state comes back after a crash.

Everything lands in the project store (`asym.store.Store`, one transactional DuckDB file):

* `order_intents`: an order about to be sent. It is made durable BEFORE the request leaves by the
  `IntentJournal` (an fsynced JSON-lines file beside the database, with the trade's plan: ~0.1 ms, where a
  DuckDB transaction takes tens of ms) and reaches the table in the next batch; `load()` merges both, and
  a clean `close()` empties the journal once everything is committed;
* `orders`, `executions`, `positions`: venue snapshots and fills as they arrive (batched);
* `decisions`: every decision with its reasons (plans, refusals, holds, closes, mode changes, local order
  outcomes), batched; the plan of an accepted trade is committed together with its entry's intent;
* `signals`: signals and rejections, each cycle (batched);
* `equity_history`: the books' equity (account `books`) each cycle, the venue's wallet (`venue`) on
  reconciliation.

`load()` rebuilds the state: the order tracker from intents (each one possibly sent), venue snapshots,
executions and local outcomes; the plans of accepted trades; the session's start (initial balance, venue);
and the last mode. The venue is the truth for everything else: `TradingSession.restart` reconciles.
Records written by `TradingStore` need no other table: the decisions table holds the session's own
bookkeeping under the actions listed in `Kind`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import msgspec

from asym.domain import CoinBalance, Execution, Order, OrderRequest, Position, WalletBalance
from asym.errors import DataError
from asym.logging import get_logger
from asym.signals.schema import Rejection, SignalOutcome
from asym.store import DecisionRecord, OrderIntent, SignalRecord, Store
from asym.store import queries as q
from asym.store.records import EquityPoint as StoreEquityPoint
from asym.trading.ids import LegKind, parse_order_link_id, signal_id
from asym.trading.modes import Mode, ModeEvent
from asym.trading.orders import OrderRecord, OrderTracker
from asym.trading.plan import OrderPlan
from asym.trading.risk import RiskDecision

log = get_logger("trading.persist")

BOOKS_ACCOUNT = "books"
"""Account name of the equity history the session computes itself (the venue's wallet is `venue`)."""
VENUE_ACCOUNT = "venue"


class Kind(StrEnum):
    """Bookkeeping actions in the decisions table (trade decisions are OPEN_LONG, OPEN_SHORT, CLOSE, HOLD,
    SKIP and REFUSED)."""

    SESSION_START = "SESSION_START"
    MODE = "MODE"
    ORDER_REJECTED = "ORDER_REJECTED"
    ORDER_ABANDONED = "ORDER_ABANDONED"
    RESTART = "RESTART"
    EMERGENCY = "EMERGENCY"


class SessionStart(msgspec.Struct, frozen=True, kw_only=True):
    """The first start of a session on a store: which venue, and the balance P&L is measured from."""

    ts: int
    venue: str
    balance: Decimal


class RestoredState(msgspec.Struct, kw_only=True):
    """What `TradingStore.load` found."""

    start: SessionStart | None
    tracker: OrderTracker
    plans: dict[str, OrderPlan]
    """Plans of accepted trades by intent key (the signal id)."""
    executions: list[Execution]
    """Every stored execution, oldest first (replayed into the portfolio)."""
    requests: dict[str, OrderRequest] = msgspec.field(default_factory=dict)
    """Every request an intent recorded, by orderLinkId (to re-send one exactly as it was)."""
    mode: Mode = Mode.NORMAL
    mode_detail: str = ""


def decision_id(*parts: object) -> str:
    """A deterministic id for a decision (the same decision written twice is stored once)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def open_decision_id(intent_key: str) -> str:
    """The id of the decision that opened the trade `intent_key` (its orders' intents point at it)."""
    return decision_id("OPEN", intent_key)


def checks_detail(decision: RiskDecision) -> dict[str, Any]:
    """Every check of a risk decision, with its figures, as a JSON object."""
    return {
        "checks": [
            {"name": c.name, "passed": c.passed, "detail": c.detail, "figures": dict(c.figures)}
            for c in decision.checks
        ]
    }


def order_outcome_row(kind: Kind, rec: OrderRecord, reason: str, now_ms: int) -> DecisionRecord:
    """A local order outcome (rejected by the venue, abandoned unsent) as a decision row."""
    return DecisionRecord(
        decision_id=decision_id(kind, rec.order_link_id, now_ms),
        ts=now_ms,
        symbol=rec.symbol,
        action=kind.value,
        reasons=(reason[:300],),
        order_link_ids=(rec.order_link_id,),
    )


def mode_rows(events: Sequence[ModeEvent], first_index: int) -> list[DecisionRecord]:
    """Mode events (transitions, triggers, refused resumes) as decision rows; `first_index` keeps the ids
    of events with equal content apart."""
    return [
        DecisionRecord(
            decision_id=decision_id(Kind.MODE, ev.ts, ev.kind, ev.dst, first_index + i),
            ts=ev.ts,
            symbol="",
            action=Kind.MODE.value,
            reasons=tuple(t.value for t in ev.triggers),
            mode=ev.dst.value,
            detail={"kind": ev.kind, "src": ev.src.value, "dst": ev.dst.value, "detail": ev.detail},
        )
        for i, ev in enumerate(events)
    ]


def signal_row(outcome: SignalOutcome, now_ms: int, sid: str | None = None) -> SignalRecord:
    """A signal or rejection as a row of the signals table (`sid`: the signal's id when already known)."""
    if isinstance(outcome, Rejection):
        return SignalRecord(
            signal_id=decision_id("rejection", outcome.symbol, outcome.model_id, outcome.data_timestamp),
            ts=now_ms,
            symbol=outcome.symbol,
            model=outcome.model_id,
            action="",
            accepted=False,
            reason_code=outcome.code.value,
            reason=outcome.detail[:300],
        )
    return SignalRecord(
        signal_id=sid if sid is not None else signal_id(outcome),
        ts=now_ms,
        symbol=outcome.symbol,
        model=outcome.model_id,
        action=outcome.action.value,
        accepted=True,
        entry=outcome.entry_price,
        stop_loss=outcome.stop_loss,
        take_profit=tuple(t.price for t in outcome.take_profits),
        confidence=outcome.confidence,
        payload={"rationale": outcome.rationale[:300], "reward_risk": str(outcome.reward_risk)},
    )


def plan_to_json(plan: OrderPlan) -> dict[str, Any]:
    """A plan as a JSON object (Decimals as strings)."""
    out: dict[str, Any] = msgspec.to_builtins(plan)
    return out


def plan_from_json(obj: Any) -> OrderPlan:
    """The plan written by `plan_to_json`; DataError when it is not one."""
    try:
        return msgspec.convert(obj, OrderPlan)
    except msgspec.ValidationError as exc:
        raise DataError(f"stored plan is unreadable: {exc}") from None


_STORE_QUANTUM = Decimal("1e-18")
"""The store keeps 18 decimal places; the books' exact figures (pro-rata costs reach 1e-20) are rounded to
it for the equity HISTORY only (the books themselves stay exact)."""


def books_wallet(
    ts: int, equity: Decimal, balance: Decimal, unrealised: Decimal, available: Decimal, coin: str
) -> WalletBalance:
    """The books' equity as a WalletBalance row of the equity history."""
    equity, balance, unrealised, available = (
        v.quantize(_STORE_QUANTUM) for v in (equity, balance, unrealised, available)
    )
    return WalletBalance(
        total_equity=equity,
        total_wallet_balance=balance,
        total_margin_balance=equity,
        total_available_balance=available,
        total_initial_margin=Decimal(0),
        total_maintenance_margin=Decimal(0),
        coins=(
            CoinBalance(
                coin=coin,
                wallet_balance=balance,
                equity=equity,
                unrealised_pnl=unrealised,
                cum_realised_pnl=Decimal(0),
                total_position_im=Decimal(0),
                total_order_im=Decimal(0),
                available=available,
            ),
        ),
        ts=ts,
    )


class JournalEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the intent journal: an order about to be sent, and the plan of its trade if new."""

    request: OrderRequest
    ts: int
    decision_id: str | None = None
    plan: dict[str, Any] | None = None


class IntentJournal:
    """Append-only, fsynced JSON lines of intents: durable before the send, cheap enough for the hot path.

    A torn last line (a crash in the middle of a write) is ignored on read: its order was never sent."""

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._enc = msgspec.json.Encoder(decimal_format="string")

    def append(self, entries: Sequence[JournalEntry]) -> None:
        """Write entries and make them durable (one write, one fsync)."""
        data = b"".join(self._enc.encode(e) + b"\n" for e in entries)
        os.write(self._fd, data)
        if self.fsync:
            os.fdatasync(self._fd)

    def read(self) -> list[JournalEntry]:
        """Every complete entry, oldest first."""
        out: list[JournalEntry] = []
        dec = msgspec.json.Decoder(JournalEntry)
        for line in self.path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                out.append(dec.decode(line))
            except msgspec.DecodeError:
                log.warning("journal_line_unreadable", path=str(self.path), bytes=len(line))
        return out

    def clear(self) -> None:
        """Empty the journal (everything in it is committed to the store)."""
        os.ftruncate(self._fd, 0)
        if self.fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


def journal_path(store: Store | None) -> Path | None:
    """The journal beside a store's database file (None for an in-memory store)."""
    if store is None or store.path is None:
        return None
    return Path(str(store.path) + ".journal")


class TradingStore:
    """The session's reads and writes on an `asym.store.Store` (None store: a no-op, for backtests)."""

    def __init__(
        self, store: Store | None, venue: str = "bybit", *, journal: IntentJournal | None = None
    ) -> None:
        self.store = store
        self.venue = venue
        if journal is None:
            path = journal_path(store)
            journal = IntentJournal(path) if path is not None else None
        self.journal = journal
        self._journal_committed = False
        """True once the journal's entries are known to be in the store (only then may it be emptied)."""

    @property
    def enabled(self) -> bool:
        """True when backed by a real store."""
        return self.store is not None

    # --- writes that must be committed before acting ---------------------------------------------------

    async def record_intent(self, request: OrderRequest, ts: int, decision: str | None = None) -> None:
        """Make the intent to send `request` durable (returns once it is)."""
        if self.journal is not None:
            self.journal.append([JournalEntry(request=request, ts=ts, decision_id=decision)])
        elif self.store is not None and not self.store.config.in_memory:
            await self.store.write_all(intents=[OrderIntent(request=request, ts=ts, decision_id=decision)])
            return
        # An in-memory store does not survive the process anyway: batching is enough.
        if self.store is not None:
            self.store.submit_all(intents=[OrderIntent(request=request, ts=ts, decision_id=decision)])

    async def record_trade(self, decision: DecisionRecord, requests: Sequence[OrderRequest], ts: int) -> None:
        """Make an accepted trade's plan and its first intents durable (the decision follows in a batch)."""
        intents = [OrderIntent(request=r, ts=ts, decision_id=decision.decision_id) for r in requests]
        if self.journal is not None:
            plan = decision.detail.get("plan")
            self.journal.append(
                [
                    JournalEntry(
                        request=r, ts=ts, decision_id=decision.decision_id, plan=plan if i == 0 else None
                    )
                    for i, r in enumerate(requests)
                ]
            )
        elif self.store is not None and not self.store.config.in_memory:
            await self.store.write_all(decisions=[decision], intents=intents)
            return
        if self.store is not None:
            self.store.submit_all(decisions=[decision], intents=intents)

    async def record_start(self, start: SessionStart) -> None:
        """Commit the session's start (its initial balance is what P&L is measured from)."""
        if self.store is not None:
            rec = DecisionRecord(
                decision_id=decision_id(Kind.SESSION_START, start.ts, start.venue),
                ts=start.ts,
                symbol="",
                action=Kind.SESSION_START.value,
                reasons=("first start on this store",),
                detail=msgspec.to_builtins(start),
            )
            await self.store.write_all(decisions=[rec])

    # --- batched writes (the venue holds the truth; a lost batch is re-read on restart) ----------------

    def submit(
        self,
        *,
        orders: Sequence[Order] = (),
        executions: Sequence[Execution] = (),
        positions: Sequence[Position] = (),
        decisions: Sequence[DecisionRecord] = (),
        signals: Sequence[SignalRecord] = (),
    ) -> None:
        """Queue rows for the writer (committed within the store's flush interval)."""
        if self.store is None:
            return
        tables: dict[str, Sequence[Any]] = {}
        for name, rows in (
            ("orders", orders),
            ("executions", executions),
            ("positions", positions),
            ("decisions", decisions),
            ("signals", signals),
        ):
            if rows:
                tables[name] = rows
        if tables:
            self.store.submit_all(venue=self.venue, account="main", **tables)

    def submit_equity(self, wallet: WalletBalance, account: str = BOOKS_ACCOUNT) -> None:
        """Queue one equity point."""
        if self.store is not None:
            self.store.submit_all(equity=[StoreEquityPoint(account=account, balance=wallet)])

    async def flush(self) -> None:
        """Wait until everything queued is committed."""
        if self.store is not None:
            await self.store.flush()

    def _may_clear(self) -> bool:
        """The journal's entries are all committed (loaded at start, nothing dead-lettered since)."""
        return self._journal_committed and self.store is not None and self.store.stats.rows_deadlettered == 0

    async def compact(self) -> None:
        """Commit what is queued, then empty the journal (call it where no intent is being recorded)."""
        await self.flush()
        if self._may_clear() and self.journal is not None:
            self.journal.clear()

    async def close(self) -> None:
        """Flush, then empty and close the journal (its intents are in the store now)."""
        await self.flush()
        if self.journal is not None:
            if self._may_clear():
                self.journal.clear()
            self.journal.close()
            self.journal = None

    # --- restore ---------------------------------------------------------------------------------------

    async def load(self) -> RestoredState:
        """Everything needed to continue after a restart (empty when the store is new or absent)."""
        if self.store is None:
            return RestoredState(start=None, tracker=OrderTracker(), plans={}, executions=[])
        journaled = self.journal.read() if self.journal is not None else []
        if journaled:
            # Intents made durable just before a crash may not have reached the table: commit them now.
            await self.store.write_all(
                intents=[
                    OrderIntent(request=e.request, ts=e.ts, decision_id=e.decision_id) for e in journaled
                ]
            )
        self._journal_committed = True
        intents = await self.store.query(q.intents)
        orders = await self.store.query(q.orders)
        execs = await self.store.query(q.executions)
        decisions = list(await self.store.query(q.decisions))
        known = {d.decision_id for d in decisions}
        for e in journaled:
            if e.plan is not None and e.decision_id and e.decision_id not in known:
                # The trade's decision was still in a batch: its plan comes from the journal.
                plan = plan_from_json(e.plan)
                action = "OPEN_LONG" if plan.side.value == "Buy" else "OPEN_SHORT"
                decisions.append(
                    DecisionRecord(
                        decision_id=e.decision_id,
                        ts=e.ts,
                        symbol=plan.symbol,
                        action=action,
                        reasons=("restored from the intent journal",),
                        signal_id=plan.intent_key,
                        order_link_ids=(plan.entry.order_link_id,),
                        detail={"plan": e.plan},
                    )
                )
                known.add(e.decision_id)
        return restore(intents, orders, execs, decisions)


def restore(
    intents: Sequence[OrderIntent],
    orders: Sequence[Order],
    executions: Sequence[Execution],
    decisions: Sequence[DecisionRecord],
) -> RestoredState:
    """Rebuild the session state from stored rows (pure; `TradingStore.load` reads them)."""
    start: SessionStart | None = None
    plans: dict[str, OrderPlan] = {}
    local: dict[str, tuple[str, int, str]] = {}
    mode, mode_detail = Mode.NORMAL, ""
    plan_by_decision: dict[str, OrderPlan] = {}
    for d in decisions:
        if d.action == Kind.SESSION_START and start is None:
            start = msgspec.convert(d.detail, SessionStart)
        elif d.action in ("OPEN_LONG", "OPEN_SHORT") and "plan" in d.detail:
            plan = plan_from_json(d.detail["plan"])
            plans[plan.intent_key] = plan
            plan_by_decision[d.decision_id] = plan
        elif d.action in (Kind.ORDER_REJECTED, Kind.ORDER_ABANDONED):
            for link in d.order_link_ids:
                local[link] = (d.action, d.ts, "; ".join(d.reasons))
        elif d.action == Kind.MODE:
            mode = Mode(d.detail.get("dst", Mode.NORMAL.value))
            mode_detail = str(d.detail.get("detail", ""))
    tracker = OrderTracker()
    for intent in sorted(intents, key=lambda i: (i.ts, i.request.order_link_id)):
        req = intent.request
        owner = plan_by_decision.get(intent.decision_id or "")
        parsed = parse_order_link_id(req.order_link_id)
        role = parsed.leg if parsed is not None else None
        # An entry is valued at the planned worst entry while it rests (risk counts it as exposure).
        ref = owner.worst_entry if owner is not None and role is LegKind.ENTRY else req.price
        tracker.track(
            req,
            intent.ts,
            role=role,
            intent_key=owner.intent_key if owner is not None else "",
            ref_price=ref,
        )
        # The intent was committed before the send: it may have reached the venue.
        tracker.mark_sent(req.order_link_id, intent.ts)
    for link, (action, ts, reason) in local.items():
        rec = tracker.get(link)
        if rec is None or rec.state.is_final:
            continue
        if action == Kind.ORDER_REJECTED:
            tracker.mark_rejected(link, reason or "rejected", ts)
        else:
            if rec.state.value != "PENDING":
                tracker.resolve_not_found(link, ts)
            tracker.abandon(link, ts, reason or "abandoned")
    for o in sorted(orders, key=lambda o: (o.updated_time, o.order_id)):
        tracker.apply_order(o, o.updated_time)
    ordered = sorted(executions, key=lambda x: (x.ts, x.exec_id))
    for x in ordered:
        tracker.apply_execution(x, x.ts)
    return RestoredState(
        start=start,
        tracker=tracker,
        plans=plans,
        executions=ordered,
        requests={i.request.order_link_id: i.request for i in intents},
        mode=mode,
        mode_detail=mode_detail,
    )


__all__ = [
    "BOOKS_ACCOUNT",
    "VENUE_ACCOUNT",
    "IntentJournal",
    "JournalEntry",
    "Kind",
    "RestoredState",
    "SessionStart",
    "TradingStore",
    "books_wallet",
    "checks_detail",
    "decision_id",
    "mode_rows",
    "open_decision_id",
    "order_outcome_row",
    "plan_from_json",
    "plan_to_json",
    "restore",
    "signal_row",
]
