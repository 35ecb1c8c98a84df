"""One Bybit V5 WebSocket connection (public or private) on aiohttp: auth, app-level ping, reconnect with
jittered backoff, a subscription registry replayed after every reconnect, acks matched by req_id.

Inbound frames are decoded once (WsFrame, `data` kept raw) and handed to `on_frame`; the stream layer
(streams.py) owns the per-topic state. A handler error or a malformed frame is counted and skipped: it
never kills the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec

from asym.bybit.auth import Credentials, sign_ws
from asym.bybit.metrics import ClientObserver, NullObserver
from asym.bybit.retry import ReconnectPolicy
from asym.bybit.wire.ws import WsFrame
from asym.errors import AuthError, VenueError
from asym.logging import get_logger

_log = get_logger("bybit.ws")
_FRAME = msgspec.json.Decoder(WsFrame, strict=False)
_ENCODER = msgspec.json.Encoder()


def _ENCODE(obj: object) -> str:  # noqa: N802 - kept as the module's encoder name
    """JSON text frame (Bybit's servers and clients exchange text frames)."""
    return _ENCODER.encode(obj).decode()


@dataclass(frozen=True, slots=True)
class WsConfig:
    """WebSocket tunables."""

    ping_interval_s: float = 20.0
    """Bybit recommends an app-level ping every 20 s."""
    dead_after_s: float = 45.0
    """No frame at all (not even a pong) for this long: the connection is dead, reconnect."""
    ack_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    auth_expires_s: float = 10.0
    topics_per_request: int = 10
    public_args_limit: int = 21_000
    """Characters of subscribed topic names one public connection may carry (Bybit: 21,000); the hub
    opens another public connection for topics beyond it."""
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    public_queue_max: int = 10_000
    """Buffer of a public event stream (trades, klines, liquidations) before the oldest are dropped."""


FrameHandler = Callable[[WsFrame], None]


class WsConnection:
    """A self-healing WebSocket connection with a topic registry."""

    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession,
        on_frame: FrameHandler,
        *,
        name: str = "public",
        credentials: Credentials | None = None,
        config: WsConfig | None = None,
        observer: ClientObserver | None = None,
        on_connect: Callable[[int], None] | None = None,
        wall_ms: Callable[[], int] | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self._session = session
        self._on_frame = on_frame
        self._on_connect = on_connect
        self._creds = credentials
        self.config = config or WsConfig()
        self.observer: ClientObserver = observer or NullObserver()
        self._wall_ms = wall_ms or (lambda: int(time.time() * 1000))
        self.topics: dict[str, None] = {}
        self._arg_chars = 0
        """Subscribed topics, in order (replayed after a reconnect)."""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closed = False
        self._acks: dict[str, asyncio.Future[WsFrame]] = {}
        self._req_ids = itertools.count(1)
        self._last_rx = 0.0
        self._fatal: BaseException | None = None
        self._bg: set[asyncio.Task[Any]] = set()
        self.connects = 0
        self.malformed = 0
        self.handler_errors = 0

    # ------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        """True while a connection is up (and authenticated, for private)."""
        return self._ws is not None and not self._ws.closed and self._connected.is_set()

    async def start(self) -> None:
        """Connect (in the background, for good) and wait for the first successful connection."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"bybit-ws-{self.name}")
        waiter = asyncio.ensure_future(self._connected.wait())
        try:
            await asyncio.wait(
                {waiter, self._task},
                timeout=self.config.connect_timeout_s * 3,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiter.cancel()
        if self._fatal is not None or not self._connected.is_set():
            # Never connected: stop the background loop so a failed start leaks nothing; start() may retry.
            task, self._task = self._task, None
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self._fatal is not None:
                fatal, self._fatal = self._fatal, None
                raise fatal
            raise VenueError(f"websocket {self.name}: could not connect to {self.url}", endpoint=self.url)

    async def close(self) -> None:
        """Close for good."""
        self._closed = True
        ws = self._ws
        if ws is not None:
            await ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for t in list(self._bg):
            t.cancel()

    async def drop(self) -> None:
        """Close the current connection to force a reconnect (tests, manual recovery)."""
        ws = self._ws
        if ws is not None:
            await ws.close()

    # ------------------------------------------------------------ subscriptions

    @property
    def started(self) -> bool:
        """True once `start()` succeeded (the connection then reconnects by itself until closed)."""
        return self._task is not None

    @property
    def arg_chars(self) -> int:
        """Characters of the topic names this connection carries (Bybit caps them per connection)."""
        return self._arg_chars

    async def subscribe(self, topics: list[str]) -> None:
        """Add topics to the registry and subscribe now if connected (waits for the venue's ack)."""
        new = [t for t in topics if t not in self.topics]
        for t in new:
            self.topics[t] = None
        self._arg_chars += sum(map(len, new))
        if new and self.connected:
            try:
                await self._request("subscribe", new, wait=True)
            except VenueError:
                for t in new:
                    if t in self.topics:
                        del self.topics[t]
                        self._arg_chars -= len(t)
                raise
            except (ConnectionError, TimeoutError):
                # The socket dropped mid-subscribe: the topics stay registered and are replayed on reconnect.
                pass

    async def unsubscribe(self, topics: list[str]) -> None:
        """Remove topics from the registry and unsubscribe now if connected."""
        gone = [t for t in topics if t in self.topics]
        for t in gone:
            del self.topics[t]
        self._arg_chars -= sum(map(len, gone))
        if gone and self.connected:
            # A socket that drops meanwhile forgets the subscription anyway (the registry no longer has it).
            with contextlib.suppress(VenueError, ConnectionError, TimeoutError):
                await self._request("unsubscribe", gone, wait=True)

    def resync(self, topic: str) -> None:
        """Ask the venue for a fresh snapshot of `topic` (unsubscribe + subscribe), without waiting."""
        if topic in self.topics and self.connected:
            self._spawn(self._resubscribe(topic))

    async def _resubscribe(self, topic: str) -> None:
        with contextlib.suppress(VenueError, ConnectionError, asyncio.TimeoutError):
            await self._request("unsubscribe", [topic], wait=True)
            if topic in self.topics:
                await self._request("subscribe", [topic], wait=True)

    def _spawn(self, coro: Any) -> None:
        t = asyncio.create_task(coro)
        self._bg.add(t)
        t.add_done_callback(self._bg.discard)

    async def _request(self, op: str, args: list[Any], *, wait: bool) -> WsFrame | None:
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionError(f"websocket {self.name} is not connected")
        req_id = str(next(self._req_ids))
        fut: asyncio.Future[WsFrame] | None = None
        if wait:
            fut = asyncio.get_running_loop().create_future()
            self._acks[req_id] = fut
        try:
            await ws.send_str(_ENCODE({"req_id": req_id, "op": op, "args": args}))
            if fut is None:
                return None
            try:
                frame = await asyncio.wait_for(asyncio.shield(fut), self.config.ack_timeout_s)
            except TimeoutError:
                raise VenueError(
                    f"websocket {self.name}: no ack for {op} {args}", endpoint=self.url
                ) from None
        finally:
            if fut is not None:
                self._acks.pop(req_id, None)
        if frame.success is False:
            raise VenueError(
                f"websocket {op} refused: {frame.ret_msg}", endpoint=self.url, ret_msg=frame.ret_msg
            )
        return frame

    # ------------------------------------------------------------ the connection loop

    async def _run(self) -> None:
        attempt = 0
        while not self._closed:
            started = time.monotonic()
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except AuthError as exc:
                self._fatal = exc
                _log.error("websocket auth refused", stream=self.name, error=str(exc))
                return
            except Exception as exc:  # any network failure: reconnect
                _log.info("websocket failed", stream=self.name, error=type(exc).__name__)
            if self._closed:
                return
            if time.monotonic() - started > 30:
                attempt = 0
            self.observer.on_ws_event(self.name, "disconnect")
            await asyncio.sleep(self.config.reconnect.delay(attempt))
            attempt += 1

    async def _connect_once(self) -> None:
        cfg = self.config
        ws = await self._session.ws_connect(
            self.url,
            autoping=True,
            heartbeat=None,
            timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            max_msg_size=0,
        )
        self._last_rx = time.monotonic()
        pinger: asyncio.Task[None] | None = None
        try:
            self._ws = ws
            if self._creds is not None:
                await self._auth(ws)
            self.connects += 1
            self.observer.on_ws_event(self.name, "connect")
            if self._on_connect is not None:
                self._on_connect(self.connects)
            topics = list(self.topics)
            n = cfg.topics_per_request
            for i in range(0, len(topics), n):
                # Replay without waiting: the acks arrive through the reader below.
                await ws.send_str(
                    _ENCODE(
                        {"req_id": str(next(self._req_ids)), "op": "subscribe", "args": topics[i : i + n]}
                    )
                )
            self._connected.set()
            pinger = asyncio.create_task(self._pinger(ws))
            await self._reader(ws)
        finally:
            self._connected.clear()
            self._ws = None
            if pinger is not None:
                pinger.cancel()
            for fut in self._acks.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("websocket closed"))
            self._acks.clear()
            if not ws.closed:
                await ws.close()

    async def _auth(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        assert self._creds is not None
        expires = self._wall_ms() + int(self.config.auth_expires_s * 1000)
        sig = sign_ws(self._creds, expires)
        await ws.send_str(
            _ENCODE({"req_id": "auth", "op": "auth", "args": [self._creds.api_key.reveal(), expires, sig]})
        )
        deadline = time.monotonic() + self.config.ack_timeout_s
        while True:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise ConnectionError("websocket auth: no answer")
            msg = await ws.receive(timeout=timeout)
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise ConnectionError(f"websocket closed during auth ({msg.type.name})")
            try:
                frame = _FRAME.decode(msg.data)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self.malformed += 1
                continue
            if frame.op == "auth":
                if frame.success is True or frame.ret_code == 0:
                    return
                raise AuthError(
                    f"websocket auth refused: {frame.ret_msg}", endpoint=self.url, ret_msg=frame.ret_msg
                )

    async def _pinger(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        cfg = self.config
        while not ws.closed:
            await asyncio.sleep(cfg.ping_interval_s)
            if time.monotonic() - self._last_rx > cfg.dead_after_s:
                self.observer.on_ws_event(self.name, "dead")
                await ws.close()
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(_ENCODE({"req_id": str(next(self._req_ids)), "op": "ping"}))

    async def _reader(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT or msg.type is aiohttp.WSMsgType.BINARY:
                self._last_rx = time.monotonic()
                self._dispatch(msg.data)
            elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break

    def _dispatch(self, data: str | bytes) -> None:
        try:
            frame = _FRAME.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.malformed += 1
            self.observer.on_ws_event(self.name, "malformed")
            return
        if frame.topic:
            try:
                self._on_frame(frame)
            except Exception as exc:
                # One bad message must not kill the stream; the topic handler marks its own state.
                self.handler_errors += 1
                self.observer.on_ws_event(self.name, "handler_error")
                _log.debug("websocket handler error", stream=self.name, topic=frame.topic, error=repr(exc))
            return
        op = frame.op
        if op in ("subscribe", "unsubscribe", "auth") or frame.type == "COMMAND_RESP":
            rid = frame.req_id
            fut = self._acks.get(str(rid)) if rid is not None else None
            if fut is not None and not fut.done():
                fut.set_result(frame)
            elif frame.success is False:
                self.observer.on_ws_event(self.name, "subscribe_refused")
                _log.warning("websocket request refused", stream=self.name, msg=frame.ret_msg)
        # pongs ("op":"pong" or "ret_msg":"pong") only refresh _last_rx, done above.
