"""Emergency policy: the actions that make the book safe when the mode leaves NORMAL (planned, not done).

In order: cancel every live entry order (nothing new may open), ensure a stop on every position, and, if
the policy says so, flatten every position. Entries not yet sent are returned to be abandoned locally.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import msgspec

from asym.domain import Instrument, Order, Position
from asym.errors import DataError
from asym.trading.actions import CancelOrder, ClosePosition, TradingAction
from asym.trading.config import RiskConfig
from asym.trading.ids import LegKind
from asym.trading.order_states import OrderState
from asym.trading.orders import OrderRecord
from asym.trading.protection import close_action, protect


class EmergencyPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """What emergency mode does besides refusing new entries."""

    cancel_entries: bool = True
    ensure_stops: bool = True
    flatten: bool = False
    """Close every position at market (off by default: exchange-side stops already bound the loss)."""


class EmergencyPlan(msgspec.Struct, frozen=True, kw_only=True):
    """Actions for the shell, and PENDING entry orders to abandon in the tracker (never to be sent)."""

    actions: tuple[TradingAction, ...]
    abandon: tuple[str, ...]


def emergency_actions(
    orders: Iterable[OrderRecord],
    positions: Iterable[Position],
    venue_orders: Iterable[Order],
    instruments: Mapping[str, Instrument],
    known_stops: Mapping[str, Decimal],
    cfg: RiskConfig,
    policy: EmergencyPolicy,
    reason: str,
) -> EmergencyPlan:
    """The emergency plan for the current book (tracker records, venue positions and open orders)."""
    actions: list[TradingAction] = []
    abandon: list[str] = []
    if policy.cancel_entries:
        for rec in orders:
            if rec.role is not LegKind.ENTRY or rec.state.is_final:
                continue
            if rec.state is OrderState.PENDING:
                abandon.append(rec.order_link_id)
            else:
                # SENT/UNKNOWN included: a cancel by orderLinkId is harmless if the order never arrived.
                actions.append(
                    CancelOrder(
                        symbol=rec.symbol,
                        order_link_id=rec.order_link_id,
                        order_id=rec.order_id,
                        reason=f"{reason}: no new entries",
                    )
                )
    venue_list = list(venue_orders)
    for pos in positions:
        if pos.side is None or pos.size <= 0:
            continue
        inst = instruments.get(pos.symbol)
        if inst is None:
            raise DataError(f"no instrument for {pos.symbol}: cannot plan its protection")
        if policy.ensure_stops:
            actions.extend(protect(pos, venue_list, inst, known_stops.get(pos.symbol), cfg, reason))
        closing = any(isinstance(a, ClosePosition) and a.symbol == pos.symbol for a in actions)
        if policy.flatten and not closing:
            actions.append(close_action(pos, inst, f"{reason}: flatten"))
    return EmergencyPlan(actions=tuple(actions), abandon=tuple(abandon))
