"""Mutable per-account state of the engine: orders, positions, wallet totals and the event queue."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from asym.domain import Side, TriggerBy
from asym.sim.engine.types import AccountEvents, SimExecution, SimOrder

CLOSED_ORDERS_KEPT = 500
DEFAULT_LEVERAGE = Decimal(10)


@dataclass(slots=True)
class OrderState:
    """An open order plus what the engine needs beside Bybit's fields."""

    order: SimOrder
    uid: str
    priority: int
    """Time priority among resting orders (renewed when the price is amended)."""
    close_all: bool = False
    """qty "0" + reduceOnly + closeOnTrigger: the order closes whatever the position is when it runs."""


@dataclass(slots=True)
class PositionState:
    """A one-way position of one symbol (size in qty steps, avg price exact to 8 decimals)."""

    symbol: str
    leverage: Decimal
    side: Side | None = None
    size: int = 0
    avg: Decimal = Decimal(0)
    cur_realised: Decimal = Decimal(0)
    cum_realised: Decimal = Decimal(0)
    take_profit: int | None = None
    stop_loss: int | None = None
    tp_trigger_by: TriggerBy | None = None
    sl_trigger_by: TriggerBy | None = None
    tp_order_id: str | None = None
    sl_order_id: str | None = None
    created_time: int = 0
    updated_time: int = 0
    seq: int = -1
    status: str = "Normal"

    def signed(self) -> int:
        """Size with sign: + long, - short, 0 flat."""
        return 0 if self.side is None else self.size * self.side.sign


@dataclass(slots=True)
class Account:
    """One unified account. wallet = deposit + realised - fees - funding at all times (exact)."""

    uid: str
    deposit: Decimal
    wallet: Decimal
    realised_total: Decimal = Decimal(0)
    fees_total: Decimal = Decimal(0)
    funding_total: Decimal = Decimal(0)
    open_orders: dict[str, OrderState] = field(default_factory=dict)
    orders_by_symbol: dict[str, dict[str, OrderState]] = field(default_factory=dict)
    order_legs: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    """symbol -> cached (buy qty, buy notional, sell qty, sell notional) of its margin-bearing orders."""
    created_index: dict[str, int] = field(default_factory=dict)
    """order_id -> creation rank, for open orders and those in the closed window (newest-first sorting)."""
    closed_orders: deque[SimOrder] = field(default_factory=lambda: deque(maxlen=CLOSED_ORDERS_KEPT))
    link_counts: dict[str, int] = field(default_factory=dict)
    link_last: dict[str, SimOrder] = field(default_factory=dict)
    """Newest order per orderLinkId (open or closed, also after it left the closed-order window)."""
    executions: list[SimExecution] = field(default_factory=list)
    positions: dict[str, PositionState] = field(default_factory=dict)
    leverage: dict[str, Decimal] = field(default_factory=dict)
    events: AccountEvents = field(default_factory=AccountEvents)
    wallet_dirty: bool = False

    def position(self, symbol: str, default_leverage: Decimal) -> PositionState:
        """The position state of `symbol`, created flat on first use."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = PositionState(symbol, self.leverage.get(symbol, default_leverage))
            self.positions[symbol] = pos
        return pos

    def open_side(self, symbol: str) -> Side | None:
        """Side of the symbol's position, None when flat or never traded."""
        pos = self.positions.get(symbol)
        return None if pos is None or pos.size == 0 else pos.side
