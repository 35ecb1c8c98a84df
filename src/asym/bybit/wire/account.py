"""Wire structs of the private endpoints: orders, positions, executions, wallet, account/key info.

The same order / execution / position / wallet structs decode the private WebSocket topics (which add
`category`, and `entryPrice` instead of `avgPrice` for positions).
"""

from __future__ import annotations

from typing import Any

import msgspec


class OrderAckResult(msgspec.Struct, rename="camel"):
    """create / amend / cancel: the ack only (acceptance, not execution)."""

    order_id: str = ""
    order_link_id: str = ""


class CancelAllResult(msgspec.Struct, rename="camel"):
    """POST /v5/order/cancel-all."""

    items: list[OrderAckResult] = msgspec.field(default_factory=list, name="list")
    success: str = ""


class BatchItem(msgspec.Struct, rename="camel"):
    """One slot of POST /v5/order/create-batch (failed slots carry orderId "")."""

    category: str = ""
    symbol: str = ""
    order_id: str = ""
    order_link_id: str = ""
    create_at: str = ""


class BatchResult(msgspec.Struct, rename="camel"):
    """POST /v5/order/create-batch result; statuses are in retExtInfo.list, index-aligned."""

    items: list[BatchItem] = msgspec.field(default_factory=list, name="list")


class OrderItem(msgspec.Struct, rename="camel"):
    """An order object (order/realtime, order/history and the `order` WS topic)."""

    order_id: str
    symbol: str
    side: str
    order_type: str
    order_status: str
    order_link_id: str = ""
    price: str = ""
    qty: str = ""
    time_in_force: str = ""
    avg_price: str = ""
    leaves_qty: str = ""
    leaves_value: str = ""
    cum_exec_qty: str = ""
    cum_exec_value: str = ""
    cum_exec_fee: str = ""
    cum_fee_detail: dict[str, str] | None = None
    reduce_only: bool = False
    close_on_trigger: bool = False
    position_idx: int = 0
    trigger_price: str = ""
    trigger_direction: int = 0
    trigger_by: str = ""
    take_profit: str = ""
    stop_loss: str = ""
    tp_trigger_by: str = ""
    sl_trigger_by: str = ""
    tpsl_mode: str = ""
    stop_order_type: str = ""
    create_type: str = ""
    cancel_type: str = ""
    reject_reason: str = ""
    created_time: str = "0"
    updated_time: str = "0"
    category: str = ""


class OrderListResult(msgspec.Struct, rename="camel"):
    """GET /v5/order/realtime and /v5/order/history (cursor-paged)."""

    category: str = ""
    items: list[OrderItem] = msgspec.field(default_factory=list, name="list")
    next_page_cursor: str = ""


class PositionItem(msgspec.Struct, rename="camel"):
    """A position (REST position/list, or the `position` WS topic with entryPrice)."""

    symbol: str
    side: str = ""
    size: str = "0"
    position_idx: int = 0
    avg_price: str = ""
    entry_price: str = ""
    position_value: str = ""
    leverage: str = ""
    mark_price: str = ""
    liq_price: str = ""
    take_profit: str = ""
    stop_loss: str = ""
    trailing_stop: str = ""
    unrealised_pnl: str = ""
    cur_realised_pnl: str = ""
    cum_realised_pnl: str = ""
    position_im: str = msgspec.field(default="", name="positionIM")
    position_mm: str = msgspec.field(default="", name="positionMM")
    position_status: str = ""
    risk_id: int = 0
    created_time: str = "0"
    updated_time: str = "0"
    seq: int = 0
    category: str = ""


class PositionListResult(msgspec.Struct, rename="camel"):
    """GET /v5/position/list (cursor-paged)."""

    category: str = ""
    items: list[PositionItem] = msgspec.field(default_factory=list, name="list")
    next_page_cursor: str = ""


class ExecutionItem(msgspec.Struct, rename="camel"):
    """A fill or a funding payment (execution/list and the `execution` WS topic)."""

    symbol: str
    exec_id: str
    exec_type: str
    exec_price: str = ""
    exec_qty: str = ""
    exec_value: str = ""
    exec_fee: str = ""
    exec_time: str = "0"
    fee_rate: str = ""
    is_maker: bool = False
    side: str = ""
    order_id: str = ""
    order_link_id: str = ""
    order_type: str = ""
    order_price: str = ""
    order_qty: str = ""
    leaves_qty: str = ""
    mark_price: str = ""
    closed_size: str = ""
    exec_pnl: str = ""
    seq: int = 0
    category: str = ""


class ExecutionListResult(msgspec.Struct, rename="camel"):
    """GET /v5/execution/list (cursor-paged)."""

    category: str = ""
    items: list[ExecutionItem] = msgspec.field(default_factory=list, name="list")
    next_page_cursor: str = ""


class WalletCoin(msgspec.Struct, rename="camel"):
    """One coin of the unified wallet."""

    coin: str
    equity: str = ""
    usd_value: str = ""
    wallet_balance: str = ""
    locked: str = ""
    bonus: str = ""
    borrow_amount: str = ""
    total_order_im: str = msgspec.field(default="", name="totalOrderIM")
    total_position_im: str = msgspec.field(default="", name="totalPositionIM")
    total_position_mm: str = msgspec.field(default="", name="totalPositionMM")
    unrealised_pnl: str = ""
    cum_realised_pnl: str = ""
    available_to_withdraw: str = ""


class WalletAccount(msgspec.Struct, rename="camel"):
    """One account entry of wallet-balance (and of the `wallet` WS topic)."""

    account_type: str = ""
    total_equity: str = ""
    total_wallet_balance: str = ""
    total_margin_balance: str = ""
    total_available_balance: str = ""
    total_perp_upl: str = msgspec.field(default="", name="totalPerpUPL")
    total_initial_margin: str = ""
    total_maintenance_margin: str = ""
    account_im_rate: str = msgspec.field(default="", name="accountIMRate")
    account_mm_rate: str = msgspec.field(default="", name="accountMMRate")
    coin: list[WalletCoin] = msgspec.field(default_factory=list)


class WalletResult(msgspec.Struct, rename="camel"):
    """GET /v5/account/wallet-balance."""

    items: list[WalletAccount] = msgspec.field(default_factory=list, name="list")


class AccountInfoResult(msgspec.Struct, rename="camel"):
    """GET /v5/account/info."""

    unified_margin_status: int = 0
    margin_mode: str = ""
    updated_time: str = ""
    is_master_trader: bool = False
    spot_hedging_status: str = ""


class ApiKeyInfoResult(msgspec.Struct, rename="camel"):
    """GET /v5/user/query-api (`secret` is always "" on the wire and is not kept)."""

    id: str = ""
    note: str = ""
    read_only: int = 0
    permissions: dict[str, list[str]] = msgspec.field(default_factory=dict)
    ips: list[str] = msgspec.field(default_factory=list)
    type: int = 0
    uta: int = 0
    user_id: int = msgspec.field(default=0, name="userID")
    vip_level: str = ""
    is_master: bool = False
    expired_at: str = ""


class CoinChain(msgspec.Struct, rename="camel"):
    """One chain of a coin (asset/coin/query-info)."""

    chain: str = ""
    chain_type: str = ""
    withdraw_fee: str = ""
    chain_deposit: str = ""
    chain_withdraw: str = ""


class CoinInfoRow(msgspec.Struct, rename="camel"):
    """One coin of GET /v5/asset/coin/query-info."""

    coin: str = ""
    name: str = ""
    remain_amount: str = ""
    chains: list[CoinChain] = msgspec.field(default_factory=list)


class CoinInfoResult(msgspec.Struct, rename="camel"):
    """GET /v5/asset/coin/query-info (ccxt calls it; asym only decodes it)."""

    rows: list[CoinInfoRow] = msgspec.field(default_factory=list)


AnyDict = dict[str, Any]
