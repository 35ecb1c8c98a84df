"""Every REST endpoint against the running simulator (real sockets), pagination, caching/coalescing,
clock re-sync on 10002 and per-endpoint 10006 handling with Bybit's headers."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

import pytest

from asym.bybit import BybitClient, ClientConfig, CountingObserver, Credentials, TransportConfig
from asym.bybit.endpoints import INSTRUMENTS
from asym.bybit.paginate import collect
from asym.domain import (
    Category,
    ExecType,
    Interval,
    OrderRequest,
    OrderStatus,
    OrderType,
    PeriodInterval,
    Side,
)
from asym.domain.venue import AmendRequest, KlinePrice, TradingStopRequest, Venue
from asym.errors import AuthError, DuplicateOrderError, InvalidRequestError, OrderNotFoundError

from .conftest import client_for
from .helpers import on_grid, resting_buy


async def test_market_endpoints(simulator: Any) -> None:
    obs = CountingObserver()
    async with simulator(symbols=5) as sim, client_for(sim, observer=obs, keys=False) as c:
        assert isinstance(c, Venue)
        assert abs(await c.get_server_time() - c.transport.now_ms()) < 2000
        insts = await c.get_instruments()
        assert len(insts) == 5 and all(i.category is Category.LINEAR for i in insts)
        sym = insts[0].symbol
        assert [i.symbol for i in await c.get_instruments(sym)] == [sym]
        tickers = await c.get_tickers()
        assert {t.symbol for t in tickers} == {i.symbol for i in insts}
        t = (await c.get_tickers(sym))[0]
        assert t.last_price > 0 and t.mark_price is not None and t.funding_rate is not None
        book = await c.get_orderbook(sym, 50)
        assert len(book.bids) == 50 and len(book.asks) == 50 and book.best_bid < book.best_ask  # type: ignore[operator]
        assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
        klines = await c.get_klines(sym, Interval.M1, limit=100)
        assert len(klines) == 100 and [k.start for k in klines] == sorted(k.start for k in klines)
        assert all(b.start - a.start == 60_000 for a, b in itertools.pairwise(klines))
        assert all(k.low <= min(k.open, k.close) <= max(k.open, k.close) <= k.high for k in klines)
        assert all(k.confirmed for k in klines[:-1])
        for price in (KlinePrice.MARK, KlinePrice.INDEX, KlinePrice.PREMIUM_INDEX):
            assert len(await c.get_klines(sym, Interval.M5, limit=10, price=price)) == 10
        start = klines[0].start
        walked = [k async for k in c.iter_klines(sym, Interval.M1, start, klines[-1].start, page=30)]
        assert [k.start for k in walked] == [k.start for k in klines]
        funding = await c.get_funding_history(sym, limit=5)
        assert len(funding) == 5 and funding == sorted(funding, key=lambda f: f.ts)
        oi = await c.get_open_interest(sym, PeriodInterval.MIN5, limit=250)  # > 200: needs the cursor
        assert len(oi) == 250 and len({o.ts for o in oi}) == 250 and oi == sorted(oi, key=lambda o: o.ts)
        lsr = await c.get_long_short_ratio(sym, PeriodInterval.MIN5, limit=20)
        assert len(lsr) == 20 and all(r.buy_ratio + r.sell_ratio == 1 for r in lsr)
        trades = await c.get_recent_trades(sym, 20)
        assert 0 < len(trades) <= 20 and all(tr.symbol == sym for tr in trades)
        tiers = await c.get_risk_limits(sym)
        assert tiers and tiers == sorted(tiers, key=lambda x: x.risk_limit_value)
        with pytest.raises(AuthError):
            await c.get_wallet()  # no keys: refused before sending
        with pytest.raises(InvalidRequestError):
            await c.get_orderbook("BTC/USDT")
    assert obs.error_count() == 0


async def test_instrument_pagination_cache_and_coalescing(simulator: Any) -> None:
    obs = CountingObserver()
    async with simulator(symbols=7) as sim, client_for(sim, observer=obs, keys=False) as c:
        # Pages of 2 instruments: 4 requests, all 7 instruments exactly once.
        async def page(cursor: str) -> Any:
            env = await c.transport.get(
                INSTRUMENTS, {"category": "linear", "limit": 2, "cursor": cursor or None}
            )
            assert env.result is not None
            return env.result.items, env.result.next_page_cursor

        items = await collect(page)
        assert len(items) == 7 and len({i.symbol for i in items}) == 7
        assert obs.requests["/v5/market/instruments-info"] == 4
        # TTL cache: the second call does not touch the network.
        first = await c.get_instruments()
        n = obs.requests["/v5/market/instruments-info"]
        assert await c.get_instruments() == first
        assert obs.requests["/v5/market/instruments-info"] == n
        # Coalescing: 20 identical concurrent GETs are one request.
        before = obs.requests["/v5/market/tickers"]
        results = await asyncio.gather(*(c.get_tickers(first[0].symbol) for _ in range(20)))
        assert obs.requests["/v5/market/tickers"] == before + 1
        assert all(r == results[0] for r in results)


async def test_trading_endpoints_and_account(simulator: Any) -> None:
    async with simulator(symbols=2) as sim, client_for(sim) as c:
        inst = (await c.get_instruments())[0]
        sym = inst.symbol
        wallet = await c.get_wallet()
        assert wallet.total_equity == Decimal("100000") and wallet.coins[0].coin == "USDT"
        info = await c.get_account_info()
        assert info.unified_margin_status in (5, 6)
        assert (await c.get_api_key_info()).uta == 1
        await c.set_leverage(sym, Decimal(5))
        await c.set_leverage(sym, Decimal(5))  # 110043 "not modified" is success
        req = await resting_buy(c, inst, "it-rest-1")
        ack = await c.place_order(req)
        assert ack.order_id and ack.order_link_id == "it-rest-1" and not ack.resolved
        again = await c.place_order(req)  # idempotent: the same request returns the same order
        assert again.resolved and again.order_id == ack.order_id
        assert sim.exchange.engine.order_count_by_link_id(sim.exchange.uid, "it-rest-1") == 1
        with pytest.raises(DuplicateOrderError):  # the same id for a different order is refused
            await c.place_order(OrderRequest(**{**_fields(req), "qty": req.qty * 2}))
        opened = await c.get_open_orders(sym)
        assert [o.order_link_id for o in opened] == ["it-rest-1"]
        o = await c.get_order_by_link_id("it-rest-1", sym)
        assert o is not None and o.status is OrderStatus.NEW and o.price == req.price
        assert req.price is not None
        new_price = req.price - inst.tick_size
        amended = await c.amend_order(AmendRequest(symbol=sym, order_link_id="it-rest-1", price=new_price))
        assert amended.order_id == ack.order_id
        o = await c.get_order_by_link_id("it-rest-1", sym)
        assert o is not None and o.price == new_price
        cancelled = await c.cancel_order(sym, order_link_id="it-rest-1")
        assert cancelled.order_id == ack.order_id
        with pytest.raises(OrderNotFoundError):
            await c.cancel_order(sym, order_link_id="it-rest-1")
        hist = await c.get_order_history(sym, limit=10)
        assert any(h.order_link_id == "it-rest-1" and h.status is OrderStatus.CANCELLED for h in hist)
        # A market buy fills: execution, position, TP/SL on the position, then close everything.
        book = await c.get_orderbook(sym, 1)
        qty = max(inst.min_order_qty, on_grid(Decimal(50) / book.best_ask + inst.qty_step, inst.qty_step))  # type: ignore[operator]
        await c.place_order(
            OrderRequest(
                symbol=sym, side=Side.BUY, order_type=OrderType.MARKET, qty=qty, order_link_id="it-mkt-1"
            )
        )
        pos = await _wait_position(c, sym)
        assert pos.side is Side.BUY and pos.size == qty and pos.leverage == 5
        tp = on_grid(pos.avg_price * Decimal("1.5"), inst.tick_size)
        await c.set_trading_stop(TradingStopRequest(symbol=sym, take_profit=tp))
        await c.set_trading_stop(TradingStopRequest(symbol=sym, take_profit=tp))  # 34040: no-op
        assert (await c.get_positions(sym))[0].take_profit == tp
        fills = await c.get_executions(sym, exec_type=ExecType.TRADE)
        assert sum(f.qty for f in fills if f.order_link_id == "it-mkt-1") == qty
        assert any(p.symbol == sym for p in await c.get_positions())  # settleCoin scope
        batch = [await resting_buy(c, inst, f"it-batch-{i}") for i in range(3)]
        results = await c.place_orders(batch)
        assert [r.order_link_id for r in results] == [b.order_link_id for b in batch]
        assert all(r.ack is not None and r.ack.order_id for r in results)
        acks = await c.cancel_all(sym)
        assert {a.order_link_id for a in acks} >= {b.order_link_id for b in batch}
        assert await c.get_open_orders(sym) == []


def _fields(req: OrderRequest) -> dict[str, Any]:
    import msgspec

    return {f: getattr(req, f) for f in msgspec.structs.asdict(req)}


async def _wait_position(c: Any, sym: str) -> Any:
    for _ in range(100):
        pos = (await c.get_positions(sym))[0]
        if pos.size > 0:
            return pos
        await asyncio.sleep(0.05)
    raise AssertionError("market order never filled")


async def test_open_orders_pagination(simulator: Any) -> None:
    async with simulator(symbols=1, rate_limits=False) as sim, client_for(sim) as c:
        inst = (await c.get_instruments())[0]
        reqs = [
            await resting_buy(c, inst, f"it-page-{i}", away=str(Decimal("0.9") - Decimal(i) / 1000))
            for i in range(60)
        ]
        for i in range(0, 60, 20):
            results = await c.place_orders(reqs[i : i + 20])
            assert all(r.ack is not None for r in results)
        opened = await c.get_open_orders(inst.symbol)  # 50 per page: two pages
        assert sorted(o.order_link_id for o in opened) == sorted(r.order_link_id for r in reqs)
        assert len(await c.get_order_history(inst.symbol, limit=55)) == 55


async def test_clock_skew_is_corrected_on_10002(simulator: Any) -> None:
    obs = CountingObserver()
    async with simulator(symbols=1) as sim, client_for(sim, observer=obs) as c:
        c.transport.offset_ms += 30_000  # our clock runs 30 s ahead: every signed request gets 10002
        wallet = await c.get_wallet()
        assert wallet.total_equity > 0
        assert obs.error_count(ret_code=10002) == 1
        assert abs(c.transport.offset_ms) < 5_000  # re-measured


async def test_per_endpoint_10006_waits_for_the_reset(simulator: Any) -> None:
    """The venue allows 5 creates/s (half the default): the client hits 10006 once, reads the headers,
    waits for the reset and from then on paces itself; every order is placed exactly once."""
    obs = CountingObserver()
    cfg = ClientConfig(transport=TransportConfig())
    async with simulator(symbols=1, rate_limit_scale=0.5) as sim, client_for(sim, cfg, obs) as c:
        inst = (await c.get_instruments())[0]
        reqs = [await resting_buy(c, inst, f"it-rl-{i}") for i in range(16)]
        acks = await asyncio.gather(*(c.place_order(r) for r in reqs))
        assert len({a.order_id for a in acks}) == 16
        assert obs.error_count(ret_code=10006) >= 1
        assert obs.waits["endpoint"] >= 1
        engine, uid = sim.exchange.engine, sim.exchange.uid
        assert all(engine.order_count_by_link_id(uid, r.order_link_id) == 1 for r in reqs)
        # The limiter adopted the venue's limit from X-Bapi-Limit.
        st = c.transport.limiter._states[("/v5/order/create", "linear")]
        assert st.window.limit == 5


async def test_auth_errors_never_carry_a_secret(simulator: Any) -> None:
    async with simulator(symbols=1) as sim:
        bad = Credentials(sim.api_key, "not-the-right-secret-123")
        async with BybitClient(sim.rest_url, bad) as c:
            with pytest.raises(AuthError) as info:
                await c.get_wallet()
        err = info.value
        assert err.ret_code == 10004 and err.endpoint == "/v5/account/wallet-balance"
        for text in (str(err), repr(err), err.ret_msg):
            assert sim.api_key not in text and "not-the-right-secret-123" not in text
        unknown = Credentials("no-such-key-42", "whatever-secret-77")
        async with BybitClient(sim.rest_url, unknown) as c:
            with pytest.raises(AuthError) as info2:
                await c.get_positions()
        assert info2.value.ret_code == 10003 and "whatever-secret-77" not in str(info2.value)
