"""Order endpoints (`/v5/order/*`): create, amend, cancel, cancel-all, realtime, history and the batches."""

from __future__ import annotations

import re
from typing import Any

from asym.domain import OrderStatus, OrderType, Side, TimeInForce, TriggerBy
from asym.sim.engine.types import AmendOrder, PlaceOrder, SimOrder
from asym.sim.server.context import SYMBOL_INVALID, Ctx, Reply, Route, page
from asym.sim.server.envelope import ApiError
from asym.sim.server.params import Params
from asym.sim.server.wire_account import order_item
from asym.sim.types import SimInstrument, SimRejection

_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_SIDES = {s.value: s for s in Side}
_TYPES = {t.value: t for t in OrderType}
_TIFS = {t.value: t for t in TimeInForce}
_TRIGGERS = {t.value: t for t in TriggerBy}
MAX_BATCH = 20


def _enum(
    params: Params, name: str, table: dict[str, Any], default: Any = None, *, required: bool = False
) -> Any:
    raw = params.string(name, required=required)
    if not raw:
        return default
    value = table.get(raw)
    if value is None:
        raise ApiError(10001, f"params error: {name} invalid")
    return value


def _link_id(params: Params) -> str:
    link = params.string("orderLinkId")
    if link and not _LINK_ID.match(link):
        raise ApiError(10001, "params error: orderLinkId invalid (at most 36 of [A-Za-z0-9_-])")
    return link


def _position_idx(params: Params) -> int:
    idx = params.integer("positionIdx", 0)
    if idx != 0:
        raise ApiError(10001, "position idx not match position mode")
    return 0


def _category(params: Params) -> str:
    return params.category()


def _instrument(ctx: Ctx, params: Params, category: str, *, write: bool = True) -> SimInstrument:
    symbol = params.string("symbol", required=True)
    inst = ctx.exchange.instrument(symbol) if category == "linear" else None
    if inst is None:
        raise ApiError(10001, SYMBOL_INVALID)
    if write:
        ctx.exchange.touch(symbol)
    return inst


def parse_place(params: Params, inst: SimInstrument) -> PlaceOrder:
    """A create-order body -> PlaceOrder (types and grids checked here; business rules in the engine)."""
    p = inst.price
    side = _enum(params, "side", _SIDES, required=True)
    order_type = _enum(params, "orderType", _TYPES, required=True)
    reduce_only = params.boolean("reduceOnly")
    close_on_trigger = params.boolean("closeOnTrigger")
    qty = params.steps("qty", inst.qty, required=True, allow_zero=True)
    assert qty is not None
    if qty == 0 and not (reduce_only and close_on_trigger):
        raise ApiError(10001, "params error: qty invalid")
    price = params.steps("price", p)
    if order_type is OrderType.LIMIT and price is None:
        raise ApiError(10001, "params error: price is required for a Limit order")
    if order_type is OrderType.MARKET:
        price = None  # Bybit ignores price on Market orders
    trigger_direction = params.integer("triggerDirection", None)
    if trigger_direction not in (None, 0, 1, 2):
        raise ApiError(10001, "params error: triggerDirection invalid")
    trigger_price = params.steps("triggerPrice", p)
    if trigger_price is not None and trigger_direction in (None, 0):
        raise ApiError(10001, "params error: triggerDirection is required with triggerPrice")
    tpsl_mode = params.string("tpslMode")
    if tpsl_mode not in ("", "Full", "Partial"):
        raise ApiError(10001, "params error: tpslMode invalid")
    take_profit = params.steps("takeProfit", p, allow_zero=True) or None
    stop_loss = params.steps("stopLoss", p, allow_zero=True) or None
    if reduce_only and (take_profit or stop_loss):
        raise ApiError(110057, "TP/SL cannot be set on a reduce-only order")
    return PlaceOrder(
        symbol=inst.symbol,
        side=side,
        order_type=order_type,
        qty=qty,
        price=price,
        time_in_force=_enum(params, "timeInForce", _TIFS),
        order_link_id=_link_id(params),
        reduce_only=reduce_only,
        close_on_trigger=close_on_trigger,
        trigger_price=trigger_price,
        trigger_direction=trigger_direction or None,
        trigger_by=_enum(params, "triggerBy", _TRIGGERS, TriggerBy.LAST),
        take_profit=take_profit,
        stop_loss=stop_loss,
        tp_trigger_by=_enum(params, "tpTriggerBy", _TRIGGERS, TriggerBy.LAST),
        sl_trigger_by=_enum(params, "slTriggerBy", _TRIGGERS, TriggerBy.LAST),
        tpsl_mode=tpsl_mode or ("Full" if (take_profit or stop_loss) else ""),
        tp_order_type=_enum(params, "tpOrderType", _TYPES, OrderType.MARKET),
        sl_order_type=_enum(params, "slOrderType", _TYPES, OrderType.MARKET),
        tp_limit_price=params.steps("tpLimitPrice", p),
        sl_limit_price=params.steps("slLimitPrice", p),
        position_idx=_position_idx(params),
    )


def _ids(params: Params) -> tuple[str, str]:
    order_id = params.string("orderId")
    link = params.string("orderLinkId")
    if not order_id and not link:
        raise ApiError(10001, "params error: orderId or orderLinkId is required")
    # Bybit: when both are given, orderId wins.
    return order_id, "" if order_id else link


def _ack(o: SimOrder) -> dict[str, str]:
    return {"orderId": o.order_id, "orderLinkId": o.order_link_id}


def create(ctx: Ctx) -> dict[str, str]:
    """POST /v5/order/create."""
    params = ctx.params
    inst = _instrument(ctx, params, _category(params))
    cmd = parse_place(params, inst)
    ex = ctx.exchange
    return _ack(ex.engine.place_order(ctx.uid, cmd, ex.now_ms()))


def parse_amend(params: Params, inst: SimInstrument) -> AmendOrder:
    """An amend body -> AmendOrder (takeProfit/stopLoss "0" removes them)."""
    order_id, link = _ids(params)
    return AmendOrder(
        symbol=inst.symbol,
        order_id=order_id,
        order_link_id=link,
        qty=params.steps("qty", inst.qty),
        price=params.steps("price", inst.price),
        trigger_price=params.steps("triggerPrice", inst.price),
        take_profit=params.steps("takeProfit", inst.price, allow_zero=True),
        stop_loss=params.steps("stopLoss", inst.price, allow_zero=True),
    )


def amend(ctx: Ctx) -> dict[str, str]:
    """POST /v5/order/amend."""
    params = ctx.params
    inst = _instrument(ctx, params, _category(params))
    cmd = parse_amend(params, inst)
    ex = ctx.exchange
    return _ack(ex.engine.amend_order(ctx.uid, cmd, ex.now_ms()))


def cancel(ctx: Ctx) -> dict[str, str]:
    """POST /v5/order/cancel."""
    params = ctx.params
    inst = _instrument(ctx, params, _category(params))
    order_id, link = _ids(params)
    ex = ctx.exchange
    return _ack(ex.engine.cancel_order(ctx.uid, inst.symbol, order_id, link, ex.now_ms()))


_ORDER_FILTERS = {"Order": "Order", "StopOrder": "StopOrder", "OpenOrder": "Order", "tpslOrder": "tpslOrder"}


def cancel_all(ctx: Ctx) -> dict[str, Any]:
    """POST /v5/order/cancel-all (linear: symbol, baseCoin or settleCoin is required)."""
    params = ctx.params
    category = _category(params)
    raw_filter = params.string("orderFilter")
    if raw_filter and raw_filter not in _ORDER_FILTERS:
        raise ApiError(10001, "params error: orderFilter invalid")
    order_filter = _ORDER_FILTERS.get(raw_filter) if raw_filter else None
    ex = ctx.exchange
    if category != "linear":
        if params.has("symbol"):
            raise ApiError(10001, SYMBOL_INVALID)
        return {"list": [], "success": "1"}
    symbols: list[str | None]
    if params.has("symbol"):
        symbols = [_instrument(ctx, params, category).symbol]
    elif params.has("baseCoin"):
        base = params.string("baseCoin")
        open_symbols = {
            o.symbol
            for o in ex.engine.orders(ctx.uid, symbol=None, order_id="", order_link_id="", open_only=True)
        }
        symbols = [
            s
            for s in sorted(open_symbols)
            if (i := ex.instrument(s)) is not None and i.info.base_coin == base
        ]
    elif params.has("settleCoin"):
        if params.string("settleCoin") != "USDT":
            return {"list": [], "success": "1"}
        symbols = [None]
    else:
        raise ApiError(10001, "params error: symbol, baseCoin or settleCoin is required")
    cancelled: list[SimOrder] = []
    for sym in symbols:
        cancelled.extend(ex.engine.cancel_all(ctx.uid, sym, order_filter, ex.now_ms()))
    return {"list": [_ack(o) for o in cancelled[:500]], "success": "1"}


def _query_orders(ctx: Ctx, open_only: bool) -> tuple[str, list[SimOrder]]:
    params = ctx.params
    category = _category(params)
    if category != "linear":
        if params.has("symbol"):
            raise ApiError(10001, SYMBOL_INVALID)
        return category, []
    symbol: str | None = None
    if params.has("symbol"):
        symbol = _instrument(ctx, params, category, write=False).symbol
    order_id = params.string("orderId")
    link = "" if order_id else params.string("orderLinkId")
    by_id = bool(order_id or link)
    base = params.string("baseCoin")
    settle = params.string("settleCoin")
    if symbol is None and not base and not settle and not by_id and open_only:
        raise ApiError(10001, "params error: symbol, baseCoin or settleCoin is required")
    if settle and settle != "USDT":
        return category, []
    orders = ctx.exchange.engine.orders(
        ctx.uid, symbol=symbol, order_id=order_id, order_link_id=link, open_only=open_only and not by_id
    )
    if base:
        orders = [
            o
            for o in orders
            if (i := ctx.exchange.instrument(o.symbol)) is not None and i.info.base_coin == base
        ]
    flt = params.string("orderFilter")
    if flt == "StopOrder":
        orders = [o for o in orders if o.trigger_price is not None or str(o.stop_order_type)]
    elif flt == "Order":
        orders = [o for o in orders if o.trigger_price is None and not str(o.stop_order_type)]
    elif flt and flt not in ("tpslOrder", "OcoOrder", "BidirectionalTpslOrder"):
        raise ApiError(10001, "params error: orderFilter invalid")
    return category, orders


def _order_list(ctx: Ctx, category: str, orders: list[SimOrder]) -> dict[str, Any]:
    chunk, nxt = page(orders, ctx, 20, 50)
    ex = ctx.exchange
    out = []
    for o in chunk:
        inst = ex.instrument(o.symbol)
        if inst is not None:
            out.append(order_item(inst, o))
    return {"list": out, "nextPageCursor": nxt, "category": category}


def realtime(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/order/realtime: open orders (openOnly=0), the recent closed ones (openOnly=1), or by
    orderId/orderLinkId whatever the status (Bybit ignores openOnly for id lookups)."""
    open_only = ctx.params.integer("openOnly", 0, lo=0, hi=2) == 0
    category, orders = _query_orders(ctx, open_only)
    by_id = ctx.params.has("orderId") or ctx.params.has("orderLinkId")
    if not open_only and not by_id:
        orders = [o for o in orders if not o.status.is_open]
    return _order_list(ctx, category, orders)


_STATUSES = {s.value for s in OrderStatus}


def history(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/order/history (every order the account placed, newest first, filterable)."""
    params = ctx.params
    category, orders = _query_orders(ctx, False)
    status = params.string("orderStatus")
    if status:
        wanted = set(status.split(","))
        if not wanted <= _STATUSES:
            raise ApiError(10001, "params error: orderStatus invalid")
        orders = [o for o in orders if o.status.value in wanted]
    start = params.integer("startTime", None, lo=0)
    end = params.integer("endTime", None, lo=0)
    if start is not None:
        orders = [o for o in orders if o.created_time >= start]
    if end is not None:
        orders = [o for o in orders if o.created_time <= end]
    return _order_list(ctx, category, orders)


def _batch_items(ctx: Ctx) -> tuple[str, list[Params]]:
    params = ctx.params
    category = _category(params)
    raw = params.raw("request")
    if not isinstance(raw, list) or not raw:
        raise ApiError(10001, "params error: request must be a non-empty list")
    if len(raw) > MAX_BATCH:
        raise ApiError(10001, f"params error: at most {MAX_BATCH} orders per batch")
    items = []
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(10001, "params error: request items must be objects")
        items.append(Params(item))
    return category, items


def _run_batch(ctx: Ctx, fn: Any) -> Reply:
    """Run `fn(item_params, inst) -> SimOrder` per item; per-item errors go to retExtInfo.list."""
    category, items = _batch_items(ctx)
    results: list[dict[str, Any]] = []
    ext: list[dict[str, Any]] = []
    now = ctx.exchange.now_ms()
    for i, item in enumerate(items):
        symbol = item.string("symbol")
        link = item.string("orderLinkId")
        entry = {"category": category, "symbol": symbol, "orderId": "", "orderLinkId": link, "createAt": ""}
        if i >= ctx.granted:
            results.append(entry)
            ext.append({"code": 10006, "msg": "Too many visits!"})
            continue
        try:
            inst = _instrument(ctx, item, category)
            order = fn(item, inst, now)
        except ApiError as exc:
            ext.append({"code": exc.ret_code, "msg": exc.ret_msg})
        except SimRejection as exc:
            ext.append({"code": exc.ret_code, "msg": exc.ret_msg})
        else:
            entry["orderId"] = order.order_id
            entry["orderLinkId"] = order.order_link_id
            entry["createAt"] = str(order.created_time)
            ext.append({"code": 0, "msg": "OK"})
        results.append(entry)
    return Reply({"list": results}, ret_msg="OK", ret_ext_info={"list": ext})


def create_batch(ctx: Ctx) -> Reply:
    """POST /v5/order/create-batch (per-order results, index-aligned in result.list and retExtInfo.list)."""

    def place(item: Params, inst: SimInstrument, now: int) -> SimOrder:
        return ctx.exchange.engine.place_order(ctx.uid, parse_place(item, inst), now)

    return _run_batch(ctx, place)


def amend_batch(ctx: Ctx) -> Reply:
    """POST /v5/order/amend-batch."""

    def do_amend(item: Params, inst: SimInstrument, now: int) -> SimOrder:
        return ctx.exchange.engine.amend_order(ctx.uid, parse_amend(item, inst), now)

    reply = _run_batch(ctx, do_amend)
    for entry in reply.result["list"]:
        entry.pop("createAt", None)
    return reply


def cancel_batch(ctx: Ctx) -> Reply:
    """POST /v5/order/cancel-batch."""

    def do_cancel(item: Params, inst: SimInstrument, now: int) -> SimOrder:
        order_id, link = _ids(item)
        return ctx.exchange.engine.cancel_order(ctx.uid, inst.symbol, order_id, link, now)

    reply = _run_batch(ctx, do_cancel)
    for entry in reply.result["list"]:
        entry.pop("createAt", None)
    return reply


ROUTES = [
    Route("POST", "/v5/order/create", create, private=True, write=True),
    Route("POST", "/v5/order/amend", amend, private=True, write=True),
    Route("POST", "/v5/order/cancel", cancel, private=True, write=True),
    Route("POST", "/v5/order/cancel-all", cancel_all, private=True, write=True),
    Route("GET", "/v5/order/realtime", realtime, private=True),
    Route("GET", "/v5/order/history", history, private=True),
    Route("POST", "/v5/order/create-batch", create_batch, private=True, write=True, batch=True),
    Route("POST", "/v5/order/amend-batch", amend_batch, private=True, write=True, batch=True),
    Route("POST", "/v5/order/cancel-batch", cancel_batch, private=True, write=True, batch=True),
]
