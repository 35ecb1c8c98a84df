"""`asym bench sim`: what the simulator serves on ONE core, so that it never limits measurements of a client.

Layout: the simulator runs in its own process pinned to core 0 (`taskset`; the same `SimServer` as
`asym sim serve`, plus a stats channel on its stdin/stdout), every load generator on core 1
(asym.sim.server.loadtest).

* REST: requests per second at 64 concurrent connections for tickers and the 50-level order book of one
  symbol after another (a 100-symbol market, rate limits off). Load: `wrk` (one thread) when installed,
  otherwise 4 Python aiohttp processes (the results name which one was used).
* WebSocket: messages per second published, counted by the server (`hub.published`: messages x
  subscribers, each message encoded and framed once), while reader processes with a minimal raw WebSocket
  client count the frames they receive without decoding them (they must keep up).
* Collection: a 500-symbol market from a cold start serving the first collection cycle of every symbol
  (kline 60 x 201, kline 5 x 289, orderbook 25, funding/history 100, open-interest 1h x 48, account-ratio
  1h x 48, after instruments and all tickers) at ~110 requests/s (the client paces itself as the
  collector does; the server's limiter is off so that a stall shows as latency, not as a ban), while one
  connection streams orderbook.50 + tickers + allLiquidation of all 500 symbols at speed 1.
* Streaming: a 100-symbol market streaming the same three topics at Bybit's push rates to one connection.

Server CPU share = the server's process CPU time / wall time over the measured window (100 % = its core).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from typing import Any

from asym.bench.common import machine_info, markdown_table, percentile
from asym.sim.server.loadtest import (
    LOAD_CORE,
    aiohttp_load,
    cpu_share,
    loadavg,
    per_cpu_second,
    pin_self,
    readers,
    report,
    server_process,
    subscribed,
    wait_warm,
    wrk,
)

REST_TARGET = 3_000.0
WS_TARGET = 50_000.0
STREAM_TOPICS = ("orderbook.50.{s}", "tickers.{s}", "allLiquidation.{s}")


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


def _rest_paths(kind: str, symbols: list[str]) -> list[str]:
    if kind == "tickers":
        return [f"/v5/market/tickers?category=linear&symbol={s}" for s in symbols]
    if kind == "orderbook":
        return [f"/v5/market/orderbook?category=linear&symbol={s}&limit=50" for s in symbols]
    return [f"/v5/market/kline?category=linear&symbol={s}&interval=1&limit=200" for s in symbols]


async def bench_rest(symbols: int, seconds: float) -> dict[str, Any]:
    """Requests/s for tickers, order book (50) and klines (1m x 200) at 64 connections, one symbol after
    another, with the server's CPU share."""
    use_wrk = shutil.which("wrk") is not None
    out: dict[str, Any] = {"symbols": symbols, "connections": 64}
    out["load_generator"] = "wrk (1 thread, 64 connections)" if use_wrk else "4 aiohttp processes x 16"
    async with server_process(symbols=symbols, rate_limits=False) as (server, info):
        out["warm_up_s"] = await wait_warm(server)
        names = await _symbols(info["rest_url"])
        for kind in ("tickers", "orderbook", "klines"):
            paths = _rest_paths(kind, names)
            a = await server.ask("stats")
            if use_wrk:
                r = await wrk(info["rest_url"], paths, seconds, 64)
            else:
                r = await aiohttp_load(info["rest_url"], paths, seconds, 64)
            b = await server.ask("stats")
            r["server_cpu_pct"] = cpu_share(a, b)
            r["served"] = b["requests"] - a["requests"]
            r["per_cpu_s"] = per_cpu_second(r["served"], a, b)
            out[kind] = r
    return out


# ----------------------------------------------------------------------------- WebSocket load


async def bench_ws(symbols: int, conns: int, seconds: float) -> dict[str, Any]:
    """Messages/s published by the server (messages x subscribers) with `conns` connections each
    subscribed to books, tickers and liquidations of every symbol, and what the readers received."""
    async with server_process(symbols=symbols, rate_limits=False) as (server, info):
        warm = await wait_warm(server)
        names = await _symbols(info["rest_url"])
        async with readers(info["ws_public_url"], _topics(names), conns, min(conns, 3)) as kids:
            sub_s = await subscribed(kids)
            await asyncio.sleep(2.0)
            a, ra = await server.ask("stats"), await report(kids)
            await asyncio.sleep(seconds)
            b, rb = await server.ask("stats"), await report(kids)
    wall = b["wall_s"] - a["wall_s"]
    kinds = {k: (rb["kinds"].get(k, 0) - ra["kinds"].get(k, 0)) / wall / conns for k in rb["kinds"]}
    return {
        "symbols": symbols,
        "connections": conns,
        "warm_up_s": warm,
        "subscribe_s": sub_s,
        "published_per_s": (b["published"] - a["published"]) / wall,
        "received_per_s": (rb["frames"] - ra["frames"]) / wall,
        "mb_per_s": (rb["bytes"] - ra["bytes"]) / wall / 1e6,
        "per_connection": {
            "books": kinds.get("o", 0.0),
            "tickers": kinds.get("t", 0.0),
            "liquidations": kinds.get("a", 0.0),
        },
        "server_cpu_pct": cpu_share(a, b),
        "published_per_cpu_s": per_cpu_second(b["published"] - a["published"], a, b),
        "load_generator": f"{min(conns, 3)} raw-socket reader processes (frames counted, not decoded)",
    }


async def bench_stream(symbols: int, seconds: float) -> dict[str, Any]:
    """Server CPU share while streaming books, tickers and liquidations of `symbols` to one connection."""
    async with server_process(symbols=symbols) as (server, info):
        warm = await wait_warm(server)
        names = await _symbols(info["rest_url"])
        async with readers(info["ws_public_url"], _topics(names), 1, 1) as kids:
            await subscribed(kids)
            await asyncio.sleep(2.0)
            a, ra = await server.ask("stats"), await report(kids)
            await asyncio.sleep(seconds)
            b, rb = await server.ask("stats"), await report(kids)
    wall = b["wall_s"] - a["wall_s"]
    kinds = {k: (rb["kinds"].get(k, 0) - ra["kinds"].get(k, 0)) / wall for k in rb["kinds"]}
    return {
        "symbols": symbols,
        "warm_up_s": warm,
        "received_per_s": (rb["frames"] - ra["frames"]) / wall,
        "books_per_s": kinds.get("o", 0.0),
        "tickers_per_s": kinds.get("t", 0.0),
        "liquidations_per_s": kinds.get("a", 0.0),
        "server_cpu_pct": cpu_share(a, b),
        "per_cpu_s": per_cpu_second(rb["frames"] - ra["frames"], a, b),
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


def _next_cycle_paths(symbols: list[str]) -> list[str]:
    """The collector's incremental cycle: only what is new since the first one."""
    out = ["/v5/market/tickers?category=linear"]
    for s in symbols:
        q = f"category=linear&symbol={s}"
        out += [
            f"/v5/market/kline?{q}&interval=60&limit=2",
            f"/v5/market/kline?{q}&interval=5&limit=3",
            f"/v5/market/orderbook?{q}&limit=25",
            f"/v5/market/open-interest?{q}&intervalTime=1h&limit=2",
            f"/v5/market/account-ratio?{q}&period=1h&limit=2",
        ]
    return out


async def _paced(url: str, paths: list[str], rate: float, conns: int) -> dict[str, Any]:
    """GET every path, starting them at `rate` per second with at most `conns` in flight."""
    import aiohttp

    lat: list[float] = []
    by_kind: dict[str, list[float]] = {}
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
                took = time.perf_counter() - t
                lat.append(took)
                by_kind.setdefault(_kind(path), []).append(took)

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
        "by_endpoint": {
            k: {"p50_ms": 1000 * percentile(v, 50), "max_ms": 1000 * max(v), "n": len(v)}
            for k, v in sorted(by_kind.items())
        },
    }


def _kind(path: str) -> str:
    name = path.split("?")[0].removeprefix("/v5/market/")
    if name == "kline":
        interval = re.search(r"interval=(\w+)", path)
        return f"kline {interval.group(1) if interval else ''}"
    if name == "tickers" and "symbol=" not in path:
        return "tickers (all)"
    return name


async def bench_collect(symbols: int, rate: float, after_s: float) -> dict[str, Any]:
    """A first collection cycle from a cold start while streaming every symbol, then streaming alone.
    The client paces itself (as the collector does, under Bybit's IP limit); the server's limiter is off
    so that a stall shows as latency, not as a 10-minute ban of the whole benchmark."""
    async with server_process(symbols=symbols, rate_limits=False) as (server, info):
        names = await _symbols(info["rest_url"])
        async with readers(info["ws_public_url"], _topics(names), 1, 1) as kids:
            a = await server.ask("stats")
            subscribing = asyncio.create_task(subscribed(kids))
            cycle = await _paced(info["rest_url"], _cycle_paths(names), rate, 64)
            b = await server.ask("stats")
            sub_s = await subscribing
            c, rc = await server.ask("stats"), await report(kids)
            await asyncio.sleep(after_s)
            d, rd = await server.ask("stats"), await report(kids)
            again = await _paced(info["rest_url"], _next_cycle_paths(names), rate, 64)
            e, re_ = await server.ask("stats"), await report(kids)
    wall = d["wall_s"] - c["wall_s"]
    cycle.update(
        symbols=symbols,
        rate=rate,
        server_cpu_pct=cpu_share(a, b),
        server_cpu_s=b["cpu_s"] - a["cpu_s"],
        subscribe_s=sub_s,
        rss_mb=d["rss_mb"],
        stream_cpu_pct=cpu_share(c, d),
        next_cycle={k: v for k, v in again.items() if k != "by_endpoint"},
        next_cycle_cpu_pct=cpu_share(d, e),
        next_cycle_stream_msgs_per_s=(re_["frames"] - rd["frames"]) / (e["wall_s"] - d["wall_s"]),
        stream_msgs_per_s=(rd["frames"] - rc["frames"]) / wall,
    )
    return cycle


# ----------------------------------------------------------------------------- entry points


async def run(quick: bool = False) -> dict[str, Any]:
    """Every simulator benchmark (quick: smaller and shorter, a smoke run)."""
    pin_self(LOAD_CORE)
    load_before = loadavg()
    out: dict[str, Any] = {
        "rest": await bench_rest(100, 5 if quick else 10),
        "ws": await bench_ws(100 if quick else 500, 8, 5 if quick else 15),
        "stream": await bench_stream(100, 10 if quick else 20),
        "collect": await bench_collect(100 if quick else 500, 110.0, 10 if quick else 20),
    }
    out["machine_load"] = f"{load_before} before, {loadavg()} after (1/5/15-min load averages, 2 cores)"
    out["machine"] = machine_info()
    # The figures the summary of docs/benchmarks.md reads: what was served (wall clock), not the capacity.
    out["rest_rps"] = min(out["rest"]["tickers"]["rps"], out["rest"]["orderbook"]["rps"])
    out["ws_msgs_per_s"] = out["ws"]["published_per_s"]
    return out


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
                f"{x['rps']:,.0f} req/s ({x['per_cpu_s']:,.0f} per server CPU-second; p50 "
                f"{x['p50_ms']:.1f} ms, p99 {x['p99_ms']:.1f} ms, {x['non_2xx']} errors)",
                rest["load_generator"],
                f"{x['server_cpu_pct']:.0f} %",
            ]
        )
    pc = ws["per_connection"]
    rows.append(
        [
            f"WS published, {ws['symbols']} symbols x (orderbook.50 + tickers + allLiquidation), "
            f"{ws['connections']} subscribers of every topic",
            f"≥ {WS_TARGET:,.0f} msg/s",
            f"{ws['published_per_s']:,.0f} msg/s ({ws['published_per_cpu_s']:,.0f} per server CPU-second; "
            f"received {ws['received_per_s']:,.0f}; per subscriber {pc['books']:,.0f} books + "
            f"{pc['tickers']:,.0f} tickers + {pc['liquidations']:,.1f} liq.; {ws['mb_per_s']:.1f} MB/s)",
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
            f"max {col['max_ms']:.0f} ms (all tickers, cold: "
            f"{col['by_endpoint'].get('tickers (all)', {}).get('max_ms', float('nan')):.0f} ms), "
            f"{col['errors']} errors; server RSS {col['rss_mb']:.0f} MB",
            "aiohttp (paced) + 1 raw-socket reader",
            f"{col['server_cpu_pct']:.0f} % ({col['server_cpu_s']:.1f} CPU-s; then streaming alone: "
            f"{col['stream_cpu_pct']:.0f} %, {col['stream_msgs_per_s']:,.0f} msg/s)",
        ]
    )
    nxt = col["next_cycle"]
    rows.append(
        [
            f"next (incremental) cycle, {col['symbols']} symbols, {nxt['requests']} requests at "
            f"{col['rate']:.0f}/s, streaming all",
            "every answer < 1 s, core not saturated",
            f"{nxt['seconds']:.1f} s, p50 {nxt['p50_ms']:.0f} ms, p99 {nxt['p99_ms']:.0f} ms, "
            f"max {nxt['max_ms']:.0f} ms, {nxt['errors']} errors",
            "aiohttp (paced) + 1 raw-socket reader",
            f"{col['next_cycle_cpu_pct']:.0f} % (streaming {col['next_cycle_stream_msgs_per_s']:,.0f} msg/s)",
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
        "\n\nThe simulator runs on core 0 (taskset), every load generator on core 1. Published WS messages "
        "are counted by the server (each message encoded and framed once, written to every subscriber); the "
        "readers count the frames they receive without decoding them. Server CPU is the server process's "
        "CPU time over wall time (100 % = its core); on a shared machine the core is not the server's "
        "alone, so 'per server CPU-second' is what a free core would serve. Machine load: "
        f"{r.get('machine_load', '?')}."
    )
