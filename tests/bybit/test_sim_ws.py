"""WebSocket streams against the running simulator: books equal the venue's published state, tickers are
merged, public and private events arrive, and under faults (dropped connections, skipped deltas, malformed
messages, frozen books) no consumer ever reads a book known to be out of sync."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest

from asym.bybit import BybitClient, ClientConfig, CountingObserver, ReconnectPolicy, WsConfig
from asym.domain import Interval, OrderBook, OrderStatus, OrderType, Side
from asym.domain.venue import EventStream, MarketStream

from .conftest import client_for
from .helpers import on_grid, resting_buy, wait_until

FAST_WS = ClientConfig(
    ws=WsConfig(ping_interval_s=0.5, dead_after_s=3.0, reconnect=ReconnectPolicy(base_s=0.05, cap_s=0.3))
)


def _published(
    sim: Any, symbol: str, depth: int
) -> tuple[int, list[tuple[Decimal, Decimal]], list[Any]] | None:
    """The simulator's last published state of orderbook.{depth}.{symbol}: (u, bids, asks) in Decimal."""
    stream = sim.server.hub.streams.get(f"orderbook.{depth}.{symbol}")
    if stream is None:
        return None
    inst = sim.exchange.instrument(symbol)
    px, qty = inst.price.to_decimal, inst.qty.to_decimal
    bids = [(px(p), qty(s)) for p, s in sorted(stream.bids.items(), reverse=True)]
    asks = [(px(p), qty(s)) for p, s in sorted(stream.asks.items())]
    return stream.u, bids, asks


def _check_book(book: OrderBook, depth: int) -> None:
    bids = [p for p, _ in book.bids]
    asks = [p for p, _ in book.asks]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert len(set(bids)) == len(bids) and len(set(asks)) == len(asks)
    assert 0 < len(bids) <= depth and 0 < len(asks) <= depth
    assert bids[0] < asks[0], "crossed book yielded"
    assert all(s > 0 for _, s in book.bids + book.asks)


async def _compare_while_running(c: BybitClient, sim: Any, symbol: str, depth: int, seconds: float) -> int:
    """Every 20 ms: when our book and the venue's published state have the same u, they must be equal.
    Returns how many exact comparisons were made."""
    machine = c.hub.book_machine(symbol, depth)
    assert machine is not None
    matches = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.sleep(0.02)
        pub = _published(sim, symbol, depth)
        view = machine.view()
        if pub is None or view is None or view.update_id != pub[0]:
            continue
        assert list(view.bids) == pub[1] and list(view.asks) == pub[2], f"book differs at u={pub[0]}"
        matches += 1
    return matches


async def test_orderbook_stream_equals_the_published_book(simulator: Any) -> None:
    async with simulator(symbols=2) as sim, client_for(sim, keys=False) as c:
        stream = await c.stream_orderbook("BTCUSDT", 50)
        assert isinstance(stream, MarketStream)
        seen = 0
        async for book in stream:
            _check_book(book, 50)
            seen += 1
            if seen == 20:
                break
        assert await _compare_while_running(c, sim, "BTCUSDT", 50, 1.0) >= 5
        latest = stream.latest()
        assert latest is not None and latest.symbol == "BTCUSDT"
        # A second consumer of the same topic shares the subscription and gets the same state.
        second = await c.stream_orderbook("BTCUSDT", 50)
        b2 = await asyncio.wait_for(second.__anext__(), 5)
        _check_book(b2, 50)
        await second.aclose()
        assert "orderbook.50.BTCUSDT" in c.hub.public.topics  # still used by `stream`
        await stream.aclose()
        assert "orderbook.50.BTCUSDT" not in c.hub.public.topics  # last consumer left: unsubscribed
        assert stream.latest() is None


async def test_slow_consumer_gets_the_latest_state_not_a_backlog(simulator: Any) -> None:
    async with simulator(symbols=1) as sim, client_for(sim, keys=False) as c:
        stream = await c.stream_orderbook("BTCUSDT", 50)
        first = await asyncio.wait_for(stream.__anext__(), 5)
        await asyncio.sleep(1.0)  # do not read: updates pile up... and are conflated
        nxt = await asyncio.wait_for(stream.__anext__(), 5)
        machine = c.hub.book_machine("BTCUSDT", 50)
        assert machine is not None
        assert nxt.update_id == machine.u and nxt.update_id > first.update_id + 1
        assert stream.updates > 5  # many updates were signalled, one state was delivered
        await stream.aclose()


async def test_changed_signals_in_sync_changes_without_building_the_state(simulator: Any) -> None:
    """changed() wakes on every in-sync change (conflated) and never while the book is out of sync; it
    returns False once the stream is closed."""
    faults = "seq_gap_rate=0.2"
    async with (
        simulator(symbols=1, speed=10, faults=faults) as sim,
        client_for(sim, FAST_WS, keys=False) as c,
    ):
        book_stream = await c.stream_orderbook("BTCUSDT", 50)
        ticker_stream = await c.stream_ticker("BTCUSDT")
        machine = c.hub.book_machine("BTCUSDT", 50)
        assert machine is not None

        async def woken() -> tuple[bool, bool]:
            # The book's state is read in the same step as the wake-up (wait_for may run this in its own
            # task, and later frames must not change the book in between).
            return await book_stream.changed(), machine.synced

        wakes = 0
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            assert await asyncio.wait_for(woken(), 5) == (True, True)  # woken only for a readable book
            wakes += 1
        assert wakes >= 10
        assert await asyncio.wait_for(ticker_stream.changed(), 5) is True
        assert ticker_stream.latest() is not None
        waiting = asyncio.create_task(book_stream.changed())
        await asyncio.sleep(0)
        await book_stream.aclose()
        assert await asyncio.wait_for(waiting, 5) is False
        await ticker_stream.aclose()


async def test_many_symbols_subscribe_concurrently_and_share_pending_topics(simulator: Any) -> None:
    """Subscriptions run concurrently (not one ack at a time under a lock); a second consumer of a topic
    still being subscribed waits for the same ack."""
    async with simulator(symbols=40) as sim, client_for(sim, keys=False) as c:
        symbols = [i.symbol for i in await c.get_instruments()][:40]
        await c.stream_ticker(symbols[0])  # the public connection is up

        async def second_consumer(symbol: str) -> Any:
            """Subscribes while the first consumer's request is in flight; must return only once acked."""
            stream = await c.stream_orderbook(symbol, 50)
            acked.append(c.hub._topics[f"orderbook.50.{symbol}"].subscribed.done())
            return stream

        acked: list[bool] = []
        subscribing = asyncio.ensure_future(
            asyncio.gather(
                *(c.stream_orderbook(s, 50) for s in symbols), *(second_consumer(s) for s in symbols)
            )
        )
        in_flight = 0
        while not subscribing.done():
            in_flight = max(in_flight, len(c.hub.public._acks))
            await asyncio.sleep(0)
        streams = await subscribing
        assert in_flight > 1  # several subscribe requests awaited their acks at once
        assert acked == [True] * len(symbols)  # the second consumers waited for the first one's ack
        assert {f"orderbook.50.{s}" for s in symbols} <= set(c.hub.public.topics)
        for stream in streams:
            book = await asyncio.wait_for(stream.__anext__(), 5)
            _check_book(book, 50)
        for stream in streams:
            await stream.aclose()
        assert not any(t.startswith("orderbook.") for t in c.hub.public.topics)


async def test_ticker_trades_and_klines_streams(simulator: Any) -> None:
    async with simulator(symbols=1, speed=20) as sim, client_for(sim, keys=False) as c:
        tick = await c.stream_ticker("BTCUSDT")
        trades = await c.stream_trades("BTCUSDT")
        klines = await c.stream_klines("BTCUSDT", Interval.M1)
        assert isinstance(trades, EventStream)
        tickers = []
        async for t in tick:
            tickers.append(t)
            if len(tickers) == 5:
                break
        for t in tickers:  # snapshot + deltas merged: never loses a field
            assert t.symbol == "BTCUSDT" and t.last_price > 0
            assert None not in (t.mark_price, t.index_price, t.bid1_price, t.ask1_price, t.funding_rate)
            assert t.bid1_price < t.ask1_price  # type: ignore[operator]
        assert len({t.ts for t in tickers}) > 1
        trade = await asyncio.wait_for(trades.__anext__(), 10)
        assert trade.symbol == "BTCUSDT" and trade.price > 0 and trade.taker_side in (Side.BUY, Side.SELL)
        candle = await asyncio.wait_for(klines.__anext__(), 10)
        assert candle.interval is Interval.M1 and candle.low <= candle.close <= candle.high
        for s in (tick, trades, klines):
            await s.aclose()


async def test_bounded_public_buffer_drops_oldest_private_never(simulator: Any) -> None:
    cfg = ClientConfig(ws=WsConfig(public_queue_max=3))
    async with simulator(symbols=1, speed=20) as sim, client_for(sim, cfg) as c:
        trades = await c.stream_trades("BTCUSDT")
        orders = await c.stream_orders()
        inst = (await c.get_instruments())[0]
        reqs = [await resting_buy(c, inst, f"ws-keep-{i}") for i in range(6)]
        for r in reqs:
            await c.place_order(r)
        await wait_until(lambda: trades.dropped > 0 and len(orders) >= 6)
        assert trades.dropped > 0 and len(trades) == 3  # public: oldest dropped, bounded
        got = [await asyncio.wait_for(orders.__anext__(), 5) for _ in range(6)]
        assert [o.order_link_id for o in got] == [r.order_link_id for r in reqs]  # private: all, in order
        assert orders.dropped == 0 and all(o.status is OrderStatus.NEW for o in got)


async def test_private_streams(simulator: Any) -> None:
    async with simulator(symbols=1) as sim, client_for(sim) as c:
        orders = await c.stream_orders()
        execs = await c.stream_executions()
        positions = await c.stream_positions()
        wallet = await c.stream_wallet()
        inst = (await c.get_instruments())[0]
        book = await c.get_orderbook(inst.symbol, 1)
        qty = max(inst.min_order_qty, on_grid(Decimal(30) / book.best_ask + inst.qty_step, inst.qty_step))  # type: ignore[operator]
        from asym.domain import OrderRequest

        await c.place_order(
            OrderRequest(
                symbol=inst.symbol, side=Side.BUY, order_type=OrderType.MARKET, qty=qty, order_link_id="ws-m"
            )
        )
        final = None
        while final is None or final.status is not OrderStatus.FILLED:
            final = await asyncio.wait_for(orders.__anext__(), 5)
        assert final.order_link_id == "ws-m" and final.cum_exec_qty == qty
        fill = await asyncio.wait_for(execs.__anext__(), 5)
        assert fill.order_link_id == "ws-m" and fill.qty > 0 and fill.fee > 0
        pos = await asyncio.wait_for(positions.__anext__(), 5)
        assert pos.symbol == inst.symbol and pos.side is Side.BUY
        w = await asyncio.wait_for(wallet.__anext__(), 5)
        assert w.total_equity > 0 and w.coins[0].coin == "USDT"


async def test_books_stay_correct_under_websocket_faults(simulator: Any) -> None:
    """Dropped connections every second, skipped deltas, truncated messages and frozen books: every book a
    consumer reads is consistent, equal to the venue's whenever both are at the same u, and the client
    recovered from each fault (resyncs, reconnects)."""
    obs = CountingObserver()
    faults = "ws_drop_every_s=1,seq_gap_rate=0.1,malformed_rate=0.05,stale_book_rate=0.01,stale_book_s=0.5"
    async with (
        simulator(symbols=1, speed=10, faults=faults) as sim,
        client_for(sim, FAST_WS, obs, keys=False) as c,
    ):
        stream = await c.stream_orderbook("BTCUSDT", 50)
        yielded = 0

        async def consume() -> None:
            nonlocal yielded
            async for book in stream:
                _check_book(book, 50)
                yielded += 1

        consumer = asyncio.create_task(consume())
        matches = await _compare_while_running(c, sim, "BTCUSDT", 50, 4.0)
        machine = c.hub.book_machine("BTCUSDT", 50)
        assert machine is not None
        # Reading while out of sync is impossible by construction:
        if not machine.synced:
            assert stream.latest() is None and machine.view() is None
        consumer.cancel()
        await stream.aclose()
    assert yielded > 20 and matches >= 5
    assert obs.ws_count("resync") >= 3  # gaps / malformed deltas were detected
    assert obs.ws_count("connect") >= 3  # and the dropped connections re-established
    assert obs.ws_count("malformed") >= 1


async def test_private_stream_survives_drops_and_reports_them(simulator: Any) -> None:
    async with simulator(symbols=1, faults="ws_drop_every_s=0.7") as sim, client_for(sim, FAST_WS) as c:
        orders = await c.stream_orders()
        inst = (await c.get_instruments())[0]
        await asyncio.sleep(1.6)  # at least two drops
        assert orders.reconnects >= 1  # a consumer learns events may have been missed: reconcile
        assert await wait_until(lambda: c.hub.private is not None and c.hub.private.connected)
        ack = await c.place_order(await resting_buy(c, inst, "ws-after-drop"))
        deadline = time.monotonic() + 5
        got = None
        while time.monotonic() < deadline:
            try:
                o = await asyncio.wait_for(orders.__anext__(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break  # published while the socket was down: lost, as on Bybit
            if o.order_link_id == "ws-after-drop":
                got = o
                break
        # Events during a drop are lost by the venue; REST reconciliation finds the order either way.
        assert got is not None or (await c.get_order_by_link_id("ws-after-drop", inst.symbol)) is not None
        assert ack.order_id


async def test_private_stream_with_a_wrong_secret_fails_fast_with_auth_error(simulator: Any) -> None:
    from asym.bybit import Credentials
    from asym.errors import AuthError

    async with simulator(symbols=1) as sim:
        creds = Credentials(sim.api_key, "wrong-secret-123")
        async with BybitClient(sim.rest_url, creds, ClientConfig(ws=FAST_WS.ws, sync_time=False)) as c:
            with pytest.raises(AuthError) as info:
                await c.stream_orders()
            assert "wrong-secret-123" not in str(info.value)


async def test_unreachable_stream_raises_instead_of_hanging() -> None:
    import socket

    from asym.errors import VenueError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = ClientConfig(ws=WsConfig(connect_timeout_s=0.2, reconnect=ReconnectPolicy(base_s=0.05, cap_s=0.1)))
    async with BybitClient(f"http://127.0.0.1:{port}", config=ClientConfig(sync_time=False, ws=cfg.ws)) as c:
        with pytest.raises(VenueError, match="could not connect"):
            await c.stream_orderbook("BTCUSDT", 50)
        assert c.hub.public._task is None  # nothing left running


async def test_public_topics_spread_over_connections_under_the_args_limit(simulator: Any) -> None:
    """Past `public_args_limit` characters of topic names a new public connection is opened: every topic
    lives on exactly one connection, none carries more than the limit, all of them deliver, and the
    simulator (which enforces Bybit's 21,000) never refuses."""
    cfg = ClientConfig(ws=WsConfig(public_args_limit=60))
    async with simulator(symbols=6) as sim, client_for(sim, cfg, keys=False) as c:
        symbols = [i.symbol for i in await c.get_instruments()][:6]
        books = await asyncio.gather(*(c.stream_orderbook(s, 50) for s in symbols))
        tickers = await asyncio.gather(*(c.stream_ticker(s) for s in symbols))
        hub = c.hub
        assert len(hub.publics) >= 3
        carried = [t for conn in hub.publics for t in conn.topics]
        assert sorted(carried) == sorted({*carried}) and len(carried) == 12
        assert all(conn.arg_chars <= 60 for conn in hub.publics)
        streams: list[Any] = [*books, *tickers]
        for stream in streams:
            assert await asyncio.wait_for(stream.changed(), 10) is True
        for stream in streams:
            await stream.aclose()
        assert all(not conn.topics for conn in hub.publics)
