"""The WebSocket hub: connections, subscriptions, the publisher loop and encode-once fan-out.

Every published message is encoded once, framed once (an unmasked text frame) and the same bytes are
written to each subscriber's transport. A subscriber whose socket stops draining (more than
`MAX_BUFFERED` bytes queued) is disconnected rather than slowing everyone down.
Private events are pushed the moment the exchange reports them (after REST writes and market syncs).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from asym.logging import get_logger
from asym.sim.clock import wall_ms
from asym.sim.exchange import SimExchange, SyncResult
from asym.sim.faults import FaultInjector
from asym.sim.server import ws_protocol as proto
from asym.sim.server.auth import Credentials, verify_ws_auth
from asym.sim.server.envelope import encode
from asym.sim.server.wire_account import execution_item, order_item, position_item, wallet_item
from asym.sim.server.ws_streams import OrderbookStream, Stream, TickerStream, make_stream, tick_books

log = get_logger("sim.server.ws")

TICK_S = 0.01
"""Publisher period: the fastest push interval (orderbook.1, 10 ms)."""
MAX_DEFER_MS = 300.0
"""While the event loop lags (other work such as REST requests waits for the CPU), book and ticker pushes
wait up to this long: their deltas then cover several 100 ms steps, nothing is lost, and the requests
are answered first."""
LAG_MS = 15.0
"""A publisher sleep that overruns by more than this means other work is queued."""
MAX_BUFFERED = 8 * 1024 * 1024
LOG_EVERY_S = 10.0
MAX_CLIENT_MESSAGE = 1 << 20
PRIVATE_TOPICS = {
    "order",
    "execution",
    "execution.fast",
    "position",
    "wallet",
    "greeks",
    "dcp",
    *(f"{t}.{c}" for t in ("order", "execution", "execution.fast", "position") for c in proto.PUBLIC_KINDS),
}
_DECODE = msgspec.json.Decoder().decode


class Conn:
    """One WebSocket connection."""

    __slots__ = ("conn_id", "kind", "pending", "topics", "transport", "uid", "ws")

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport, kind: str) -> None:
        self.ws = ws
        self.transport = transport
        self.kind = kind
        self.conn_id = uuid.uuid4().hex[:20] + "-" + kind[:2]
        self.topics: set[str] = set()
        self.uid: str | None = None
        self.pending: list[bytes] = []
        """Frames of the current publisher tick, written in one go by `flush`."""

    def send(self, payload: bytes) -> None:
        """Frame and write one message (dropped silently once the connection is closing)."""
        self.write_frame(proto.text_frame(payload))

    def ack(
        self, req_id: Any, op: str, success: bool, ret_msg: str = "", topics: list[str] | None = None
    ) -> None:
        """Send the acknowledgement of one (un)subscribe/auth request, in this connection's dialect."""
        self.send(proto.ack(self.kind, self.conn_id, req_id, op, success, ret_msg, topics))

    def write_frame(self, frame: bytes) -> None:
        """Write an already framed message; disconnect a consumer that stopped reading."""
        t = self.transport
        if t.is_closing() or self.ws.closed:
            return
        if t.get_write_buffer_size() > MAX_BUFFERED:
            t.abort()
            return
        t.write(frame)

    def flush(self) -> None:
        """Write the frames queued during a publisher tick (one write, one syscall)."""
        frames = self.pending
        if frames:
            self.pending = []
            self.write_frame(frames[0] if len(frames) == 1 else b"".join(frames))


class _Group:
    """Public streams with the same push interval: ticked together, in one phase."""

    __slots__ = ("interval_ms", "next_due", "ran_at", "step", "streams")

    def __init__(self, interval_ms: int, next_due: float) -> None:
        self.interval_ms = interval_ms
        self.next_due = next_due
        self.ran_at = next_due
        self.step = -1
        """Market 100 ms step of the last tick (books and tickers change only with it)."""
        self.streams: dict[str, Stream] = {}


def _book_first(item: tuple[tuple[str, int], _Group]) -> tuple[int, int]:
    (kind, interval), _ = item
    return (0 if kind == "book" else 1, interval)


class Hub:
    """All WebSocket state of one server."""

    def __init__(
        self, exchange: SimExchange, faults: FaultInjector | None, keys: dict[str, Credentials]
    ) -> None:
        self.exchange = exchange
        self.faults = faults if faults is not None and faults.spec.any_ws else None
        self.keys = keys
        self.conns: set[Conn] = set()
        self.streams: dict[str, Stream] = {}
        self.groups: dict[tuple[str, int], _Group] = {}
        self._fresh: set[Stream] = set()
        """Real-time streams (public trades) that received data since the last tick."""
        self._queued: set[Conn] = set()
        self.lagging = False
        """The event loop is behind (the last publisher sleep overran): heavy ticks are deferred."""
        self.deferred = 0
        """Book and ticker group ticks deferred because the loop lagged."""
        self.private: dict[str, set[Conn]] = {}
        self.frozen_until: dict[str, float] = {}
        self.published = 0
        self._msg_counter = 0
        self._logged: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        exchange.add_listener(self._on_sync)

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the publisher loop in the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="sim-ws-publisher")

    async def stop(self) -> None:
        """Stop publishing and close every connection (going away)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self.exchange.remove_listener(self._on_sync)

        async def close(conn: Conn) -> None:
            try:
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"server shutdown"), 1.0)
            except Exception:
                conn.transport.abort()

        await asyncio.gather(*(close(c) for c in list(self.conns)))

    def _now_mono(self) -> float:
        assert self._loop is not None
        return self._loop.time() * 1000.0

    async def _run(self) -> None:
        drop_every = self.faults.spec.ws_drop_every_s if self.faults is not None else 0.0
        next_drop = self._now_mono() + drop_every * 1000 if drop_every else None
        loop = asyncio.get_running_loop()
        while True:
            slept = loop.time()
            await asyncio.sleep(TICK_S)
            self.lagging = (loop.time() - slept - TICK_S) * 1000.0 > LAG_MS
            try:
                self.exchange.sync()
            except Exception:
                self._log_failure("sync", "simulator sync failed in the WebSocket publisher")
            now = self._now_mono()
            try:
                self._publish(now)
            finally:
                self._flush()
            if next_drop is not None and now >= next_drop:
                next_drop = now + drop_every * 1000
                for conn in list(self.conns):
                    conn.transport.abort()

    def _log_failure(self, key: str, message: str) -> None:
        # A persistent failure would repeat every 10 ms: log it at most once per LOG_EVERY_S per key.
        now = self._now_mono()
        if now - self._logged.get(key, -1e18) >= LOG_EVERY_S * 1000:
            self._logged[key] = now
            log.exception(message, key=key)

    def _publish(self, now: float) -> None:
        """One publisher tick: every due group of streams, and the real-time streams that got data."""
        market = self.exchange.market
        market_step = market.now_ms() // 100
        # Books first: tickers then read their top of book from this step's batch.
        for (kind, _), group in sorted(self.groups.items(), key=_book_first):
            if now < group.next_due:
                continue
            if kind in ("book", "ticker") and self.lagging and now - group.ran_at < MAX_DEFER_MS:
                self.deferred += 1
                continue  # queued work first: this group's delta will cover the steps it skipped
            group.next_due = now + group.interval_ms
            group.ran_at = now
            if kind in ("book", "ticker"):
                # Books and tickers change with the market's 100 ms step; depth-1 books re-send anyway.
                moved = group.step != market_step
                group.step = market_step
                if not moved and kind == "ticker":
                    continue
            else:
                moved = True
            streams = list(group.streams.values())
            try:
                if kind == "book":
                    if not moved:
                        streams = [s for s in streams if getattr(s, "depth", 0) == 1]
                    results = tick_books(streams, now)  # type: ignore[arg-type]
                else:
                    if kind == "ticker":
                        self._prime_tops(streams)
                    results = [(s, s.tick(now)) for s in streams]
            except Exception:
                # One broken group must not silence the others: tick its streams one by one.
                results = self._tick_each(streams, now)
            for stream, payloads in results:
                for payload in payloads:
                    self._fanout(stream, payload)
        if self._fresh:
            fresh, self._fresh = self._fresh, set()
            for stream, payloads in self._tick_each(list(fresh), now):
                for payload in payloads:
                    self._fanout(stream, payload)

    def _prime_tops(self, streams: list[Stream]) -> None:
        """Build the tops of book the tickers need in one batch (for symbols no book topic built)."""
        prime = getattr(self.exchange.market, "prime_tops", None)
        if prime is not None:
            prime([s.symbol for s in streams])

    def _tick_each(self, streams: list[Stream], now: float) -> list[tuple[Stream, list[bytes]]]:
        out = []
        for stream in streams:
            try:
                out.append((stream, stream.tick(now)))
            except Exception:
                self._log_failure(stream.topic, "simulator WebSocket stream failed")
        return out

    def _flush(self) -> None:
        queued, self._queued = self._queued, set()
        for conn in queued:
            conn.flush()

    def _fanout(self, stream: Stream, payload: bytes) -> None:
        if self.faults is not None and self.faults.malformed():
            payload = payload[: max(1, len(payload) // 2)]
        frame = proto.text_frame(payload)
        subscribers = stream.subscribers
        for conn in subscribers:
            conn.pending.append(frame)
        self._queued.update(subscribers)
        stream.sent += 1
        self.published += len(subscribers)

    def _group_key(self, stream: Stream) -> tuple[str, int]:
        if isinstance(stream, OrderbookStream):
            kind = "book"
        elif isinstance(stream, TickerStream):
            kind = "ticker"
        else:
            kind = "other"
        return kind, stream.interval_ms

    def _add_stream(self, stream: Stream) -> None:
        self.streams[stream.topic] = stream
        if stream.interval_ms <= 0:
            return  # real time: ticked when it receives data
        key = self._group_key(stream)
        group = self.groups.get(key)
        if group is None:
            group = _Group(stream.interval_ms, self._now_mono() + stream.interval_ms)
            self.groups[key] = group
        group.streams[stream.topic] = stream

    def _remove_stream(self, stream: Stream) -> None:
        del self.streams[stream.topic]
        self._fresh.discard(stream)
        key = self._group_key(stream)
        group = self.groups.get(key)
        if group is not None:
            group.streams.pop(stream.topic, None)
            if not group.streams:
                del self.groups[key]

    # --- private events -----------------------------------------------------------------------------

    def _on_sync(self, result: SyncResult) -> None:
        market = result.market
        if self.streams and (market.trades or market.liquidations):
            by_symbol: dict[str, list[Any]] = {}
            for t in market.trades:
                by_symbol.setdefault(t.symbol, []).append(t)
            for sym, trades in by_symbol.items():
                s = self.streams.get(f"publicTrade.{sym}")
                if s is not None:
                    s.feed_trades(trades)
                    self._fresh.add(s)
            liq: dict[str, list[Any]] = {}
            for e in market.liquidations:
                liq.setdefault(e.symbol, []).append(e)
            for sym, events in liq.items():
                for name in (f"allLiquidation.{sym}", f"liquidation.{sym}"):
                    s = self.streams.get(name)
                    if s is not None:
                        s.feed_liquidations(events)
        acct = result.account
        if acct and self.private:
            self._push_private(result)

    def _push_private(self, result: SyncResult) -> None:
        acct = result.account
        ex = self.exchange
        now = result.now_ms

        def publish(base: str, items: list[dict[str, Any]]) -> None:
            if not items:
                return
            for topic in (base, f"{base}.linear"):
                conns = self.private.get(topic)
                if not conns:
                    continue
                self._msg_counter += 1
                payload = encode(
                    {
                        "id": f"{ex.uid}-{self._msg_counter}",
                        "topic": topic,
                        "creationTime": now,
                        "data": items,
                    }
                )
                frame = proto.text_frame(payload)
                for conn in conns:
                    conn.write_frame(frame)
                self.published += len(conns)

        def inst(symbol: str) -> Any:
            return ex.instrument(symbol)

        publish(
            "order", [order_item(i, o, ws=True) for o in acct.orders if (i := inst(o.symbol)) is not None]
        )
        execs = [(i, e) for e in acct.executions if (i := inst(e.symbol)) is not None]
        publish("execution", [execution_item(i, e, ws=True) for i, e in execs])
        publish(
            "execution.fast",
            [
                {
                    "category": "linear",
                    "symbol": e.symbol,
                    "orderId": e.order_id,
                    "isMaker": e.is_maker,
                    "orderLinkId": e.order_link_id,
                    "execId": e.exec_id,
                    "execPrice": i.price.to_str(e.exec_price),
                    "execQty": i.qty.to_str(e.exec_qty),
                    "side": str(e.side),
                    "execTime": str(e.exec_time),
                    "seq": e.seq,
                }
                for i, e in execs
                if str(e.exec_type) == "Trade"
            ],
        )
        publish(
            "position",
            [position_item(i, p, ws=True) for p in acct.positions if (i := inst(p.symbol)) is not None],
        )
        if acct.wallet is not None:
            publish("wallet", [wallet_item(acct.wallet)])

    # --- connections --------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for /v5/public/{kind} and /v5/private."""
        kind = request.match_info.get("kind", proto.PRIVATE)
        if kind not in proto.PUBLIC_KINDS and kind != proto.PRIVATE:
            return web.Response(status=404, text="404 page not found")
        ws = web.WebSocketResponse(compress=False, max_msg_size=MAX_CLIENT_MESSAGE, autoping=True)
        await ws.prepare(request)
        transport = request.transport
        if transport is None:
            return ws
        conn = Conn(ws, transport, kind)
        self.conns.add(conn)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(conn, msg.data.encode())
                elif msg.type == WSMsgType.BINARY:
                    self._on_text(conn, msg.data)
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        except Exception:
            log.debug("websocket connection ended with an error", conn_id=conn.conn_id)
        finally:
            self._drop(conn)
        return ws

    def _drop(self, conn: Conn) -> None:
        self.conns.discard(conn)
        for topic in list(conn.topics):
            self._unsubscribe_topic(conn, topic)

    def _on_text(self, conn: Conn, raw: bytes) -> None:
        try:
            msg = _DECODE(raw)
        except msgspec.DecodeError:
            conn.send(
                encode(
                    {"success": False, "ret_msg": "error:invalid request", "conn_id": conn.conn_id, "op": ""}
                )
            )
            return
        if not isinstance(msg, dict):
            conn.send(
                encode(
                    {"success": False, "ret_msg": "error:invalid request", "conn_id": conn.conn_id, "op": ""}
                )
            )
            return
        op = msg.get("op")
        req_id = proto.req_id_of(msg)
        args = msg.get("args")
        if op == "ping":
            conn.send(proto.pong(conn.kind, conn.conn_id, req_id, wall_ms()))
        elif op == "auth":
            self._auth(conn, req_id, args)
        elif op == "subscribe":
            self._subscribe(conn, req_id, args)
        elif op == "unsubscribe":
            self._unsubscribe(conn, req_id, args)
        else:
            op_name = op if isinstance(op, str) else ""
            conn.ack(req_id, op_name, False, "error:invalid op")

    def _auth(self, conn: Conn, req_id: Any, args: Any) -> None:
        if conn.kind != proto.PRIVATE:
            conn.ack(req_id, "auth", False, "error:invalid op")
            return
        if conn.uid is not None:
            conn.ack(req_id, "auth", False, "Repeat auth")
            return
        creds = verify_ws_auth(args, wall_ms(), self.keys)
        if creds is None:
            conn.ack(req_id, "auth", False, "Params Error")
            return
        conn.uid = creds.uid
        conn.ack(req_id, "auth", True, "")

    def _topics(self, conn: Conn, req_id: Any, op: str, args: Any) -> list[str] | None:
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            conn.ack(req_id, op, False, "error:args invalid", [])
            return None
        return list(dict.fromkeys(args))

    def _subscribe(self, conn: Conn, req_id: Any, args: Any) -> None:
        topics = self._topics(conn, req_id, "subscribe", args)
        if topics is None:
            return
        if conn.kind == proto.PRIVATE:
            self._subscribe_private(conn, req_id, topics)
            return
        # Bybit: the args of one public connection total at most 21,000 characters. SIM-CHOICE: refused
        # before any other check, with this retMsg (Bybit's own wording is not documented).
        carried = sum(len(t) for t in conn.topics) + sum(len(t) for t in topics if t not in conn.topics)
        if carried > proto.PUBLIC_ARGS_LIMIT:
            conn.ack(
                req_id,
                "subscribe",
                False,
                f"error:args size >{proto.PUBLIC_ARGS_LIMIT},total:{carried}",
                topics,
            )
            return
        # All or nothing: clients drop the callbacks of a failed request, so a partly applied request
        # would push data for topics nobody listens to any more.
        already = [t for t in topics if t in conn.topics]
        if already:
            conn.ack(req_id, "subscribe", False, f"error:already subscribed,topic:{already[0]}", already)
            return
        fresh: list[Stream] = []
        for topic in topics:
            stream = self._stream(conn.kind, topic)
            if stream is None:
                for s in fresh:
                    self._release(s, conn)
                conn.ack(req_id, "subscribe", False, f"error:handler not found,topic:{topic}", [topic])
                return
            stream.subscribers.add(conn)
            conn.topics.add(topic)
            fresh.append(stream)
        conn.ack(req_id, "subscribe", True, "", topics)
        for stream in fresh:
            snap = stream.snapshot()
            if snap is not None:
                conn.send(snap)

    def _stream(self, kind: str, topic: str) -> Stream | None:
        stream = self.streams.get(topic)
        if stream is not None:
            return stream
        if kind != "linear":
            return None
        self.exchange.sync()
        lookup = self.exchange.instrument
        symbol = topic.rsplit(".", 1)[-1]
        if lookup(symbol) is not None:
            self.exchange.subscribe(symbol)
        try:
            stream = make_stream(topic, lookup, self.exchange.market, self.faults, self.frozen_until)
        except Exception:
            log.exception("could not create stream", topic=topic)
            stream = None
        if stream is None:
            if lookup(symbol) is not None:
                self.exchange.unsubscribe(symbol)
            return None
        self._add_stream(stream)
        return stream

    def _subscribe_private(self, conn: Conn, req_id: Any, topics: list[str]) -> None:
        if conn.uid is None:
            conn.ack(req_id, "subscribe", False, "Request not authorized")
            return
        bad = [t for t in topics if t not in PRIVATE_TOPICS or t in conn.topics]
        bases = {t.split(".")[0] for t in topics}
        mixed = any(t in topics and any(o.startswith(t + ".") for o in topics) for t in bases)
        if bad or mixed:
            reason = f"error:handler not found,topic:{bad[0]}" if bad else "error:topic mix not allowed"
            conn.ack(req_id, "subscribe", False, reason)
            return
        for t in topics:
            conn.topics.add(t)
            self.private.setdefault(t, set()).add(conn)
        conn.ack(req_id, "subscribe", True, "")

    def _unsubscribe(self, conn: Conn, req_id: Any, args: Any) -> None:
        topics = self._topics(conn, req_id, "unsubscribe", args)
        if topics is None:
            return
        for topic in topics:
            self._unsubscribe_topic(conn, topic)
        conn.ack(req_id, "unsubscribe", True, "", topics)

    def _unsubscribe_topic(self, conn: Conn, topic: str) -> None:
        if topic not in conn.topics:
            return
        conn.topics.discard(topic)
        if conn.kind == proto.PRIVATE:
            conns = self.private.get(topic)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self.private[topic]
            return
        stream = self.streams.get(topic)
        if stream is not None:
            self._release(stream, conn)

    def _release(self, stream: Stream, conn: Conn) -> None:
        conn.topics.discard(stream.topic)
        stream.subscribers.discard(conn)
        if not stream.subscribers and self.streams.get(stream.topic) is stream:
            self._remove_stream(stream)
            self.exchange.unsubscribe(stream.symbol)
