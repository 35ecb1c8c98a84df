"""Restart planning (pure): from the venue's open orders and positions and the local store's view, the
reconciliation plan the shell executes before trading resumes.

    1. fetch executions since the last one booked (nothing filled while away is lost);
    2. orders: adopt venue orders we know; look up every local order that is not final and not open at the
       venue (it filled, was cancelled, or never arrived); cancel stray asym entry orders the store does not
       know; leave other systems' and manual orders alone unless told otherwise. Reduce-only and TP/SL
       orders are never cancelled as strays: they can only reduce risk;
    3. positions: adopt (or close, by policy) positions the store does not know, adopt the venue's size
       where it differs, and put a stop on every position without one;
    4. re-place the take-profit exits of filled entries that were never placed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

import msgspec

from asym.domain import Instrument, Order, Position, StopOrderType
from asym.errors import DataError
from asym.trading.actions import (
    AdoptOrder,
    AdoptPosition,
    CancelOrder,
    ClosePosition,
    PlaceOrder,
    QueryOrder,
    SyncExecutions,
    TradingAction,
)
from asym.trading.config import RiskConfig
from asym.trading.ids import is_ours
from asym.trading.orders import OrderRecord
from asym.trading.plan import OrderPlan, exits_for_fill
from asym.trading.protection import close_action, protect

_ZERO = Decimal(0)
_PROTECTIVE = frozenset(
    {
        StopOrderType.TAKE_PROFIT,
        StopOrderType.STOP_LOSS,
        StopOrderType.PARTIAL_TAKE_PROFIT,
        StopOrderType.PARTIAL_STOP_LOSS,
        StopOrderType.TRAILING_STOP,
    }
)


class UnknownPositionPolicy(StrEnum):
    """What to do with a venue position the local store does not know."""

    ADOPT = "adopt"
    CLOSE = "close"


class ForeignOrderPolicy(StrEnum):
    """What to do with open orders asym did not make (no asym- orderLinkId)."""

    IGNORE = "ignore"
    CANCEL = "cancel"


class RestartPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Restart choices; the defaults keep what exists and protect it."""

    unknown_positions: UnknownPositionPolicy = UnknownPositionPolicy.ADOPT
    foreign_orders: ForeignOrderPolicy = ForeignOrderPolicy.IGNORE
    cancel_stray_entries: bool = True
    """Cancel asym entry orders the store does not know (they would open a trade nobody tracks)."""
    exec_overlap_ms: int = 60_000
    """The execution catch-up starts this long before the last booked execution (duplicates are ignored)."""


class LocalView(msgspec.Struct, frozen=True, kw_only=True):
    """What the local store remembers."""

    orders: tuple[OrderRecord, ...] = ()
    positions: dict[str, Decimal] = msgspec.field(default_factory=dict)
    """Signed size per symbol as booked (> 0 long, < 0 short)."""
    stops: dict[str, Decimal] = msgspec.field(default_factory=dict)
    """The planned stop of each symbol's open trade."""
    plans: tuple[OrderPlan, ...] = ()
    """Plans of trades whose entry may have filled (to re-place missing take-profit exits)."""
    last_exec_ms: int = 0


class VenueView(msgspec.Struct, frozen=True, kw_only=True):
    """What the venue says now."""

    open_orders: tuple[Order, ...] = ()
    positions: tuple[Position, ...] = ()


class RestartPlan(msgspec.Struct, frozen=True, kw_only=True):
    """The ordered actions, and notes for the operator about what was found."""

    actions: tuple[TradingAction, ...]
    notes: tuple[str, ...]


def _key(o: Order) -> str:
    return o.order_link_id if o.order_link_id else f"#{o.order_id}"


def plan_restart(
    local: LocalView,
    venue: VenueView,
    instruments: Mapping[str, Instrument],
    cfg: RiskConfig,
    policy: RestartPolicy | None = None,
) -> RestartPlan:
    """The reconciliation plan after a restart (see the module docstring for its order)."""
    pol = policy or RestartPolicy()
    actions: list[TradingAction] = [
        SyncExecutions(
            since_ms=max(0, local.last_exec_ms - pol.exec_overlap_ms),
            reason="book every execution made while asym was down",
        )
    ]
    notes: list[str] = []
    _plan_orders(local, venue, pol, actions, notes)
    _plan_positions(local, venue, instruments, cfg, pol, actions, notes)
    _plan_exits(local, venue, instruments, cfg, actions)
    return RestartPlan(actions=tuple(actions), notes=tuple(notes))


def _plan_orders(
    local: LocalView, venue: VenueView, pol: RestartPolicy, actions: list[TradingAction], notes: list[str]
) -> None:
    known = {(r.order_link_id or f"#{r.order_id}"): r for r in local.orders}
    venue_open = {_key(o): o for o in venue.open_orders}
    for key, o in venue_open.items():
        if key in known:
            actions.append(AdoptOrder(order=o, reason="known order still open at the venue"))
            continue
        protective = o.reduce_only or o.stop_order_type in _PROTECTIVE
        if is_ours(o.order_link_id):
            if protective or not pol.cancel_stray_entries:
                actions.append(
                    AdoptOrder(order=o, reason="asym order unknown to the store; reduce-only, kept")
                )
            else:
                actions.append(
                    CancelOrder(
                        symbol=o.symbol,
                        order_link_id=o.order_link_id,
                        order_id=o.order_id,
                        reason="stray asym entry order unknown to the store",
                    )
                )
        elif pol.foreign_orders is ForeignOrderPolicy.CANCEL and not protective:
            actions.append(
                CancelOrder(
                    symbol=o.symbol,
                    order_link_id=o.order_link_id,
                    order_id=o.order_id,
                    reason="order not made by asym (policy: cancel)",
                )
            )
        else:
            notes.append(
                f"left alone: {o.symbol} order {key} "
                f"({o.stop_order_type.value or o.order_type.value}) not made by asym"
            )
    for key, rec in known.items():
        if rec.state.is_final or key in venue_open:
            continue
        if not rec.order_link_id:
            notes.append(f"order {key} was open and has no orderLinkId; the execution sync books its fills")
            continue
        actions.append(
            QueryOrder(
                symbol=rec.symbol,
                order_link_id=rec.order_link_id,
                reason=f"{rec.state.value} locally but not open at the venue: resolve before any retry",
            )
        )


def _plan_positions(
    local: LocalView,
    venue: VenueView,
    instruments: Mapping[str, Instrument],
    cfg: RiskConfig,
    pol: RestartPolicy,
    actions: list[TradingAction],
    notes: list[str],
) -> None:
    seen = set()
    for pos in venue.positions:
        if pos.side is None or pos.size <= 0:
            continue
        seen.add(pos.symbol)
        inst = instruments.get(pos.symbol)
        if inst is None:
            raise DataError(f"no instrument for {pos.symbol}: cannot plan its protection")
        booked = local.positions.get(pos.symbol, _ZERO)
        protection = protect(pos, venue.open_orders, inst, local.stops.get(pos.symbol), cfg, "restart")
        if booked == 0:
            if pol.unknown_positions is UnknownPositionPolicy.CLOSE:
                # Stop first: if the close fails the position is still bounded.
                actions.extend(protection)
                if not any(isinstance(a, ClosePosition) for a in protection):
                    actions.append(
                        close_action(pos, inst, "restart: position unknown to the store (policy: close)")
                    )
                continue
            actions.append(
                AdoptPosition(position=pos, reason="position unknown to the store (policy: adopt)")
            )
        elif booked != pos.signed_size:
            actions.append(
                AdoptPosition(position=pos, reason=f"booked size {booked}, venue {pos.signed_size}")
            )
        actions.extend(protection)
    for sym, size in local.positions.items():
        if size != 0 and sym not in seen:
            notes.append(f"{sym}: booked {size} but flat at the venue; the execution sync books the close")


def _plan_exits(
    local: LocalView,
    venue: VenueView,
    instruments: Mapping[str, Instrument],
    cfg: RiskConfig,
    actions: list[TradingAction],
) -> None:
    records = {r.order_link_id: r for r in local.orders}
    venue_links = {o.order_link_id for o in venue.open_orders}
    held = {p.symbol for p in venue.positions if p.side is not None and p.size > 0}
    for plan in local.plans:
        entry = records.get(plan.entry.order_link_id)
        inst = instruments.get(plan.symbol)
        if entry is None or inst is None or plan.symbol not in held or entry.filled_qty <= 0:
            continue
        for req in exits_for_fill(plan, min(entry.filled_qty, plan.qty), inst, cfg):
            if req.order_link_id in records or req.order_link_id in venue_links:
                continue
            actions.append(
                PlaceOrder(request=req, reason="take-profit exit of a filled entry was never placed")
            )
