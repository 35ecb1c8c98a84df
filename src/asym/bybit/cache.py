"""A small TTL cache for slowly changing data (instruments, risk limits); values must be immutable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Key -> value for `ttl_s` seconds. `get_or_load` also coalesces concurrent loads of one key."""

    def __init__(
        self, ttl_s: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 4096
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._max = max_entries
        self._data: dict[Hashable, tuple[float, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        """The cached value, or None when absent or expired."""
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._data[key]
            return None
        return item[1]

    def put(self, key: Hashable, value: V) -> None:
        """Store a value for ttl_s."""
        if len(self._data) >= self._max:
            now = self._clock()
            self._data = {k: v for k, v in self._data.items() if v[0] > now}
            if len(self._data) >= self._max:
                self._data.clear()
        self._data[key] = (self._clock() + self.ttl_s, value)

    def invalidate(self, key: Hashable | None = None) -> None:
        """Drop one key (or everything)."""
        if key is None:
            self._data.clear()
        else:
            self._data.pop(key, None)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or load it once even when many callers ask at the same time."""
        value = self.get(key)
        if value is not None:
            self.hits += 1
            return value
        fut = self._loading.get(key)
        if fut is not None:
            return await asyncio.shield(fut)
        self.misses += 1
        fut = asyncio.get_running_loop().create_future()
        self._loading[key] = fut
        try:
            value = await load()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                fut.cancel()
            else:
                fut.set_exception(exc)
                fut.exception()
            raise
        else:
            self.put(key, value)
            fut.set_result(value)
            return value
        finally:
            del self._loading[key]
