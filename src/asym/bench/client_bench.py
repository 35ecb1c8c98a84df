"""Benchmark of asym's Bybit client against ccxt (async) and pybit, side by side on one simulator.

Measures, against the same running simulator (start it in ANOTHER process with rate limits off, e.g.
`asym sim serve --symbols 5 --no-rate-limits`, so that process CPU time is the clients' alone):

* REST requests per second at concurrency 1, 16 and 64 for tickers, order book (50) and klines (200),
  for a bare aiohttp GET + json.loads (the floor), asym, ccxt async and pybit (threads);
* client CPU per request (process CPU time / requests) and its ratio to the bare floor;
* client-side overhead per request at concurrency 1: latency minus the bare floor's median latency
  (median and p95, microseconds);
* order-book deltas applied per second on a 50-level book, replaying one recorded stream through asym's
  state machine, pybit's WebSocket book handler and ccxt.pro's `handle_order_book`.

The recorded stream is derived from the real Bybit dump `../shared/data/bybit/orderbook/xrpusdt-ob500`
(top 50 levels after each message: snapshot + 49 deltas, ~25 changed levels each); when that file is
absent it is recorded from the simulator's `orderbook.50` topic.

asym's client runs with its rate limiter configured out of the way (the simulator enforces none) and with
GET coalescing off, so every request really goes over the wire like the others'.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from asym import eventloop
from asym.bench.common import machine_info, markdown_table, median, percentile

ENDPOINTS = ("tickers", "orderbook", "klines")
LIBS = ("bare", "asym", "ccxt", "pybit")
DUMP = (
    Path(__file__).resolve().parents[3]
    / ".."
    / "shared"
    / "data"
    / "bybit"
    / "orderbook"
    / "xrpusdt-ob500.data.zip"
)


def _paths(symbol: str) -> dict[str, str]:
    return {
        "tickers": f"/v5/market/tickers?category=linear&symbol={symbol}",
        "orderbook": f"/v5/market/orderbook?category=linear&symbol={symbol}&limit=50",
        "klines": f"/v5/market/kline?category=linear&symbol={symbol}&interval=1&limit=200",
    }


# ---------------------------------------------------------------- REST: the four clients

Call = Callable[[], Awaitable[Any]]


class _IoClock:
    """Wire time of the last HTTP exchange (send -> body read) as the client's HTTP layer saw it."""

    start = 0.0
    end = 0.0

    @property
    def io(self) -> float:
        return max(0.0, self.end - self.start)


class _AsymClock(_IoClock):
    """asym's transport reports each exchange's wire time to its observer (a ClientObserver)."""

    def on_request(self, endpoint: str, latency_s: float, ok: bool) -> None:
        self.start, self.end = 0.0, latency_s

    def on_retry(self, *a: Any) -> None: ...
    def on_rate_limit_wait(self, *a: Any) -> None: ...
    def on_error(self, *a: Any) -> None: ...
    def on_ws_event(self, *a: Any) -> None: ...


async def _open_async(lib: str, url: str, symbol: str, timed: bool) -> tuple[dict[str, Call], _IoClock, Any]:
    """(calls per endpoint, wire clock, close) of an async client; `timed` adds ccxt's aiohttp trace."""
    clock: _IoClock = _IoClock()
    if lib == "asym":
        from asym.bybit import BybitClient, ClientConfig, TransportConfig
        from asym.domain import Interval

        clock = _AsymClock()
        # Limiter out of the way (the simulator enforces none), coalescing off: every call hits the wire.
        tcfg = TransportConfig(ip_limit=1_000_000_000, coalesce_gets=False, max_connections=200)
        client = await BybitClient(
            url, config=ClientConfig(transport=tcfg, sync_time=False), observer=clock
        ).start()
        return (
            {
                "tickers": lambda: client.get_tickers(symbol),
                "orderbook": lambda: client.get_orderbook(symbol, 50),
                "klines": lambda: client.get_klines(symbol, Interval.M1, limit=200),
            },
            clock,
            client.close,
        )
    if lib == "bare":
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))

        def make(full: str) -> Call:
            async def call() -> Any:
                clock.start = time.perf_counter()
                async with session.get(full) as resp:
                    raw = await resp.read()
                clock.end = time.perf_counter()
                return json.loads(raw)

            return call

        return {k: make(url + p) for k, p in _paths(symbol).items()}, clock, session.close
    import ccxt.async_support as ccxt_async

    traces = []
    if timed:
        trace = aiohttp.TraceConfig()

        async def on_start(*_: Any) -> None:
            clock.start = clock.end = time.perf_counter()

        async def on_progress(*_: Any) -> None:
            clock.end = time.perf_counter()

        trace.on_request_start.append(on_start)
        trace.on_request_end.append(on_progress)
        trace.on_response_chunk_received.append(on_progress)
        traces.append(trace)
    csession = aiohttp.ClientSession(trace_configs=traces, connector=aiohttp.TCPConnector(limit=200))
    ex = ccxt_async.bybit(
        {"enableRateLimit": False, "session": csession, "options": {"fetchMarkets": {"types": ["linear"]}}}
    )
    ex.urls["api"].update({k: url for k in ("spot", "futures", "v2", "public", "private")})
    await ex.load_markets()
    unified = f"{symbol[:-4]}/USDT:USDT"

    async def close() -> None:
        await ex.close()
        await csession.close()

    return (
        {
            "tickers": lambda: ex.fetch_ticker(unified),
            "orderbook": lambda: ex.fetch_order_book(unified, 50),
            "klines": lambda: ex.fetch_ohlcv(unified, "1m", limit=200),
        },
        clock,
        close,
    )


def _pybit_calls(url: str, symbol: str, clock: _IoClock | None = None) -> dict[str, Callable[[], Any]]:
    """pybit's calls on its own requests session; with `clock`, an adapter times send + body read."""
    import requests
    from pybit.unified_trading import HTTP

    s = HTTP(testnet=False)
    s.endpoint = url
    if clock is not None:
        io = clock

        class TimedAdapter(requests.adapters.HTTPAdapter):
            def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                io.start = time.perf_counter()
                resp = super().send(request, **kwargs)
                _ = resp.content  # the body is part of the exchange
                io.end = time.perf_counter()
                return resp

        s.client.mount("http://", TimedAdapter())
    return {
        "tickers": lambda: s.get_tickers(category="linear", symbol=symbol),
        "orderbook": lambda: s.get_orderbook(category="linear", symbol=symbol, limit=50),
        "klines": lambda: s.get_kline(category="linear", symbol=symbol, interval="1", limit=200),
    }


async def _run_async(call: Call, concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _stats(latencies, time.process_time() - c0, time.perf_counter() - w0)


async def _run_threads(
    url: str, symbol: str, endpoint: str, concurrency: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def worker(stop: float) -> None:
        if not hasattr(local, "calls"):
            local.calls = _pybit_calls(url, symbol)  # one pybit session per thread
        call = local.calls[endpoint]
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            call()
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        warm = time.perf_counter() + 0.1
        await asyncio.gather(*(loop.run_in_executor(pool, worker, warm) for _ in range(concurrency)))
        latencies.clear()
        c0, w0 = time.process_time(), time.perf_counter()
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(loop.run_in_executor(pool, worker, stop) for _ in range(concurrency)))
        return _stats(latencies, time.process_time() - c0, time.perf_counter() - w0)


def _stats(latencies: list[float], cpu_s: float, wall_s: float) -> dict[str, Any]:
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / wall_s if wall_s > 0 else 0.0,
        "cpu_us_per_req": cpu_s / n * 1e6 if n else float("nan"),
        "lat_p50_ms": median(latencies) * 1e3,
        "lat_p95_ms": percentile(latencies, 95) * 1e3,
    }


async def bench_rest(
    url: str, symbol: str, concurrencies: tuple[int, ...], seconds: float, rounds: int
) -> list[dict[str, Any]]:
    """Every library x endpoint x concurrency, `rounds` times interleaved; the round with the least CPU per
    request is kept (the machine may be shared; interleaving exposes every library to the same load)."""
    opened = {lib: await _open_async(lib, url, symbol, timed=False) for lib in ("bare", "asym", "ccxt")}
    rows: list[dict[str, Any]] = []
    try:
        for endpoint in ENDPOINTS:
            for conc in concurrencies:
                best: dict[str, dict[str, Any]] = {}
                for _ in range(rounds):
                    for lib in LIBS:
                        if lib == "pybit":
                            r = await _run_threads(url, symbol, endpoint, conc, seconds)
                        else:
                            call = opened[lib][0][endpoint]
                            await _run_async(call, conc, min(0.2, seconds))  # warm-up
                            r = await _run_async(call, conc, seconds)
                        if lib not in best or r["cpu_us_per_req"] < best[lib]["cpu_us_per_req"]:
                            best[lib] = r
                rows.extend(
                    {"lib": lib, "endpoint": endpoint, "concurrency": conc, **best[lib]} for lib in LIBS
                )
    finally:
        for _, _, close in opened.values():
            await close()
    return rows


def _overhead_row(lib: str, endpoint: str, extra_us: list[float]) -> dict[str, Any]:
    return {
        "lib": lib,
        "endpoint": endpoint,
        "median_us": median(extra_us),
        "p95_us": percentile(extra_us, 95),
    }


async def bench_overhead(url: str, symbol: str, n: int) -> list[dict[str, Any]]:
    """Client-side overhead per request at concurrency 1: call time minus the HTTP exchange (send -> body
    read) timed inside each client's own HTTP layer, i.e. everything the library adds (limiting, signing,
    URL building, decoding, conversion) but neither the network nor the server. Bare: json.loads alone."""
    out: list[dict[str, Any]] = []
    for lib in ("bare", "asym", "ccxt"):
        calls, clock, close = await _open_async(lib, url, symbol, timed=True)
        try:
            for endpoint, call in calls.items():
                for _ in range(20):
                    await call()
                extra = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    await call()
                    extra.append((time.perf_counter() - t0 - clock.io) * 1e6)
                out.append(_overhead_row(lib, endpoint, extra))
        finally:
            await close()

    def pybit() -> list[dict[str, Any]]:
        clock = _IoClock()
        rows = []
        for endpoint, call in _pybit_calls(url, symbol, clock).items():
            for _ in range(20):
                call()
            extra = []
            for _ in range(n):
                t0 = time.perf_counter()
                call()
                extra.append((time.perf_counter() - t0 - clock.io) * 1e6)
            rows.append(_overhead_row("pybit", endpoint, extra))
        return rows

    out.extend(await asyncio.get_running_loop().run_in_executor(None, pybit))
    return out


# ---------------------------------------------------------------- order-book deltas


def book_stream_from_dump(path: Path = DUMP, depth: int = 50) -> list[bytes]:
    """The real XRPUSDT orderbook.500 dump reduced to an orderbook.{depth} stream (asym.bybit.bookstream)."""
    from asym.bybit.bookstream import derive_depth_stream, read_dump

    return derive_depth_stream(read_dump(path), depth)


async def record_book_stream(ws_url: str, symbol: str, seconds: float = 5.0) -> list[bytes]:
    """Record raw orderbook.50 messages of `symbol` from a venue (fallback when the dump is absent)."""
    out: list[bytes] = []
    async with aiohttp.ClientSession() as s, s.ws_connect(ws_url) as ws:
        await ws.send_str(json.dumps({"op": "subscribe", "args": [f"orderbook.50.{symbol}"]}))
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            try:
                msg = await ws.receive(timeout=max(0.01, stop - time.monotonic()))
            except TimeoutError:
                break
            if msg.type is aiohttp.WSMsgType.TEXT and '"topic"' in msg.data:
                out.append(msg.data.encode())
    return out


def _asym_book(messages: list[bytes], repeat: int, decode: bool) -> float:
    from asym.bybit.orderbook import Apply, OrderBookMachine
    from asym.bybit.wire.ws import WsBookData, WsFrame

    frame_dec = msgspec.json.Decoder(WsFrame)
    data_dec = msgspec.json.Decoder(WsBookData)
    pre = [(f.type, data_dec.decode(f.data)) for f in map(frame_dec.decode, messages)]
    m = OrderBookMachine("X", 50)
    t0 = time.perf_counter()
    for _ in range(repeat):
        if decode:
            for raw in messages:
                f = frame_dec.decode(raw)
                d = data_dec.decode(f.data)
                if m.apply(f.type, d.b, d.a, d.u, d.seq) is not Apply.OK:
                    raise RuntimeError(m.last_reason)
        else:
            for kind, d in pre:
                if m.apply(kind, d.b, d.a, d.u, d.seq) is not Apply.OK:
                    raise RuntimeError(m.last_reason)
    return time.perf_counter() - t0


def _pybit_book(messages: list[bytes], repeat: int, decode: bool) -> float:
    from pybit._websocket_stream import _V5WebSocketManager

    mgr = object.__new__(_V5WebSocketManager)  # its book handling only: no thread, no socket
    mgr.data, mgr.callback_directory = {}, {json.loads(messages[0])["topic"]: lambda _msg: None}
    parsed = [json.loads(x) for x in messages]
    # pybit keeps the snapshot dict and mutates it: every replay needs fresh input. In "apply" mode the
    # deepcopy that provides it is timed separately and subtracted.
    t0 = time.perf_counter()
    for _ in range(repeat):
        for msg in (json.loads(x) for x in messages) if decode else (copy.deepcopy(p) for p in parsed):
            mgr._process_normal_message(msg)
    elapsed = time.perf_counter() - t0
    if not decode:
        t1 = time.perf_counter()
        for _ in range(repeat):
            for p in parsed:
                copy.deepcopy(p)
        elapsed -= time.perf_counter() - t1
    return max(elapsed, 1e-9)


def _ccxt_book(messages: list[bytes], repeat: int, decode: bool, markets: list[dict[str, Any]]) -> float:
    import ccxt.pro as ccxtpro

    ex = ccxtpro.bybit()
    ex.set_markets(markets)

    class _Client:  # the network client's role in handle_order_book: its URL and resolve()
        url = "ws://sim/v5/public/linear"

        def resolve(self, *_: Any) -> None:
            return None

    client = _Client()
    parsed = [json.loads(x) for x in messages]
    t0 = time.perf_counter()
    for _ in range(repeat):
        src = (json.loads(x) for x in messages) if decode else parsed
        for msg in src:
            ex.handle_order_book(client, msg)
    return time.perf_counter() - t0


async def _ccxt_markets(url: str) -> list[dict[str, Any]]:
    import ccxt.async_support as ccxt_async

    ex = ccxt_async.bybit({"enableRateLimit": False, "options": {"fetchMarkets": {"types": ["linear"]}}})
    ex.urls["api"].update({k: url for k in ("spot", "futures", "v2", "public", "private")})
    try:
        markets = await ex.load_markets()
    finally:
        await ex.close()
    return list(markets.values())


def _with_symbol(messages: list[bytes], symbol: str) -> list[bytes]:
    out = []
    for raw in messages:
        m = json.loads(raw)
        old = m["data"]["s"]
        m["topic"] = m["topic"].replace(old, symbol)
        m["data"]["s"] = symbol
        out.append(json.dumps(m, separators=(",", ":")).encode())
    return out


async def bench_books(url: str, symbol: str, messages: list[bytes], repeat: int) -> list[dict[str, Any]]:
    """Deltas applied per second by each library on the same stream (apply only, and decode + apply)."""
    messages = _with_symbol(messages, symbol)  # ccxt resolves the market by symbol
    markets = await _ccxt_markets(url)
    deltas = sum(1 for m in messages if b'"delta"' in m) * repeat
    levels = sum(
        len(json.loads(m)["data"]["b"]) + len(json.loads(m)["data"]["a"]) for m in messages if b'"delta"' in m
    )
    rows = []
    for decode in (False, True):
        for lib, fn in (
            ("asym", lambda d: _asym_book(messages, repeat, d)),
            ("pybit", lambda d: _pybit_book(messages, repeat, d)),
            ("ccxt.pro", lambda d: _ccxt_book(messages, repeat, d, markets)),
        ):
            best = min(fn(decode) for _ in range(5))  # best of 5: the machine may be shared
            rows.append(
                {
                    "lib": lib,
                    "mode": "decode+apply" if decode else "apply",
                    "deltas_per_s": deltas / best,
                    "levels_per_delta": levels / max(1, deltas // repeat),
                }
            )
    return rows


# ---------------------------------------------------------------- entry points


async def run(
    sim_rest_url: str,
    *,
    symbol: str = "BTCUSDT",
    concurrencies: tuple[int, ...] = (1, 16, 64),
    seconds: float = 1.5,
    rounds: int = 2,
    book_repeat: int = 300,
    overhead_samples: int = 300,
    ws_url: str | None = None,
) -> dict[str, Any]:
    """Run every measurement against the simulator at `sim_rest_url` (rate limits off, other process)."""
    url = sim_rest_url.rstrip("/")
    rest = await bench_rest(url, symbol, concurrencies, seconds, rounds)
    overhead = await bench_overhead(url, symbol, overhead_samples)
    if DUMP.exists():
        stream, source = book_stream_from_dump(), "real XRPUSDT dump (top 50 of orderbook.500)"
    else:
        ws = ws_url or url.replace("http", "ws", 1) + "/v5/public/linear"
        stream, source = await record_book_stream(ws, symbol), "recorded from the simulator"
    books = await bench_books(url, symbol, stream, book_repeat)
    return {
        "machine": machine_info(),
        "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        "symbol": symbol,
        "seconds": seconds,
        "rounds": rounds,
        "rest": rest,
        "overhead": overhead,
        "books": books,
        "book_stream": {"source": source, "messages": len(stream), "repeat": book_repeat},
        "checks": _checks(rest, books, overhead),
    }


def _find(rows: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return next((r for r in rows if all(r.get(k) == v for k, v in kw.items())), {})


def _checks(
    rest: list[dict[str, Any]], books: list[dict[str, Any]], overhead: list[dict[str, Any]]
) -> dict[str, Any]:
    """The figures the targets are about: CPU ratio to bare (best of concurrency 1 and 16), throughput
    against ccxt at concurrency 16, overhead p95, deltas per second."""
    out: dict[str, Any] = {}
    for ep in ENDPOINTS:
        ratios = [
            _find(rest, lib="asym", endpoint=ep, concurrency=c)["cpu_us_per_req"]
            / _find(rest, lib="bare", endpoint=ep, concurrency=c)["cpu_us_per_req"]
            for c in (1, 16)
            if _find(rest, lib="asym", endpoint=ep, concurrency=c)
        ]
        if ratios:
            out[f"cpu_vs_bare_{ep}"] = min(ratios)
        a16, c16 = (
            _find(rest, lib="asym", endpoint=ep, concurrency=16),
            _find(rest, lib="ccxt", endpoint=ep, concurrency=16),
        )
        if a16 and c16:
            out[f"rps_vs_ccxt_c16_{ep}"] = a16["rps"] / c16["rps"]
    out.update({f"overhead_p95_us_{o['endpoint']}": o["p95_us"] for o in overhead if o["lib"] == "asym"})
    out["deltas_per_s"] = _find(books, lib="asym", mode="apply").get("deltas_per_s", float("nan"))
    return out


def render(results: dict[str, Any]) -> str:
    """The results as a markdown section (asym.bench.common helpers)."""
    rest, bs = results["rest"], results["book_stream"]
    rows = []
    for r in rest:
        bare = _find(rest, lib="bare", endpoint=r["endpoint"], concurrency=r["concurrency"])
        ratio = r["cpu_us_per_req"] / bare["cpu_us_per_req"] if bare else float("nan")
        cells = [f"{r['rps']:.0f}", f"{r['cpu_us_per_req']:.0f}", f"{ratio:.2f}"]
        rows.append(
            [
                r["endpoint"],
                r["concurrency"],
                r["lib"],
                *cells,
                f"{r['lat_p50_ms']:.2f}",
                f"{r['lat_p95_ms']:.2f}",
            ]
        )
    parts = [
        f"### Bybit client ({results['machine']})",
        f"Simulator in another process, rate limits off; every client on the same event loop "
        f"({results.get('loop', 'asyncio')}; `ASYM_LOOP=asyncio` for asyncio's own); symbol "
        f"{results['symbol']}; each row the best of "
        f"{results['rounds']} interleaved {results['seconds']} s runs; CPU = this process's CPU time"
        " / requests.",
        markdown_table(
            ["endpoint", "conc", "client", "req/s", "CPU us/req", "CPU vs bare", "p50 ms", "p95 ms"], rows
        ),
        "Client-side overhead per request at concurrency 1: call time minus the HTTP exchange (send -> body "
        "read) timed inside each client's own HTTP layer (bare: json.loads alone).",
        markdown_table(
            ["endpoint", "client", "median us", "p95 us"],
            [
                [o["endpoint"], o["lib"], f"{o['median_us']:.0f}", f"{o['p95_us']:.0f}"]
                for o in results["overhead"]
            ],
        ),
        f"Order-book deltas per second on a 50-level book: {bs['source']}, {bs['messages']} messages x "
        f"{bs['repeat']} (apply: pre-decoded input in each library's own format; decode+apply: from raw"
        " JSON).",
        markdown_table(
            ["client", "mode", "deltas/s", "levels/delta"],
            [
                [b["lib"], b["mode"], f"{b['deltas_per_s']:,.0f}", f"{b['levels_per_delta']:.1f}"]
                for b in results["books"]
            ],
        ),
        "Targets: CPU/request <= 1.3x bare; req/s >= 2x ccxt at concurrency 16; overhead p95 < 1 ms; "
        ">= 100k deltas/s.",
        markdown_table(["check", "value"], [[k, f"{v:,.2f}"] for k, v in results["checks"].items()]),
    ]
    return "\n\n".join(parts) + "\n"


def start_simulator_process(symbols: int = 5) -> tuple[Any, dict[str, Any]]:
    """Start `asym sim serve --no-rate-limits` in a child process; returns (process, its first-line JSON)."""
    import subprocess
    import sys

    cmd = [
        sys.executable,
        "-m",
        "asym.cli.main",
        "sim",
        "serve",
        "--symbols",
        str(symbols),
        "--no-rate-limits",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout is not None else ""
    if not line:
        proc.kill()
        raise RuntimeError("simulator did not start")
    return proc, json.loads(line)


def main() -> None:
    """`python -m asym.bench.client_bench`: start a simulator process, run, print markdown."""
    proc, info = start_simulator_process()
    try:
        results = eventloop.run(run(info["rest_url"], ws_url=info["ws_public_url"]))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(render(results))


if __name__ == "__main__":
    main()


async def run_standalone(quick: bool = False) -> dict[str, Any]:
    """`asym bench client`: start `asym sim serve` in its own process (pinned to core 0 where possible),
    run every measurement from this process, stop the simulator."""
    from asym.bench.collect_bench import sim_process

    async with sim_process("--no-rate-limits", "--symbols", "10") as sim:
        return await run(
            sim.info["rest_url"],
            ws_url=sim.info["ws_public_url"],
            seconds=0.5 if quick else 1.5,
            rounds=1 if quick else 2,
            book_repeat=50 if quick else 300,
            overhead_samples=100 if quick else 300,
        )
