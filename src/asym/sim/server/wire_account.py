"""Account objects of the matching engine -> Bybit V5 JSON (orders, executions, positions, wallet).

Money is written exactly (no rounding) with `dec`; derived ratios (average prices, margin rates) are
rounded to 8 decimals. The WebSocket variants differ from REST as Bybit's do (`category`, `entryPrice`,
`closedPnl`, `execPnl`, `extraFees` as a list).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asym.sim.engine.types import SimCoin, SimExecution, SimOrder, SimPosition, SimWallet
from asym.sim.server.wire_market import dec
from asym.sim.types import SimInstrument

_Q8 = Decimal("0.00000001")
_Q4 = Decimal("0.0001")


def _ratio(value: Decimal, quantum: Decimal = _Q8) -> str:
    return dec(value.quantize(quantum))


def avg_price(inst: SimInstrument, value: Decimal, qty_steps: int) -> str:
    """value / qty written with tick decimals when exact, else up to 8 decimals ("0" without fills)."""
    if qty_steps <= 0:
        return "0"
    avg = value / inst.qty.to_decimal(qty_steps)
    ticks, rem = divmod(avg, inst.price.step)
    if rem == 0:
        return inst.price.to_str(int(ticks))
    return _ratio(avg)


def _opt_price(inst: SimInstrument, ticks: int | None, empty: str) -> str:
    return empty if ticks is None or ticks == 0 else inst.price.to_str(ticks)


def order_item(inst: SimInstrument, o: SimOrder, ws: bool = False) -> dict[str, Any]:
    """One order object (REST order/realtime, order/history; `ws` adds the `order` topic's fields)."""
    p = inst.price
    q = inst.qty
    zero_price = p.to_str(0)
    leaves = o.leaves_qty
    leaves_value = q.to_decimal(leaves) * p.to_decimal(o.price) if leaves else Decimal(0)
    item: dict[str, Any] = {
        "orderId": o.order_id,
        "orderLinkId": o.order_link_id,
        "parentOrderLinkId": "",
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": p.to_str(o.price),
        "qty": q.to_str(o.qty),
        "side": str(o.side),
        "isLeverage": "",
        "positionIdx": o.position_idx,
        "orderStatus": str(o.status),
        "createType": o.create_type,
        "cancelType": o.cancel_type,
        "rejectReason": o.reject_reason,
        "avgPrice": avg_price(inst, o.cum_exec_value, o.cum_exec_qty),
        "leavesQty": q.to_str(leaves),
        "leavesValue": dec(leaves_value),
        "cumExecQty": q.to_str(o.cum_exec_qty),
        "cumExecValue": dec(o.cum_exec_value),
        "cumExecFee": dec(o.cum_exec_fee),
        "cumFeeDetail": {"USDT": dec(o.cum_exec_fee)} if o.cum_exec_fee else {},
        "timeInForce": str(o.time_in_force),
        "orderType": str(o.order_type),
        "stopOrderType": str(o.stop_order_type) or "UNKNOWN",
        "orderIv": "",
        "marketUnit": "",
        "triggerPrice": _opt_price(inst, o.trigger_price, zero_price),
        "takeProfit": _opt_price(inst, o.take_profit, zero_price),
        "stopLoss": _opt_price(inst, o.stop_loss, zero_price),
        "tpslMode": o.tpsl_mode,
        "ocoTriggerBy": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "tpTriggerBy": str(o.tp_trigger_by) if o.tp_trigger_by else "UNKNOWN",
        "slTriggerBy": str(o.sl_trigger_by) if o.sl_trigger_by else "UNKNOWN",
        "triggerDirection": o.trigger_direction,
        "triggerBy": str(o.trigger_by) if o.trigger_by else "UNKNOWN",
        "lastPriceOnCreated": _opt_price(inst, o.last_price_on_created, ""),
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": o.close_on_trigger,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "createdTime": str(o.created_time),
        "updatedTime": str(o.updated_time),
        "slippageToleranceType": "UNKNOWN",
        "slippageTolerance": "",
        "extraFees": "",
        "rpiTakerAccess": False,
        "rpiMatchedQty": "0",
    }
    if ws:
        item["category"] = "linear"
        item["closedPnl"] = "0"
        item["feeCurrency"] = "USDT"
        item["brokerOrderPrice"] = ""
    return item


def execution_item(inst: SimInstrument, e: SimExecution, ws: bool = False) -> dict[str, Any]:
    """One execution (REST execution/list; `ws` gives the `execution` topic's variant)."""
    p = inst.price
    q = inst.qty
    is_trade = e.order_type is not None
    item: dict[str, Any] = {
        "symbol": e.symbol,
        "orderType": str(e.order_type) if e.order_type is not None else "UNKNOWN",
        "underlyingPrice": "",
        "orderLinkId": e.order_link_id,
        "side": str(e.side),
        "indexPrice": p.to_str(e.index_price) if e.index_price else "",
        "orderId": e.order_id,
        "stopOrderType": str(e.stop_order_type) or "UNKNOWN",
        "leavesQty": q.to_str(e.leaves_qty),
        "execTime": str(e.exec_time),
        "feeCurrency": "USDT",
        "createType": e.create_type,
        "isMaker": e.is_maker,
        "execFee": dec(e.exec_fee),
        "execFeeV2": "",
        "feeRate": dec(e.fee_rate),
        "execId": e.exec_id,
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": p.to_str(e.mark_price),
        "execPrice": p.to_str(e.exec_price),
        "markIv": "",
        "orderQty": q.to_str(e.order_qty) if is_trade else "0",
        "orderPrice": p.to_str(e.order_price) if is_trade else "0",
        "execValue": dec(e.exec_value),
        "execType": str(e.exec_type),
        "execQty": q.to_str(e.exec_qty),
        "closedSize": q.to_str(e.closed_size),
        "extraFees": "",
        "marketUnit": "",
        "seq": e.seq,
    }
    if ws:
        item["category"] = "linear"
        item["isLeverage"] = "0"
        item["execPnl"] = dec(e.exec_pnl)
        item["extraFees"] = []
    return item


def position_item(inst: SimInstrument, pos: SimPosition, ws: bool = False) -> dict[str, Any]:
    """One position (REST position/list; `ws` gives the `position` topic's variant)."""
    p = inst.price
    flat = pos.size == 0
    avg = "0" if flat else _ratio(pos.avg_price)
    item: dict[str, Any] = {
        "positionIdx": pos.position_idx,
        "riskId": pos.risk_id,
        "riskLimitValue": dec(pos.risk_limit_value),
        "symbol": pos.symbol,
        "side": str(pos.side) if pos.side is not None and not flat else "",
        "size": inst.qty.to_str(pos.size),
        "avgPrice": avg,
        "positionValue": dec(pos.position_value),
        "tradeMode": 0,
        "autoAddMargin": 0,
        "positionStatus": pos.position_status,
        "leverage": dec(pos.leverage),
        "markPrice": p.to_str(pos.mark_price),
        "liqPrice": _opt_price(inst, pos.liq_price, ""),
        "bustPrice": _opt_price(inst, pos.bust_price, ""),
        "positionIM": _ratio(pos.position_im),
        "positionIMByMp": _ratio(pos.position_im),
        "positionMM": _ratio(pos.position_mm),
        "positionMMByMp": _ratio(pos.position_mm),
        "positionBalance": _ratio(pos.position_im),
        "takeProfit": _opt_price(inst, pos.take_profit, ""),
        "stopLoss": _opt_price(inst, pos.stop_loss, ""),
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "delta": "",
        "gamma": "",
        "vega": "",
        "theta": "",
        "unrealisedPnl": dec(pos.unrealised_pnl),
        "curRealisedPnl": dec(pos.cur_realised_pnl),
        "cumRealisedPnl": dec(pos.cum_realised_pnl),
        "adlRankIndicator": 0 if flat else 2,
        "createdTime": str(pos.created_time),
        "updatedTime": str(pos.updated_time),
        "openTime": 0 if flat else pos.created_time,
        "seq": pos.seq,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "tpslMode": "Full",
        "breakEvenPrice": avg,
    }
    if ws:
        item["entryPrice"] = item.pop("avgPrice")
        item["category"] = "linear"
    return item


def coin_item(c: SimCoin) -> dict[str, Any]:
    """One coin of a unified wallet."""
    return {
        "coin": c.coin,
        "equity": dec(c.equity),
        "usdValue": dec(c.equity),
        "walletBalance": dec(c.wallet_balance),
        "free": "",
        "locked": "0",
        "spotHedgingQty": "0",
        "borrowAmount": "0",
        "availableToBorrow": "",
        "availableToWithdraw": dec(c.available),
        "accruedInterest": "0",
        "totalOrderIM": dec(c.total_order_im),
        "totalPositionIM": dec(c.total_position_im),
        "totalPositionMM": dec(c.total_position_mm),
        "unrealisedPnl": dec(c.unrealised_pnl),
        "cumRealisedPnl": dec(c.cum_realised_pnl),
        "bonus": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
        "spotBorrow": "0",
    }


def wallet_item(w: SimWallet, coins: set[str] | None = None) -> dict[str, Any]:
    """One UNIFIED account entry of wallet-balance (and of the `wallet` topic)."""
    return {
        "accountType": "UNIFIED",
        "accountIMRate": _ratio(w.account_im_rate, _Q4),
        "accountIMRateByMp": _ratio(w.account_im_rate, _Q4),
        "accountMMRate": _ratio(w.account_mm_rate, _Q4),
        "accountMMRateByMp": _ratio(w.account_mm_rate, _Q4),
        "totalEquity": dec(w.total_equity),
        "totalWalletBalance": dec(w.total_wallet_balance),
        "totalMarginBalance": dec(w.total_margin_balance),
        "totalAvailableBalance": dec(w.total_available_balance),
        "totalPerpUPL": dec(w.total_perp_upl),
        "totalInitialMargin": dec(w.total_initial_margin),
        "totalInitialMarginByMp": dec(w.total_initial_margin),
        "totalMaintenanceMargin": dec(w.total_maintenance_margin),
        "totalMaintenanceMarginByMp": dec(w.total_maintenance_margin),
        "accountLTV": "0",
        "coin": [coin_item(c) for c in w.coins if coins is None or c.coin in coins],
    }
