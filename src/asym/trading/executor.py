"""Execution: the venue calls around the order tracker, in the order the cores prescribe.

    track (PENDING) -> commit the intent to the store -> mark_sent -> place_order
        ack / resolved ack   -> the venue's state (apply_order) or NEW
        rejected             -> REJECTED (recorded with the reason)
        110072 (duplicate)   -> it exists: look it up by orderLinkId, never resend
        unknown / transport  -> UNKNOWN; `resolve` looks it up before anything is retried, a resend uses the
                                SAME orderLinkId (a late arrival answers 110072, never a double)

Nothing here decides what to trade: the session does. The executor only talks to the `Venue` protocol,
counts venue failures for the mode machine (`on_api`), and keeps the requests it sent so that an order
found missing can be re-sent exactly as it was. `entry_request` / `fallback_request` build the entry of a
plan for the configured entry style (market, or post-only limit with a timeout and a market fallback).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

import msgspec

from asym.domain import Execution, Instrument, Order, OrderRequest, OrderType, Side, TimeInForce
from asym.domain.venue import TradingStopRequest, Venue
from asym.errors import (
    AsymError,
    ConfigError,
    DuplicateOrderError,
    OrderNotFoundError,
    RejectedError,
    VenueError,
)
from asym.logging import get_logger
from asym.trading.actions import (
    AdoptOrder,
    CancelOrder,
    ClosePosition,
    PlaceOrder,
    QueryOrder,
    SetStopLoss,
    TradingAction,
)
from asym.trading.config import RiskConfig
from asym.trading.ids import LegKind, order_link_id, parse_order_link_id
from asym.trading.order_states import OrderState
from asym.trading.orders import OrderRecord, OrderTracker
from asym.trading.persist import Kind, TradingStore, open_decision_id, order_outcome_row
from asym.trading.plan import OrderPlan, exits_for_fill

log = get_logger("trading.executor")
T = TypeVar("T")

_TRANSPORT_ERRORS = (VenueError, TimeoutError, OSError)


class EntryStyle(StrEnum):
    """How a market-entry signal enters."""

    MARKET = "market"
    POST_ONLY = "post_only"
    """A PostOnly limit at the touch (best bid for a buy); after `post_only_timeout_ms` the rest goes at
    market (when `post_only_fallback`), else it is dropped."""


class ExecutionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Execution choices (times are market milliseconds, the session's clock)."""

    entry_style: EntryStyle = EntryStyle.MARKET
    post_only_timeout_ms: int = 60_000
    post_only_fallback: bool = True
    limit_entry_timeout_ms: int = 4 * 3_600_000
    """A limit entry from a signal rests at most this long, then the unfilled rest is cancelled."""
    max_resends: int = 3
    """How often an order found missing at the venue is re-sent (same orderLinkId) before giving up."""

    def __post_init__(self) -> None:
        if self.post_only_timeout_ms <= 0 or self.limit_entry_timeout_ms <= 0:
            raise ConfigError("entry timeouts must be > 0 ms")
        if self.max_resends < 0:
            raise ConfigError(f"max_resends must be >= 0, got {self.max_resends}")


def entry_request(
    plan: OrderPlan, style: EntryStyle, bid: Decimal | None, ask: Decimal | None
) -> OrderRequest:
    """The entry order of `plan` for `style`: the plan's own entry, or a PostOnly limit at the touch
    (same orderLinkId, same attached TP/SL). Without a usable touch price the plan's entry is used."""
    if style is EntryStyle.MARKET or plan.entry.order_type is not OrderType.MARKET:
        return plan.entry
    touch = bid if plan.side is Side.BUY else ask
    if touch is None or not touch.is_finite() or touch <= 0:
        return plan.entry
    return msgspec.structs.replace(
        plan.entry, order_type=OrderType.LIMIT, price=touch, time_in_force=TimeInForce.POST_ONLY
    )


def fallback_request(plan: OrderPlan, remaining: Decimal, attempt: int) -> OrderRequest:
    """A market order for the unfilled rest of a timed-out post-only entry (a fresh orderLinkId)."""
    return msgspec.structs.replace(
        plan.entry,
        order_type=OrderType.MARKET,
        qty=remaining,
        price=None,
        time_in_force=None,
        order_link_id=order_link_id(plan.intent_key, LegKind.ENTRY, attempt=attempt),
    )


class Executor:
    """Sends, cancels, amends and resolves orders for the session; every venue call goes through `call`."""

    def __init__(
        self,
        venue: Venue,
        tracker: OrderTracker,
        store: TradingStore,
        clock: Callable[[], int],
        *,
        on_api: Callable[[bool, str], None] | None = None,
        config: ExecutionConfig | None = None,
    ) -> None:
        self.venue = venue
        self.tracker = tracker
        self.store = store
        self.clock = clock
        self.config = config or ExecutionConfig()
        self._on_api = on_api or (lambda ok, detail: None)
        self.requests: dict[str, OrderRequest] = {}
        """Every request sent or about to be sent, by orderLinkId (to re-send one exactly)."""
        self._inflight: set[str] = set()
        self._resends: dict[str, int] = {}
        self._leverage: dict[str, Decimal] = {}
        self.sent = 0
        self.rejected = 0
        self.unknown = 0
        self.send_latency_s: list[float] = []
        """Signal validated -> request handed to the venue, per entry (seconds)."""
        self.ack_latency_s: list[float] = []
        """Request handed to the venue -> acknowledgement, per order (seconds)."""
        self.sent_at: dict[str, float] = {}
        """perf_counter() when each order was handed to the venue (benchmarks join this with the wire)."""

    # --- the one gate every venue call goes through -----------------------------------------------------

    async def call(self, what: str, aw: Awaitable[T]) -> T:
        """Await a venue call; a transport failure counts towards the API-failure streak, any answer
        (also a business refusal) resets it."""
        try:
            result = await aw
        except RejectedError:
            self._on_api(True, "")
            raise
        except _TRANSPORT_ERRORS as exc:
            self._on_api(False, f"{what}: {type(exc).__name__}: {exc}"[:300])
            raise
        self._on_api(True, "")
        return result

    # --- orders ------------------------------------------------------------------------------------------

    def in_flight(self, link: str) -> bool:
        """True while a send of `link` is awaiting its answer."""
        return link in self._inflight

    async def place(
        self,
        request: OrderRequest,
        now_ms: int,
        *,
        role: LegKind | None = None,
        intent_key: str = "",
        ref_price: Decimal | None = None,
        decision: str | None = None,
        t_validated: float | None = None,
        intent_recorded: bool = False,
    ) -> OrderRecord | None:
        """Send `request` once: track, commit the intent, mark sent, place, apply the answer.

        Idempotent: an order already sent (or being sent) is not sent again; the tracker's record is
        returned. `intent_recorded` says the intent was already committed (with its trade decision)."""
        link = request.order_link_id
        rec = self.tracker.get(link)
        if rec is None:
            if role is None:
                parsed = parse_order_link_id(link)
                role = parsed.leg if parsed is not None else None
            rec = self.tracker.track(request, now_ms, role=role, intent_key=intent_key, ref_price=ref_price)
        if rec.state is not OrderState.PENDING or link in self._inflight:
            return rec
        self._inflight.add(link)
        try:
            self.requests[link] = request
            if not intent_recorded:
                try:
                    await self.store.record_intent(request, now_ms, decision)
                except (OSError, AsymError) as exc:
                    # Not durable, not sent: a crash must never hide a send.
                    log.error("intent_not_durable", order_link_id=link, error=str(exc))
                    self._inflight.discard(link)
                    await self.abandon(link, now_ms, f"intent could not be made durable: {exc}")
                    return self.tracker.get(link)
            self.tracker.mark_sent(link, now_ms)
            self.sent += 1
            t_send = time.perf_counter()
            self.sent_at[link] = t_send
            if t_validated is not None:
                self.send_latency_s.append(t_send - t_validated)
            await self._send(request)
        finally:
            self._inflight.discard(link)
        return self.tracker.get(link)

    async def _send(self, request: OrderRequest) -> None:
        link = request.order_link_id
        t0 = time.perf_counter()
        try:
            ack = await self.call("place_order", self.venue.place_order(request))
        except DuplicateOrderError as exc:
            # The id is taken: the order exists (from an earlier life of this session). Adopt it.
            log.warning("order_duplicate", order_link_id=link, error=str(exc))
            try:
                found = await self._lookup(link, request.symbol)
            except VenueError:
                found = None
            if found is not None:
                self._apply(found)
            else:
                self._unknown(link, f"duplicate but not found: {exc}")
            return
        except RejectedError as exc:
            self._reject(link, f"{type(exc).__name__}: {exc.ret_msg or exc}")
            return
        except _TRANSPORT_ERRORS as exc:
            self._unknown(link, f"{type(exc).__name__}: {exc}")
            return
        self.ack_latency_s.append(time.perf_counter() - t0)
        now = self.clock()
        if ack.order is not None:
            self._apply(ack.order)
        self.tracker.mark_acknowledged(link, ack.order_id, now)

    def _apply(self, order: Order) -> None:
        self.tracker.apply_order(order, self.clock())
        self.store.submit(orders=[order])

    def _reject(self, link: str, reason: str) -> None:
        rec = self.tracker.get(link)
        if rec is None or rec.state not in (OrderState.PENDING, OrderState.SENT, OrderState.UNKNOWN):
            return
        now = self.clock()
        self.tracker.mark_rejected(link, reason[:300], now)
        self.rejected += 1
        log.warning("order_rejected", order_link_id=link, symbol=rec.symbol, reason=reason[:300])
        self.store.submit(decisions=[order_outcome_row(Kind.ORDER_REJECTED, rec, reason, now)])

    def _unknown(self, link: str, reason: str) -> None:
        rec = self.tracker.get(link)
        if rec is None or rec.state is not OrderState.SENT:
            return  # the stream already told us what happened
        self.tracker.mark_unknown(link, self.clock(), reason[:300])
        self.unknown += 1
        log.warning("order_outcome_unknown", order_link_id=link, symbol=rec.symbol, reason=reason[:300])

    async def _lookup(self, link: str, symbol: str) -> Order | None:
        try:
            return await self.call("get_order_by_link_id", self.venue.get_order_by_link_id(link, symbol))
        except VenueError as exc:
            log.warning("order_lookup_failed", order_link_id=link, error=str(exc))
            raise

    async def resolve(self, link: str) -> OrderRecord | None:
        """Look up a SENT/UNKNOWN order by orderLinkId: apply what the venue has, or return it to PENDING
        when the venue never saw it. Orders being sent right now are left alone."""
        rec = self.tracker.get(link)
        if rec is None or rec.state not in (OrderState.SENT, OrderState.UNKNOWN) or link in self._inflight:
            return rec
        try:
            found = await self._lookup(link, rec.symbol)
        except VenueError:
            return rec
        if found is not None:
            self._apply(found)
        else:
            self.tracker.resolve_not_found(link, self.clock())
        return self.tracker.get(link)

    async def resend(self, link: str, now_ms: int) -> OrderRecord | None:
        """Send a PENDING order again with the same orderLinkId (after `resolve` found it missing)."""
        rec = self.tracker.get(link)
        request = self.requests.get(link)
        if rec is None or rec.state is not OrderState.PENDING or request is None:
            return rec
        n = self._resends.get(link, 0)
        if n >= self.config.max_resends:
            await self.abandon(link, now_ms, f"not at the venue after {n} re-sends")
            return self.tracker.get(link)
        self._resends[link] = n + 1
        return await self.place(request, now_ms, intent_recorded=True)

    async def abandon(self, link: str, now_ms: int, reason: str) -> None:
        """A PENDING order that will never be sent: CANCELLED locally, recorded."""
        rec = self.tracker.get(link)
        if rec is None or rec.state is not OrderState.PENDING or link in self._inflight:
            return
        self.tracker.abandon(link, now_ms, reason)
        self.store.submit(decisions=[order_outcome_row(Kind.ORDER_ABANDONED, rec, reason, now_ms)])

    async def cancel(self, rec: OrderRecord, now_ms: int, reason: str) -> bool:
        """Cancel an order (PENDING ones are abandoned locally); True once it is final or gone."""
        link = rec.order_link_id
        if rec.state.is_final:
            return True
        if rec.state is OrderState.PENDING:
            await self.abandon(link, now_ms, reason)
            return True
        return await self.cancel_at_venue(rec.symbol, link, rec.order_id, reason)

    async def cancel_at_venue(self, symbol: str, link: str, order_id: str, reason: str) -> bool:
        """Cancel by orderLinkId (or orderId for orders without one) and apply the venue's final state."""
        by_link = link if link and not link.startswith("#") else None
        oid = None if by_link else (order_id or link.lstrip("#"))
        try:
            ack = await self.call(
                "cancel_order", self.venue.cancel_order(symbol, order_id=oid, order_link_id=by_link)
            )
            if ack.order is not None:
                self._apply(ack.order)
        except OrderNotFoundError:
            pass  # already final (or never arrived): the lookup below says which
        except VenueError as exc:
            log.warning("cancel_failed", order_link_id=link, symbol=symbol, error=str(exc), reason=reason)
            return False
        if by_link is None:
            return True
        rec = self.tracker.get(by_link)
        try:
            found = await self._lookup(by_link, symbol)
        except VenueError:
            return False
        if found is not None:
            self._apply(found)
        elif rec is not None and rec.state in (OrderState.SENT, OrderState.UNKNOWN):
            self.tracker.resolve_not_found(by_link, self.clock())
            await self.abandon(by_link, self.clock(), reason)
        rec = self.tracker.get(by_link)
        return rec is None or rec.state.is_final

    async def amend_qty(self, rec: OrderRecord, qty: Decimal) -> bool:
        """Change the quantity of an open order (a take-profit leg after a partial entry fill)."""
        from asym.domain.venue import AmendRequest

        if not rec.state.is_open or rec.qty == qty:
            return rec.qty == qty
        try:
            ack = await self.call(
                "amend_order",
                self.venue.amend_order(
                    AmendRequest(symbol=rec.symbol, order_link_id=rec.order_link_id, qty=qty)
                ),
            )
        except VenueError as exc:
            log.warning("amend_failed", order_link_id=rec.order_link_id, error=str(exc))
            return False
        if ack.order is not None:
            self._apply(ack.order)
        else:
            found = await self._lookup(rec.order_link_id, rec.symbol)
            if found is not None:
                self._apply(found)
        return True

    # --- position-level calls ----------------------------------------------------------------------------

    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        """Set the symbol's leverage (skipped when already set by this session)."""
        if self._leverage.get(symbol) == leverage:
            return
        await self.call("set_leverage", self.venue.set_leverage(symbol, leverage))
        self._leverage[symbol] = leverage

    async def set_stop(self, action: SetStopLoss) -> bool:
        """Put a full-position stop on a position."""
        try:
            await self.call(
                "set_trading_stop",
                self.venue.set_trading_stop(
                    TradingStopRequest(
                        symbol=action.symbol, stop_loss=action.stop_loss, sl_trigger_by=action.trigger_by
                    )
                ),
            )
        except VenueError as exc:
            log.error("set_stop_failed", symbol=action.symbol, stop=str(action.stop_loss), error=str(exc))
            return False
        log.warning("stop_set", symbol=action.symbol, stop=str(action.stop_loss), reason=action.reason)
        return True

    async def fetch_executions(self, since_ms: int, symbol: str | None = None) -> list[Execution]:
        """Executions since `since_ms` (REST), oldest first."""
        got = await self.call("get_executions", self.venue.get_executions(symbol, start=since_ms, limit=1000))
        return sorted(got, key=lambda x: (x.ts, x.exec_id))

    # --- planned actions -------------------------------------------------------------------------------

    async def perform(self, action: TradingAction, now_ms: int) -> bool:
        """Do one planned action (restart, emergency, protection); True when it was done.

        AdoptPosition and SyncExecutions touch the portfolio: the session performs those itself."""
        if isinstance(action, PlaceOrder):
            rec = await self.place(action.request, now_ms)
            return rec is not None and rec.state is not OrderState.REJECTED
        if isinstance(action, CancelOrder):
            rec = self.tracker.get(action.order_link_id or f"#{action.order_id}")
            if rec is not None:
                return await self.cancel(rec, now_ms, action.reason)
            return await self.cancel_at_venue(
                action.symbol, action.order_link_id, action.order_id, action.reason
            )
        if isinstance(action, QueryOrder):
            rec = await self.resolve(action.order_link_id)
            return rec is not None and rec.state not in (OrderState.SENT, OrderState.UNKNOWN)
        if isinstance(action, SetStopLoss):
            return await self.set_stop(action)
        if isinstance(action, ClosePosition):
            ok = True
            for req in action.orders:
                rec = await self.place(req, now_ms, role=LegKind.CLOSE)
                ok &= rec is not None and rec.state is not OrderState.REJECTED
            log.warning("position_close", symbol=action.symbol, qty=str(action.qty), reason=action.reason)
            return ok
        if isinstance(action, AdoptOrder):
            self._apply(action.order)
            return True
        raise TypeError(f"the session performs {type(action).__name__} itself")


class TradeManager:
    """The orders of every open trade (one per symbol): entries (timeouts, post-only fallback), exits
    (placed once the entry fills, resized after further fills), unknown outcomes (resolved, then re-sent
    or dropped), and the end of the trade (leftover exits cancelled once flat)."""

    def __init__(
        self,
        executor: Executor,
        risk: RiskConfig,
        held: Callable[[str], Decimal],
        instruments: Mapping[str, Instrument],
    ) -> None:
        self.ex = executor
        self.risk = risk
        self.held = held
        self.instruments = instruments
        self.plans: dict[str, OrderPlan] = {}
        """Plans of accepted trades by intent key (the signal id)."""
        self.active: dict[str, str] = {}
        """symbol -> intent key of its open trade."""

    def begin(self, plan: OrderPlan) -> None:
        """A trade is about to be sent."""
        self.plans[plan.intent_key] = plan
        self.active[plan.symbol] = plan.intent_key

    def restore(self, plans: Mapping[str, OrderPlan]) -> None:
        """Plans from the store: a trade is open while an entry lives or its fill is still held."""
        self.plans.update(plans)
        for plan in plans.values():
            entries = self.entries(plan.intent_key)
            live = any(not r.state.is_final for r in entries)
            if live or (self.filled(plan.intent_key) > 0 and self.held(plan.symbol) != 0):
                self.active[plan.symbol] = plan.intent_key

    def _links(self, key: str, *, entries: bool = True, exits: bool = True) -> list[str]:
        """The orderLinkIds a trade's orders can carry (they are deterministic: no scan of the tracker)."""
        plan = self.plans.get(key)
        if plan is None:
            return []
        out = [plan.entry.order_link_id, order_link_id(key, LegKind.ENTRY, attempt=1)] if entries else []
        return out + [r.order_link_id for r in plan.exits] if exits else out

    def entries(self, key: str) -> list[OrderRecord]:
        """Every entry order (all attempts) of a trade."""
        return [r for link in self._links(key, exits=False) if (r := self.ex.tracker.get(link)) is not None]

    def filled(self, key: str) -> Decimal:
        """Quantity the trade's entries filled."""
        return sum((r.filled_qty for r in self.entries(key)), Decimal(0))

    def known_stops(self) -> dict[str, Decimal]:
        """The planned stop of each symbol's open trade."""
        return {sym: self.plans[key].stop_loss for sym, key in self.active.items() if key in self.plans}

    async def follow_all(self, now_ms: int, *, exits: bool) -> None:
        """Follow every open trade (`exits` False: no new exit orders, e.g. while flattening)."""
        for symbol, key in list(self.active.items()):
            await self.follow(symbol, key, now_ms, exits=exits)

    async def follow(self, symbol: str, key: str, now_ms: int, *, exits: bool = True) -> None:
        """Exits for what filled (placed, or amended after a further fill); the trade ends once flat."""
        plan = self.plans.get(key)
        inst = self.instruments.get(symbol)
        if plan is None or inst is None:
            return
        filled = min(self.filled(key), plan.qty)
        if filled > 0 and self.held(symbol) != 0:
            if exits:
                await self._ensure_exits(plan, filled, inst, now_ms)
            return
        if any(not r.state.is_final for r in self.entries(key)):
            return
        # Entries final and nothing held: never filled, or closed by its stop, target or a signal.
        await self.cancel_orders(key, now_ms, "trade closed", entries=False)
        if self.active.get(symbol) == key:
            del self.active[symbol]

    async def _ensure_exits(self, plan: OrderPlan, filled: Decimal, inst: Instrument, now_ms: int) -> None:
        for req in exits_for_fill(plan, filled, inst, self.risk):
            rec = self.ex.tracker.get(req.order_link_id)
            if rec is None:
                await self.ex.place(
                    req,
                    now_ms,
                    role=LegKind.TAKE_PROFIT,
                    intent_key=plan.intent_key,
                    decision=open_decision_id(plan.intent_key),
                )
            elif rec.state.is_open and rec.qty != req.qty:
                await self.ex.amend_qty(rec, req.qty)

    async def cancel_orders(self, key: str, now_ms: int, reason: str, *, entries: bool = True) -> None:
        """Cancel the trade's live orders (its exits; its entries too unless told otherwise)."""
        for link in self._links(key, entries=entries):
            r = self.ex.tracker.get(link)
            if r is not None and not r.state.is_final:
                await self.ex.cancel(r, now_ms, reason)

    async def entry_timeouts(self, now_ms: int, *, fallback: bool) -> None:
        """Cancel entries that rested too long. A post-only entry that ended unfilled (timed out, or
        cancelled by the venue because it would have taken liquidity) sends its rest at market once
        (`fallback`: only while new entries are allowed)."""
        cfg = self.ex.config
        for key in list(self.active.values()):
            plan = self.plans.get(key)
            if plan is None:
                continue
            entries = self.entries(key)
            post_only = plan.entry_type == "market" and any(r.order_type is OrderType.LIMIT for r in entries)
            limit = cfg.post_only_timeout_ms if post_only else cfg.limit_entry_timeout_ms
            for r in entries:
                if r.state.is_open and now_ms - r.created_ms > limit:
                    await self.ex.cancel(r, now_ms, "entry timed out")
            if not (post_only and fallback and cfg.post_only_fallback):
                continue
            entries = self.entries(key)
            if len(entries) != 1 or not entries[0].state.is_final:
                continue  # still resting, or the fallback was sent already
            remaining = plan.qty - self.filled(key)
            if remaining <= 0:
                continue
            req = fallback_request(plan, remaining, 1)
            log.info("entry_fallback", symbol=plan.symbol, qty=str(remaining), link=req.order_link_id)
            await self.ex.place(
                req,
                now_ms,
                role=LegKind.ENTRY,
                intent_key=plan.intent_key,
                ref_price=plan.worst_entry,
                decision=open_decision_id(plan.intent_key),
            )

    async def resolve_unknown(self, now_ms: int, *, entries: bool, entry_max_age_ms: int) -> None:
        """Look up every SENT/UNKNOWN order; one the venue never saw is re-sent with the same orderLinkId
        if still wanted (an entry: `entries` allowed and still fresh; an exit: a position to reduce),
        else dropped."""
        for rec in self.ex.tracker.in_state(OrderState.UNKNOWN, OrderState.SENT):
            if self.ex.in_flight(rec.order_link_id):
                continue
            got = await self.ex.resolve(rec.order_link_id)
            if got is None or got.state is not OrderState.PENDING:
                continue
            if got.role is LegKind.ENTRY:
                wanted = entries and now_ms - got.created_ms <= entry_max_age_ms
                why = "entry not at the venue; dropped"
            else:
                wanted = self.held(got.symbol) != 0
                why = "not at the venue and no position left to reduce"
            if wanted:
                await self.ex.resend(got.order_link_id, now_ms)
            else:
                await self.ex.abandon(got.order_link_id, now_ms, why)


__all__ = [
    "EntryStyle",
    "ExecutionConfig",
    "Executor",
    "TradeManager",
    "entry_request",
    "fallback_request",
]
