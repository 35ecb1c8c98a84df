"""Pure parts: circuit breaker, funding events, cost table, caches."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from asym.signals import CachedCompletion, FileCache, MemoryCache, cache_key
from asym.signals.breaker import BreakerState, CircuitBreaker
from asym.signals.costs import DEFAULT_PRICES, UsageLedger, cost_usd
from asym.signals.economics import funding_events

HOUR = 3_600_000


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_breaker_states() -> None:
    clock = Clock()
    b = CircuitBreaker(failure_threshold=3, reset_after_s=10, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    b.record_success()  # a success resets the count
    for _ in range(3):
        assert b.allow()
        b.record_failure()
    assert b.state is BreakerState.OPEN and not b.allow()
    clock.t = 9.9
    assert not b.allow()
    clock.t = 10
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow() and not b.allow()  # exactly one probe
    b.record_failure()
    assert b.state is BreakerState.OPEN
    clock.t = 20
    assert b.allow()
    b.release()  # a cancelled probe frees the slot without counting
    assert b.allow()
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.allow() and b.allow()
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)


@pytest.mark.parametrize(
    ("horizon", "now", "nxt", "events"),
    [
        (Decimal(24), 0, None, 3),
        (Decimal(20), 0, None, 3),
        (Decimal("0.5"), 0, None, 1),
        (Decimal(24), 1000, 1000 + 4 * HOUR, 3),  # at +4, +12, +20
        (Decimal(4), 1000, 1000 + 4 * HOUR, 1),  # the boundary counts
        (Decimal("3.99"), 1000, 1000 + 4 * HOUR, 0),
        (Decimal(8), 1000 + 10 * HOUR, 1000, 1),  # stale next time rolls forward to +6
        (Decimal(48), 1000, 1000 + HOUR, 6),
    ],
)
def test_funding_events(horizon: Decimal, now: int, nxt: int | None, events: int) -> None:
    assert funding_events(horizon, 8, now, nxt) == events


def test_cost_and_ledger() -> None:
    p = DEFAULT_PRICES["deepseek-chat"]
    assert cost_usd(p, 1_000_000, 0, 0) == Decimal("0.28")
    assert cost_usd(p, 1_000_000, 1_000_000, 1_000_000) == Decimal("0.028") + Decimal("0.42")
    assert cost_usd(None, 10, 10) is None
    led = UsageLedger()
    led.record_call("m", 10, 5, 0, Decimal("0.5"))
    led.record_call("m", 10, 5, 0, None)
    led.record_failure("m")
    led.record_cache_hit("m")
    u = led.snapshot()["m"]
    assert (u.calls, u.failures, u.cache_hits, u.prompt_tokens, u.unpriced_calls) == (2, 1, 1, 20, 1)
    assert led.total_cost_usd() == Decimal("0.5")


async def test_caches(tmp_path: Path) -> None:
    key = cache_key("m", "digest")
    assert key != cache_key("m2", "digest") and len(key) == 64
    value = CachedCompletion(content='{"action": "HOLD"}', prompt_tokens=3)
    mem = MemoryCache(max_entries=2)
    await mem.put(key, value)
    await mem.put(cache_key("m", "a"), value)
    await mem.get(key)  # recently used survives eviction
    await mem.put(cache_key("m", "b"), value)
    assert await mem.get(key) == value and await mem.get(cache_key("m", "a")) is None
    fc = FileCache(tmp_path)
    assert await fc.get(key) is None
    await fc.put(key, value)
    assert await FileCache(tmp_path).get(key) == value
    (tmp_path / key[:2] / f"{key}.json").write_text("{torn")
    assert await fc.get(key) is None  # a torn file is a miss
    with pytest.raises(ValueError):
        await fc.get("../escape")
