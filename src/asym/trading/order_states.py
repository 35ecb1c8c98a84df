"""Order states, the legal transitions between them, and how the venue's statuses map onto them.

    PENDING ──sent──► SENT ──ack/stream──► NEW ──► PARTIALLY_FILLED ──► FILLED
       │                │  ╲                 ╲            ╲
       │             timeout ╲                ╲            ╲──► CANCELLED (may carry fills)
       │                ▼     ╲─► REJECTED     ╲──► CANCELLED / FILLED
       │             UNKNOWN ──lookup──► any venue state, or back to PENDING when the venue never saw it
       └──abandon──► CANCELLED

FILLED, CANCELLED and REJECTED are final: nothing leaves them. A venue state may also arrive while the order
is still PENDING or SENT (the stream can beat the REST acknowledgement).
"""

from __future__ import annotations

from enum import StrEnum

from asym.domain import OrderStatus


class OrderState(StrEnum):
    """Where an order is in its life, as asym tracks it."""

    PENDING = "PENDING"
    """Built and stored, not sent."""
    SENT = "SENT"
    """Sent, no answer yet."""
    UNKNOWN = "UNKNOWN"
    """The send's outcome is unknown (timeout, 5xx after send): must be looked up before any retry."""
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def is_final(self) -> bool:
        """True for FILLED, CANCELLED and REJECTED."""
        return self in FINAL_STATES

    @property
    def is_open(self) -> bool:
        """True while the venue holds the order and it can still fill (NEW, PARTIALLY_FILLED)."""
        return self in (OrderState.NEW, OrderState.PARTIALLY_FILLED)

    @property
    def rank(self) -> int:
        """Progress of the state: local states 0, NEW 1, PARTIALLY_FILLED 2, final 3 (never decreases)."""
        return _RANK[self]


FINAL_STATES = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED})
LOCAL_STATES = frozenset({OrderState.PENDING, OrderState.SENT, OrderState.UNKNOWN})
_VENUE_STATES = frozenset(
    {
        OrderState.NEW,
        OrderState.PARTIALLY_FILLED,
        OrderState.FILLED,
        OrderState.CANCELLED,
        OrderState.REJECTED,
    }
)
_RANK = {
    OrderState.PENDING: 0,
    OrderState.SENT: 0,
    OrderState.UNKNOWN: 0,
    OrderState.NEW: 1,
    OrderState.PARTIALLY_FILLED: 2,
    OrderState.FILLED: 3,
    OrderState.CANCELLED: 3,
    OrderState.REJECTED: 3,
}

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.PENDING: _VENUE_STATES | {OrderState.SENT},
    OrderState.SENT: _VENUE_STATES | {OrderState.UNKNOWN, OrderState.PENDING},
    OrderState.UNKNOWN: _VENUE_STATES | {OrderState.PENDING},
    OrderState.NEW: frozenset({OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELLED}),
    OrderState.PARTIALLY_FILLED: frozenset({OrderState.FILLED, OrderState.CANCELLED}),
    OrderState.FILLED: frozenset(),
    OrderState.CANCELLED: frozenset(),
    OrderState.REJECTED: frozenset(),
}
"""Every legal transition; anything else is refused (local calls) or ignored as stale (venue data)."""


def is_legal(src: OrderState, dst: OrderState) -> bool:
    """True when `src` -> `dst` is a legal transition."""
    return dst in TRANSITIONS[src]


_FROM_VENUE = {
    OrderStatus.NEW: OrderState.NEW,
    # A conditional order resting or just triggered is live at the venue: NEW for asym.
    OrderStatus.UNTRIGGERED: OrderState.NEW,
    OrderStatus.TRIGGERED: OrderState.NEW,
    OrderStatus.PARTIALLY_FILLED: OrderState.PARTIALLY_FILLED,
    OrderStatus.FILLED: OrderState.FILLED,
    OrderStatus.CANCELLED: OrderState.CANCELLED,
    OrderStatus.DEACTIVATED: OrderState.CANCELLED,
    OrderStatus.PARTIALLY_FILLED_CANCELED: OrderState.CANCELLED,
    OrderStatus.REJECTED: OrderState.REJECTED,
}


def from_venue(status: OrderStatus) -> OrderState:
    """asym's state for a venue order status."""
    return _FROM_VENUE[status]
