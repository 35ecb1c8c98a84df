"""The backtest's account figures equal the simulator server's for the same orders on the same market:
the same order sequence is sent over real sockets (asym.bybit's client -> the simulator's aiohttp server)
and through CoreVenue in process; fees, funding, fills (slippage through the book) and liquidation agree
to the last digit. Once on the backtest's BarMarket (the server serving it, its time driven by the same
driver), once on the simulator's own replay Market stepped second by second."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from asym.backtest.bars import BarMarket
from asym.backtest.clock import SimClock
from asym.backtest.data import MarketData, parse_time
from asym.backtest.driver import BarDriver, StepDriver
from asym.backtest.venue import CoreVenue
from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient, ClientConfig
from asym.domain import ExecType, Execution, OrderRequest, OrderType, Side, TimeInForce, TriggerBy
from asym.domain.venue import Venue
from asym.sim.clock import ManualClock
from asym.sim.config import SimConfig
from asym.sim.exchange import SimExchange
from asym.sim.market import Market
from asym.sim.server.app import SimServer

from .conftest import DAY, HOUR, window

D = Decimal
Step = Callable[[int], None]


def _key(x: Execution) -> tuple[Any, ...]:
    return (
        x.exec_id,
        x.exec_type,
        x.symbol,
        x.side,
        x.price,
        x.qty,
        x.fee,
        x.fee_rate,
        x.is_maker,
        x.ts,
        x.order_link_id,
        x.closed_size,
    )


async def _script(v: Venue, advance: Callable[[int], Awaitable[None]], t0: int, last: Decimal) -> None:
    """The order sequence: entry with TP/SL, a resting reduce-only exit, a cancelled limit, funding while
    held, a market close, then a 100x position held until the engine liquidates it."""
    await v.set_leverage("BTCUSDT", D(5))
    sl = (last * D("0.97")).quantize(D("0.1"))
    tp = (last * D("1.05")).quantize(D("0.1"))
    await v.place_order(
        OrderRequest(
            symbol="BTCUSDT",
            side=Side.BUY,
            order_type=OrderType.MARKET,
            qty=D("0.3"),
            order_link_id="p-entry",
            stop_loss=sl,
            take_profit=tp,
            sl_trigger_by=TriggerBy.MARK,
            tp_trigger_by=TriggerBy.LAST,
        )
    )
    exit_px = (last * D("1.004")).quantize(D("0.1"))
    await v.place_order(
        OrderRequest(
            symbol="BTCUSDT",
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            qty=D("0.1"),
            price=exit_px,
            time_in_force=TimeInForce.GTC,
            reduce_only=True,
            order_link_id="p-tp1",
        )
    )
    far = (last * D("0.9")).quantize(D("0.1"))
    await v.place_order(
        OrderRequest(
            symbol="BTCUSDT",
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=D("0.01"),
            price=far,
            time_in_force=TimeInForce.GTC,
            order_link_id="p-far",
        )
    )
    await advance(t0 + 2 * HOUR)
    await v.cancel_order("BTCUSDT", order_link_id="p-far")
    await advance(t0 + 17 * HOUR)  # two funding settlements while held
    pos = [p for p in await v.get_positions("BTCUSDT") if p.size > 0]
    if pos and pos[0].side is not None:
        await v.place_order(
            OrderRequest(
                symbol="BTCUSDT",
                side=pos[0].side.opposite,
                order_type=OrderType.MARKET,
                qty=pos[0].size,
                reduce_only=True,
                order_link_id="p-close",
            )
        )
    await v.set_leverage("BTCUSDT", D(100))
    await v.place_order(
        OrderRequest(
            symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=D("2"), order_link_id="p-lev"
        )
    )
    await advance(t0 + 2 * DAY)


async def _server(cfg: SimConfig, clock: ManualClock, market: Any) -> tuple[SimServer, BybitClient]:
    ex = SimExchange(cfg, clock, market=market)
    server = SimServer(cfg, clock, ex)
    await server.start("127.0.0.1", 0)
    client = BybitClient(
        server.rest_url, Credentials(cfg.api_key, cfg.api_secret), ClientConfig(sync_time=False)
    )
    await client.start()
    return server, client


async def _compare(server_venue: BybitClient, core: CoreVenue) -> list[Execution]:
    sx = sorted(await server_venue.get_executions("BTCUSDT", limit=10_000), key=lambda x: x.exec_id)
    cx = sorted(await core.get_executions("BTCUSDT", limit=10_000), key=lambda x: x.exec_id)
    assert [_key(x) for x in sx] == [_key(x) for x in cx]
    sw, cw = await server_venue.get_wallet(), await core.get_wallet()
    assert (sw.total_wallet_balance, sw.total_equity) == (cw.total_wallet_balance, cw.total_equity)
    assert await server_venue.get_positions() == await core.get_positions()
    return cx


async def test_bar_market_server_and_core_venue_agree(multi_venue: MarketData) -> None:
    t0 = parse_time(
        "2025-06-01T05:00"
    )  # BTC falls 1.7 % in the day after t0 + 17 h: the 100x long is liquidated
    data = MarketData({"BTCUSDT": window(multi_venue, t0 - 3 * DAY, t0 + 3 * DAY)["BTCUSDT"]})
    cfg = SimConfig(balance_usdt=D(10000), rate_limits=False, start_ms=t0)
    clock = ManualClock(t0)
    m_server = BarMarket(data, t0)
    m_server.advance(t0, [])
    server, client = await _server(cfg, clock, m_server)
    core = CoreVenue(BarMarket(data, t0), SimClock(t0), balance=D(10000))
    try:
        driver = BarDriver(m_server, server.exchange.engine, server.exchange.uid)  # type: ignore[arg-type]

        async def server_advance(t: int) -> None:
            driver.run(clock.now_ms(), t)
            clock.set(t)

        async def core_advance(t: int) -> None:
            core.advance_to(t)

        last = core.ticker_now("BTCUSDT").last_price
        await _script(client, server_advance, t0, last)
        await _script(core, core_advance, t0, last)
        xs = await _compare(client, core)
    finally:
        await client.close()
        await server.stop()
    kinds = {x.exec_type for x in xs}
    assert {ExecType.TRADE, ExecType.FUNDING, ExecType.BUST_TRADE} <= kinds
    assert any(x.is_maker for x in xs)  # the resting exit filled as maker
    funding = [x for x in xs if x.exec_type is ExecType.FUNDING]
    rates = {f.ts: f.rate for f in data["BTCUSDT"].funding}
    for x in funding:
        assert x.fee_rate == rates[x.ts] and x.fee == x.qty * x.price * x.fee_rate  # recorded rate, exact


async def test_replay_market_server_and_core_venue_agree(shared_data: Path) -> None:
    path = shared_data / "bybit" / "multi-venue-1h-funding" / "candles.parquet"
    t0 = parse_time("2025-06-02T07:30")
    cfg = SimConfig(
        replay=path, seed=7, start_ms=t0, history_days=2, balance_usdt=D(10000), rate_limits=False
    )
    clock = ManualClock(t0)
    server, client = await _server(cfg, clock, None)
    core_market = Market(cfg, t0)
    core = CoreVenue(core_market, SimClock(t0), balance=D(10000), driver=None)
    core.driver = StepDriver(core_market, core.engine, 5000)
    try:

        async def server_advance(t: int) -> None:
            while clock.now_ms() < t:
                clock.set(min(t, clock.now_ms() + 5000))
                server.exchange.sync()

        async def core_advance(t: int) -> None:
            core.advance_to(t)

        async def short_script(v: Venue, advance: Callable[[int], Awaitable[None]]) -> None:
            last = (await v.get_tickers("BTCUSDT"))[0].last_price
            await v.set_leverage("BTCUSDT", D(20))
            await v.place_order(
                OrderRequest(
                    symbol="BTCUSDT",
                    side=Side.BUY,
                    order_type=OrderType.MARKET,
                    qty=D("0.5"),
                    order_link_id="r-entry",
                    stop_loss=(last * D("0.99")).quantize(D("0.1")),
                )
            )
            await v.place_order(
                OrderRequest(
                    symbol="BTCUSDT",
                    side=Side.SELL,
                    order_type=OrderType.LIMIT,
                    qty=D("0.2"),
                    price=(last * D("1.001")).quantize(D("0.1")),
                    time_in_force=TimeInForce.GTC,
                    reduce_only=True,
                    order_link_id="r-tp",
                )
            )
            await advance(t0 + 45 * 60_000)  # through the 08:00 funding settlement

        await short_script(client, server_advance)
        await short_script(core, core_advance)
        xs = await _compare(client, core)
    finally:
        await client.close()
        await server.stop()
    assert any(x.exec_type is ExecType.FUNDING for x in xs)
    assert sum(1 for x in xs if x.exec_type is ExecType.TRADE) >= 2
