"""Load-testing the simulator from other processes: the simulator in a child process with a stats channel,
WebSocket readers that count frames without decoding them, and REST load from wrk or aiohttp processes.

Used by `asym bench sim` (asym.bench.sim_bench). Every helper runs its work in child processes
(`python -m asym.sim.server.loadtest <role> <json spec>`, pinned to a core with taskset when it exists)
speaking JSON lines: one line per command written to the child's stdin.
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
from typing import Any, cast

from asym import eventloop
from asym.bench.common import percentile
from asym.sim.server.ws_protocol import PUBLIC_ARGS_LIMIT

SERVER_CORE = 0
LOAD_CORE = 1


def pinned(cmd: list[str], core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *cmd]
    return cmd


def pin_self(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


# ----------------------------------------------------------------------------- child processes


async def _serve_role(overrides: dict[str, Any]) -> None:
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
                "rss_mb": _rss_mb(),
            }
            sys.stdout.write(json.dumps(stats) + "\n")
            sys.stdout.flush()
    finally:
        await server.stop()


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


class Child:
    """A child process speaking JSON lines: one line per command written to its stdin."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self, timeout: float = 120.0) -> dict[str, Any]:
        """The next JSON line the child writes."""
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not raw:
            raise RuntimeError("benchmark child process ended unexpectedly")
        data: dict[str, Any] = json.loads(raw)
        return data

    async def ask(self, command: str, timeout: float = 120.0) -> dict[str, Any]:
        """Send one command line and read the answer line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self.line(timeout)

    async def close(self) -> None:
        """Close its stdin (it ends) and wait; kill it after 20 s."""
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
async def child(role: str, spec: dict[str, Any], core: int) -> AsyncIterator[Child]:
    """Run `python -m asym.sim.server.loadtest ROLE SPEC` on `core`; closing its stdin ends it."""
    cmd = pinned([sys.executable, "-m", "asym.sim.server.loadtest", role, json.dumps(spec)], core)
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 20
    )
    ch = Child(proc)
    try:
        yield ch
    finally:
        await ch.close()


@contextlib.asynccontextmanager
async def server_process(**overrides: Any) -> AsyncIterator[tuple[Child, dict[str, Any]]]:
    """The simulator (SimConfig `overrides`, warm-up on as in `asym sim serve`) on the server core, and
    its URLs; `await proc.ask("stats")` reads its counters, CPU time and RSS."""
    async with child("serve", overrides, SERVER_CORE) as proc:
        info = await proc.line(300.0)
        yield proc, info


async def wait_warm(server: Child, limit_s: float = 300.0) -> float:
    """Wait until the server built every symbol (its warm-up); returns the seconds waited."""
    t0 = time.perf_counter()
    for _ in range(int(limit_s / 0.2)):
        if (await server.ask("stats"))["warm"]:
            break
        await asyncio.sleep(0.2)
    return time.perf_counter() - t0


def cpu_share(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Server CPU time between two stats readings over the wall time between them, in % of a core."""
    wall = b["wall_s"] - a["wall_s"]
    return 100.0 * (b["cpu_s"] - a["cpu_s"]) / wall if wall > 0 else float("nan")


def per_cpu_second(count: float, a: dict[str, Any], b: dict[str, Any]) -> float:
    """`count` per second of server CPU: the rate a free core would sustain (the machine may be shared)."""
    cpu = b["cpu_s"] - a["cpu_s"]
    return count / cpu if cpu > 0 else float("nan")


# ----------------------------------------------------------------------------- raw WebSocket readers


class WsCounter(asyncio.Protocol):
    """A minimal WebSocket client: handshake, masked text frames out, frames in counted (never decoded).

    Topic messages are told apart by their first bytes as the server writes them (compact JSON that
    starts with `{"topic":"`), counted per first letter of the topic (o, t, a, p, k, l)."""

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
        # A stream transport (uvloop's is not an asyncio.Transport subclass, so no isinstance check).
        t = self.transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(os.urandom(16)).decode()
        t.write(
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


async def ws_connect(url: str) -> WsCounter:
    m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
    if m is None:
        raise ValueError(f"not a ws:// url: {url}")
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(lambda: WsCounter(f"{host}:{port}", path), host, port)
    await asyncio.wait_for(proto.upgraded, 30)
    return proto


def shard_topics(topics: list[str], limit: int = PUBLIC_ARGS_LIMIT) -> list[list[str]]:
    """`topics` split, in order, into groups whose names add up to at most `limit` characters: what one
    public connection may carry (a subscriber of more needs several connections, as on Bybit)."""
    shards: list[list[str]] = [[]]
    size = 0
    for t in topics:
        if shards[-1] and size + len(t) > limit:
            shards.append([])
            size = 0
        shards[-1].append(t)
        size += len(t)
    return shards


async def _reader_role(spec: dict[str, Any]) -> None:
    """Child: `conns` subscribers of every topic of `topics` (each on as many connections as the
    per-connection limit needs), then report counts on `report`."""
    shards = shard_topics(spec["topics"])
    conns = [await ws_connect(spec["url"]) for _ in range(spec["conns"] * len(shards))]
    expected: list[int] = []
    for j, c in enumerate(conns):
        shard = shards[j % len(shards)]
        batches = [shard[i : i + 10] for i in range(0, len(shard), 10)]
        expected.append(len(batches))
        for i, batch in enumerate(batches):
            c.send_text(json.dumps({"op": "subscribe", "req_id": str(i), "args": batch}))
    t0 = time.perf_counter()
    for _ in range(12_000):  # acks (one per request) arrive within 10 minutes or never
        if all(c.other >= n for c, n in zip(conns, expected, strict=True)):
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
async def readers(url: str, topics: list[str], conns: int, procs: int) -> AsyncIterator[list[Child]]:
    """Reader processes on the load core, `conns` subscribers in all, each subscribing every topic (over
    as many connections as Bybit's 21,000 characters of topics per connection need); `subscribed` waits
    until every subscription was acknowledged."""
    per = [conns // procs + (1 if i < conns % procs else 0) for i in range(procs)]
    async with contextlib.AsyncExitStack() as stack:
        children = [
            await stack.enter_async_context(
                child("reader", {"url": url, "topics": topics, "conns": n}, LOAD_CORE)
            )
            for n in per
            if n
        ]
        yield children


async def subscribed(children: list[Child]) -> float:
    outs = await asyncio.gather(*(c.line(900.0) for c in children))
    return max(o["subscribed_s"] for o in outs)


async def report(children: list[Child]) -> dict[str, Any]:
    reps = await asyncio.gather(*(c.ask("report") for c in children))
    kinds: dict[str, int] = {}
    for r in reps:
        for k, v in r["kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    return {"frames": sum(r["frames"] for r in reps), "bytes": sum(r["bytes"] for r in reps), "kinds": kinds}


# ----------------------------------------------------------------------------- REST load


_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


async def wrk(url: str, paths: list[str], seconds: float, conns: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_LUA % ", ".join(json.dumps(p) for p in paths))
        script = f.name
    try:
        cmd = pinned(
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


async def _load_role(spec: dict[str, Any]) -> None:
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


async def aiohttp_load(
    url: str, paths: list[str], seconds: float, conns: int, procs: int = 4
) -> dict[str, Any]:
    spec = {"url": url, "paths": paths, "seconds": seconds, "conns": conns // procs}
    async with contextlib.AsyncExitStack() as stack:
        kids = [await stack.enter_async_context(child("load", spec, LOAD_CORE)) for _ in range(procs)]
        outs = await asyncio.gather(*(k.line(seconds + 60) for k in kids))
    lat = sorted(x for o in outs for x in o["lat"])
    return {
        "rps": sum(o["requests"] / o["wall"] for o in outs),
        "non_2xx": sum(o["errors"] for o in outs),
        "socket_errors": "",
        "p50_ms": 1000 * percentile(lat, 50),
        "p99_ms": 1000 * percentile(lat, 99),
    }


def _main(argv: list[str]) -> None:
    role, spec = argv[0], json.loads(argv[1])
    if role == "serve":
        eventloop.run(_serve_role(spec))
    elif role == "reader":
        eventloop.run(_reader_role(spec))
    elif role == "load":
        eventloop.run(_load_role(spec))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    _main(sys.argv[1:])
