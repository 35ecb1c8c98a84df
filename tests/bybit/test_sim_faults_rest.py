"""REST fault injection on the simulator (errors 10006/10016/5xx, connection resets, hangs): reads come
back complete and correct, writes are never duplicated and every acknowledged order exists."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from asym.bybit import ClientConfig, CountingObserver, RetryPolicy, TransportConfig
from asym.domain import Interval, OrderBook, OrderStatus
from asym.errors import OutcomeUnknownError

from .conftest import client_for
from .helpers import resting_buy, resting_buy_at

FAULTS = "error_rate=0.25,reset_rate=0.05,hang_rate=0.05,hang_s=3"

CFG = ClientConfig(
    transport=TransportConfig(
        timeout_s=0.5,
        read_retry=RetryPolicy(max_attempts=12, base_s=0.02, cap_s=0.3, deadline_s=20),
        write_retry=RetryPolicy(max_attempts=6, base_s=0.02, cap_s=0.3, deadline_s=10),
    ),
    resolve=RetryPolicy(max_attempts=20, base_s=0.02, cap_s=0.3, deadline_s=20),
)


async def test_reads_under_faults_are_complete_and_correct(simulator: Any) -> None:
    obs = CountingObserver()
    async with simulator(symbols=1) as clean, client_for(clean, keys=False) as c0:
        # The same seed gives the same market history: a fault-free reference.
        start = (await c0.get_klines("BTCUSDT", Interval.M5, limit=1))[0].start - 200 * 300_000
        ref = await c0.get_klines("BTCUSDT", Interval.M5, start=start, limit=150)
    async with simulator(symbols=1, faults=FAULTS) as sim, client_for(sim, CFG, obs, keys=False) as c:
        results = await asyncio.gather(
            *(c.get_klines("BTCUSDT", Interval.M5, start=start, limit=150) for _ in range(15)),
            *(c.get_orderbook("BTCUSDT", 25 + i) for i in range(15)),
        )
        for got in results[:15]:
            assert got == ref
        for i, book in enumerate(results[15:]):
            assert isinstance(book, OrderBook) and book.best_bid is not None and book.best_ask is not None
            assert len(book.bids) == 25 + i and book.best_bid < book.best_ask
    retried = sum(n for (_, reason), n in obs.retries.items() if reason in ("retry", "rate_limit"))
    assert retried > 0 and obs.error_count() > 0  # the faults really happened


async def test_writes_under_faults_are_never_duplicated(simulator: Any) -> None:
    obs = CountingObserver()
    async with simulator(symbols=1, faults=FAULTS) as sim, client_for(sim, CFG, obs) as c:
        engine, uid = sim.exchange.engine, sim.exchange.uid
        inst = (await c.get_instruments())[0]
        bid = (await c.get_orderbook(inst.symbol, 1)).best_bid
        assert bid is not None
        reqs = [resting_buy_at(inst, bid, f"ft-{i}") for i in range(16)]

        async def place(r: Any) -> Any:
            try:
                return await c.place_order(r)
            except OutcomeUnknownError as exc:  # allowed, but must stay rare; counted below
                return exc

        outcomes = await asyncio.gather(*(place(r) for r in reqs))
        acked = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(acked) >= 14, outcomes
        for r in reqs:
            assert engine.order_count_by_link_id(uid, r.order_link_id) <= 1  # never a duplicate
        for a in acked:
            assert engine.order_count_by_link_id(uid, a.order_link_id) == 1  # an ack means it exists
        resolved = [a for a in acked if a.resolved]
        assert resolved, "with write_after_share=0.5 some outcomes must have been unknown"
        assert all(a.order is not None and a.order.order_link_id == a.order_link_id for a in resolved)
        # Cancelling under faults: every order ends cancelled exactly once.
        cancels = await asyncio.gather(
            *(c.cancel_order(inst.symbol, order_link_id=a.order_link_id) for a in acked)
        )
        for a, ack in zip(acked, cancels, strict=True):
            assert ack.order_link_id == a.order_link_id
            assert not ack.resolved or ack.order is not None
        for a in acked:  # checked on the venue itself, not through the faulty API
            orders = engine.orders(
                uid, symbol=inst.symbol, order_id="", order_link_id=a.order_link_id, open_only=False
            )
            assert [o.status for o in orders] == [OrderStatus.CANCELLED]


@pytest.mark.parametrize("faults", ["hang_rate=1,hang_s=3", "reset_rate=1"])
async def test_a_write_that_never_answers_is_unknown_not_duplicated(simulator: Any, faults: str) -> None:
    """Every request hangs (or is reset): the create may have happened (write_after_share) but the client
    can neither see nor look it up, so it must end with OutcomeUnknownError, never a blind duplicate."""
    quick = ClientConfig(
        transport=TransportConfig(
            timeout_s=0.3,
            read_retry=RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.05, deadline_s=1),
            write_retry=RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.05, deadline_s=1),
        ),
        resolve=RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.05, deadline_s=2),
        sync_time=False,
    )
    async with simulator(symbols=1) as clean, client_for(clean, keys=False) as c0:
        inst = (await c0.get_instruments())[0]
        req = await resting_buy(c0, inst, "ft-hang")
    hostile = simulator(symbols=1, faults=faults + ",write_after_share=1")
    async with hostile as sim, client_for(sim, quick) as c:
        with pytest.raises(OutcomeUnknownError):
            await c.place_order(req)
        assert sim.exchange.engine.order_count_by_link_id(sim.exchange.uid, "ft-hang") <= 1
