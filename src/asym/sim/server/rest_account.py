"""Position, execution, account, user and asset endpoints (all private)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from asym.domain import TriggerBy
from asym.sim.engine.types import TradingStop
from asym.sim.server.context import SYMBOL_INVALID, Ctx, Route, page
from asym.sim.server.envelope import ApiError
from asym.sim.server.wire_account import execution_item, position_item, wallet_item
from asym.sim.types import SimInstrument

_TRIGGERS = {t.value: t for t in TriggerBy}
TAKER_FEE = "0.00055"
MAKER_FEE = "0.0002"


def _linear(ctx: Ctx) -> str:
    category = ctx.params.category()
    if category not in ("linear", "inverse", "option"):
        raise ApiError(10001, "Illegal category")
    return category


def _symbol(ctx: Ctx, category: str, *, write: bool = False) -> SimInstrument:
    symbol = ctx.params.string("symbol", required=True)
    inst = ctx.exchange.instrument(symbol) if category == "linear" else None
    if inst is None:
        raise ApiError(10001, SYMBOL_INVALID)
    if write:
        ctx.exchange.touch(symbol)
    return inst


def position_list(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/position/list (by symbol: even flat; by settleCoin: open positions only)."""
    category = _linear(ctx)
    p = ctx.params
    ex = ctx.exchange
    if p.has("symbol"):
        inst = _symbol(ctx, category)
        positions = ex.engine.positions(ctx.uid, inst.symbol)
    elif p.has("settleCoin") or p.has("baseCoin"):
        if category != "linear" or p.string("settleCoin", "USDT") != "USDT":
            positions = []
        else:
            positions = [pos for pos in ex.engine.positions(ctx.uid, None) if pos.size > 0]
    else:
        raise ApiError(10001, "params error: symbol or settleCoin is required")
    chunk, nxt = page(positions, ctx, 20, 200)
    out = []
    for pos in chunk:
        inst_ = ex.instrument(pos.symbol)
        if inst_ is not None:
            out.append(position_item(inst_, pos))
    return {"list": out, "nextPageCursor": nxt, "category": category}


def _leverage(ctx: Ctx, name: str) -> Decimal:
    raw = ctx.params.string(name, required=True)
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ApiError(10001, f"params error: {name} invalid") from exc
    if not value.is_finite() or value <= 0:
        raise ApiError(10001, f"params error: {name} invalid")
    return value


def set_leverage(ctx: Ctx) -> dict[str, Any]:
    """POST /v5/position/set-leverage (one-way mode: buy and sell leverage must be equal)."""
    category = _linear(ctx)
    inst = _symbol(ctx, category, write=True)
    buy = _leverage(ctx, "buyLeverage")
    sell = _leverage(ctx, "sellLeverage")
    if buy != sell:
        raise ApiError(10001, "buyLeverage and sellLeverage must be equal in one-way mode")
    ex = ctx.exchange
    ex.engine.set_leverage(ctx.uid, inst.symbol, buy, ex.now_ms())
    return {}


def trading_stop(ctx: Ctx) -> dict[str, Any]:
    """POST /v5/position/trading-stop (tpslMode Full; "0" removes a TP/SL)."""
    category = _linear(ctx)
    inst = _symbol(ctx, category, write=True)
    p = ctx.params
    mode = p.string("tpslMode", "Full")
    if mode not in ("Full", "Partial"):
        raise ApiError(10001, "params error: tpslMode invalid")
    idx = p.integer("positionIdx", 0)
    if idx != 0:
        raise ApiError(10001, "position idx not match position mode")
    if p.has("trailingStop") and p.string("trailingStop") not in ("0", "0.0"):
        raise ApiError(10001, "params error: trailingStop is not supported by the simulator")

    def trig(name: str) -> TriggerBy:
        raw = p.string(name)
        if not raw:
            return TriggerBy.LAST
        t = _TRIGGERS.get(raw)
        if t is None:
            raise ApiError(10001, f"params error: {name} invalid")
        return t

    cmd = TradingStop(
        symbol=inst.symbol,
        take_profit=p.steps("takeProfit", inst.price, allow_zero=True),
        stop_loss=p.steps("stopLoss", inst.price, allow_zero=True),
        tp_trigger_by=trig("tpTriggerBy"),
        sl_trigger_by=trig("slTriggerBy"),
        tpsl_mode=mode,
        position_idx=0,
    )
    ex = ctx.exchange
    ex.engine.trading_stop(ctx.uid, cmd, ex.now_ms())
    return {}


def switch_mode(ctx: Ctx) -> dict[str, Any]:
    """POST /v5/position/switch-mode (the simulator trades one-way mode only)."""
    _linear(ctx)
    mode = ctx.params.integer("mode", None)
    if mode is None:
        raise ApiError(10001, "params error: mode is required")
    if not (ctx.params.has("symbol") or ctx.params.has("coin")):
        raise ApiError(10001, "params error: symbol or coin is required")
    if mode == 0:
        raise ApiError(110025, "Position mode is not modified")
    if mode == 3:
        raise ApiError(10001, "hedge mode is not supported by the simulator")
    raise ApiError(10001, "params error: mode invalid")


def execution_list(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/execution/list (fills and funding, newest first)."""
    category = _linear(ctx)
    p = ctx.params
    ex = ctx.exchange
    symbol = _symbol(ctx, category).symbol if p.has("symbol") else None
    if category != "linear":
        return {"nextPageCursor": "", "category": category, "list": []}
    exec_type = p.string("execType") or None
    execs = ex.engine.executions(ctx.uid, symbol=symbol, order_id=p.string("orderId"), exec_type=exec_type)
    link = p.string("orderLinkId")
    if link:
        execs = [e for e in execs if e.order_link_id == link]
    start = p.integer("startTime", None, lo=0)
    end = p.integer("endTime", None, lo=0)
    if start is not None:
        execs = [e for e in execs if e.exec_time >= start]
    if end is not None:
        execs = [e for e in execs if e.exec_time <= end]
    chunk, nxt = page(execs, ctx, 50, 100)
    out = []
    for e in chunk:
        inst = ex.instrument(e.symbol)
        if inst is not None:
            out.append(execution_item(inst, e))
    return {"nextPageCursor": nxt, "category": category, "list": out}


def wallet_balance(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/account/wallet-balance (accountType UNIFIED)."""
    account_type = ctx.params.string("accountType", required=True)
    if account_type != "UNIFIED":
        raise ApiError(10001, "accountType only support UNIFIED")
    coin = ctx.params.string("coin")
    coins = set(coin.split(",")) if coin else None
    w = ctx.exchange.engine.wallet(ctx.uid)
    return {"list": [wallet_item(w, coins)]}


def account_info(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/account/info (a UTA 2.0 account in regular cross margin)."""
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": str(ctx.exchange.now_ms()),
        "unifiedMarginStatus": 5,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def fee_rate(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/account/fee-rate (taker 0.055 %, maker 0.02 % on every linear symbol)."""
    category = ctx.params.category()
    ex = ctx.exchange
    if category != "linear":
        return {"category": category, "list": []}
    if ctx.params.has("symbol"):
        symbols = [_symbol(ctx, category).symbol]
    else:
        symbols = [i.symbol for i in ex.instruments()]
    return {
        "category": category,
        "list": [
            {"symbol": s, "baseCoin": "", "takerFeeRate": TAKER_FEE, "makerFeeRate": MAKER_FEE}
            for s in symbols
        ],
    }


def query_api(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/user/query-api (the key's info; uta 1 = unified trading account)."""
    ex = ctx.exchange
    return {
        "id": "1",
        "note": "asym simulator",
        "apiKey": ex.config.api_key,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": [],
            "Wallet": [],
            "Options": [],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": [],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
            "FiatP2P": [],
            "FiatConvertBroker": [],
            "FiatGlobalPay": [],
            "FiatBitPay": [],
            "BitCard": [],
            "ByXPost": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "1970-01-01T00:00:00Z",
        "createdAt": "2024-01-01T00:00:00Z",
        "unified": 0,
        "uta": 1,
        "userID": int(ctx.uid),
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_1",
        "kycRegion": "",
        "userIDInt64": ctx.uid,
        "inviterIDInt64": "0",
        "affiliateIDInt64": "0",
    }


_USDT_ROW = {
    "name": "USDT",
    "coin": "USDT",
    "remainAmount": "1000000",
    "chains": [
        {
            "chainType": "ETH",
            "confirmation": "6",
            "withdrawFee": "1",
            "depositMin": "0",
            "withdrawMin": "2",
            "chain": "ETH",
            "chainDeposit": "1",
            "chainWithdraw": "1",
            "minAccuracy": "6",
            "withdrawPercentageFee": "0",
            "contractAddress": "",
            "safeConfirmNumber": "6",
            "withdrawMax": "1000000",
        }
    ],
}


def coin_query_info(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/asset/coin/query-info (USDT only: the settle coin of every listed contract)."""
    coin = ctx.params.string("coin")
    return {"rows": [_USDT_ROW] if coin in ("", "USDT") else []}


ROUTES = [
    Route("GET", "/v5/position/list", position_list, private=True),
    Route("POST", "/v5/position/set-leverage", set_leverage, private=True),
    Route("POST", "/v5/position/trading-stop", trading_stop, private=True),
    Route("POST", "/v5/position/switch-mode", switch_mode, private=True),
    Route("GET", "/v5/execution/list", execution_list, private=True),
    Route("GET", "/v5/account/wallet-balance", wallet_balance, private=True),
    Route("GET", "/v5/account/info", account_info, private=True, sync=False),
    Route("GET", "/v5/account/fee-rate", fee_rate, private=True, sync=False),
    Route("GET", "/v5/user/query-api", query_api, private=True, sync=False, ret_msg=""),
    Route("GET", "/v5/asset/coin/query-info", coin_query_info, private=True, sync=False, ret_msg="success"),
]
