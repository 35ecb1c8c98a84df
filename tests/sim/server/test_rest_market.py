"""Public market endpoints over real HTTP: shapes, JSON types, filters, pagination and 10001 answers."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import pytest

from asym.sim.server.testing import RunningSimulator

from .conftest import Api

pytestmark = pytest.mark.timeout(60)


async def test_time_is_wall_clock_with_documented_types(api: Api) -> None:
    status, _, body = await api.get("/v5/market/time")
    assert status == 200
    assert set(body) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    assert body["retCode"] == 0 and isinstance(body["time"], int)
    assert abs(body["time"] - time.time() * 1000) < 5000
    res = body["result"]
    assert int(res["timeSecond"]) == int(res["timeNano"]) // 10**9
    assert abs(int(res["timeSecond"]) - body["time"] // 1000) <= 1


async def test_instruments_linear_list_filters_and_cursor(api: Api, sim: RunningSimulator) -> None:
    res = await api.ok("/v5/market/instruments-info", "category=linear")
    symbols = [i["symbol"] for i in res["list"]]
    assert symbols == [i.symbol for i in sim.exchange.instruments()]
    assert len(symbols) == 5 and res["nextPageCursor"] == ""
    btc = res["list"][0]
    assert btc["symbol"] == "BTCUSDT" and btc["contractType"] == "LinearPerpetual"
    assert isinstance(btc["fundingInterval"], int) and isinstance(btc["unifiedMarginTrade"], bool)
    inst = sim.exchange.instrument("BTCUSDT")
    assert inst is not None
    assert Decimal(btc["priceFilter"]["tickSize"]) == inst.info.tick_size
    assert Decimal(btc["lotSizeFilter"]["qtyStep"]) == inst.info.qty_step
    # Cursor pagination: pages of 2 cover every symbol once; the last cursor is ''.
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        query = "category=linear&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await api.ok("/v5/market/instruments-info", query)
        seen += [i["symbol"] for i in page["list"]]
        cursor = page["nextPageCursor"]
        if not cursor:
            break
    assert seen == symbols
    assert (await api.ok("/v5/market/instruments-info", "category=linear&status=PreLaunch"))["list"] == []
    assert [
        i["symbol"]
        for i in (await api.ok("/v5/market/instruments-info", "category=linear&baseCoin=ETH"))["list"]
    ] == ["ETHUSDT"]
    one = await api.ok("/v5/market/instruments-info", "category=linear&symbol=SOLUSDT")
    assert [i["symbol"] for i in one["list"]] == ["SOLUSDT"]


async def test_instruments_other_categories_are_empty_with_the_right_shape(api: Api) -> None:
    assert await api.ok("/v5/market/instruments-info", "category=spot") == {"category": "spot", "list": []}
    for cat in ("inverse", "option"):
        res = await api.ok("/v5/market/instruments-info", f"category={cat}&baseCoin=BTC")
        assert res == {"category": cat, "list": [], "nextPageCursor": ""}


@pytest.mark.parametrize(
    ("path", "query", "msg"),
    [
        ("/v5/market/instruments-info", "", "Illegal category"),
        ("/v5/market/instruments-info", "category=futures", "Illegal category"),
        ("/v5/market/instruments-info", "category=linear&cursor=garbage", "params error: cursor invalid"),
        ("/v5/market/tickers", "category=linear&symbol=NOPEUSDT", "Not supported symbols"),
        ("/v5/market/tickers", "category=spot&symbol=BTCUSDT", "Not supported symbols"),
        ("/v5/market/orderbook", "category=linear&symbol=NOPEUSDT", "params error: symbol invalid"),
        (
            "/v5/market/orderbook",
            "category=linear&symbol=BTCUSDT&limit=0",
            "params error: limit out of range",
        ),
        ("/v5/market/orderbook", "category=linear&symbol=BTCUSDT&limit=abc", "params error: limit invalid"),
        ("/v5/market/kline", "category=linear&symbol=BTCUSDT&interval=7", "params error: interval invalid"),
        ("/v5/market/kline", "category=linear&symbol=NOPE&interval=1", "Not supported symbols"),
        ("/v5/market/kline", "category=linear&symbol=BTCUSDT", "params error: interval is required"),
        ("/v5/market/kline", "symbol=BTCUSDT&interval=1&limit=1001", "params error: limit out of range"),
        (
            "/v5/market/funding/history",
            "category=linear&symbol=BTCUSDT&startTime=1",
            "params error: endTime is required",
        ),
        (
            "/v5/market/open-interest",
            "category=linear&symbol=BTCUSDT",
            "params error: intervalTime is required",
        ),
        (
            "/v5/market/open-interest",
            "category=linear&symbol=BTCUSDT&intervalTime=2h",
            "params error: intervalTime invalid",
        ),
        ("/v5/market/account-ratio", "category=spot&symbol=BTCUSDT&period=1h", "Illegal category"),
    ],
)
async def test_bad_parameters_answer_10001(api: Api, path: str, query: str, msg: str) -> None:
    status, _, body = await api.get(path, query)
    assert status == 200
    assert body["retCode"] == 10001
    assert body["retMsg"].startswith(msg)
    assert body["result"] == {} and body["retExtInfo"] == {} and isinstance(body["time"], int)


async def test_orderbook_depths_order_and_types(api: Api) -> None:
    res = await api.ok("/v5/market/orderbook", "category=linear&symbol=BTCUSDT")
    assert len(res["b"]) == 25 and len(res["a"]) == 25, "linear default depth is 25"
    for key in ("ts", "u", "seq", "cts"):
        assert isinstance(res[key], int)
    bids = [Decimal(p) for p, _ in res["b"]]
    asks = [Decimal(p) for p, _ in res["a"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0], "never crossed"
    assert all(isinstance(s, str) and Decimal(s) > 0 for _, s in res["b"] + res["a"])
    one = await api.ok("/v5/market/orderbook", "category=linear&symbol=BTCUSDT&limit=1")
    assert len(one["b"]) == 1 and len(one["a"]) == 1
    deep = await api.ok("/v5/market/orderbook", "category=linear&symbol=BTCUSDT&limit=1000")
    assert len(deep["b"]) == 500 and len(deep["a"]) == 500, "the model keeps 500 levels"


async def test_tickers_all_and_one(api: Api, sim: RunningSimulator) -> None:
    res = await api.ok("/v5/market/tickers", "category=linear")
    assert res["category"] == "linear"
    assert [t["symbol"] for t in res["list"]] == [i.symbol for i in sim.exchange.instruments()]
    for t in res["list"]:
        assert all(isinstance(v, str) for v in t.values())
        assert t["openInterestValue"] != "", "ccxt classifies a ticker without it as spot"
        assert Decimal(t["bid1Price"]) < Decimal(t["ask1Price"])
        assert Decimal(t["lowPrice24h"]) <= Decimal(t["lastPrice"]) <= Decimal(t["highPrice24h"])
        oi_value = Decimal(t["openInterest"]) * Decimal(t["markPrice"])
        assert abs(Decimal(t["openInterestValue"]) - oi_value) <= Decimal("0.01")
    one = await api.ok("/v5/market/tickers", "category=linear&symbol=ETHUSDT")
    assert [t["symbol"] for t in one["list"]] == ["ETHUSDT"]
    assert await api.ok("/v5/market/tickers", "category=spot") == {"category": "spot", "list": []}


@pytest.mark.parametrize(
    ("path", "columns"),
    [
        ("/v5/market/kline", 7),
        ("/v5/market/mark-price-kline", 5),
        ("/v5/market/index-price-kline", 5),
        ("/v5/market/premium-index-price-kline", 5),
    ],
)
async def test_kline_family_newest_first(api: Api, path: str, columns: int) -> None:
    res = await api.ok(path, "category=linear&symbol=BTCUSDT&interval=5&limit=4")
    assert res["symbol"] == "BTCUSDT" and res["category"] == "linear"
    rows = res["list"]
    assert len(rows) == 4 and all(len(r) == columns and all(isinstance(c, str) for c in r) for r in rows)
    starts = [int(r[0]) for r in rows]
    assert starts == sorted(starts, reverse=True)
    assert all(a - b == 300_000 for a, b in itertools.pairwise(starts))
    assert all(s % 300_000 == 0 for s in starts), "aligned to the interval"
    if path != "/v5/market/premium-index-price-kline":
        for r in rows:
            o, h, lo, c = (Decimal(x) for x in r[1:5])
            assert lo <= min(o, c) <= max(o, c) <= h


async def test_kline_start_end_window(api: Api) -> None:
    newest = await api.ok("/v5/market/kline", "category=linear&symbol=BTCUSDT&interval=1&limit=10")
    starts = [int(r[0]) for r in newest["list"]]
    start, end = starts[-1], starts[2]
    res = await api.ok(
        "/v5/market/kline", f"category=linear&symbol=BTCUSDT&interval=1&start={start}&end={end}"
    )
    got = [int(r[0]) for r in res["list"]]
    assert got == [s for s in starts if start <= s <= end]
    default = await api.ok("/v5/market/kline", "category=linear&symbol=BTCUSDT&interval=1")
    assert len(default["list"]) == 200, "default limit 200"


async def test_funding_history_newest_first_on_settlement_times(api: Api) -> None:
    res = await api.ok("/v5/market/funding/history", "category=linear&symbol=BTCUSDT&limit=5")
    assert res["category"] == "linear"
    ts = [int(i["fundingRateTimestamp"]) for i in res["list"]]
    assert len(ts) == 5 and ts == sorted(ts, reverse=True)
    assert all(t % (8 * 3600_000) == 0 for t in ts), "00:00, 08:00, 16:00 UTC"
    assert all(abs(Decimal(i["fundingRate"])) <= Decimal("0.05") for i in res["list"])
    both = await api.ok(
        "/v5/market/funding/history", f"category=linear&symbol=BTCUSDT&startTime={ts[-1]}&endTime={ts[1]}"
    )
    assert [int(i["fundingRateTimestamp"]) for i in both["list"]] == ts[1:]


async def test_open_interest_cursor_walks_back_without_overlap(api: Api) -> None:
    q = "category=linear&symbol=BTCUSDT&intervalTime=5min&limit=3"
    first = await api.ok("/v5/market/open-interest", q)
    assert first["symbol"] == "BTCUSDT" and first["nextPageCursor"]
    second = await api.ok("/v5/market/open-interest", q + "&cursor=" + first["nextPageCursor"])
    ts = [int(i["timestamp"]) for i in first["list"] + second["list"]]
    assert len(ts) == 6 and ts == sorted(ts, reverse=True) and len(set(ts)) == 6
    assert all(a - b == 300_000 for a, b in itertools.pairwise(ts))
    assert all(Decimal(i["openInterest"]) > 0 for i in first["list"])


async def test_account_ratio_and_risk_limit(api: Api) -> None:
    res = await api.ok("/v5/market/account-ratio", "category=linear&symbol=BTCUSDT&period=1h&limit=4")
    assert len(res["list"]) == 4
    for row in res["list"]:
        assert Decimal(row["buyRatio"]) + Decimal(row["sellRatio"]) == 1
    assert res["nextPageCursor"]
    tiers = await api.ok("/v5/market/risk-limit", "category=linear&symbol=BTCUSDT")
    assert tiers["list"] and tiers["list"][0]["isLowestRisk"] == 1 and isinstance(tiers["list"][0]["id"], int)
    limits = [Decimal(t["riskLimitValue"]) for t in tiers["list"]]
    assert limits == sorted(limits)
    everyone = await api.ok("/v5/market/risk-limit", "category=linear")
    assert {t["symbol"] for t in everyone["list"]} == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"}
    assert everyone["nextPageCursor"] == ""


async def test_recent_trades_newest_first() -> None:
    from asym.sim.server.testing import running_simulator

    async with running_simulator(symbols=2, rate_limits=False, speed=200.0) as s:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            api = Api(session, s)
            await api.ok("/v5/market/recent-trade", "category=linear&symbol=BTCUSDT")
            import asyncio

            await asyncio.sleep(0.5)
            res = await api.ok("/v5/market/recent-trade", "category=linear&symbol=BTCUSDT&limit=20")
    trades = res["list"]
    assert trades, "200x speed for 0.5 s is over a minute of market time"
    times = [int(t["time"]) for t in trades]
    assert times == sorted(times, reverse=True)
    for t in trades:
        assert t["side"] in ("Buy", "Sell") and isinstance(t["isBlockTrade"], bool)
        assert Decimal(t["price"]) > 0 and Decimal(t["size"]) > 0
