"""The REST connection pool (asym.bybit.http) against real local servers: keep-alive reuse, framing
(Content-Length, chunked, gzip), the connection bound, and every way an exchange can fail, told apart
by whether the request can have reached the server."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from asym.bybit.http import HttpFailedError, HttpNotSentError, HttpPool
from asym.errors import ConfigError

pytestmark = pytest.mark.asyncio


class _Server:
    """An aiohttp server that counts the connections it accepted and the requests it answered."""

    def __init__(self) -> None:
        self.peers: set[tuple[str, int]] = set()
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.active = 0
        self.max_active = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.peers.add(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        body = await request.read()
        self.requests.append((request.method, request.path_qs, dict(request.headers), body))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if request.path == "/slow":
                await asyncio.sleep(0.1)
            if request.path == "/hang":
                await asyncio.sleep(1.0)
            if request.path == "/chunked":
                resp = web.StreamResponse(headers={"X-Bapi-Limit-Status": "7"})
                resp.enable_chunked_encoding()
                await resp.prepare(request)
                for part in (b'{"a":', b"1,", b'"b":2}'):
                    await resp.write(part)
                await resp.write_eof()
                return resp
            if request.path == "/gzip":
                return web.Response(
                    body=gzip.compress(b'{"zipped":true}'), headers={"Content-Encoding": "gzip"}
                )
            if request.path == "/close":
                return web.Response(body=b"bye", headers={"Connection": "close"})
            if request.path == "/reset":
                assert request.transport is not None
                request.transport.close()
                return web.Response(body=b"never seen")
            return web.Response(body=b'{"echo":"' + request.path_qs.encode() + b'"}', status=200)
        finally:
            self.active -= 1


@pytest.fixture
async def server() -> AsyncIterator[_Server]:
    srv = _Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", srv.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    srv.url = f"http://127.0.0.1:{port}"
    yield srv
    await runner.cleanup()


@contextlib.asynccontextmanager
async def _answering(answer: bytes) -> AsyncIterator[str]:
    """A raw TCP server that reads one request head, writes `answer` as it is and closes the connection;
    yields its URL and is gone (nothing listening) on exit."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
    finally:
        srv.close()
        await srv.wait_closed()


async def test_requests_reuse_one_connection_and_send_headers_and_body(server: _Server) -> None:
    pool = HttpPool(server.url + "/", max_connections=4)
    try:
        for i in range(20):
            resp = await pool.request("GET", f"/v5/x?i={i}&s=a%2Fb", {"X-BAPI-API-KEY": "k"})
            assert resp.status == 200
            assert resp.body == f'{{"echo":"/v5/x?i={i}&s=a%2Fb"}}'.encode()
        resp = await pool.request("POST", "/v5/order", {"Content-Type": "application/json"}, b'{"q":"1"}')
    finally:
        await pool.close()
    assert len(server.peers) == 1  # kept alive: one TCP connection for 21 requests
    method, path, headers, body = server.requests[-1]
    assert (method, path, body) == ("POST", "/v5/order", b'{"q":"1"}')
    assert headers["Content-Length"] == "9" and headers["Content-Type"] == "application/json"
    assert server.requests[0][2]["X-BAPI-API-KEY"] == "k"


async def test_a_base_path_prefixes_every_target(server: _Server) -> None:
    pool = HttpPool(server.url + "/proxy/", max_connections=1)
    try:
        resp = await pool.request("GET", "/v5/market/time")
    finally:
        await pool.close()
    assert resp.body == b'{"echo":"/proxy/v5/market/time"}'


async def test_chunked_and_gzip_bodies_are_decoded_and_header_names_lowercased(server: _Server) -> None:
    pool = HttpPool(server.url)
    try:
        chunked = await pool.request("GET", "/chunked")
        zipped = await pool.request("GET", "/gzip")
    finally:
        await pool.close()
    assert chunked.body == b'{"a":1,"b":2}'
    assert chunked.headers["x-bapi-limit-status"] == "7"
    assert zipped.body == b'{"zipped":true}'


async def test_concurrency_never_exceeds_the_connection_bound(server: _Server) -> None:
    pool = HttpPool(server.url, max_connections=3)
    try:
        answers = await asyncio.gather(*(pool.request("GET", "/slow") for _ in range(12)))
        assert pool.open_connections <= 3
    finally:
        await pool.close()
    assert all(a.status == 200 for a in answers)
    assert server.max_active == 3
    assert len(server.peers) == 3


async def test_connection_close_answers_are_read_and_the_connection_replaced(server: _Server) -> None:
    pool = HttpPool(server.url, max_connections=1)
    try:
        assert (await pool.request("GET", "/close")).body == b"bye"
        assert (await pool.request("GET", "/after")).status == 200
    finally:
        await pool.close()
    assert len(server.peers) == 2


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    # The server answers and then ends the keep-alive without saying so.
    async with _answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") as url:
        pool = HttpPool(url, max_connections=1)
        try:
            assert (await pool.request("GET", "/a")).body == b"ok"
            await asyncio.sleep(0.05)  # the close reaches us while the connection is idle
            assert (await pool.request("GET", "/b")).body == b"ok"
        finally:
            await pool.close()


async def test_idle_connections_are_retired_after_idle_s(server: _Server) -> None:
    pool = HttpPool(server.url, idle_s=0.05)
    try:
        await pool.request("GET", "/a")
        await asyncio.sleep(0.1)
        await pool.request("GET", "/b")
    finally:
        await pool.close()
    assert len(server.peers) == 2


async def test_connect_refused_is_not_sent() -> None:
    async with _answering(b"") as url:
        pass  # a port that was just closed: nothing listens there
    pool = HttpPool(url)
    with pytest.raises(HttpNotSentError, match="connect failed"):
        await pool.request("GET", "/x")
    assert pool.open_connections == 0


async def test_a_hang_times_out_and_frees_the_connection(server: _Server) -> None:
    pool = HttpPool(server.url, max_connections=1)
    try:
        with pytest.raises(TimeoutError):
            await pool.request("GET", "/hang", timeout_s=0.2)
        assert pool.open_connections == 0
        assert (await pool.request("GET", "/next")).status == 200  # the one slot is free again
    finally:
        await pool.close()


async def test_a_reset_after_sending_is_a_failed_exchange(server: _Server) -> None:
    pool = HttpPool(server.url, max_connections=1)
    try:
        with pytest.raises(HttpFailedError, match="connection closed"):
            await pool.request("POST", "/reset", None, b"{}")
        assert server.requests[-1][0] == "POST"  # it did reach the server: outcome unknown
        assert (await pool.request("GET", "/next")).status == 200
    finally:
        await pool.close()


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "connection closed"),
        (b"SMTP ready\r\n\r\n", "malformed HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", "undecodable gzip"),
    ],
)
async def test_broken_answers_fail_clearly(answer: bytes, error: str) -> None:
    async with _answering(answer) as url:
        pool = HttpPool(url)
        try:
            with pytest.raises(HttpFailedError, match=error):
                await pool.request("GET", "/x")
        finally:
            await pool.close()


async def test_a_cancelled_request_does_not_leak_its_slot(server: _Server) -> None:
    pool = HttpPool(server.url, max_connections=1)
    try:
        task = asyncio.create_task(pool.request("GET", "/hang"))
        waiting = asyncio.create_task(pool.request("GET", "/queued"))
        await asyncio.sleep(0.05)
        task.cancel()
        assert (await waiting).status == 200
    finally:
        await pool.close()


async def test_header_line_breaks_and_bad_urls_are_refused() -> None:
    pool = HttpPool("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="line break") as info:
        await pool.request("GET", "/x", {"X-BAPI-SIGN": "abc\r\nEvil: 1"})
    assert "Evil" not in str(info.value)
    with pytest.raises(ConfigError, match="http"):
        HttpPool("ftp://example.com")
    with pytest.raises(ConfigError, match="max_connections"):
        HttpPool("http://example.com", max_connections=0)


async def test_a_closed_pool_sends_nothing(server: _Server) -> None:
    pool = HttpPool(server.url)
    await pool.request("GET", "/a")
    await pool.close()
    with pytest.raises(HttpNotSentError, match="closed"):
        await pool.request("GET", "/b")
    assert len(server.requests) == 1
