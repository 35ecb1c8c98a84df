"""A lean HTTP/1.1 keep-alive client for the REST hot path: asyncio protocols + httptools (llhttp).

Why not aiohttp here: a REST call to Bybit is one small request and one JSON answer on a kept-alive
connection, and aiohttp's general client (cookies, redirects, proxies, tracing, multidicts, URL objects)
makes the call itself the cost. `asym bench client` (tickers, 16 concurrent, uvloop): a bare aiohttp GET +
json.loads takes 170 us of CPU per request; asym's whole call over this pool, decoding into Decimal
domain types included, 93 us. aiohttp still carries the WebSockets.

What it does: a bounded pool of persistent connections per base URL (TLS for https), one request in
flight per connection, responses framed by llhttp (Content-Length or chunked, gzip/deflate bodies
decoded), idle connections retired after `idle_s`, a deadline over connect + exchange. What it does not:
redirects, proxies, cookies, HTTP/2 (Bybit's REST API needs none of them).

Failures are told apart by whether the request can have reached the server: HttpNotSentError (connecting
failed or timed out: safe to retry any request) versus HttpFailedError / TimeoutError (sent, then the answer
broke or never came: a write's outcome is unknown).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

import httptools

from asym.errors import ConfigError


class HttpNotSentError(Exception):
    """The request never left this process (connect refused, DNS, TLS or connect timeout)."""


class HttpFailedError(Exception):
    """The request was sent (or may have been) and no complete answer came back."""


class HttpResponse(NamedTuple):
    """Status, headers (names lower-cased; the last value wins) and the decoded body."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(asyncio.Protocol):
    """One persistent connection: one exchange at a time, framed by llhttp."""

    __slots__ = (
        "_body",
        "_headers",
        "_parser",
        "_waiter",
        "closed",
        "last_used",
        "reusable",
        "transport",
    )

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.last_used = time.monotonic()

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing asked: an unsolicited answer (e.g. 408 on idle) ends it
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpFailedError(f"malformed HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(HttpFailedError("connection closed before the answer was complete"))

    # -- llhttp callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self._body)
        headers = self._headers
        self._body, self._headers = [], {}
        self.reusable = self._parser.should_keep_alive()
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        encoding = headers.get("content-encoding")
        if encoding in ("gzip", "deflate"):
            try:
                body = zlib.decompress(body, 47)  # 32 + 15: gzip or zlib header, detected
            except zlib.error as exc:
                waiter.set_exception(HttpFailedError(f"undecodable {encoding} body: {exc}"))
                return
        waiter.set_result(HttpResponse(self._parser.get_status_code(), headers, body))

    # -- use
    def exchange(self, request: bytes) -> asyncio.Future[HttpResponse]:
        """Send one request; the future completes with its answer."""
        assert self.transport is not None and self._waiter is None
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return waiter

    def close(self) -> None:
        """Drop the connection (any exchange on it fails)."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class HttpPool:
    """Persistent HTTP/1.1 connections to one base URL, at most `max_connections` at a time."""

    def __init__(
        self,
        base_url: str,
        *,
        max_connections: int = 100,
        idle_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = "asym",
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"REST base URL must be http(s)://host[:port][/path], not {base_url!r}")
        if max_connections < 1:
            raise ConfigError("max_connections must be at least 1")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        self._prefix = parts.path.rstrip("/")
        default_port = self._port == (443 if parts.scheme == "https" else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._fixed = (
            f"Host: {host if default_port else f'{host}:{self._port}'}\r\n"
            f"User-Agent: {user_agent}\r\nAccept: application/json\r\n"
        )
        self._max = max_connections
        self._idle_s = idle_s
        self._idle: list[_Connection] = []
        self._open = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._closed = False

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_s: float = 10.0,
    ) -> HttpResponse:
        """One exchange: `target` is the path and query after the base URL. Raises HttpNotSentError,
        HttpFailedError or TimeoutError (see the module docstring)."""
        request = self._encode(method, target, headers, body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        conn = self._take_idle()
        if conn is None:
            try:
                async with asyncio.timeout_at(deadline):
                    conn = await self._connect()
            except TimeoutError:
                raise HttpNotSentError("timed out waiting for a connection (pool slot or connect)") from None
        try:
            async with asyncio.timeout_at(deadline):
                response = await conn.exchange(request)
        except BaseException:
            conn.close()  # mid-exchange: the connection's state is unknown
            self._release(None)
            raise
        self._release(conn)
        return response

    async def close(self) -> None:
        """Close every connection; later requests raise HttpNotSentError."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._open = 0

    @property
    def open_connections(self) -> int:
        """Connections open now (idle or in use)."""
        return self._open

    # ------------------------------------------------------------ internals

    def _encode(
        self, method: str, target: str, headers: Mapping[str, str] | None, body: bytes | None
    ) -> bytes:
        lines = [method, " ", self._prefix, target, " HTTP/1.1\r\n", self._fixed]
        if headers:
            for name, value in headers.items():
                if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                    raise ValueError(f"header {name!r} holds a line break")  # never echo the value
                lines += (name, ": ", value, "\r\n")
        if body is not None:
            lines += ("Content-Length: ", str(len(body)), "\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        return head + body if body else head

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.last_used < self._idle_s:
                return conn
            conn.close()
            self._open -= 1
        return None

    async def _connect(self) -> _Connection:
        while self._open >= self._max:
            if self._closed:
                raise HttpNotSentError("HTTP pool closed")
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled: hand the free slot to the next waiter
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            conn = self._take_idle()
            if conn is not None:
                return conn
        if self._closed:
            raise HttpNotSentError("HTTP pool closed")
        self._open += 1
        try:
            _, conn = await asyncio.get_running_loop().create_connection(
                _Connection, self._host, self._port, ssl=self._ssl
            )
        except BaseException as exc:
            self._open -= 1
            self._wake()
            if isinstance(exc, OSError):
                raise HttpNotSentError(f"connect failed: {type(exc).__name__}") from None
            raise
        return conn

    def _release(self, conn: _Connection | None) -> None:
        if self._closed:  # close() already forgot every connection
            if conn is not None:
                conn.close()
            return
        if conn is not None and conn.reusable and not conn.closed:
            conn.last_used = time.monotonic()
            self._idle.append(conn)
        else:
            if conn is not None:
                conn.close()
            self._open -= 1
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
                return
