"""`OrderTracker`: the order state machine, keyed by orderLinkId, fed by local decisions, venue order
snapshots and executions.

Venue data may arrive in any order, twice, or stale (private WS and REST race each other). The tracker
therefore only ever moves forward: a snapshot is applied when its (state rank, cumExecQty, updatedTime)
is greater than the best seen, cumExecQty never decreases, a final state is final, and executions are
deduplicated by execId and summed exactly. The result depends only on the SET of events seen, not on their
order. Local calls that would make an illegal transition raise `IllegalTransitionError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import msgspec

from asym.domain import ExecType, Execution, Order, OrderRequest, OrderType, Side
from asym.errors import AsymError
from asym.trading.ids import LegKind, parse_order_link_id
from asym.trading.order_states import LOCAL_STATES, OrderState, from_venue, is_legal

_ZERO = Decimal(0)


class IllegalTransitionError(AsymError):
    """A local call asked for a transition the order state machine does not allow."""


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """One state change of one order: when, from, to, and what caused it."""

    ts: int
    src: OrderState | None
    dst: OrderState
    cause: str


class OrderRecord(msgspec.Struct, kw_only=True):
    """Everything asym knows about one order. The tracker hands out copies; mutate only through it."""

    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    state: OrderState
    role: LegKind | None = None
    """What the order does for its trade; None for an order asym did not make."""
    intent_key: str = ""
    reduce_only: bool = False
    price: Decimal | None = None
    ref_price: Decimal | None = None
    """Price the order's notional is valued at while it rests (limit price, or planned worst entry)."""
    order_id: str = ""
    known: bool = True
    """False when the order was first seen in venue data rather than created by `track`."""
    cum_exec_qty: Decimal = _ZERO
    cum_exec_value: Decimal = _ZERO
    cum_exec_fee: Decimal = _ZERO
    avg_price: Decimal | None = None
    exec_qty: Decimal = _ZERO
    """Sum of the distinct executions seen (exact)."""
    exec_value: Decimal = _ZERO
    exec_fee: Decimal = _ZERO
    exec_ids: list[str] = msgspec.field(default_factory=list)
    snap_rank: int = -1
    snap_updated: int = -1
    reject_reason: str = ""
    created_ms: int = 0
    sent_ms: int = 0
    changed_ms: int = 0
    anomalies: int = 0
    """Venue data that contradicted a final state (kept for diagnosis; never applied)."""
    history: list[Transition] = msgspec.field(default_factory=list)

    @property
    def filled_qty(self) -> Decimal:
        """Filled quantity: the larger of the venue's cumExecQty and the executions seen."""
        return max(self.cum_exec_qty, self.exec_qty)

    @property
    def missing_fill_qty(self) -> Decimal:
        """Quantity the venue reports filled for which no execution was seen yet (fetch them)."""
        return max(_ZERO, self.cum_exec_qty - self.exec_qty)

    @property
    def open_qty(self) -> Decimal:
        """Quantity that can still fill (0 once final)."""
        if self.state.is_final:
            return _ZERO
        return max(_ZERO, self.qty - self.filled_qty)


class ApplyResult(msgspec.Struct, frozen=True, kw_only=True):
    """What applying one venue event did."""

    applied: bool
    """True when the event changed anything."""
    transition: Transition | None = None
    note: str = ""
    """'new', 'duplicate', 'stale', 'anomaly' or 'funding' when nothing (or only fields) changed."""


def _key(link: str, order_id: str) -> str:
    # Orders placed by hand carry no orderLinkId; they are tracked under their venue id.
    return link if link else f"#{order_id}"


class OrderTracker:
    """The state machine of every order asym made or saw, keyed by orderLinkId."""

    def __init__(self) -> None:
        self._orders: dict[str, OrderRecord] = {}
        self._by_order_id: dict[str, str] = {}
        self._seen_exec: set[str] = set()
        self.last_exec_ms = 0
        """Latest execution time seen (ms): where a catch-up fetch of executions must start."""

    # --- persistence -----------------------------------------------------------------------------------

    def records(self) -> list[OrderRecord]:
        """Copies of every record (for the store)."""
        return [_copy(r) for r in self._orders.values()]

    @classmethod
    def from_records(cls, records: Iterable[OrderRecord], last_exec_ms: int = 0) -> OrderTracker:
        """A tracker rebuilt from stored records (after a restart)."""
        t = cls()
        for r in records:
            rec = _copy(r)
            t._orders[_key(rec.order_link_id, rec.order_id)] = rec
            if rec.order_id:
                t._by_order_id[rec.order_id] = _key(rec.order_link_id, rec.order_id)
            t._seen_exec.update(rec.exec_ids)
        t.last_exec_ms = last_exec_ms
        return t

    # --- local decisions -------------------------------------------------------------------------------

    def track(
        self,
        request: OrderRequest,
        now_ms: int,
        *,
        role: LegKind | None = None,
        intent_key: str = "",
        ref_price: Decimal | None = None,
    ) -> OrderRecord:
        """Register an order about to be sent (PENDING). Idempotent for the same request; a different
        request under a known orderLinkId raises."""
        link = request.order_link_id
        if not link:
            raise IllegalTransitionError("an order asym sends must carry an orderLinkId")
        existing = self._orders.get(link)
        if existing is not None:
            if (existing.symbol, existing.side) != (request.symbol, request.side):
                raise IllegalTransitionError(f"orderLinkId {link} is already tracked for a different order")
            return _copy(existing)
        if role is None:
            parsed = parse_order_link_id(link)
            role = parsed.leg if parsed is not None else None
        rec = OrderRecord(
            order_link_id=link,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            qty=request.qty,
            state=OrderState.PENDING,
            role=role,
            intent_key=intent_key,
            reduce_only=request.reduce_only,
            price=request.price,
            ref_price=request.price if request.price is not None else ref_price,
            created_ms=now_ms,
            changed_ms=now_ms,
        )
        rec.history.append(Transition(ts=now_ms, src=None, dst=OrderState.PENDING, cause="track"))
        self._orders[link] = rec
        return _copy(rec)

    def mark_sent(self, link: str, now_ms: int) -> Transition:
        """PENDING -> SENT; persist this before the request leaves, so a crash never hides a send."""
        rec = self._need(link)
        t = self._move(rec, OrderState.SENT, now_ms, "sent")
        rec.sent_ms = now_ms
        return t

    def mark_acknowledged(self, link: str, order_id: str, now_ms: int) -> Transition | None:
        """The venue accepted the create request: at least NEW (the stream may already be further)."""
        rec = self._need(link)
        if order_id:
            rec.order_id = order_id
            self._by_order_id[order_id] = link
        if rec.state in (OrderState.SENT, OrderState.UNKNOWN, OrderState.PENDING):
            return self._move(rec, OrderState.NEW, now_ms, "ack")
        return None

    def mark_rejected(self, link: str, reason: str, now_ms: int) -> Transition:
        """The venue refused the request (not a duplicate: a 110072 means it exists; look it up)."""
        rec = self._need(link)
        if rec.state not in LOCAL_STATES:
            raise IllegalTransitionError(f"{link}: a {rec.state} order cannot be rejected")
        rec.reject_reason = reason
        return self._move(rec, OrderState.REJECTED, now_ms, f"rejected: {reason}")

    def mark_unknown(self, link: str, now_ms: int, reason: str = "outcome unknown") -> Transition:
        """SENT -> UNKNOWN: the outcome of the send is unknown; nothing may be retried until resolved."""
        rec = self._need(link)
        if rec.state is not OrderState.SENT:
            raise IllegalTransitionError(f"{link}: only a SENT order can become UNKNOWN, not {rec.state}")
        return self._move(rec, OrderState.UNKNOWN, now_ms, reason)

    def resolve_not_found(self, link: str, now_ms: int) -> Transition:
        """A lookup (open list and history) found no such order: the send never arrived. Back to PENDING;
        a resend with the SAME orderLinkId is safe (a late arrival makes it a 110072, never a double)."""
        rec = self._need(link)
        if rec.state not in (OrderState.SENT, OrderState.UNKNOWN):
            raise IllegalTransitionError(f"{link}: a {rec.state} order cannot be resolved as not found")
        return self._move(rec, OrderState.PENDING, now_ms, "lookup: not found")

    def abandon(self, link: str, now_ms: int, reason: str) -> Transition:
        """PENDING -> CANCELLED: an order never sent that will not be sent (mode change, stale signal)."""
        rec = self._need(link)
        if rec.state is not OrderState.PENDING:
            raise IllegalTransitionError(f"{link}: only a PENDING order can be abandoned, not {rec.state}")
        return self._move(rec, OrderState.CANCELLED, now_ms, f"abandoned: {reason}")

    def expire_sent(self, now_ms: int, timeout_ms: int) -> list[str]:
        """Every SENT order unanswered for longer than `timeout_ms` becomes UNKNOWN; their links."""
        out = []
        for rec in self._orders.values():
            if rec.state is OrderState.SENT and now_ms - rec.sent_ms > timeout_ms:
                self._move(rec, OrderState.UNKNOWN, now_ms, f"no answer within {timeout_ms} ms")
                out.append(rec.order_link_id)
        return out

    # --- venue data ------------------------------------------------------------------------------------

    def apply_order(self, order: Order, now_ms: int) -> ApplyResult:
        """Apply a venue order snapshot (WS or REST, any order, duplicates and stale copies welcome)."""
        key = _key(order.order_link_id, order.order_id)
        rec = self._orders.get(key)
        if rec is None and order.order_id in self._by_order_id:
            rec = self._orders.get(self._by_order_id[order.order_id])
        state = from_venue(order.status)
        if rec is None:
            parsed = parse_order_link_id(order.order_link_id)
            rec = OrderRecord(
                order_link_id=order.order_link_id,
                symbol=order.symbol,
                side=order.side,
                order_type=order.order_type,
                qty=order.qty,
                state=state,
                role=parsed.leg if parsed is not None else None,
                order_id=order.order_id,
                known=False,
                created_ms=now_ms,
            )
            self._orders[key] = rec
            if order.order_id:
                self._by_order_id[order.order_id] = key
            self._take_snapshot(rec, order, state)
            t = Transition(ts=now_ms, src=None, dst=state, cause="venue: first seen")
            rec.history.append(t)
            rec.changed_ms = now_ms
            return ApplyResult(applied=True, transition=t, note="new")
        if order.order_id:
            rec.order_id = rec.order_id or order.order_id
            self._by_order_id[order.order_id] = key
        snap_key = (state.rank, order.cum_exec_qty, order.updated_time)
        best = (rec.snap_rank, rec.cum_exec_qty, rec.snap_updated)
        if snap_key <= best:
            return ApplyResult(applied=False, note="duplicate" if snap_key == best else "stale")
        if rec.state.is_final:
            local_only = rec.snap_rank < 0 and rec.exec_qty == 0
            if (state is not rec.state and state.is_final) or (local_only and not state.is_final):
                # Cancelled after Filled, or live at the venue after a local reject/abandon: contradicts a
                # final state; never applied, counted for diagnosis.
                rec.anomalies += 1
                return ApplyResult(applied=False, note="anomaly")
            if not state.is_final:
                return ApplyResult(applied=False, note="stale")
            # A later copy of the same final state (more fills reported, a newer updatedTime).
            self._take_snapshot(rec, order, rec.state)
            return ApplyResult(applied=True, note="final refreshed")
        self._take_snapshot(rec, order, state)
        moved = self._advance(rec, state, now_ms, f"venue: {order.status.value}")
        by_fills = self._advance_by_fills(rec, now_ms)
        return ApplyResult(
            applied=True, transition=by_fills or moved, note="" if (moved or by_fills) else "fields"
        )

    def apply_execution(self, ex: Execution, now_ms: int) -> ApplyResult:
        """Apply one execution (deduplicated by execId; funding executions belong to the portfolio)."""
        if ex.exec_type is ExecType.FUNDING:
            return ApplyResult(applied=False, note="funding")
        if ex.exec_id in self._seen_exec:
            return ApplyResult(applied=False, note="duplicate")
        self._seen_exec.add(ex.exec_id)
        self.last_exec_ms = max(self.last_exec_ms, ex.ts)
        key = _key(ex.order_link_id, ex.order_id)
        rec = self._orders.get(key)
        if rec is None and ex.order_id in self._by_order_id:
            rec = self._orders.get(self._by_order_id[ex.order_id])
        new = rec is None
        if rec is None:
            parsed = parse_order_link_id(ex.order_link_id)
            # The order itself was not seen yet: its qty is unknown (0) until a snapshot arrives.
            rec = OrderRecord(
                order_link_id=ex.order_link_id,
                symbol=ex.symbol,
                side=ex.side,
                order_type=OrderType.MARKET,
                qty=_ZERO,
                state=OrderState.UNKNOWN,
                role=parsed.leg if parsed is not None else None,
                order_id=ex.order_id,
                known=False,
                created_ms=now_ms,
            )
            rec.history.append(
                Transition(ts=now_ms, src=None, dst=OrderState.UNKNOWN, cause="venue: execution")
            )
            self._orders[key] = rec
            if ex.order_id:
                self._by_order_id[ex.order_id] = key
        rec.exec_qty += ex.qty
        rec.exec_value += ex.value
        rec.exec_fee += ex.fee
        rec.exec_ids.append(ex.exec_id)
        rec.changed_ms = now_ms
        t = self._advance_by_fills(rec, now_ms)
        return ApplyResult(applied=True, transition=t, note="new" if new else "")

    # --- queries ---------------------------------------------------------------------------------------

    def get(self, link: str) -> OrderRecord | None:
        """A copy of the record of `link` (or of '#<orderId>' for an order without a link id)."""
        rec = self._orders.get(link)
        return _copy(rec) if rec is not None else None

    def by_order_id(self, order_id: str) -> OrderRecord | None:
        """A copy of the record with this venue order id."""
        key = self._by_order_id.get(order_id)
        return self.get(key) if key is not None else None

    def in_state(self, *states: OrderState, symbol: str | None = None) -> list[OrderRecord]:
        """Copies of every record in one of `states` (optionally of one symbol)."""
        return [
            _copy(r)
            for r in self._orders.values()
            if r.state in states and (symbol is None or r.symbol == symbol)
        ]

    def open_orders(self, symbol: str | None = None) -> list[OrderRecord]:
        """Orders resting at the venue (NEW, PARTIALLY_FILLED)."""
        return self.in_state(OrderState.NEW, OrderState.PARTIALLY_FILLED, symbol=symbol)

    def unknown_orders(self) -> list[OrderRecord]:
        """Orders whose outcome is unknown: look each up by orderLinkId before anything is retried."""
        return self.in_state(OrderState.UNKNOWN)

    def unresolved(self) -> list[OrderRecord]:
        """Orders that are neither final nor known to rest at the venue (PENDING, SENT, UNKNOWN)."""
        return self.in_state(*LOCAL_STATES)

    def missing_fills(self) -> list[OrderRecord]:
        """Orders the venue reports more filled than the executions seen: fetch their executions."""
        return [_copy(r) for r in self._orders.values() if r.missing_fill_qty > 0]

    def live_entries(self, symbol: str | None = None) -> list[OrderRecord]:
        """Entry orders that are not final (they may still open or grow a position)."""
        return [
            _copy(r)
            for r in self._orders.values()
            if r.role is LegKind.ENTRY and not r.state.is_final and (symbol is None or r.symbol == symbol)
        ]

    def __len__(self) -> int:
        return len(self._orders)

    # --- internals -------------------------------------------------------------------------------------

    def _need(self, link: str) -> OrderRecord:
        rec = self._orders.get(link)
        if rec is None:
            raise IllegalTransitionError(f"orderLinkId {link!r} is not tracked")
        return rec

    def _move(self, rec: OrderRecord, dst: OrderState, now_ms: int, cause: str) -> Transition:
        if not is_legal(rec.state, dst):
            raise IllegalTransitionError(
                f"{rec.order_link_id}: {rec.state} -> {dst} is not a legal transition"
            )
        t = Transition(ts=now_ms, src=rec.state, dst=dst, cause=cause)
        rec.state = dst
        rec.changed_ms = now_ms
        rec.history.append(t)
        return t

    def _advance(self, rec: OrderRecord, dst: OrderState, now_ms: int, cause: str) -> Transition | None:
        """Move forward to `dst` when that is progress and legal; otherwise keep the state."""
        if dst is rec.state or dst.rank < rec.state.rank or not is_legal(rec.state, dst):
            if dst is not rec.state and dst.rank >= rec.state.rank:
                rec.anomalies += 1
            return None
        return self._move(rec, dst, now_ms, cause)

    def _advance_by_fills(self, rec: OrderRecord, now_ms: int) -> Transition | None:
        """Executions prove the order exists and is (partly) filled, whatever the snapshots said so far."""
        if rec.state.is_final or rec.exec_qty <= 0:
            return None
        if rec.qty > 0 and rec.exec_qty >= rec.qty:
            return self._advance(rec, OrderState.FILLED, now_ms, "executions: fully filled")
        return self._advance(rec, OrderState.PARTIALLY_FILLED, now_ms, "executions: partly filled")

    @staticmethod
    def _take_snapshot(rec: OrderRecord, order: Order, state: OrderState) -> None:
        rec.snap_rank = state.rank
        rec.snap_updated = order.updated_time
        if order.cum_exec_qty >= rec.cum_exec_qty:
            rec.cum_exec_qty = order.cum_exec_qty
            rec.cum_exec_value = order.cum_exec_value
            rec.cum_exec_fee = order.cum_exec_fee
            rec.avg_price = order.avg_price
        if order.qty > 0:
            rec.qty = order.qty
        if order.order_type is OrderType.LIMIT:
            rec.price = order.price
            rec.ref_price = order.price
        rec.order_type = order.order_type
        rec.reduce_only = order.reduce_only
        if order.reject_reason and order.reject_reason != "EC_NoError":
            rec.reject_reason = order.reject_reason


def _copy(rec: OrderRecord) -> OrderRecord:
    return msgspec.structs.replace(rec, exec_ids=list(rec.exec_ids), history=list(rec.history))
