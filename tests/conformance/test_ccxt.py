"""Unmodified ccxt 4.5.90 (sync, async and ccxt.pro) against the simulator, with checked results."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support
import ccxt.pro
import pytest

from asym.sim.server.testing import RunningSimulator, running_simulator

from .conftest import TAKER_FEE, ccxt_config, ccxt_urls

pytestmark = pytest.mark.timeout(120)
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def make_sync(sim: RunningSimulator) -> ccxt.bybit:
    ex = ccxt.bybit(ccxt_config(sim))
    ex.urls["api"].update(ccxt_urls(sim.rest_url))
    return ex


def test_sync_market_data(sim: RunningSimulator) -> None:
    ex = make_sync(sim)
    markets = ex.load_markets()
    assert {BTC, ETH} <= set(markets) and len(markets) == 5
    m = markets[BTC]
    assert m["swap"] and m["linear"] and m["active"] and m["settle"] == "USDT"
    assert m["precision"]["price"] == 0.1 and m["precision"]["amount"] == 0.001
    t = ex.fetch_ticker(BTC)
    assert t["symbol"] == BTC and t["bid"] < t["ask"] and t["last"] > 0
    assert set(ex.fetch_tickers([BTC, ETH])) == {BTC, ETH}
    book = ex.fetch_order_book(BTC, 25)
    assert len(book["bids"]) == 25 and book["bids"][0][0] < book["asks"][0][0]
    candles = ex.fetch_ohlcv(BTC, "1h", limit=5)
    assert len(candles) == 5 and candles[0][0] < candles[-1][0]
    assert all(c[0] % 3_600_000 == 0 and c[3] <= min(c[1], c[4]) for c in candles)
    mark = ex.fetch_ohlcv(BTC, "1h", limit=2, params={"price": "mark"})
    assert len(mark) == 2
    since = candles[0][0]
    window = ex.fetch_ohlcv(BTC, "1h", since=since, limit=3)
    assert [c[0] for c in window] == [c[0] for c in candles[:3]]
    rates = ex.fetch_funding_rate_history(BTC, limit=4)
    assert len(rates) == 4 and rates[0]["timestamp"] < rates[-1]["timestamp"]
    fr = ex.fetch_funding_rate(BTC)
    assert fr["symbol"] == BTC and fr["fundingRate"] is not None and fr["interval"] == "8h"
    oi = ex.fetch_open_interest_history(BTC, "1h", limit=3)
    assert len(oi) == 3 and all(o["openInterestAmount"] > 0 for o in oi)
    assert ex.fetch_open_interest(BTC)["openInterestAmount"] > 0
    assert isinstance(ex.fetch_trades(BTC, limit=10), list)
    ratio = ex.fetch_long_short_ratio_history(BTC, "1h", limit=3)
    assert len(ratio) == 3
    assert ex.fetch_time() > 0
    with pytest.raises(ccxt.BadSymbol):
        ex.public_get_v5_market_tickers({"category": "linear", "symbol": "NOPEUSDT"})


def test_sync_trading_flow(sim: RunningSimulator) -> None:
    ex = make_sync(sim)
    ex.load_markets()
    before = Decimal(ex.fetch_balance()["info"]["result"]["list"][0]["totalWalletBalance"])
    order = ex.create_order(ETH, "market", "buy", 0.3, params={"clientOrderId": "cx-mkt"})
    trades = ex.fetch_my_trades(ETH)
    mine = [t for t in trades if t["order"] == order["id"]]
    assert sum(Decimal(t["info"]["execQty"]) for t in mine) == Decimal("0.30")
    fees = sum(Decimal(t["info"]["execFee"]) for t in mine)
    value = sum(Decimal(t["info"]["execValue"]) for t in mine)
    assert fees == value * TAKER_FEE and all(t["takerOrMaker"] == "taker" for t in mine)
    (pos,) = ex.fetch_positions([ETH])
    assert pos["side"] == "long" and pos["contracts"] == 0.3
    assert ETH in {p["symbol"] for p in ex.fetch_positions()}, "settleCoin=USDT listing"
    assert Decimal(pos["info"]["avgPrice"]) == (value / Decimal("0.3")).quantize(Decimal("0.00000001"))
    after = Decimal(ex.fetch_balance()["info"]["result"]["list"][0]["totalWalletBalance"])
    assert after == before - fees
    bal = ex.fetch_balance()["USDT"]
    assert bal["total"] == pytest.approx(float(after)) and bal["free"] < bal["total"]
    # Limit order with attached TP/SL, then edit, fetch, cancel.
    bid = ex.fetch_order_book(ETH, 1)["bids"][0][0]
    price = float(ex.price_to_precision(ETH, bid * 0.9))
    tp = float(ex.price_to_precision(ETH, bid * 1.3))
    sl = float(ex.price_to_precision(ETH, bid * 0.8))
    lim = ex.create_order(ETH, "limit", "buy", 0.05, price, {"takeProfit": tp, "stopLoss": sl})
    (open_o,) = ex.fetch_open_orders(ETH)
    assert [o["id"] for o in ex.fetch_open_orders()] == [lim["id"]], "settleCoin=USDT listing"
    assert open_o["id"] == lim["id"] and open_o["status"] == "open" and open_o["price"] == price
    assert open_o["takeProfitPrice"] == tp and open_o["stopLossPrice"] == sl
    new_price = float(ex.price_to_precision(ETH, price * 0.99))
    ex.edit_order(lim["id"], ETH, "limit", "buy", 0.05, new_price)
    fetched = ex.fetch_order(lim["id"], ETH, {"acknowledged": True})
    assert fetched["price"] == new_price
    ex.cancel_order(lim["id"], ETH)
    assert ex.fetch_open_orders(ETH) == []
    canceled = ex.fetch_canceled_orders(ETH)
    assert lim["id"] in {o["id"] for o in canceled}
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order(lim["id"], ETH)
    ex.create_order(ETH, "limit", "buy", 0.05, price)
    assert len(ex.cancel_all_orders(ETH)) == 1
    ex.set_leverage(3, ETH)
    assert Decimal(ex.fetch_position(ETH)["info"]["leverage"]) == 3
    batch = ex.create_orders(
        [
            {"symbol": ETH, "type": "limit", "side": "buy", "amount": 0.05, "price": price},
            {"symbol": ETH, "type": "limit", "side": "buy", "amount": 10_000_000, "price": price},
        ]
    )
    assert batch[0]["id"] and batch[1]["status"] == "rejected"
    closed = ex.create_order(ETH, "market", "sell", 0.3, params={"reduceOnly": True})
    assert closed["id"]
    assert ex.fetch_positions([ETH])[0]["contracts"] in (0, None)


async def _async_flow(sim: RunningSimulator) -> dict[str, Any]:
    ex = ccxt.async_support.bybit(ccxt_config(sim))
    ex.urls["api"].update(ccxt_urls(sim.rest_url))
    try:
        await ex.load_markets()
        ticker, book, candles = await asyncio.gather(
            ex.fetch_ticker(BTC), ex.fetch_order_book(BTC, 5), ex.fetch_ohlcv(BTC, "5m", limit=4)
        )
        order = await ex.create_order(BTC, "market", "sell", 0.002)
        positions = await ex.fetch_positions([BTC])
        trades = await ex.fetch_my_trades(BTC)
        balance = await ex.fetch_balance()
        return {
            "ticker": ticker,
            "book": book,
            "candles": candles,
            "order": order,
            "positions": positions,
            "trades": trades,
            "balance": balance,
        }
    finally:
        await ex.close()


async def test_async_client() -> None:
    async with running_simulator(symbols=3, rate_limits=False) as sim:
        out = await _async_flow(sim)
    assert out["ticker"]["bid"] < out["ticker"]["ask"]
    assert len(out["book"]["bids"]) == 5 and len(out["candles"]) == 4
    (pos,) = out["positions"]
    assert pos["side"] == "short" and pos["contracts"] == 0.002
    fills = [t for t in out["trades"] if t["order"] == out["order"]["id"]]
    fee = sum(Decimal(t["info"]["execFee"]) for t in fills)
    assert fee == sum(Decimal(t["info"]["execValue"]) for t in fills) * TAKER_FEE
    wallet = Decimal(out["balance"]["info"]["result"]["list"][0]["totalWalletBalance"])
    assert wallet == Decimal(100000) - fee


async def test_ccxt_pro_watch_order_book_and_more() -> None:
    async with running_simulator(symbols=3, rate_limits=False) as sim:
        ex = ccxt.pro.bybit(ccxt_config(sim))
        ex.urls["api"].update(ccxt_urls(sim.rest_url))
        try:
            await ex.load_markets()
            previous = None
            for _ in range(10):
                ob = await ex.watch_order_book(BTC, 50)
                bids = [b[0] for b in ob["bids"]]
                asks = [a[0] for a in ob["asks"]]
                assert len(bids) == 50 and len(asks) == 50
                assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
                previous = ob["timestamp"] if previous is None else max(previous, ob["timestamp"])
            one = await ex.watch_order_book(ETH, 1)
            assert len(one["bids"]) == 1
            t1 = await ex.watch_ticker(BTC)
            t2 = await ex.watch_ticker(BTC)
            assert t2["bid"] < t2["ask"] and t1["symbol"] == BTC
            watcher = asyncio.create_task(ex.watch_orders(ETH))
            await asyncio.sleep(0.5)  # the private stream subscribes before the order is placed
            order = await ex.create_order(ETH, "market", "buy", 0.1)
            watched = await asyncio.wait_for(watcher, 10)
            assert order["id"] in {o["id"] for o in watched}
        finally:
            await ex.close()
