"""Unmodified pybit 5.17.0 HTTP against the simulator: every method asym relies on, with checked results."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from pybit.exceptions import InvalidRequestError
from pybit.unified_trading import HTTP

from asym.sim.server.testing import RunningSimulator, simulator_in_thread

from .conftest import TAKER_FEE

pytestmark = pytest.mark.timeout(120)


def session(sim: RunningSimulator, **kw: Any) -> HTTP:
    s = HTTP(api_key=sim.api_key, api_secret=sim.api_secret, recv_window=5000, **kw)
    s.endpoint = sim.rest_url
    return s


def price_near(sim: RunningSimulator, symbol: str, ref: str, factor: str) -> str:
    inst = sim.exchange.instrument(symbol)
    assert inst is not None
    return inst.price.to_str(inst.price.round_int(Decimal(ref) * Decimal(factor)))


def test_market_data(sim: RunningSimulator) -> None:
    s = session(sim)
    assert abs(int(s.get_server_time()["time"]) - time.time() * 1000) < 5000
    inst = s.get_instruments_info(category="linear")["result"]["list"]
    assert [i["symbol"] for i in inst][:2] == ["BTCUSDT", "ETHUSDT"]
    for fn in (s.get_kline, s.get_mark_price_kline, s.get_index_price_kline, s.get_premium_index_price_kline):
        rows = fn(category="linear", symbol="BTCUSDT", interval="15", limit=3)["result"]["list"]
        assert len(rows) == 3 and int(rows[0][0]) > int(rows[1][0])
    book = s.get_orderbook(category="linear", symbol="BTCUSDT", limit=50)["result"]
    assert len(book["b"]) == 50 and Decimal(book["b"][0][0]) < Decimal(book["a"][0][0])
    tick = s.get_tickers(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert Decimal(tick["bid1Price"]) < Decimal(tick["ask1Price"])
    assert len(s.get_tickers(category="linear")["result"]["list"]) == 5
    funding = s.get_funding_rate_history(category="linear", symbol="BTCUSDT", limit=3)["result"]["list"]
    assert len(funding) == 3
    oi = s.get_open_interest(category="linear", symbol="BTCUSDT", intervalTime="1h", limit=5)["result"]
    assert len(oi["list"]) == 5 and oi["nextPageCursor"]
    page2 = s.get_open_interest(
        category="linear", symbol="BTCUSDT", intervalTime="1h", limit=5, cursor=oi["nextPageCursor"]
    )
    assert int(page2["result"]["list"][0]["timestamp"]) < int(oi["list"][-1]["timestamp"])
    assert isinstance(
        s.get_public_trade_history(category="linear", symbol="BTCUSDT", limit=5)["result"]["list"], list
    )
    assert s.get_risk_limit(category="linear", symbol="BTCUSDT")["result"]["list"]
    ratio = s.get_long_short_ratio(category="linear", symbol="BTCUSDT", period="1h", limit=2)["result"][
        "list"
    ]
    assert len(ratio) == 2
    with pytest.raises(InvalidRequestError) as err:
        s.get_tickers(category="linear", symbol="NOPEUSDT")
    assert err.value.status_code == 10001 and "Not supported symbols" in err.value.message


def test_account_and_market_order_arithmetic(sim: RunningSimulator) -> None:
    s = session(sim)
    assert s.get_account_info()["result"]["unifiedMarginStatus"] in (5, 6)
    assert s.get_api_key_information()["result"]["uta"] == 1
    assert s.get_coin_info()["result"]["rows"][0]["coin"] == "USDT"
    assert (
        s.get_fee_rates(category="linear", symbol="BTCUSDT")["result"]["list"][0]["takerFeeRate"] == "0.00055"
    )
    before = Decimal(s.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["totalWalletBalance"])
    pos0 = s.get_positions(category="linear", symbol="SOLUSDT")["result"]["list"][0]
    assert pos0["size"] == "0.0" and pos0["side"] == ""
    ack = s.place_order(
        category="linear", symbol="SOLUSDT", side="Buy", orderType="Market", qty="2.5", orderLinkId="pb-mkt"
    )
    oid = ack["result"]["orderId"]
    execs = s.get_executions(category="linear", orderId=oid)["result"]["list"]
    qty = sum((Decimal(e["execQty"]) for e in execs), Decimal(0))
    value = sum((Decimal(e["execValue"]) for e in execs), Decimal(0))
    fees = sum((Decimal(e["execFee"]) for e in execs), Decimal(0))
    assert qty == Decimal("2.5") and fees == value * TAKER_FEE
    pos = s.get_positions(category="linear", symbol="SOLUSDT")["result"]["list"][0]
    assert Decimal(pos["size"]) == Decimal("2.5") and pos["side"] == "Buy"
    assert Decimal(pos["avgPrice"]) == (value / qty).quantize(Decimal("0.00000001"))
    after = Decimal(s.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["totalWalletBalance"])
    assert after == before - fees
    hist = s.get_order_history(category="linear", symbol="SOLUSDT", orderStatus="Filled")["result"]["list"]
    assert hist[0]["orderLinkId"] == "pb-mkt" and Decimal(hist[0]["cumExecFee"]) == fees
    # Close it: reduce-only market sell realises P&L; the position is flat again.
    s.place_order(
        category="linear", symbol="SOLUSDT", side="Sell", orderType="Market", qty="2.5", reduceOnly=True
    )
    assert s.get_positions(category="linear", symbol="SOLUSDT")["result"]["list"][0]["size"] == "0.0"


def test_limit_orders_tpsl_amend_cancel_batch(sim: RunningSimulator) -> None:
    s = session(sim)
    book = s.get_orderbook(category="linear", symbol="ETHUSDT", limit=1)["result"]
    low = price_near(sim, "ETHUSDT", book["b"][0][0], "0.9")
    tp = price_near(sim, "ETHUSDT", book["a"][0][0], "1.2")
    sl = price_near(sim, "ETHUSDT", book["b"][0][0], "0.8")
    s.place_order(
        category="linear", symbol="ETHUSDT", side="Buy", orderType="Limit", qty="0.05", price=low,
        takeProfit=tp, stopLoss=sl, orderLinkId="pb-lim",
    )  # fmt: skip
    (o,) = s.get_open_orders(category="linear", symbol="ETHUSDT")["result"]["list"]
    assert (o["orderStatus"], o["takeProfit"], o["stopLoss"], o["price"]) == ("New", tp, sl, low)
    lower = price_near(sim, "ETHUSDT", low, "0.99")
    s.amend_order(category="linear", symbol="ETHUSDT", orderLinkId="pb-lim", price=lower, qty="0.06")
    (o,) = s.get_open_orders(category="linear", symbol="ETHUSDT")["result"]["list"]
    assert (o["price"], o["qty"]) == (lower, "0.06")
    s.cancel_order(category="linear", symbol="ETHUSDT", orderLinkId="pb-lim")
    assert s.get_open_orders(category="linear", symbol="ETHUSDT")["result"]["list"] == []
    with pytest.raises(InvalidRequestError) as err:
        s.cancel_order(category="linear", symbol="ETHUSDT", orderLinkId="pb-lim")
    assert err.value.status_code == 110001
    batch = s.place_batch_order(
        category="linear",
        request=[
            {
                "symbol": "ETHUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.05",
                "price": low,
                "orderLinkId": f"pb-b{i}",
            }
            for i in range(3)
        ],
    )
    assert [e["code"] for e in batch["retExtInfo"]["list"]] == [0, 0, 0]
    cancelled = s.cancel_all_orders(category="linear", symbol="ETHUSDT")["result"]["list"]
    assert sorted(c["orderLinkId"] for c in cancelled) == ["pb-b0", "pb-b1", "pb-b2"]


def test_position_settings(sim: RunningSimulator) -> None:
    s = session(sim)
    s.set_leverage(category="linear", symbol="BNBUSDT", buyLeverage="4", sellLeverage="4")
    with pytest.raises(InvalidRequestError) as err:
        s.set_leverage(category="linear", symbol="BNBUSDT", buyLeverage="4", sellLeverage="4")
    assert err.value.status_code == 110043
    s.place_order(category="linear", symbol="BNBUSDT", side="Sell", orderType="Market", qty="0.1")
    book = s.get_orderbook(category="linear", symbol="BNBUSDT", limit=1)["result"]
    sl = price_near(sim, "BNBUSDT", book["a"][0][0], "1.1")
    s.set_trading_stop(category="linear", symbol="BNBUSDT", stopLoss=sl, tpslMode="Full", positionIdx=0)
    pos = s.get_positions(category="linear", symbol="BNBUSDT")["result"]["list"][0]
    assert pos["side"] == "Sell" and pos["stopLoss"] == sl and Decimal(pos["leverage"]) == 4
    assert Decimal(pos["positionIM"]) > 0


def test_pybit_retries_10006_using_the_reset_header() -> None:
    """With limits on, 12 quick orders exceed 10/s: pybit sleeps until X-Bapi-Limit-Reset-Timestamp
    and retries, so every order ends up placed exactly once."""
    with simulator_in_thread(symbols=1) as sim:
        s = session(sim, max_retries=5)
        book = s.get_orderbook(category="linear", symbol="BTCUSDT", limit=1)["result"]
        low = price_near(sim, "BTCUSDT", book["b"][0][0], "0.9")
        for i in range(12):
            s.place_order(
                category="linear",
                symbol="BTCUSDT",
                side="Buy",
                orderType="Limit",
                qty="0.001",
                price=low,
                orderLinkId=f"rl{i}",
            )
        engine = sim.exchange.engine
        assert [engine.order_count_by_link_id(sim.exchange.uid, f"rl{i}") for i in range(12)] == [1] * 12
        assert len(s.get_open_orders(category="linear", symbol="BTCUSDT", limit=50)["result"]["list"]) == 12
