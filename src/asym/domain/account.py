"""Account domain types: orders, executions, positions, wallet. Exact Decimal money, ms timestamps."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from asym.domain.enums import (
    Category,
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
    TriggerBy,
)


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What asym asks a venue to do. `order_link_id` is mandatory: it makes placement idempotent."""

    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    order_link_id: str
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    reduce_only: bool = False
    close_on_trigger: bool = False
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: TriggerBy | None = None
    sl_trigger_by: TriggerBy | None = None
    trigger_price: Decimal | None = None
    trigger_direction: int | None = None
    trigger_by: TriggerBy | None = None
    position_idx: int = 0
    category: Category = Category.LINEAR


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's view of an order."""

    order_id: str
    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType
    price: Decimal
    qty: Decimal
    time_in_force: TimeInForce
    status: OrderStatus
    cum_exec_qty: Decimal
    cum_exec_value: Decimal
    cum_exec_fee: Decimal
    avg_price: Decimal | None
    leaves_qty: Decimal
    reduce_only: bool
    created_time: int
    updated_time: int
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_direction: int = 0
    stop_order_type: StopOrderType = StopOrderType.NONE
    reject_reason: str = "EC_NoError"
    cancel_type: str = "UNKNOWN"
    category: Category = Category.LINEAR


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    """One fill (or funding payment, exec_type Funding) on the account."""

    exec_id: str
    order_id: str
    order_link_id: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    value: Decimal
    fee: Decimal
    fee_rate: Decimal
    is_maker: bool
    exec_type: ExecType
    ts: int
    closed_size: Decimal = Decimal(0)
    category: Category = Category.LINEAR


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """A one-way position; `side` is None and `size` zero when flat."""

    symbol: str
    side: Side | None
    size: Decimal
    avg_price: Decimal
    mark_price: Decimal
    leverage: Decimal
    position_value: Decimal
    unrealised_pnl: Decimal
    cum_realised_pnl: Decimal
    liq_price: Decimal | None
    take_profit: Decimal | None
    stop_loss: Decimal | None
    position_im: Decimal
    position_mm: Decimal
    updated_time: int
    position_idx: int = 0
    category: Category = Category.LINEAR

    @property
    def signed_size(self) -> Decimal:
        """Size with sign: positive long, negative short, zero flat."""
        if self.side is None:
            return Decimal(0)
        return self.size * self.side.sign


class CoinBalance(msgspec.Struct, frozen=True, kw_only=True):
    """One coin of the unified wallet."""

    coin: str
    wallet_balance: Decimal
    equity: Decimal
    unrealised_pnl: Decimal
    cum_realised_pnl: Decimal
    total_position_im: Decimal
    total_order_im: Decimal
    available: Decimal


class WalletBalance(msgspec.Struct, frozen=True, kw_only=True):
    """The unified trading account's balance."""

    total_equity: Decimal
    total_wallet_balance: Decimal
    total_margin_balance: Decimal
    total_available_balance: Decimal
    total_initial_margin: Decimal
    total_maintenance_margin: Decimal
    coins: tuple[CoinBalance, ...]
    ts: int
