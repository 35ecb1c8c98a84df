"""In-process streams for `CoreVenue`: the `EventStream` / `MarketStream` protocols over asyncio queues.

A backtest has no connection to lose: `reconnects` stays 0, private events are never dropped, and public
event streams drop their oldest event only when a consumer lets `max_buffer` events pile up (counted in
`dropped`, as the protocol says).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LocalEventStream(Generic[T]):
    """An `EventStream[T]` fed by the venue (`put`); `aclose` unsubscribes it."""

    def __init__(
        self, on_close: Callable[[LocalEventStream[T]], None], max_buffer: int | None = None
    ) -> None:
        self.dropped = 0
        self.reconnects = 0
        self._buf: deque[T] = deque()
        self._max = max_buffer
        self._wake = asyncio.Event()
        self._closed = False
        self._on_close = on_close

    def put(self, item: T) -> None:
        """Queue an event (public streams drop their oldest event when full)."""
        if self._closed:
            return
        if self._max is not None and len(self._buf) >= self._max:
            self._buf.popleft()
            self.dropped += 1
        self._buf.append(item)
        self._wake.set()

    def pending(self) -> int:
        """Events queued and not yet consumed."""
        return len(self._buf)

    async def __anext__(self) -> T:
        while not self._buf:
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        return self._buf.popleft()

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def aclose(self) -> None:
        """Stop the stream (events still queued are discarded)."""
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._on_close(self)


class LocalMarketStream(Generic[T]):
    """A conflated `MarketStream[T]`: `latest()` reads the venue now; iteration yields after every move."""

    def __init__(
        self, read: Callable[[], T | None], on_close: Callable[[LocalMarketStream[T]], None]
    ) -> None:
        self._read = read
        self._version = 0
        self._seen = 0
        self._wake = asyncio.Event()
        self._closed = False
        self._on_close = on_close

    def latest(self) -> T | None:
        """The state at the venue's current time."""
        return None if self._closed else self._read()

    def notify(self) -> None:
        """The venue moved: wake the iterator."""
        self._version += 1
        self._wake.set()

    async def __anext__(self) -> T:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._version != self._seen:
                self._seen = self._version
                value = self._read()
                if value is not None:
                    return value
            self._wake.clear()
            await self._wake.wait()

    async def changed(self) -> bool:
        """Wait for the venue's next move to a readable state; False once closed."""
        try:
            await self.__anext__()
        except StopAsyncIteration:
            return False
        return True

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def aclose(self) -> None:
        """Stop the stream."""
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._on_close(self)


__all__ = ["LocalEventStream", "LocalMarketStream"]
