"""`asym bench sim`: what the simulator serves on ONE core, so that it never limits measurements of a client.

Layout: the simulator runs in its own process pinned to core 0 (`taskset`; the same `SimServer` as
`asym sim serve`, plus a stats channel on its stdin/stdout), every load generator on core 1.

* REST: requests per second at 64 concurrent connections for tickers and the 50-level order book of one
  symbol after another (a 100-symbol market, rate limits off). Load: `wrk` (one thread) when installed,
  otherwise 4 Python aiohttp processes (the results name which one was used).
* WebSocket: messages per second published, counted by the server (`hub.published`: messages x
  subscribers, each message encoded and framed once), while reader processes with a minimal raw WebSocket
  client count the frames they receive without decoding them (they must keep up).
* Collection: a 500-symbol market from a cold start serving the first collection cycle of every symbol
  (kline 60 x 201, kline 5 x 289, orderbook 25, funding/history 100, open-interest 1h x 48, account-ratio
  1h x 48, after instruments and all tickers) at ~110 requests/s with Bybit's rate limits on, while one
  connection streams orderbook.50 + tickers + allLiquidation of all 500 symbols at speed 1.
* Streaming: a 100-symbol market streaming the same three topics at Bybit's push rates to one connection.

Server CPU share = the server's process CPU time / wall time over the measured window (100 % = its core).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

from asym.bench.common import markdown_table, percentile

SERVER_CORE = 0
LOAD_CORE = 1
REST_TARGET = 3_000.0
WS_TARGET = 50_000.0
STREAM_TOPICS = ("orderbook.50.{s}", "tickers.{s}", "allLiquidation.{s}")


def _pinned(cmd: list[str], core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *cmd]
    return cmd


def _pin_self(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


# ----------------------------------------------------------------------------- the server process


async def _serve_child(overrides: dict[str, Any]) -> None:
    """Child: run the simulator (as `asym sim serve` does) and answer `stats` lines on stdin."""
    from asym.logging import configure_logging
    from asym.sim.config import SimConfig
    from asym.sim.server.app import SimServer

    configure_logging("WARNING")
    config = SimConfig.model_validate(overrides)
    server = SimServer(config, warm_up=True)
    await server.start("127.0.0.1", 0)
    info = {"rest_url": server.rest_url, "ws_public_url": server.ws_public_url}
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            if line.strip() != b"stats":
                break
            warm = server._warm_task is None or server._warm_task.done()
            stats = {
                "published": server.hub.published,
                "requests": server.rest.request_count,
                "cpu_s": time.process_time(),
                "wall_s": time.perf_counter(),
                "warm": warm,
                "streams": len(server.hub.streams),
            }
            sys.stdout.write(json.dumps(stats) + "\n")
            sys.stdout.flush()
    finally:
        await server.stop()


class _Child:
    """A child process speaking JSON lines: one line per command written to its stdin."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self, timeout: float = 120.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not raw:
            raise RuntimeError("benchmark child process ended unexpectedly")
        data: dict[str, Any] = json.loads(raw)
        return data

    async def ask(self, command: str, timeout: float = 120.0) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self.line(timeout)

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@contextlib.asynccontextmanager
async def _child(role: str, spec: dict[str, Any], core: int) -> AsyncIterator[_Child]:
    cmd = _pinned([sys.executable, "-m", "asym.bench.sim_bench", role, json.dumps(spec)], core)
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 20
    )
    child = _Child(proc)
    try:
        yield child
    finally:
        await child.close()


@contextlib.asynccontextmanager
async def _server(**overrides: Any) -> AsyncIterator[tuple[_Child, dict[str, Any]]]:
    async with _child("serve", overrides, SERVER_CORE) as child:
        info = await child.line(300.0)
        yield child, info


async def _wait_warm(server: _Child, limit_s: float = 300.0) -> float:
    t0 = time.perf_counter()
    for _ in range(int(limit_s / 0.2)):
        if (await server.ask("stats"))["warm"]:
            break
        await asyncio.sleep(0.2)
    return time.perf_counter() - t0


def _share(a: dict[str, Any], b: dict[str, Any]) -> float:
    wall = b["wall_s"] - a["wall_s"]
    return 100.0 * (b["cpu_s"] - a["cpu_s"]) / wall if wall > 0 else float("nan")


def _per_cpu_s(count: float, a: dict[str, Any], b: dict[str, Any]) -> float:
    """`count` per second of server CPU: the rate a free core would sustain (the machine may be shared)."""
    cpu = b["cpu_s"] - a["cpu_s"]
    return count / cpu if cpu > 0 else float("nan")


# ----------------------------------------------------------------------------- raw WebSocket readers


class _WsCounter(asyncio.Protocol):
    """A minimal WebSocket client: handshake, masked text frames out, frames in counted (never decoded)."""

    def __init__(self, host: str, path: str) -> None:
        self.host = host
        self.path = path
        self.buf = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.frames = 0
        self.other = 0
        self.nbytes = 0
        self.kinds: dict[str, int] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("websocket closed during the handshake"))

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes((0x81, 0x80 | n)) if n < 126 else b"\x81\xfe" + n.to_bytes(2, "big")
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        assert self.transport is not None
        self.transport.write(head + mask + masked)

    def data_received(self, data: bytes) -> None:
        self.nbytes += len(data)
        buf = self.buf
        buf += data
        pos = 0
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in bytes(buf[:end]):
                self.upgraded.set_exception(ConnectionError(bytes(buf[:end]).decode(errors="replace")))
                return
            self.upgraded.set_result(True)
            pos = end + 4
        size = len(buf)
        kinds = self.kinds
        while size - pos >= 2:
            n = buf[pos + 1] & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + n:
                break
            if buf[pos] & 0x0F == 1:
                p = pos + head
                if buf[p + 2 : p + 7] == b"topic":
                    self.frames += 1
                    k = chr(buf[p + 10])  # o(rderbook), t(ickers), a(llLiquidation), p(ublicTrade)
                    kinds[k] = kinds.get(k, 0) + 1
                else:
                    self.other += 1
            pos += head + n
        del buf[:pos]


async def _ws_connect(url: str) -> _WsCounter:
    m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
    if m is None:
        raise ValueError(f"not a ws:// url: {url}")
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(lambda: _WsCounter(f"{host}:{port}", path), host, port)
    await asyncio.wait_for(proto.upgraded, 30)
    return proto


async def _reader_child(spec: dict[str, Any]) -> None:
    """Child: open `conns` connections, subscribe `topics` on each, then report counts on `report`."""
    conns = [await _ws_connect(spec["url"]) for _ in range(spec["conns"])]
    topics: list[str] = spec["topics"]
    batches = [topics[i : i + 10] for i in range(0, len(topics), 10)]
    for c in conns:
        for i, batch in enumerate(batches):
            c.send_text(json.dumps({"op": "subscribe", "req_id": str(i), "args": batch}))
    t0 = time.perf_counter()
    for _ in range(12_000):  # acks (one per request) arrive within 10 minutes or never
        if all(c.other >= len(batches) for c in conns):
            break
        await asyncio.sleep(0.05)
    sys.stdout.write(json.dumps({"subscribed_s": time.perf_counter() - t0}) + "\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while (line := await reader.readline()) and line.strip() == b"report":
        kinds: dict[str, int] = {}
        for c in conns:
            for k, v in c.kinds.items():
                kinds[k] = kinds.get(k, 0) + v
        out = {
            "frames": sum(c.frames for c in conns),
            "bytes": sum(c.nbytes for c in conns),
            "kinds": kinds,
            "t": time.perf_counter(),
        }
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    for c in conns:
        if c.transport is not None:
            c.transport.close()


@contextlib.asynccontextmanager
async def _readers(url: str, topics: list[str], conns: int, procs: int) -> AsyncIterator[list[_Child]]:
    """Reader processes on the load core, `conns` connections in all, each subscribing every topic;
    `_subscribed` waits until every subscription was acknowledged."""
    per = [conns // procs + (1 if i < conns % procs else 0) for i in range(procs)]
    async with contextlib.AsyncExitStack() as stack:
        children = [
            await stack.enter_async_context(
                _child("reader", {"url": url, "topics": topics, "conns": n}, LOAD_CORE)
            )
            for n in per
            if n
        ]
        yield children


async def _subscribed(children: list[_Child]) -> float:
    outs = await asyncio.gather(*(c.line(900.0) for c in children))
    return max(o["subscribed_s"] for o in outs)


async def _report(children: list[_Child]) -> dict[str, Any]:
    reps = await asyncio.gather(*(c.ask("report") for c in children))
    kinds: dict[str, int] = {}
    for r in reps:
        for k, v in r["kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    return {"frames": sum(r["frames"] for r in reps), "bytes": sum(r["bytes"] for r in reps), "kinds": kinds}


def _topics(symbols: list[str]) -> list[str]:
    return [t.format(s=s) for s in symbols for t in STREAM_TOPICS]


async def _symbols(rest_url: str, n: int | None = None) -> list[str]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as s,
        s.get(rest_url + "/v5/market/instruments-info?category=linear&limit=1000") as r,
    ):
        data = await r.json()
    names = [i["symbol"] for i in data["result"]["list"]]
    return names if n is None else names[:n]


# ----------------------------------------------------------------------------- REST load


_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def _rest_paths(kind: str, symbols: list[str]) -> list[str]:
    if kind == "tickers":
        return [f"/v5/market/tickers?category=linear&symbol={s}" for s in symbols]
    if kind == "orderbook":
        return [f"/v5/market/orderbook?category=linear&symbol={s}&limit=50" for s in symbols]
    return [f"/v5/market/kline?category=linear&symbol={s}&interval=1&limit=200" for s in symbols]


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


async def _wrk(url: str, paths: list[str], seconds: float, conns: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_LUA % ", ".join(json.dumps(p) for p in paths))
        script = f.name
    try:
        cmd = _pinned(
            ["wrk", "-t1", f"-c{conns}", f"-d{int(seconds)}s", "--latency", "-s", script, url], LOAD_CORE
        )
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
        out = (await proc.communicate())[0].decode()
    finally:
        os.unlink(script)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errs = re.search(r"Socket errors:(.*)", out)
    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errs.group(1).strip() if errs else "",
        "p50_ms": _ms(lat.get("50", "")),
        "p99_ms": _ms(lat.get("99", "")),
    }


async def _py_load_child(spec: dict[str, Any]) -> None:
    """Child: aiohttp load on `conns` connections for `seconds`; prints requests, errors and latencies."""
    import aiohttp

    paths: list[str] = spec["paths"]
    url: str = spec["url"]
    lat: list[float] = []
    errors = 0
    stop = time.perf_counter() + spec["seconds"]
    connector = aiohttp.TCPConnector(limit=spec["conns"])
    async with aiohttp.ClientSession(connector=connector) as s:

        async def worker(k: int) -> None:
            nonlocal errors
            i = k
            while time.perf_counter() < stop:
                i = (i + 1) % len(paths)
                t = time.perf_counter()
                async with s.get(url + paths[i]) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                lat.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(spec["conns"])))
        wall = time.perf_counter() - t0
    lat.sort()
    out = {"requests": len(lat), "wall": wall, "errors": errors, "lat": lat[:: max(1, len(lat) // 2000)]}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


async def _py_load(url: str, paths: list[str], seconds: float, conns: int, procs: int = 4) -> dict[str, Any]:
    spec = {"url": url, "paths": paths, "seconds": seconds, "conns": conns // procs}
    async with contextlib.AsyncExitStack() as stack:
        kids = [await stack.enter_async_context(_child("load", spec, LOAD_CORE)) for _ in range(procs)]
        outs = await asyncio.gather(*(k.line(seconds + 60) for k in kids))
    lat = sorted(x for o in outs for x in o["lat"])
    return {
        "rps": sum(o["requests"] / o["wall"] for o in outs),
        "non_2xx": sum(o["errors"] for o in outs),
        "socket_errors": "",
        "p50_ms": 1000 * percentile(lat, 50),
        "p99_ms": 1000 * percentile(lat, 99),
    }


async def bench_rest(symbols: int, seconds: float) -> dict[str, Any]:
    """Requests/s for tickers, order book (50) and klines (1m x 200) at 64 connections, one symbol after
    another, with the server's CPU share."""
    use_wrk = shutil.which("wrk") is not None
    out: dict[str, Any] = {"symbols": symbols, "connections": 64}
    out["load_generator"] = "wrk (1 thread, 64 connections)" if use_wrk else "4 aiohttp processes x 16"
    async with _server(symbols=symbols, rate_limits=False) as (server, info):
        out["warm_up_s"] = await _wait_warm(server)
        names = await _symbols(info["rest_url"])
        for kind in ("tickers", "orderbook", "klines"):
            paths = _rest_paths(kind, names)
            a = await server.ask("stats")
            if use_wrk:
                r = await _wrk(info["rest_url"], paths, seconds, 64)
            else:
                r = await _py_load(info["rest_url"], paths, seconds, 64)
            b = await server.ask("stats")
            r["server_cpu_pct"] = _share(a, b)
            r["served"] = b["requests"] - a["requests"]
            r["per_cpu_s"] = _per_cpu_s(r["served"], a, b)
            out[kind] = r
    return out


# ----------------------------------------------------------------------------- WebSocket load


async def bench_ws(symbols: int, conns: int, seconds: float) -> dict[str, Any]:
    """Messages/s published by the server (messages x subscribers) with `conns` connections each
    subscribed to books, tickers and liquidations of every symbol, and what the readers received."""
    async with _server(symbols=symbols, rate_limits=False) as (server, info):
        warm = await _wait_warm(server)
        names = await _symbols(info["rest_url"])
        async with _readers(info["ws_public_url"], _topics(names), conns, min(conns, 3)) as readers:
            subscribed = await _subscribed(readers)
            await asyncio.sleep(2.0)
            a, ra = await server.ask("stats"), await _report(readers)
            await asyncio.sleep(seconds)
            b, rb = await server.ask("stats"), await _report(readers)
    wall = b["wall_s"] - a["wall_s"]
    kinds = {k: (rb["kinds"].get(k, 0) - ra["kinds"].get(k, 0)) / wall / conns for k in rb["kinds"]}
    return {
        "symbols": symbols,
        "connections": conns,
        "warm_up_s": warm,
        "subscribe_s": subscribed,
        "published_per_s": (b["published"] - a["published"]) / wall,
        "received_per_s": (rb["frames"] - ra["frames"]) / wall,
        "mb_per_s": (rb["bytes"] - ra["bytes"]) / wall / 1e6,
        "per_connection": {
            "books": kinds.get("o", 0.0),
            "tickers": kinds.get("t", 0.0),
            "liquidations": kinds.get("a", 0.0),
        },
        "server_cpu_pct": _share(a, b),
        "published_per_cpu_s": _per_cpu_s(b["published"] - a["published"], a, b),
        "load_generator": f"{min(conns, 3)} raw-socket reader processes (frames counted, not decoded)",
    }


async def bench_stream(symbols: int, seconds: float) -> dict[str, Any]:
    """Server CPU share while streaming books, tickers and liquidations of `symbols` to one connection."""
    async with _server(symbols=symbols) as (server, info):
        warm = await _wait_warm(server)
        names = await _symbols(info["rest_url"])
        async with _readers(info["ws_public_url"], _topics(names), 1, 1) as readers:
            await _subscribed(readers)
            await asyncio.sleep(2.0)
            a, ra = await server.ask("stats"), await _report(readers)
            await asyncio.sleep(seconds)
            b, rb = await server.ask("stats"), await _report(readers)
    wall = b["wall_s"] - a["wall_s"]
    kinds = {k: (rb["kinds"].get(k, 0) - ra["kinds"].get(k, 0)) / wall for k in rb["kinds"]}
    return {
        "symbols": symbols,
        "warm_up_s": warm,
        "received_per_s": (rb["frames"] - ra["frames"]) / wall,
        "books_per_s": kinds.get("o", 0.0),
        "tickers_per_s": kinds.get("t", 0.0),
        "liquidations_per_s": kinds.get("a", 0.0),
        "server_cpu_pct": _share(a, b),
    }


# ----------------------------------------------------------------------------- collection cycle


def _cycle_paths(symbols: list[str]) -> list[str]:
    out = ["/v5/market/instruments-info?category=linear&limit=1000", "/v5/market/tickers?category=linear"]
    for s in symbols:
        q = f"category=linear&symbol={s}"
        out += [
            f"/v5/market/kline?{q}&interval=60&limit=201",
            f"/v5/market/kline?{q}&interval=5&limit=289",
            f"/v5/market/orderbook?{q}&limit=25",
            f"/v5/market/funding/history?{q}&limit=100",
            f"/v5/market/open-interest?{q}&intervalTime=1h&limit=48",
            f"/v5/market/account-ratio?{q}&period=1h&limit=48",
        ]
    return out


async def _paced(url: str, paths: list[str], rate: float, conns: int) -> dict[str, Any]:
    """GET every path, starting them at `rate` per second with at most `conns` in flight."""
    import aiohttp

    lat: list[float] = []
    errors: list[str] = []
    sem = asyncio.Semaphore(conns)
    connector = aiohttp.TCPConnector(limit=conns)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:

        async def one(path: str) -> None:
            async with sem:
                t = time.perf_counter()
                try:
                    async with s.get(url + path) as r:
                        body = await r.read()
                        if r.status != 200 or not body.startswith(b'{"retCode":0'):
                            errors.append(f"{r.status} {body[:80]!r}")
                except Exception as exc:  # a timeout is a result here, not a crash
                    errors.append(repr(exc))
                lat.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        tasks = []
        for i, p in enumerate(paths):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(p)))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
    lat.sort()
    return {
        "requests": len(paths),
        "seconds": wall,
        "errors": len(errors),
        "error_samples": errors[:3],
        "p50_ms": 1000 * percentile(lat, 50),
        "p99_ms": 1000 * percentile(lat, 99),
        "max_ms": 1000 * lat[-1] if lat else float("nan"),
    }


async def bench_collect(symbols: int, rate: float, after_s: float) -> dict[str, Any]:
    """A first collection cycle from a cold start while streaming every symbol, then streaming alone."""
    async with _server(symbols=symbols) as (server, info):
        names = await _symbols(info["rest_url"])
        async with _readers(info["ws_public_url"], _topics(names), 1, 1) as readers:
            a = await server.ask("stats")
            subscribing = asyncio.create_task(_subscribed(readers))
            cycle = await _paced(info["rest_url"], _cycle_paths(names), rate, 64)
            b = await server.ask("stats")
            subscribed = await subscribing
            c, rc = await server.ask("stats"), await _report(readers)
            await asyncio.sleep(after_s)
            d, rd = await server.ask("stats"), await _report(readers)
    wall = d["wall_s"] - c["wall_s"]
    cycle.update(
        symbols=symbols,
        rate=rate,
        server_cpu_pct=_share(a, b),
        subscribe_s=subscribed,
        stream_cpu_pct=_share(c, d),
        stream_msgs_per_s=(rd["frames"] - rc["frames"]) / wall,
    )
    return cycle


# ----------------------------------------------------------------------------- entry points


async def run(quick: bool = False) -> dict[str, Any]:
    """Every simulator benchmark (quick: smaller and shorter, a smoke run)."""
    _pin_self(LOAD_CORE)
    return {
        "rest": await bench_rest(100, 5 if quick else 10),
        "ws": await bench_ws(100 if quick else 500, 5, 5 if quick else 15),
        "stream": await bench_stream(100, 10 if quick else 20),
        "collect": await bench_collect(100 if quick else 500, 110.0, 10 if quick else 20),
    }


def render(r: dict[str, Any]) -> str:
    """Markdown for docs/benchmarks.md: target, asym's figure, load generator, server CPU share."""
    rest, ws, st, col = r["rest"], r["ws"], r["stream"], r["collect"]
    rows: list[list[object]] = []
    for kind, label in (
        ("tickers", "tickers"),
        ("orderbook", "order book (50)"),
        ("klines", "klines (1m x 200)"),
    ):
        x = rest[kind]
        rows.append(
            [
                f"REST {label}, {rest['connections']} connections, {rest['symbols']} symbols in turn",
                f"≥ {REST_TARGET:,.0f} req/s" if kind != "klines" else "-",
                f"{x['rps']:,.0f} req/s (p50 {x['p50_ms']:.1f} ms, p99 {x['p99_ms']:.1f} ms, "
                f"{x['non_2xx']} errors)",
                rest["load_generator"],
                f"{x['server_cpu_pct']:.0f} %",
            ]
        )
    pc = ws["per_connection"]
    rows.append(
        [
            f"WS published, {ws['symbols']} symbols x (orderbook.50 + tickers + allLiquidation), "
            f"{ws['connections']} connections",
            f"≥ {WS_TARGET:,.0f} msg/s",
            f"{ws['published_per_s']:,.0f} msg/s (received {ws['received_per_s']:,.0f}; per connection "
            f"{pc['books']:,.0f} books + {pc['tickers']:,.0f} tickers + {pc['liquidations']:,.0f} liq.; "
            f"{ws['mb_per_s']:.1f} MB/s)",
            ws["load_generator"],
            f"{ws['server_cpu_pct']:.0f} %",
        ]
    )
    rows.append(
        [
            f"collection cycle, {col['symbols']} symbols cold, {col['requests']} requests at "
            f"{col['rate']:.0f}/s, streaming all",
            "every answer < 1 s, core not saturated",
            f"{col['seconds']:.1f} s, p50 {col['p50_ms']:.0f} ms, p99 {col['p99_ms']:.0f} ms, "
            f"max {col['max_ms']:.0f} ms, {col['errors']} errors",
            "aiohttp (paced) + 1 raw-socket reader",
            f"{col['server_cpu_pct']:.0f} % (then streaming alone: {col['stream_cpu_pct']:.0f} %, "
            f"{col['stream_msgs_per_s']:,.0f} msg/s)",
        ]
    )
    rows.append(
        [
            f"streaming {st['symbols']} symbols at Bybit's push rates, 1 connection",
            "a modest share of the core",
            f"{st['received_per_s']:,.0f} msg/s ({st['books_per_s']:,.0f} books, "
            f"{st['tickers_per_s']:,.0f} tickers, {st['liquidations_per_s']:.1f} liq.)",
            "1 raw-socket reader",
            f"{st['server_cpu_pct']:.0f} %",
        ]
    )
    text = markdown_table(["simulator", "target", "asym", "load generator", "server CPU (its core)"], rows)
    return text + (
        "\n\nThe simulator runs alone on core 0 (taskset), every load generator on core 1. Published WS "
        "messages are counted by the server (each message encoded and framed once, written to every "
        "subscriber); the readers count the frames they receive without decoding them."
    )


def _main(argv: list[str]) -> None:
    role, spec = argv[0], json.loads(argv[1])
    if role == "serve":
        asyncio.run(_serve_child(spec))
    elif role == "reader":
        asyncio.run(_reader_child(spec))
    elif role == "load":
        asyncio.run(_py_load_child(spec))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    _main(sys.argv[1:])
