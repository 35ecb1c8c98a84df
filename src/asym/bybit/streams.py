"""Streams over the WebSocket connections: per-topic state (order books, tickers) and consumer streams.

Backpressure: market state (books, tickers) is conflated: a consumer always gets the latest in-sync state
and never a queue of superseded ones. Public events (trades, klines, liquidations) go through a bounded
buffer that drops the oldest when full (counted). Private events are queued without bound: never dropped.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import aiohttp
import msgspec

from asym.bybit.auth import Credentials
from asym.bybit.convert import account as ca
from asym.bybit.convert import market as cm
from asym.bybit.metrics import ClientObserver, NullObserver
from asym.bybit.orderbook import Apply, OrderBookMachine
from asym.bybit.tickerstate import TickerState
from asym.bybit.wire import account as wa
from asym.bybit.wire import ws as ww
from asym.bybit.ws import WsConfig, WsConnection
from asym.domain import (
    Candle,
    Category,
    Execution,
    Interval,
    Liquidation,
    Order,
    OrderBook,
    Position,
    PublicTrade,
    Ticker,
    WalletBalance,
)
from asym.errors import ConfigError, DataError
from asym.logging import get_logger

T = TypeVar("T")
_log = get_logger("bybit.streams")

_BOOK = msgspec.json.Decoder(ww.WsBookData, strict=False)
_TICKER = msgspec.json.Decoder(dict[str, Any])
_TRADES = msgspec.json.Decoder(list[ww.WsTrade], strict=False)
_KLINES = msgspec.json.Decoder(list[ww.WsKline], strict=False)
_LIQS = msgspec.json.Decoder(list[ww.WsLiquidation], strict=False)
_LEGACY_LIQ = msgspec.json.Decoder(ww.WsLegacyLiquidation, strict=False)
_ORDERS = msgspec.json.Decoder(list[wa.OrderItem], strict=False)
_EXECS = msgspec.json.Decoder(list[wa.ExecutionItem], strict=False)
_POSITIONS = msgspec.json.Decoder(list[wa.PositionItem], strict=False)
_WALLETS = msgspec.json.Decoder(list[wa.WalletAccount], strict=False)
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, DataError, ValueError)


class ConflatedStream(Generic[T]):
    """Latest-state stream (implements asym.domain.venue.MarketStream)."""

    def __init__(
        self,
        source: Callable[[], T | None],
        on_close: Callable[[ConflatedStream[T]], Any],
        ready: Callable[[], bool],
    ) -> None:
        self._source = source
        self._ready = ready
        """Cheap "would `source` return a state?" (e.g. the book is in sync), so `changed` builds nothing."""
        self._on_close = on_close
        self._dirty = False
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.updates = 0
        """How many updates were signalled (most are conflated away for a slow consumer)."""

    def latest(self) -> T | None:
        """The latest in-sync state, or None."""
        return None if self._closed else self._source()

    def notify(self) -> None:
        """Called by the hub when the state changed."""
        self.updates += 1
        self._dirty = True
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def __aiter__(self) -> ConflatedStream[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._dirty:
                self._dirty = False
                value = self._source()
                if value is not None:
                    return value
                continue  # known out of sync: wait for the resync
            await self._wait()

    async def changed(self) -> bool:
        """Wait for the next change to an in-sync state without building it (freshness tracking for 500
        books must not sort and convert 25,000 books a second); False once the stream is closed."""
        while True:
            if self._closed:
                return False
            if self._dirty:
                self._dirty = False
                if self._ready():
                    return True
                continue
            await self._wait()

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def aclose(self) -> None:
        """Stop; unsubscribes the topic when this was its last consumer."""
        if self._closed:
            return
        self._closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        await self._on_close(self)


class QueueStream(Generic[T]):
    """An event stream (implements asym.domain.venue.EventStream); bounded (drops oldest) or unbounded."""

    def __init__(self, on_close: Callable[[QueueStream[T]], Any], maxlen: int | None = None) -> None:
        self._items: collections.deque[T] = collections.deque()
        self._maxlen = maxlen
        self._on_close = on_close
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.dropped = 0
        self.reconnects = 0

    def push(self, item: T) -> None:
        """Append one event (dropping the oldest when bounded and full)."""
        if self._closed:
            return
        if self._maxlen is not None and len(self._items) >= self._maxlen:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def __len__(self) -> int:
        return len(self._items)

    def __aiter__(self) -> QueueStream[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            if self._items:
                return self._items.popleft()
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        """Stop (buffered events are discarded)."""
        if self._closed:
            return
        self._closed = True
        self._items.clear()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        await self._on_close(self)


RESYNC_RETRY_S = 3.0
"""A topic still out of sync this long after its resync (its fresh snapshot was lost?) is resynced again."""


class _Topic:
    """State and consumers of one subscribed topic."""

    __slots__ = ("book", "conn", "consumers", "kind", "last_resync", "subscribed", "symbol", "ticker")

    def __init__(self, kind: str, symbol: str, conn: WsConnection) -> None:
        self.kind = kind
        self.conn = conn
        """The connection that carries this topic."""
        self.symbol = symbol
        self.consumers: list[Any] = []
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done when the venue acknowledged the subscription (or refused it: the exception)."""
        self.book: OrderBookMachine | None = None
        self.ticker: TickerState | None = None
        self.last_resync = time.monotonic()


class StreamHub:
    """Owns the public and private connections, the per-topic state machines and the consumer streams."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        public_url: str,
        private_url: str,
        credentials: Credentials | None,
        config: WsConfig | None = None,
        observer: ClientObserver | None = None,
        wall_ms: Callable[[], int] | None = None,
        category: Category = Category.LINEAR,
    ) -> None:
        self.config = config or WsConfig()
        self.observer: ClientObserver = observer or NullObserver()
        self.category = category
        self._topics: dict[str, _Topic] = {}
        self._lock = asyncio.Lock()
        self._session = session
        self._public_url = public_url
        self.public = self._new_public()
        """The first public connection; `publics` lists all of them."""
        self.publics: list[WsConnection] = [self.public]
        self.private: WsConnection | None = None
        if credentials is not None:
            self.private = WsConnection(
                private_url,
                session,
                self._on_private,
                name="private",
                credentials=credentials,
                config=self.config,
                observer=self.observer,
                on_connect=self._on_private_connect,
                wall_ms=wall_ms,
            )

    async def close(self) -> None:
        """Close both connections and end every stream."""
        for topic in list(self._topics.values()):
            for c in list(topic.consumers):
                c._closed = True
                w = c._waiter
                if w is not None and not w.done():
                    w.set_result(None)
        self._topics.clear()
        for conn in self.publics:
            await conn.close()
        if self.private is not None:
            await self.private.close()

    # ------------------------------------------------------------ subscribing

    def _new_public(self) -> WsConnection:
        conn: WsConnection = WsConnection(
            self._public_url,
            self._session,
            self._on_public,
            name="public",
            config=self.config,
            observer=self.observer,
            on_connect=lambda n: self._on_public_connect(conn, n),  # called once connected
        )
        return conn

    def _public_for(self, topic: str) -> WsConnection:
        """The public connection with room for `topic` under Bybit's per-connection args limit (a new
        one when every connection is full). Called under the lock."""
        limit = self.config.public_args_limit
        for conn in self.publics:
            if conn.arg_chars + len(topic) <= limit:
                return conn
        conn = self._new_public()
        self.publics.append(conn)
        return conn

    async def _add(
        self, conn: WsConnection | None, topic: str, kind: str, symbol: str, consumer: Any
    ) -> None:
        """Register `consumer` of `topic` and subscribe it when new; `conn` None: a public topic, on the
        public connection with room for it."""
        # The lock covers the registry only: the subscribe round trip runs outside it, so that many
        # symbols subscribe concurrently (a 500-symbol universe is 1,500 topics: one at a time, waiting
        # for each ack, takes minutes).
        async with self._lock:
            t = self._topics.get(topic)
            fresh = t is None
            if t is None:
                target = conn if conn is not None else self._public_for(topic)
                if not target.started:
                    await target.start()
                t = self._topics[topic] = _Topic(kind, symbol, target)
                if kind == "book":
                    depth = int(topic.split(".")[1])
                    t.book = OrderBookMachine(symbol, depth, self.category)
                elif kind == "ticker":
                    t.ticker = TickerState(symbol, self.category)
            t.consumers.append(consumer)
        if not fresh:
            try:
                await asyncio.shield(t.subscribed)  # a consumer of a topic being subscribed waits for its ack
            except BaseException:
                if consumer in t.consumers:
                    t.consumers.remove(consumer)
                raise
            return
        try:
            # No await between the lock's release and here: the topic enters the connection's registry
            # (and its args count) before another subscription picks a connection.
            await t.conn.subscribe([topic])
        except BaseException as exc:
            async with self._lock:
                if self._topics.get(topic) is t:
                    del self._topics[topic]
            if isinstance(exc, Exception):
                t.subscribed.set_exception(exc)
                t.subscribed.exception()  # retrieved: nobody else may be waiting
            else:
                t.subscribed.cancel()
            raise
        t.subscribed.set_result(None)

    def _remover(self, topic: str) -> Callable[[Any], Any]:
        async def remove(consumer: Any) -> None:
            async with self._lock:
                t = self._topics.get(topic)
                if t is None:
                    return
                if consumer in t.consumers:
                    t.consumers.remove(consumer)
                last = not t.consumers
                if last:
                    del self._topics[topic]
            if last:
                # Outside the lock, like subscribing: closing 1,500 streams must not take 1,500 round trips
                # in a row. The connection's registry changes before this task first yields, so a new
                # subscription of the same topic is always sent after this unsubscription.
                await t.conn.unsubscribe([topic])

        return remove

    def _priv(self) -> WsConnection:
        if self.private is None:
            raise ConfigError("private streams need API credentials")
        return self.private

    async def orderbook(self, symbol: str, depth: int = 50) -> ConflatedStream[OrderBook]:
        """A conflated order-book stream (only in-sync books are ever yielded)."""
        topic = f"orderbook.{depth}.{symbol}"

        def source() -> OrderBook | None:
            t = self._topics.get(topic)
            return t.book.view() if t is not None and t.book is not None else None

        def ready() -> bool:
            t = self._topics.get(topic)
            return t is not None and t.book is not None and t.book.synced

        stream: ConflatedStream[OrderBook] = ConflatedStream(source, self._remover(topic), ready)
        await self._add(None, topic, "book", symbol, stream)
        return stream

    def book_machine(self, symbol: str, depth: int = 50) -> OrderBookMachine | None:
        """The live state machine of a subscribed book (diagnostics and tests)."""
        t = self._topics.get(f"orderbook.{depth}.{symbol}")
        return t.book if t is not None else None

    async def ticker(self, symbol: str) -> ConflatedStream[Ticker]:
        """A conflated merged-ticker stream."""
        topic = f"tickers.{symbol}"

        def source() -> Ticker | None:
            t = self._topics.get(topic)
            return t.ticker.view() if t is not None and t.ticker is not None else None

        def ready() -> bool:
            t = self._topics.get(topic)
            return t is not None and t.ticker is not None and t.ticker.complete

        stream: ConflatedStream[Ticker] = ConflatedStream(source, self._remover(topic), ready)
        await self._add(None, topic, "ticker", symbol, stream)
        return stream

    async def _public_events(self, topic: str, kind: str, symbol: str) -> QueueStream[Any]:
        stream: QueueStream[Any] = QueueStream(self._remover(topic), maxlen=self.config.public_queue_max)
        await self._add(None, topic, kind, symbol, stream)
        return stream

    async def trades(self, symbol: str) -> QueueStream[PublicTrade]:
        """Public trades (bounded buffer)."""
        return await self._public_events(f"publicTrade.{symbol}", "trade", symbol)

    async def klines(self, symbol: str, interval: Interval) -> QueueStream[Candle]:
        """Kline updates (bounded buffer)."""
        return await self._public_events(f"kline.{interval.value}.{symbol}", "kline", symbol)

    async def liquidations(self, symbol: str) -> QueueStream[Liquidation]:
        """Public liquidations (bounded buffer)."""
        return await self._public_events(f"allLiquidation.{symbol}", "liquidation", symbol)

    async def _private_events(self, topic: str) -> QueueStream[Any]:
        stream: QueueStream[Any] = QueueStream(self._remover(topic), maxlen=None)
        await self._add(self._priv(), topic, topic, "", stream)
        return stream

    async def orders(self) -> QueueStream[Order]:
        """Own orders (never dropped)."""
        return await self._private_events("order")

    async def executions(self) -> QueueStream[Execution]:
        """Own fills (never dropped)."""
        return await self._private_events("execution")

    async def positions(self) -> QueueStream[Position]:
        """Own positions (never dropped)."""
        return await self._private_events("position")

    async def wallet(self) -> QueueStream[WalletBalance]:
        """Own wallet (never dropped)."""
        return await self._private_events("wallet")

    # ------------------------------------------------------------ inbound

    def _on_public_connect(self, conn: WsConnection, n: int) -> None:
        # Whatever happened while disconnected is lost: books wait for the snapshot the replay brings.
        for t in self._topics.values():
            if t.conn is not conn:
                continue
            if t.book is not None:
                t.book.mark_stale("reconnect")
            if t.ticker is not None:
                t.ticker.reset()
            if n > 1 and t.kind in ("trade", "kline", "liquidation"):
                for c in t.consumers:
                    c.reconnects += 1

    def _on_private_connect(self, n: int) -> None:
        if n > 1:
            for t in self._topics.values():
                if t.kind in ("order", "execution", "position", "wallet"):
                    for c in t.consumers:
                        c.reconnects += 1

    def _on_public(self, frame: ww.WsFrame) -> None:
        t = self._topics.get(frame.topic)
        if t is None:
            return
        kind = t.kind
        if kind == "book":
            self._on_book(frame, t)
            return
        try:
            if kind == "ticker":
                assert t.ticker is not None
                if t.ticker.apply(frame.type, _TICKER.decode(frame.data), frame.ts, frame.cs):
                    for c in t.consumers:
                        c.notify()
                else:
                    self._resync(t, frame.topic, retry=True)  # deltas but no snapshot: it was lost
                return
            items: list[Any]
            if kind == "trade":
                items = [cm.ws_trade(x, self.category) for x in _TRADES.decode(frame.data)]
            elif kind == "kline":
                items = [cm.ws_candle(x, t.symbol, self.category) for x in _KLINES.decode(frame.data)]
            elif kind == "liquidation":
                items = [cm.ws_liquidation(x, self.category) for x in _LIQS.decode(frame.data)]
            else:
                return
        except _DECODE_ERRORS:
            self.observer.on_ws_event("public", "malformed")
            if kind == "ticker":
                assert t.ticker is not None
                t.ticker.reset()  # a lost delta would leave stale fields: start over from a snapshot
                self._resync(t, frame.topic)
            return
        for c in t.consumers:
            for item in items:
                c.push(item)

    def _resync(self, t: _Topic, topic: str, retry: bool = False) -> None:
        """Ask for a fresh snapshot; `retry`: only if the last request is older than RESYNC_RETRY_S."""
        now = time.monotonic()
        if retry and now - t.last_resync < RESYNC_RETRY_S:
            return
        t.last_resync = now
        self.observer.on_ws_event("public", "resync")
        t.conn.resync(topic)

    def _on_book(self, frame: ww.WsFrame, t: _Topic) -> None:
        book = t.book
        assert book is not None
        try:
            d = _BOOK.decode(frame.data)
            result = book.apply(frame.type, d.b, d.a, d.u, d.seq, frame.ts, frame.cts)
        except _DECODE_ERRORS:
            # A book message we cannot read may have been a delta: we are out of sync.
            self.observer.on_ws_event("public", "malformed")
            was_synced = book.synced
            book.mark_stale("malformed message")
            result = Apply.RESYNC if was_synced else Apply.IGNORED
        if result is Apply.OK:
            for c in t.consumers:
                c.notify()
        elif result is Apply.RESYNC:
            self._resync(t, frame.topic)
        elif not book.synced:
            self._resync(t, frame.topic, retry=True)  # still waiting: the fresh snapshot may be lost

    def _on_private(self, frame: ww.WsFrame) -> None:
        topic = frame.topic
        base = topic.split(".", 1)[0]
        t = self._topics.get(base)
        if t is None:
            return
        try:
            items: list[Any]
            if base == "order":
                items = [ca.order(o) for o in _ORDERS.decode(frame.data)]
            elif base == "execution":
                items = [ca.execution(e) for e in _EXECS.decode(frame.data) if e.exec_type in _EXEC_TYPES]
            elif base == "position":
                items = [ca.position(p) for p in _POSITIONS.decode(frame.data)]
            elif base == "wallet":
                ts = frame.creation_time or frame.ts
                items = [ca.wallet(w, ts) for w in _WALLETS.decode(frame.data)]
            else:
                return
        except _DECODE_ERRORS as exc:
            # Never silently lose a private event: count it loudly; trading reconciles over REST.
            self.observer.on_ws_event("private", "malformed")
            _log.error("undecodable private event", topic=topic, error=str(exc)[:200])
            return
        for c in t.consumers:
            for item in items:
                c.push(item)


_EXEC_TYPES = {"Trade", "Funding", "BustTrade", "AdlTrade", "Settle"}
