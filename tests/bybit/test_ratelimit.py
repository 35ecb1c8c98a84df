"""Client-side rate limiting: the sliding window never admits more than its limit in any window, the IP
gate serves trading first and keeps its reserve, the endpoint limiter follows Bybit's headers."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asym.bybit.ratelimit import EndpointLimiter, IpGate, Priority, SlidingWindow, default_endpoint_limit
from asym.errors import ConfigError


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 20),
    st.lists(st.floats(min_value=0, max_value=0.5, allow_nan=False), min_size=1, max_size=300),
)
def test_sliding_window_never_exceeds_limit_in_any_window(limit: int, gaps: list[float]) -> None:
    w = SlidingWindow(limit, 1.0)
    now = 0.0
    admitted: list[float] = []
    for g in gaps:
        now += g
        if w.try_acquire(now):
            admitted.append(now)
        else:
            # When refused, next_free_at is in the future and admits exactly then.
            at = w.next_free_at(now)
            assert at > now
    for i, t in enumerate(admitted):
        in_window = [x for x in admitted[i:] if x < t + 1.0]
        assert len(in_window) <= limit


def test_sliding_window_unlike_a_bucket_admits_no_burst_on_top_of_a_full_window() -> None:
    w = SlidingWindow(550, 5.0)
    admitted = sum(w.try_acquire(t * 0.001) for t in range(2000))  # 2000 requests in 2 s
    assert admitted == 550
    assert w.next_free_at(2.0) == pytest.approx(5.0)
    with pytest.raises(ConfigError):
        SlidingWindow(0, 1.0)


async def test_ip_gate_serves_trading_first_and_keeps_its_reserve() -> None:
    gate = IpGate(limit=10, window_s=0.3, trade_reserve=0.2)  # market may use 8 of 10
    assert gate.cap(Priority.MARKET) == 8 and gate.cap(Priority.TRADE) == 10
    for _ in range(8):
        assert gate.try_acquire(Priority.MARKET)
    assert not gate.try_acquire(Priority.MARKET)  # data is out of slots...
    assert gate.try_acquire(Priority.TRADE)  # ...but trading still has its reserve
    for _ in range(9):
        gate.release()  # they finish now: their slots age out 0.3 s from now
    assert gate.used() == 9
    order: list[str] = []

    async def req(name: str, prio: Priority) -> None:
        await gate.acquire(prio)
        order.append(name)
        gate.release()

    tasks = [asyncio.create_task(req(f"m{i}", Priority.MARKET)) for i in range(5)]
    await asyncio.sleep(0.01)
    tasks.append(asyncio.create_task(req("t", Priority.TRADE)))  # arrives after five waiting data requests
    tasks.append(asyncio.create_task(req("a", Priority.ACCOUNT)))
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert order.index("t") == 0, order  # trading goes first even though it queued last
    assert order.index("a") < min(order.index(f"m{i}") for i in range(5))


async def test_a_slow_request_keeps_its_slot_until_a_window_after_it_finished() -> None:
    """The venue counts arrivals; a request stuck in a slow server must not free its slot early."""
    gate = IpGate(limit=2, window_s=0.2, trade_reserve=0.0)
    assert gate.try_acquire() and gate.try_acquire()
    assert not gate.try_acquire()  # both in flight
    await asyncio.sleep(0.3)  # longer than the window, but still in flight
    assert not gate.try_acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0.05)
    assert not waiter.done()
    gate.release()  # finished now: its slot is free only 0.2 s later
    await asyncio.sleep(0.1)
    assert not waiter.done()
    waited = await asyncio.wait_for(waiter, 2)
    assert waited >= 0.25


async def test_ip_gate_keeps_any_window_within_the_limit_under_load() -> None:
    gate = IpGate(limit=20, window_s=0.25, trade_reserve=0.1)
    sends: list[float] = []

    async def worker(prio: Priority) -> None:
        for _ in range(10):
            await gate.acquire(prio)
            sends.append(time.monotonic())
            await asyncio.sleep(0.001)  # the request
            gate.release()

    await asyncio.wait_for(
        asyncio.gather(*(worker(Priority.MARKET if i % 4 else Priority.TRADE) for i in range(8))), 10
    )
    sends.sort()
    for i, t in enumerate(sends):
        assert len([x for x in sends[i:] if x < t + 0.25 - 1e-3]) <= 20
    assert gate.inflight == 0


def test_a_busy_start_ramps_at_the_full_rate_and_never_bursts() -> None:
    """A new process assumes its predecessor on the IP used the whole window evenly: one slot frees every
    window/limit seconds, so old + new stay within the limit in every window."""
    now = [100.0]
    gate = IpGate(limit=10, window_s=1.0, trade_reserve=0.0, clock=lambda: now[0], busy_start=True)
    assert gate.used() == 9  # the oldest assumed request (at now - window) has just aged out
    assert gate.try_acquire()  # so the first request goes at once...
    assert not gate.try_acquire()  # ...but not a burst
    gate.release()
    granted = []
    for step in range(1, 21):  # 2 s in steps of 0.1 s: one slot ages out per step in the first window
        now[0] = 100.0 + step * 0.1
        while gate.try_acquire():
            gate.release()
            granted.append(step)
    first_window = [s for s in granted if s <= 10]
    assert len(first_window) == 10 and sorted(set(first_window)) == list(range(1, 11))
    # With the default order reserve the assumed predecessor used the data share (9 of 10 here): a data
    # request still goes at once, an order too, and neither bursts.
    now[0] = 200.0
    trading = IpGate(limit=10, window_s=1.0, trade_reserve=0.1, clock=lambda: now[0], busy_start=True)
    assert trading.try_acquire(Priority.MARKET)
    assert not trading.try_acquire(Priority.MARKET)
    assert trading.try_acquire(Priority.TRADE)  # the reserve is there for orders at once
    # Without it, a fresh gate would let the whole window through at once.
    fresh = IpGate(limit=10, window_s=1.0, trade_reserve=0.0, clock=lambda: now[0])
    assert sum(fresh.try_acquire() for _ in range(12)) == 10


async def test_cancelled_waiter_does_not_block_the_queue() -> None:
    gate = IpGate(limit=1, window_s=0.1, trade_reserve=0.0)
    assert gate.try_acquire(Priority.MARKET)
    gate.release()
    t1 = asyncio.create_task(gate.acquire(Priority.MARKET))
    await asyncio.sleep(0.01)
    t1.cancel()
    waited = await asyncio.wait_for(gate.acquire(Priority.MARKET), 2)
    assert waited < 1.0 and gate.inflight == 1


async def test_endpoint_limiter_defaults_and_headers() -> None:
    assert default_endpoint_limit("/v5/order/create", "linear") == 10
    assert default_endpoint_limit("/v5/order/create", "spot") == 20
    assert default_endpoint_limit("/v5/market/tickers", "linear") is None
    now_ms = [1_000_000.0]
    lim = EndpointLimiter(wall_ms=lambda: now_ms[0])
    assert lim.wait_time("/v5/market/tickers", "linear") == 0.0
    for _ in range(10):
        await lim.acquire("/v5/order/create", "linear")
    assert 0 < lim.wait_time("/v5/order/create", "linear") <= 1.0  # 11th within the second must wait
    # The venue says 20/s: the window grows.
    lim.update("/v5/order/create", "linear", "20", "9", str(int(now_ms[0])))
    assert lim.wait_time("/v5/order/create", "linear") == 0.0
    # Status 0 with a reset 300 ms ahead blocks until then.
    lim.update("/v5/order/cancel", "linear", "10", "0", str(int(now_ms[0] + 300)))
    assert 0.25 < lim.wait_time("/v5/order/cancel", "linear") <= 0.32
    # A 10006 without headers blocks for the default second.
    assert lim.block("/v5/order/amend", "linear", None, default_s=0.5) == 0.5
    start = time.monotonic()
    await lim.acquire("/v5/order/amend", "linear")
    assert time.monotonic() - start >= 0.45
