"""The matching engine's contract with the server: commands in, account objects and events out.

Prices are ticks and sizes qty steps (see `asym.sim.units`); money is Decimal. The server turns these
objects into Bybit's JSON; the engine never sees JSON. Business rejections raise
`asym.sim.types.SimRejection(ret_code, ret_msg)` with Bybit's codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from asym.domain import ExecType, OrderStatus, OrderType, Side, StopOrderType, TimeInForce, TriggerBy
from asym.sim.types import MarketEvents


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """A create-order command, already type-checked by the server (prices/sizes still unchecked for
    tick/step: the server converts with Scale.to_int and answers 10001 when that fails)."""

    symbol: str
    side: Side
    order_type: OrderType
    qty: int
    price: int | None = None
    time_in_force: TimeInForce | None = None
    order_link_id: str = ""
    reduce_only: bool = False
    close_on_trigger: bool = False
    trigger_price: int | None = None
    trigger_direction: int | None = None
    trigger_by: TriggerBy = TriggerBy.LAST
    take_profit: int | None = None
    stop_loss: int | None = None
    tp_trigger_by: TriggerBy = TriggerBy.LAST
    sl_trigger_by: TriggerBy = TriggerBy.LAST
    tpsl_mode: str = ""
    tp_order_type: OrderType = OrderType.MARKET
    sl_order_type: OrderType = OrderType.MARKET
    tp_limit_price: int | None = None
    sl_limit_price: int | None = None
    position_idx: int = 0


@dataclass(frozen=True, slots=True)
class AmendOrder:
    """An amend command: None leaves a field unchanged; take_profit/stop_loss 0 removes it."""

    symbol: str
    order_id: str = ""
    order_link_id: str = ""
    qty: int | None = None
    price: int | None = None
    trigger_price: int | None = None
    take_profit: int | None = None
    stop_loss: int | None = None


@dataclass(frozen=True, slots=True)
class TradingStop:
    """Set TP/SL on a position (tpslMode Full): None leaves unchanged, 0 removes."""

    symbol: str
    take_profit: int | None = None
    stop_loss: int | None = None
    tp_trigger_by: TriggerBy = TriggerBy.LAST
    sl_trigger_by: TriggerBy = TriggerBy.LAST
    tpsl_mode: str = "Full"
    position_idx: int = 0


@dataclass(slots=True)
class SimOrder:
    """An order as the account sees it (all fields Bybit's order object needs)."""

    order_id: str
    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType
    price: int
    """Limit price; for a Market order the protection price Bybit reports."""
    qty: int
    time_in_force: TimeInForce
    status: OrderStatus
    created_time: int
    updated_time: int
    cum_exec_qty: int = 0
    cum_exec_value: Decimal = Decimal(0)
    cum_exec_fee: Decimal = Decimal(0)
    reduce_only: bool = False
    close_on_trigger: bool = False
    trigger_price: int | None = None
    trigger_direction: int = 0
    trigger_by: TriggerBy | None = None
    take_profit: int | None = None
    stop_loss: int | None = None
    tp_trigger_by: TriggerBy | None = None
    sl_trigger_by: TriggerBy | None = None
    tpsl_mode: str = ""
    stop_order_type: StopOrderType = StopOrderType.NONE
    create_type: str = "CreateByUser"
    cancel_type: str = "UNKNOWN"
    reject_reason: str = "EC_NoError"
    position_idx: int = 0
    last_price_on_created: int | None = None

    @property
    def leaves_qty(self) -> int:
        """Quantity still open (0 once the order is final)."""
        return self.qty - self.cum_exec_qty if self.status.is_open else 0


@dataclass(frozen=True, slots=True)
class SimExecution:
    """One fill or funding payment."""

    exec_id: str
    order_id: str
    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType | None
    order_price: int
    order_qty: int
    leaves_qty: int
    exec_price: int
    exec_qty: int
    exec_value: Decimal
    exec_fee: Decimal
    fee_rate: Decimal
    exec_type: ExecType
    is_maker: bool
    exec_time: int
    closed_size: int
    mark_price: int
    index_price: int
    seq: int
    stop_order_type: StopOrderType = StopOrderType.NONE
    create_type: str = "CreateByUser"
    exec_pnl: Decimal = Decimal(0)


@dataclass(slots=True)
class SimPosition:
    """A one-way position (size 0 and side None when flat)."""

    symbol: str
    side: Side | None
    size: int
    avg_price: Decimal
    leverage: Decimal
    mark_price: int
    position_value: Decimal
    unrealised_pnl: Decimal
    cur_realised_pnl: Decimal
    cum_realised_pnl: Decimal
    position_im: Decimal
    position_mm: Decimal
    liq_price: int | None
    bust_price: int | None
    take_profit: int | None
    stop_loss: int | None
    tp_trigger_by: TriggerBy | None
    sl_trigger_by: TriggerBy | None
    created_time: int
    updated_time: int
    seq: int
    position_status: str = "Normal"
    position_idx: int = 0
    risk_id: int = 1
    risk_limit_value: Decimal = Decimal("2000000")


@dataclass(frozen=True, slots=True)
class SimCoin:
    """One coin of a unified wallet."""

    coin: str
    wallet_balance: Decimal
    equity: Decimal
    unrealised_pnl: Decimal
    cum_realised_pnl: Decimal
    total_order_im: Decimal
    total_position_im: Decimal
    total_position_mm: Decimal
    available: Decimal


@dataclass(frozen=True, slots=True)
class SimWallet:
    """A unified wallet's totals and coins."""

    total_equity: Decimal
    total_wallet_balance: Decimal
    total_margin_balance: Decimal
    total_available_balance: Decimal
    total_perp_upl: Decimal
    total_initial_margin: Decimal
    total_maintenance_margin: Decimal
    account_im_rate: Decimal
    account_mm_rate: Decimal
    coins: tuple[SimCoin, ...]


@dataclass(slots=True)
class AccountEvents:
    """Private events for one account since the last drain, in the order they happened."""

    orders: list[SimOrder] = field(default_factory=list)
    executions: list[SimExecution] = field(default_factory=list)
    positions: list[SimPosition] = field(default_factory=list)
    wallet: SimWallet | None = None

    def __bool__(self) -> bool:
        return bool(self.orders or self.executions or self.positions or self.wallet)


class TradingEngine(Protocol):
    """Accounts and matching (implemented in `asym.sim.engine`). `uid` identifies an account."""

    def open_account(self, uid: str, balance_usdt: Decimal) -> None:
        """Create (or reset) a funded unified account."""
        ...

    def place_order(self, uid: str, cmd: PlaceOrder, now_ms: int) -> SimOrder:
        """Validate and accept an order (Bybit acks acceptance; fills happen as the market moves)."""
        ...

    def amend_order(self, uid: str, cmd: AmendOrder, now_ms: int) -> SimOrder:
        """Amend an open order."""
        ...

    def cancel_order(self, uid: str, symbol: str, order_id: str, order_link_id: str, now_ms: int) -> SimOrder:
        """Cancel an open order (110001 when unknown or final)."""
        ...

    def cancel_all(
        self, uid: str, symbol: str | None, order_filter: str | None, now_ms: int
    ) -> list[SimOrder]:
        """Cancel every open order (of `symbol` when given; `order_filter` Order/StopOrder/None=all)."""
        ...

    def orders(
        self, uid: str, *, symbol: str | None, order_id: str, order_link_id: str, open_only: bool
    ) -> list[SimOrder]:
        """Orders newest first: open ones, or (open_only False) also the recent closed ones."""
        ...

    def executions(
        self, uid: str, *, symbol: str | None, order_id: str, exec_type: str | None
    ) -> list[SimExecution]:
        """Fills and funding payments newest first."""
        ...

    def positions(self, uid: str, symbol: str | None) -> list[SimPosition]:
        """Positions: the symbol's (even flat), or every open one."""
        ...

    def set_leverage(self, uid: str, symbol: str, leverage: Decimal, now_ms: int) -> None:
        """Set leverage (110043 when unchanged, 10001 out of range)."""
        ...

    def trading_stop(self, uid: str, cmd: TradingStop, now_ms: int) -> None:
        """Set TP/SL on the open position (34040 when nothing changes)."""
        ...

    def wallet(self, uid: str) -> SimWallet:
        """The account's unified wallet now."""
        ...

    def on_market(self, events: MarketEvents, now_ms: int) -> None:
        """React to the market having moved: fill resting orders, trigger TP/SL and conditionals,
        pay funding, liquidate the account's positions when their mark crosses the liquidation price."""
        ...

    def active_symbols(self) -> set[str]:
        """Symbols with open orders or positions on any account (the market must keep them advanced)."""
        ...

    def drain_events(self, uid: str) -> AccountEvents:
        """Private events of `uid` since the last drain."""
        ...

    def order_count_by_link_id(self, uid: str, order_link_id: str) -> int:
        """How many orders ever carried this orderLinkId (duplicate-order checks in tests)."""
        ...
