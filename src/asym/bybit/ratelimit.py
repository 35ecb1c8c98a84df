"""Client-side rate limiting: never exceed the IP limit, respect per-endpoint limits, never starve trading.

* `SlidingWindow` (pure): at most `limit` events in any rolling `window_s`. A sliding log, not a token
  bucket: a bucket of capacity C refilled at r/s lets C + r*5 requests through in 5 s, so a 550 bucket
  could send 1100 in a window. The log holds exactly the send times of the last window.
* `IpGate`: the process-wide gate in front of every REST request (default 550 / 5 s, Bybit bans at 600).
  A request holds its slot while in flight and for a window after it finished (the venue counts
  arrivals, which we cannot see). Waiters queue by priority (TRADE < ACCOUNT < MARKET); only TRADE may
  use the last `trade_reserve` slots, so data collection can never take the share order placement needs.
* `EndpointLimiter`: per-(path, category) 1-second windows seeded from Bybit's default table and adapted to
  `X-Bapi-Limit`, `X-Bapi-Limit-Status` and `X-Bapi-Limit-Reset-Timestamp`; a 10006 blocks the endpoint
  until the reset timestamp.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable
from enum import IntEnum

from asym.errors import ConfigError


class Priority(IntEnum):
    """Request priority: lower value is served first."""

    TRADE = 0
    ACCOUNT = 1
    MARKET = 2


class SlidingWindow:
    """At most `limit` events in any rolling window of `window_s` seconds (pure: time is passed in)."""

    __slots__ = ("_times", "limit", "window_s")

    def __init__(self, limit: int, window_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ConfigError(f"rate limit must be >= 1 per window > 0 s, got {limit}/{window_s}s")
        self.limit = limit
        self.window_s = window_s
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        edge = now - self.window_s
        times = self._times
        while times and times[0] <= edge:
            times.popleft()

    def count(self, now: float) -> int:
        """Events inside the window ending at `now`."""
        self._expire(now)
        return len(self._times)

    def try_acquire(self, now: float, cap: int | None = None) -> bool:
        """Record an event at `now` if fewer than `cap` (default `limit`) are in the window."""
        self._expire(now)
        if len(self._times) < (self.limit if cap is None else min(cap, self.limit)):
            self._times.append(now)
            return True
        return False

    def next_free_at(self, now: float, cap: int | None = None) -> float:
        """The earliest time an event would be admitted under `cap` (now if already free)."""
        self._expire(now)
        c = self.limit if cap is None else min(cap, self.limit)
        n = len(self._times)
        if n < c:
            return now
        # The (n - c + 1)-th oldest event must leave the window.
        return self._times[n - c] + self.window_s

    def record(self, now: float) -> None:
        """Record an event at `now` unconditionally (times must not go backwards)."""
        self._times.append(now)

    def set_limit(self, limit: int) -> None:
        """Change the limit (adapting to a venue-announced value)."""
        if limit >= 1:
            self.limit = limit


class IpGate:
    """The process-wide REST gate: in-flight requests plus those that finished within the window stay
    below the cap; waiters queue by priority; only TRADE may use the reserve.

    A request counts from the moment it is let through until `window_s` after it FINISHED. The venue
    counts arrivals, which happen somewhere between our send and its answer: charging until answer +
    window is what keeps us below the venue's count even when arrival delays vary (a request that waited
    in a busy server's queue must not free its slot early on our side)."""

    def __init__(
        self,
        limit: int = 550,
        window_s: float = 5.0,
        trade_reserve: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        *,
        busy_start: bool = False,
    ) -> None:
        if not 0 <= trade_reserve < 1:
            raise ConfigError("trade_reserve must be in [0, 1)")
        self.window = SlidingWindow(limit, window_s)
        """Finish times of the requests of the last window."""
        self.inflight = 0
        self._clock = clock
        reserve = max(1, round(limit * trade_reserve)) if trade_reserve > 0 and limit > 1 else 0
        self._caps = {
            Priority.TRADE: limit,
            Priority.ACCOUNT: limit - reserve,
            Priority.MARKET: limit - reserve,
        }
        if busy_start:
            # What an earlier process on this IP sent in the last window is unknown, and the venue counts
            # it. Assume it ran its data at the full rate: `limit - reserve` requests spread evenly over
            # the window, which age out one every window/(limit - reserve) seconds. A new process
            # therefore ramps up at the full rate instead of bursting a whole window on top of its
            # predecessor's (a crash-restart loop would otherwise reach Bybit's ban), and its first
            # request still goes at once. Orders the predecessor sent from its reserve are not assumed:
            # they are rare, and the 50 requests between our 550 and Bybit's 600 cover all but a whole
            # reserve of them (55) in its last window. A cycle
            # long enough to matter loses almost nothing: after one window a burst start and an even
            # one have sent the same.
            assumed = self._caps[Priority.MARKET]
            now = clock()
            step = window_s / assumed
            for i in range(assumed):
                self.window.record(now - window_s + i * step)
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def cap(self, priority: Priority) -> int:
        """How many requests of `priority` may be in flight or finished within one window."""
        return self._caps[priority]

    def used(self) -> int:
        """Requests in flight plus those finished within the window."""
        return self.inflight + self.window.count(self._clock())

    def _room(self, priority: int) -> bool:
        return self.inflight + self.window.count(self._clock()) < self._caps[Priority(priority)]

    def try_acquire(self, priority: Priority = Priority.MARKET) -> bool:
        """Take a slot now if one is free and nobody of equal or higher priority waits (no await).
        Every granted slot must be given back with `release()` when the request finished."""
        if self._waiters and self._waiters[0][0] <= priority:
            return False
        if self._room(priority):
            self._grant()
            return True
        return False

    def _grant(self) -> None:
        """One request is let through now."""
        self.inflight += 1

    async def acquire(self, priority: Priority = Priority.MARKET) -> float:
        """Wait for a slot; returns the seconds waited (0.0 on the fast path). Pair with `release()`."""
        if self.try_acquire(priority):
            return 0.0
        start = self._clock()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._seq), fut))
        self._schedule()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted, then cancelled before use: give the slot back
            raise
        return self._clock() - start

    def release(self) -> None:
        """The request finished (answer, error or cancellation): its slot ages out of the window from now."""
        self.inflight -= 1
        self.window.record(self._clock())
        if self._waiters and self._timer is None:
            self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._drain()
        if not self._waiters:
            return
        free = self._caps[Priority(self._waiters[0][0])] - self.inflight
        if free <= 0:
            return  # everything is in flight: the next release() reschedules
        now = self._clock()
        at = self.window.next_free_at(now, free)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(0.0, at - now) + 1e-4, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._schedule()

    def _drain(self) -> None:
        waiters = self._waiters
        while waiters:
            prio, _, fut = waiters[0]
            if fut.done():  # cancelled waiter
                heapq.heappop(waiters)
                continue
            if not self._room(prio):
                return
            heapq.heappop(waiters)
            self._grant()
            fut.set_result(None)

    @property
    def waiting(self) -> int:
        """Requests queued for a slot."""
        return sum(1 for w in self._waiters if not w[2].done())


# Bybit's default per-UID limits per second (UTA2.0 Pro); "*" = every category.
DEFAULT_ENDPOINT_LIMITS: dict[str, dict[str, int]] = {
    "/v5/order/create": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/amend": {"linear": 10, "inverse": 10, "option": 10, "spot": 10},
    "/v5/order/cancel": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/cancel-all": {"linear": 10, "inverse": 10, "option": 1, "spot": 20},
    "/v5/order/create-batch": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/realtime": {"*": 50},
    "/v5/order/history": {"*": 50},
    "/v5/execution/list": {"*": 50},
    "/v5/position/list": {"*": 50},
    "/v5/position/set-leverage": {"*": 10},
    "/v5/position/trading-stop": {"*": 10},
    "/v5/account/wallet-balance": {"*": 50},
    "/v5/account/info": {"*": 50},
    "/v5/user/query-api": {"*": 10},
    "/v5/asset/coin/query-info": {"*": 5},
}


def default_endpoint_limit(path: str, category: str) -> int | None:
    """Bybit's default per-second limit of a private endpoint, None for public ones."""
    table = DEFAULT_ENDPOINT_LIMITS.get(path)
    if table is None:
        return None
    return table.get("*") or table.get(category) or table.get("linear")


class _EndpointState:
    __slots__ = ("blocked_until", "window")

    def __init__(self, limit: int) -> None:
        self.window = SlidingWindow(limit, 1.0)
        self.blocked_until = 0.0


class EndpointLimiter:
    """Per-(path, category) limits, adapted to the venue's X-Bapi-Limit* headers."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], float] | None = None,
        safety: float = 1.0,
    ) -> None:
        self._clock = clock
        # Venue reset timestamps are server epoch ms; `wall_ms` maps "now" to that clock.
        self._wall_ms = wall_ms or (lambda: time.time() * 1000)
        self._safety = safety
        self._states: dict[tuple[str, str], _EndpointState] = {}

    def _state(self, path: str, category: str) -> _EndpointState | None:
        key = (path, category)
        st = self._states.get(key)
        if st is None:
            limit = default_endpoint_limit(path, category)
            if limit is None:
                return None
            st = self._states[key] = _EndpointState(max(1, int(limit * self._safety)))
        return st

    def wait_time(self, path: str, category: str) -> float:
        """Seconds until a request to the endpoint may go (0 = now); does not take the slot."""
        st = self._state(path, category)
        if st is None:
            return 0.0
        now = self._clock()
        if st.blocked_until > now:
            return st.blocked_until - now
        return max(0.0, st.window.next_free_at(now) - now)

    async def acquire(self, path: str, category: str) -> float:
        """Wait until the endpoint has room and take a slot; returns seconds waited."""
        st = self._state(path, category)
        if st is None:
            return 0.0
        waited = 0.0
        while True:
            now = self._clock()
            if st.blocked_until <= now and st.window.try_acquire(now):
                return waited
            wait = max(st.blocked_until - now, st.window.next_free_at(now) - now, 0.001)
            waited += wait
            await asyncio.sleep(wait)

    def update(
        self, path: str, category: str, limit: str | None, status: str | None, reset: str | None
    ) -> None:
        """Adapt to the headers of a response (values as strings, any may be missing)."""
        st = self._state(path, category)
        if st is None:
            return
        if limit and limit.isdigit():
            st.window.set_limit(max(1, int(int(limit) * self._safety)))
        if status is not None and status.isdigit() and int(status) <= 0 and reset and reset.isdigit():
            self._block_until_reset(st, int(reset))

    def block(self, path: str, category: str, reset_ms: int | None, default_s: float = 1.0) -> float:
        """After a 10006: block the endpoint until `reset_ms` (venue ms) or `default_s`; returns seconds."""
        st = self._state(path, category)
        if st is None:
            st = self._states[(path, category)] = _EndpointState(10)
        if reset_ms is not None:
            return self._block_until_reset(st, reset_ms)
        st.blocked_until = max(st.blocked_until, self._clock() + default_s)
        return default_s

    def _block_until_reset(self, st: _EndpointState, reset_ms: int) -> float:
        wait_s = min(max(0.0, (reset_ms - self._wall_ms()) / 1000.0), 60.0) + 0.01
        st.blocked_until = max(st.blocked_until, self._clock() + wait_s)
        return wait_s
