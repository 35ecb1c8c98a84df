"""Conversion of account wire structs (orders, fills, positions, wallet) to domain types, and of domain
order requests to Bybit request bodies (validated before anything is sent)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from asym.bybit.convert.common import ZERO, dec, dec0, ms, opt_price, parse_category, parse_side
from asym.bybit.wire.account import ExecutionItem, OrderItem, PositionItem, WalletAccount
from asym.domain import (
    Category,
    CoinBalance,
    ExecType,
    Execution,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    StopOrderType,
    TimeInForce,
    WalletBalance,
)
from asym.domain.venue import AmendRequest
from asym.errors import DataError, InvalidRequestError

ORDER_LINK_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,36}")

_STATUS = {s.value: s for s in OrderStatus}
# Bybit also reports transient statuses for orders not yet through the matching engine.
_STATUS.update({"Created": OrderStatus.NEW, "Active": OrderStatus.NEW})
_TIF = {t.value: t for t in TimeInForce}
_STOP = {s.value: s for s in StopOrderType}
_EXEC = {e.value: e for e in ExecType}
_ORDER_TYPE = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT}


def order(o: OrderItem, category: str = "") -> Order:
    """A venue order object (REST or WS)."""
    status = _STATUS.get(o.order_status)
    if status is None:
        raise DataError(f"order {o.order_id}: unknown orderStatus {o.order_status!r}")
    otype = _ORDER_TYPE.get(o.order_type)
    if otype is None:
        raise DataError(f"order {o.order_id}: unknown orderType {o.order_type!r}")
    avg = o.avg_price
    avg_price = dec(avg, "avgPrice") if avg else None
    if avg_price is not None and avg_price == 0:
        avg_price = None
    fee = o.cum_exec_fee
    if not fee and o.cum_fee_detail:
        # cumExecFee is deprecated for linear; fall back to the single-coin fee detail.
        fee = next(iter(o.cum_fee_detail.values()), "")
    return Order(
        order_id=o.order_id,
        order_link_id=o.order_link_id,
        symbol=o.symbol,
        side=parse_side(o.side),
        order_type=otype,
        price=dec0(o.price, "price"),
        qty=dec0(o.qty, "qty"),
        # RPI (maker-only) and unknown values fall back to GTC: the order rests on the book like one.
        time_in_force=_TIF.get(o.time_in_force, TimeInForce.GTC),
        status=status,
        cum_exec_qty=dec0(o.cum_exec_qty, "cumExecQty"),
        cum_exec_value=dec0(o.cum_exec_value, "cumExecValue"),
        cum_exec_fee=dec0(fee, "cumExecFee"),
        avg_price=avg_price,
        leaves_qty=dec0(o.leaves_qty, "leavesQty"),
        reduce_only=o.reduce_only,
        created_time=ms(o.created_time, "createdTime"),
        updated_time=ms(o.updated_time, "updatedTime"),
        take_profit=opt_price(o.take_profit, "takeProfit"),
        stop_loss=opt_price(o.stop_loss, "stopLoss"),
        trigger_price=opt_price(o.trigger_price, "triggerPrice"),
        trigger_direction=o.trigger_direction,
        stop_order_type=_STOP.get(o.stop_order_type, StopOrderType.NONE),
        reject_reason=o.reject_reason or "EC_NoError",
        cancel_type=o.cancel_type or "UNKNOWN",
        category=parse_category(o.category or category),
    )


def execution(e: ExecutionItem, category: str = "") -> Execution:
    """A fill or funding payment."""
    etype = _EXEC.get(e.exec_type)
    if etype is None:
        raise DataError(f"execution {e.exec_id}: execType {e.exec_type!r} is not supported")
    return Execution(
        exec_id=e.exec_id,
        order_id=e.order_id,
        order_link_id=e.order_link_id,
        symbol=e.symbol,
        side=parse_side(e.side),
        price=dec0(e.exec_price, "execPrice"),
        qty=dec0(e.exec_qty, "execQty"),
        value=dec0(e.exec_value, "execValue"),
        fee=dec0(e.exec_fee, "execFee"),
        fee_rate=dec0(e.fee_rate, "feeRate"),
        is_maker=e.is_maker,
        exec_type=etype,
        ts=ms(e.exec_time, "execTime"),
        closed_size=dec0(e.closed_size, "closedSize"),
        category=parse_category(e.category or category),
    )


def position(p: PositionItem, category: str = "") -> Position:
    """A position (flat: side None, size 0)."""
    size = dec0(p.size, "size")
    side = parse_side(p.side) if p.side and size != 0 else None
    return Position(
        symbol=p.symbol,
        side=side,
        size=size,
        avg_price=dec0(p.avg_price or p.entry_price, "avgPrice"),
        mark_price=dec0(p.mark_price, "markPrice"),
        leverage=dec0(p.leverage, "leverage"),
        position_value=dec0(p.position_value, "positionValue"),
        unrealised_pnl=dec0(p.unrealised_pnl, "unrealisedPnl"),
        cum_realised_pnl=dec0(p.cum_realised_pnl, "cumRealisedPnl"),
        liq_price=opt_price(p.liq_price, "liqPrice"),
        take_profit=opt_price(p.take_profit, "takeProfit"),
        stop_loss=opt_price(p.stop_loss, "stopLoss"),
        position_im=dec0(p.position_im, "positionIM"),
        position_mm=dec0(p.position_mm, "positionMM"),
        updated_time=ms(p.updated_time, "updatedTime"),
        position_idx=p.position_idx,
        category=parse_category(p.category or category),
    )


def wallet(a: WalletAccount, ts: int) -> WalletBalance:
    """The unified wallet. A coin's `available` is availableToWithdraw when Bybit fills it, else
    walletBalance - totalPositionIM - totalOrderIM - locked, floored at 0 (Bybit often sends "")."""
    coins = []
    for c in a.coin:
        wb = dec0(c.wallet_balance, "walletBalance")
        pos_im = dec0(c.total_position_im, "totalPositionIM")
        ord_im = dec0(c.total_order_im, "totalOrderIM")
        if c.available_to_withdraw:
            available = dec(c.available_to_withdraw, "availableToWithdraw")
        else:
            available = max(ZERO, wb - pos_im - ord_im - dec0(c.locked, "locked"))
        coins.append(
            CoinBalance(
                coin=c.coin,
                wallet_balance=wb,
                equity=dec0(c.equity, "equity"),
                unrealised_pnl=dec0(c.unrealised_pnl, "unrealisedPnl"),
                cum_realised_pnl=dec0(c.cum_realised_pnl, "cumRealisedPnl"),
                total_position_im=pos_im,
                total_order_im=ord_im,
                available=available,
            )
        )
    return WalletBalance(
        total_equity=dec0(a.total_equity, "totalEquity"),
        total_wallet_balance=dec0(a.total_wallet_balance, "totalWalletBalance"),
        total_margin_balance=dec0(a.total_margin_balance, "totalMarginBalance"),
        total_available_balance=dec0(a.total_available_balance, "totalAvailableBalance"),
        total_initial_margin=dec0(a.total_initial_margin, "totalInitialMargin"),
        total_maintenance_margin=dec0(a.total_maintenance_margin, "totalMaintenanceMargin"),
        coins=tuple(coins),
        ts=ts,
    )


# ---------------------------------------------------------------- requests (domain -> wire)


def wire_decimal(d: Decimal) -> str:
    """A Decimal as Bybit wants it: plain notation, never exponent ("1E+2" -> "100")."""
    return format(d, "f")


def validate_order_link_id(link_id: str, endpoint: str = "/v5/order/create") -> None:
    """orderLinkId must be 1-36 chars of [A-Za-z0-9_-]; InvalidRequestError otherwise (nothing is sent)."""
    if not isinstance(link_id, str) or ORDER_LINK_ID_RE.fullmatch(link_id) is None:
        raise InvalidRequestError(
            f"orderLinkId must be 1-36 characters of [A-Za-z0-9_-], got {link_id!r}", endpoint=endpoint
        )


def _positive(value: Decimal | None, name: str, endpoint: str) -> None:
    if value is not None and (not value.is_finite() or value <= 0):
        raise InvalidRequestError(f"{name} must be a positive finite number, got {value}", endpoint=endpoint)


def order_body(req: OrderRequest, with_category: bool = True) -> dict[str, Any]:
    """The create-order body of a validated request (InvalidRequestError before sending when invalid)."""
    ep = "/v5/order/create"
    validate_order_link_id(req.order_link_id, ep)
    if not req.symbol or not req.symbol.isalnum():
        raise InvalidRequestError(f"symbol must be alphanumeric, got {req.symbol!r}", endpoint=ep)
    _positive(req.qty, "qty", ep)
    for name in ("price", "take_profit", "stop_loss", "trigger_price"):
        _positive(getattr(req, name), name, ep)
    if req.order_type is OrderType.LIMIT and req.price is None:
        raise InvalidRequestError("a Limit order needs a price", endpoint=ep)
    if req.trigger_price is not None and req.trigger_direction not in (1, 2):
        raise InvalidRequestError(
            "a conditional order needs trigger_direction 1 (rise) or 2 (fall)", endpoint=ep
        )
    body: dict[str, Any] = {}
    if with_category:
        body["category"] = req.category.value
    body["symbol"] = req.symbol
    body["side"] = req.side.value
    body["orderType"] = req.order_type.value
    body["qty"] = wire_decimal(req.qty)
    if req.price is not None and req.order_type is OrderType.LIMIT:
        body["price"] = wire_decimal(req.price)
    if req.time_in_force is not None:
        body["timeInForce"] = req.time_in_force.value
    body["orderLinkId"] = req.order_link_id
    body["positionIdx"] = req.position_idx
    if req.reduce_only:
        body["reduceOnly"] = True
    if req.close_on_trigger:
        body["closeOnTrigger"] = True
    if req.trigger_price is not None:
        body["triggerPrice"] = wire_decimal(req.trigger_price)
        body["triggerDirection"] = req.trigger_direction
        if req.trigger_by is not None:
            body["triggerBy"] = req.trigger_by.value
    if req.take_profit is not None:
        body["takeProfit"] = wire_decimal(req.take_profit)
        if req.tp_trigger_by is not None:
            body["tpTriggerBy"] = req.tp_trigger_by.value
    if req.stop_loss is not None:
        body["stopLoss"] = wire_decimal(req.stop_loss)
        if req.sl_trigger_by is not None:
            body["slTriggerBy"] = req.sl_trigger_by.value
    return body


def amend_body(req: AmendRequest) -> dict[str, Any]:
    """The amend-order body of a request (InvalidRequestError before sending when it names no order)."""
    ep = "/v5/order/amend"
    if not req.order_id and not req.order_link_id:
        raise InvalidRequestError("amend needs order_id or order_link_id", endpoint=ep)
    if req.order_link_id:
        validate_order_link_id(req.order_link_id, ep)
    body: dict[str, Any] = {"category": req.category.value, "symbol": req.symbol}
    if req.order_id:
        body["orderId"] = req.order_id
    else:
        body["orderLinkId"] = req.order_link_id
    for key, value in (
        ("qty", req.qty),
        ("price", req.price),
        ("triggerPrice", req.trigger_price),
        ("takeProfit", req.take_profit),
        ("stopLoss", req.stop_loss),
    ):
        if value is not None:
            body[key] = wire_decimal(value)
    return body


def parse_order_category(value: str) -> Category:
    """Category of a wire value ("" -> linear)."""
    return parse_category(value)
