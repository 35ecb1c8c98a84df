"""Order, position, execution and account endpoints over real HTTP against the real engine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from asym.sim.server.testing import RunningSimulator

from .conftest import Api

pytestmark = pytest.mark.timeout(60)
TAKER = Decimal("0.00055")


def order_body(symbol: str = "BTCUSDT", **fields: Any) -> dict[str, Any]:
    body = {"category": "linear", "symbol": symbol}
    body.update(fields)
    return body


async def far_bid(api: Api, sim: RunningSimulator, symbol: str, factor: str = "0.9") -> str:
    """A tick-aligned price well below the best bid (rests without filling)."""
    book = await api.ok("/v5/market/orderbook", f"category=linear&symbol={symbol}&limit=1")
    inst = sim.exchange.instrument(symbol)
    assert inst is not None
    return inst.price.to_str(inst.price.round_int(Decimal(book["b"][0][0]) * Decimal(factor)))


def min_qty(sim: RunningSimulator, symbol: str, notional: str = "20") -> str:
    """The smallest qty on the grid worth at least `notional` USDT (above minNotionalValue)."""
    inst = sim.exchange.instrument(symbol)
    assert inst is not None
    steps = max(
        inst.qty.round_int(inst.info.min_order_qty),
        int(Decimal(notional) / (inst.base_price * inst.qty.step)) + 1,
    )
    return inst.qty.to_str(steps)


async def open_orders(api: Api, query: str) -> list[dict[str, Any]]:
    res = await api.ok("/v5/order/realtime", "category=linear&" + query, signed=True)
    orders: list[dict[str, Any]] = res["list"]
    return orders


async def test_market_order_moves_position_and_wallet_exactly(api: Api, sim: RunningSimulator) -> None:
    wallet0 = (await api.ok("/v5/account/wallet-balance", "accountType=UNIFIED", signed=True))["list"][0]
    ack = await api.ok_post(
        "/v5/order/create", order_body(side="Buy", orderType="Market", qty="0.010", orderLinkId="mkt-1")
    )
    assert ack["orderLinkId"] == "mkt-1" and ack["orderId"]
    (order,) = await open_orders(api, "orderLinkId=mkt-1")
    assert (
        order["orderStatus"] == "Filled" and order["cumExecQty"] == "0.010" and order["leavesQty"] == "0.000"
    )
    assert order["orderType"] == "Market" and order["timeInForce"] == "IOC"
    execs = (await api.ok("/v5/execution/list", f"category=linear&orderId={ack['orderId']}", signed=True))[
        "list"
    ]
    assert execs and sum(Decimal(e["execQty"]) for e in execs) == Decimal("0.010")
    fees = Decimal(0)
    value = Decimal(0)
    for e in execs:
        assert e["feeRate"] == "0.00055" and e["isMaker"] is False and e["execType"] == "Trade"
        assert Decimal(e["execFee"]) == Decimal(e["execValue"]) * TAKER, "fee = 0.055 % of exec value, exact"
        assert Decimal(e["execValue"]) == Decimal(e["execPrice"]) * Decimal(e["execQty"])
        fees += Decimal(e["execFee"])
        value += Decimal(e["execValue"])
    assert Decimal(order["cumExecFee"]) == fees and Decimal(order["cumExecValue"]) == value
    (pos,) = (await api.ok("/v5/position/list", "category=linear&symbol=BTCUSDT", signed=True))["list"]
    assert pos["side"] == "Buy" and pos["size"] == "0.010" and pos["positionIdx"] == 0
    assert Decimal(pos["avgPrice"]) == (value / Decimal("0.010")).quantize(Decimal("0.00000001"))
    assert Decimal(pos["curRealisedPnl"]) == -fees
    wallet1 = (await api.ok("/v5/account/wallet-balance", "accountType=UNIFIED", signed=True))["list"][0]
    assert Decimal(wallet1["totalWalletBalance"]) == Decimal(wallet0["totalWalletBalance"]) - fees
    coin = wallet1["coin"][0]
    assert coin["coin"] == "USDT" and Decimal(coin["walletBalance"]) == Decimal(wallet1["totalWalletBalance"])
    assert Decimal(coin["totalPositionIM"]) > 0
    # The open position is listed by settleCoin too.
    by_settle = (await api.ok("/v5/position/list", "category=linear&settleCoin=USDT", signed=True))["list"]
    assert [p["symbol"] for p in by_settle] == ["BTCUSDT"]


async def test_limit_order_lifecycle(api: Api, sim: RunningSimulator) -> None:
    price = await far_bid(api, sim, "ETHUSDT")
    qty = min_qty(sim, "ETHUSDT")
    ack = await api.ok_post(
        "/v5/order/create",
        order_body("ETHUSDT", side="Buy", orderType="Limit", qty=qty, price=price, orderLinkId="lim-1"),
    )
    (o,) = await open_orders(api, "symbol=ETHUSDT")
    assert (o["orderId"], o["orderStatus"], o["price"], o["qty"]) == (ack["orderId"], "New", price, qty)
    assert o["tpslMode"] == "" and "tpslMode" in o, "contract orders carry tpslMode (ccxt's type hint)"
    inst = sim.exchange.instrument("ETHUSDT")
    assert inst is not None
    new_price = inst.price.to_str(inst.price.to_int(price) - 1)
    await api.ok_post("/v5/order/amend", order_body("ETHUSDT", orderLinkId="lim-1", price=new_price))
    (o,) = await open_orders(api, "symbol=ETHUSDT")
    assert o["price"] == new_price
    await api.ok_post("/v5/order/cancel", order_body("ETHUSDT", orderId=ack["orderId"]))
    assert await open_orders(api, "symbol=ETHUSDT") == []
    (gone,) = await open_orders(api, "orderLinkId=lim-1")
    assert gone["orderStatus"] == "Cancelled", "by id: found whatever its status"
    closed = await open_orders(api, "symbol=ETHUSDT&openOnly=1")
    assert [o["orderLinkId"] for o in closed] == ["lim-1"], "openOnly=1: the recent closed orders"
    hist = await api.ok(
        "/v5/order/history", "category=linear&symbol=ETHUSDT&orderStatus=Cancelled", signed=True
    )
    assert [h["orderLinkId"] for h in hist["list"]] == ["lim-1"]
    _, _, again = await api.post("/v5/order/cancel", order_body("ETHUSDT", orderId=ack["orderId"]))
    assert again["retCode"] == 110001
    _, _, dup = await api.post(
        "/v5/order/create",
        order_body("ETHUSDT", side="Buy", orderType="Limit", qty=qty, price=price, orderLinkId="lim-1"),
    )
    assert dup["retCode"] == 110072
    assert sim.exchange.engine.order_count_by_link_id(sim.exchange.uid, "lim-1") == 1


@pytest.mark.parametrize(
    ("fields", "code", "msg"),
    [
        (
            {"side": "Buy", "orderType": "Limit", "qty": "0.0015", "price": "50000.0"},
            10001,
            "params error: qty invalid",
        ),
        (
            {"side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "50000.05"},
            10001,
            "params error: price invalid",
        ),
        (
            {"side": "Buy", "orderType": "Limit", "qty": "abc", "price": "50000"},
            10001,
            "params error: qty invalid",
        ),
        ({"side": "Buy", "orderType": "Limit", "price": "50000"}, 10001, "params error: qty is required"),
        (
            {"side": "Up", "orderType": "Limit", "qty": "0.001", "price": "50000"},
            10001,
            "params error: side invalid",
        ),
        (
            {"side": "Buy", "orderType": "Stop", "qty": "0.001", "price": "50000"},
            10001,
            "params error: orderType invalid",
        ),
        ({"side": "Buy", "orderType": "Limit", "qty": "0.001"}, 10001, "params error: price is required"),
        (
            {"side": "Buy", "orderType": "Market", "qty": "0.001", "positionIdx": 1},
            10001,
            "position idx not match",
        ),
        (
            {"side": "Buy", "orderType": "Market", "qty": "0.001", "orderLinkId": "x" * 37},
            10001,
            "params error: orderLinkId",
        ),
        (
            {"side": "Sell", "orderType": "Market", "qty": "0.001", "reduceOnly": True, "takeProfit": "1000"},
            110057,
            "TP/SL",
        ),
        (
            {"side": "Buy", "orderType": "Market", "qty": "0.001", "reduceOnly": "maybe"},
            10001,
            "params error: reduceOnly",
        ),
    ],
)
async def test_create_order_rejections(api: Api, fields: dict[str, Any], code: int, msg: str) -> None:
    status, _, body = await api.post("/v5/order/create", order_body(**fields))
    assert status == 200
    assert body["retCode"] == code and body["retMsg"].startswith(msg), body


@pytest.mark.parametrize(
    ("body", "msg"),
    [
        (
            {"category": "linear", "symbol": "NOPEUSDT", "side": "Buy", "orderType": "Market", "qty": "1"},
            "params error: symbol invalid",
        ),
        (
            {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "1"},
            "params error: symbol invalid",
        ),
        ({"symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "1"}, "Illegal category"),
    ],
)
async def test_create_order_symbol_and_category_validation(api: Api, body: dict[str, Any], msg: str) -> None:
    _, _, out = await api.post("/v5/order/create", body)
    assert out["retCode"] == 10001 and out["retMsg"] == msg


async def test_engine_business_rejections_pass_through(api: Api) -> None:
    _, _, out = await api.post("/v5/order/create", order_body(side="Buy", orderType="Market", qty="1000.000"))
    assert out["retCode"] != 0 and out["retCode"] in (10001, 110007, 110004, 110012, 110044, 110045)
    _, _, out = await api.post("/v5/order/amend", order_body(orderId="no-such-order", price="1000.0"))
    assert out["retCode"] == 110001
    _, _, out = await api.post("/v5/order/amend", order_body(price="1000.0"))
    assert out["retCode"] == 10001 and "orderId or orderLinkId" in out["retMsg"]


async def test_cancel_all_by_symbol_and_settle_coin(api: Api, sim: RunningSimulator) -> None:
    for i, symbol in enumerate(("BTCUSDT", "BTCUSDT", "ETHUSDT")):
        await api.ok_post(
            "/v5/order/create",
            order_body(
                symbol,
                side="Buy",
                orderType="Limit",
                qty=min_qty(sim, symbol),
                price=await far_bid(api, sim, symbol),
                orderLinkId=f"ca-{i}",
            ),
        )
    _, _, missing = await api.post("/v5/order/cancel-all", {"category": "linear"})
    assert missing["retCode"] == 10001
    res = await api.ok_post("/v5/order/cancel-all", {"category": "linear", "symbol": "BTCUSDT"})
    assert sorted(o["orderLinkId"] for o in res["list"]) == ["ca-0", "ca-1"] and res["success"] == "1"
    res = await api.ok_post("/v5/order/cancel-all", {"category": "linear", "settleCoin": "USDT"})
    assert [o["orderLinkId"] for o in res["list"]] == ["ca-2"]
    assert await open_orders(api, "settleCoin=USDT") == []


async def test_batches_are_index_aligned(api: Api, sim: RunningSimulator) -> None:
    price = await far_bid(api, sim, "BTCUSDT")
    items = [
        {
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": price,
            "orderLinkId": "b-0",
        },
        {
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.0001",
            "price": price,
            "orderLinkId": "b-1",
        },
        {
            "symbol": "NOPEUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "1",
            "price": "1",
            "orderLinkId": "b-2",
        },
        {
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.002",
            "price": price,
            "orderLinkId": "b-3",
        },
    ]
    status, _, out = await api.post("/v5/order/create-batch", {"category": "linear", "request": items})
    assert status == 200 and out["retCode"] == 0
    results = out["result"]["list"]
    ext = out["retExtInfo"]["list"]
    assert len(results) == len(ext) == 4
    assert [e["code"] for e in ext] == [0, 10001, 10001, 0]
    assert [r["orderLinkId"] for r in results] == ["b-0", "b-1", "b-2", "b-3"]
    assert results[0]["orderId"] and results[3]["orderId"] and results[1]["orderId"] == ""
    assert all(r["category"] == "linear" for r in results) and results[0]["createAt"].isdigit()
    inst = sim.exchange.instrument("BTCUSDT")
    assert inst is not None
    lower = inst.price.to_str(inst.price.to_int(price) - 10)
    amended = await api.ok_post(
        "/v5/order/amend-batch",
        {"category": "linear", "request": [{"symbol": "BTCUSDT", "orderLinkId": "b-0", "price": lower}]},
    )
    assert amended["list"][0]["orderLinkId"] == "b-0"
    (o,) = await open_orders(api, "orderLinkId=b-0")
    assert o["price"] == lower
    cancelled = await api.ok_post(
        "/v5/order/cancel-batch",
        {
            "category": "linear",
            "request": [
                {"symbol": "BTCUSDT", "orderLinkId": "b-0"},
                {"symbol": "BTCUSDT", "orderLinkId": "b-3"},
            ],
        },
    )
    assert [c["orderLinkId"] for c in cancelled["list"]] == ["b-0", "b-3"]
    assert await open_orders(api, "symbol=BTCUSDT") == []
    _, _, too_many = await api.post(
        "/v5/order/create-batch", {"category": "linear", "request": [items[0]] * 21}
    )
    assert too_many["retCode"] == 10001


async def test_tpsl_at_entry_and_on_the_position(api: Api, sim: RunningSimulator) -> None:
    inst = sim.exchange.instrument("BTCUSDT")
    assert inst is not None
    book = await api.ok("/v5/market/orderbook", "category=linear&symbol=BTCUSDT&limit=1")
    mid = Decimal(book["a"][0][0])
    tp = inst.price.to_str(inst.price.round_int(mid * Decimal("1.2")))
    sl = inst.price.to_str(inst.price.round_int(mid * Decimal("0.8")))
    price = await far_bid(api, sim, "BTCUSDT", "0.95")
    await api.ok_post(
        "/v5/order/create",
        order_body(
            side="Buy",
            orderType="Limit",
            qty="0.001",
            price=price,
            takeProfit=tp,
            stopLoss=sl,
            orderLinkId="tp-1",
        ),
    )
    (o,) = await open_orders(api, "orderLinkId=tp-1")
    assert (o["takeProfit"], o["stopLoss"], o["tpslMode"]) == (tp, sl, "Full")
    assert o["tpTriggerBy"] == "LastPrice" and o["slTriggerBy"] == "LastPrice"
    # A position, then TP/SL on it.
    await api.ok_post("/v5/order/create", order_body(side="Buy", orderType="Market", qty="0.001"))
    tp2 = inst.price.to_str(inst.price.round_int(mid * Decimal("1.3")))
    assert (
        await api.ok_post(
            "/v5/position/trading-stop", order_body(takeProfit=tp2, tpslMode="Full", positionIdx=0)
        )
        == {}
    )
    (pos,) = (await api.ok("/v5/position/list", "category=linear&symbol=BTCUSDT", signed=True))["list"]
    assert pos["takeProfit"] == tp2
    _, _, same = await api.post(
        "/v5/position/trading-stop", order_body(takeProfit=tp2, tpslMode="Full", positionIdx=0)
    )
    assert same["retCode"] == 34040


async def test_leverage_and_mode(api: Api) -> None:
    assert await api.ok_post("/v5/position/set-leverage", order_body(buyLeverage="5", sellLeverage="5")) == {}
    (pos,) = (await api.ok("/v5/position/list", "category=linear&symbol=BTCUSDT", signed=True))["list"]
    assert Decimal(pos["leverage"]) == 5 and pos["size"] == "0.000" and pos["side"] == ""
    _, _, same = await api.post("/v5/position/set-leverage", order_body(buyLeverage="5", sellLeverage="5"))
    assert same["retCode"] == 110043
    _, _, diff = await api.post("/v5/position/set-leverage", order_body(buyLeverage="5", sellLeverage="6"))
    assert diff["retCode"] == 10001
    _, _, mode = await api.post("/v5/position/switch-mode", {"category": "linear", "coin": "USDT", "mode": 0})
    assert mode["retCode"] == 110025
    _, _, hedge = await api.post(
        "/v5/position/switch-mode", {"category": "linear", "coin": "USDT", "mode": 3}
    )
    assert hedge["retCode"] == 10001
    _, _, need = await api.get("/v5/position/list", "category=linear", signed=True)
    assert need["retCode"] == 10001


async def test_realtime_pagination(api: Api, sim: RunningSimulator) -> None:
    price = await far_bid(api, sim, "BTCUSDT")
    for i in range(5):
        await api.ok_post(
            "/v5/order/create",
            order_body(side="Buy", orderType="Limit", qty="0.001", price=price, orderLinkId=f"p-{i}"),
        )
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        res = await api.ok(
            "/v5/order/realtime",
            "category=linear&symbol=BTCUSDT&limit=2" + (f"&cursor={cursor}" if cursor else ""),
            signed=True,
        )
        seen += [o["orderLinkId"] for o in res["list"]]
        cursor = res["nextPageCursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"p-{i}" for i in range(5)] and len(seen) == 5
    created = [int(o["createdTime"]) for o in await open_orders(api, "symbol=BTCUSDT")]
    assert created == sorted(created, reverse=True), "newest first"


async def test_account_endpoints(api: Api, sim: RunningSimulator) -> None:
    info = await api.ok("/v5/account/info", signed=True)
    assert info["unifiedMarginStatus"] in (5, 6) and info["marginMode"] == "REGULAR_MARGIN"
    key = await api.ok("/v5/user/query-api", signed=True)
    assert key["uta"] == 1 and key["apiKey"] == sim.api_key and key["secret"] == ""
    assert sim.api_secret not in str(key)
    fees = await api.ok("/v5/account/fee-rate", "category=linear&symbol=BTCUSDT", signed=True)
    assert fees["list"] == [
        {"symbol": "BTCUSDT", "baseCoin": "", "takerFeeRate": "0.00055", "makerFeeRate": "0.0002"}
    ]
    coins = await api.ok("/v5/asset/coin/query-info", signed=True)
    assert [r["coin"] for r in coins["rows"]] == ["USDT"]
    wallet = (await api.ok("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT", signed=True))[
        "list"
    ][0]
    assert wallet["accountType"] == "UNIFIED" and Decimal(wallet["totalEquity"]) == Decimal(
        sim.config.balance_usdt
    )
    _, _, bad = await api.get("/v5/account/wallet-balance", "accountType=CONTRACT", signed=True)
    assert bad["retCode"] == 10001
