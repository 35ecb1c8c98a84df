"""`asym bench collect`: a full-universe collection cycle under Bybit's real IP limit, and the collector's
memory and CPU while streaming.

The simulator runs as a separate process (`asym sim serve`, pinned to its own core when `taskset` exists)
so that its work is not counted as the collector's. The floor of a cycle is the time Bybit's IP limit
(600 requests / 5 s) needs for the requests the cycle made: requests / 120 per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from asym.bench.common import markdown_table
from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient, ClientConfig, data_only_config
from asym.market.collector import Collector
from asym.market.config import CollectorConfig

IP_WINDOW_S = 5.0
BYBIT_IP_RATE = 600 / IP_WINDOW_S  # requests per second Bybit allows before banning an IP


@dataclass
class SimProcess:
    """A running `asym sim serve` subprocess."""

    proc: subprocess.Popen[bytes]
    info: dict[str, str]


@contextlib.asynccontextmanager
async def sim_process(*args: str, core: int | None = 0) -> AsyncIterator[SimProcess]:
    """Start `asym sim serve ARGS` (on `core` when taskset exists) and stop it with SIGTERM on exit."""
    cmd = [sys.executable, "-m", "asym.cli.main", "sim", "serve", "--port", "0", *args]
    if core is not None and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        cmd = ["taskset", "-c", str(core), *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        if not line:
            raise RuntimeError(f"simulator did not start: {' '.join(cmd)}")
        yield SimProcess(proc, json.loads(line))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _pin_self(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


def rss_mb() -> float:
    """Current resident set size of this process in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU time (user + system) of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _cycles(rest_url: str, creds: Credentials, n: int, config: ClientConfig) -> list[tuple[Any, float]]:
    """`n` cycles of a fresh client and collector: (result, seconds) each. Starts after one IP window of
    quiet, so that every measured cycle starts against a venue whose count holds nothing of the last."""
    await asyncio.sleep(IP_WINDOW_S + 0.5)
    out = []
    async with BybitClient(rest_url, creds, config) as client:
        collector = Collector(client, CollectorConfig())  # what `asym collect` runs
        try:
            for _ in range(n):
                t0 = time.perf_counter()
                result = await collector.collect_once()
                out.append((result, time.perf_counter() - t0))
        finally:
            await collector.close()
    return out


async def bench_cycle(symbols: int = 500, latency: str = "20-50") -> dict[str, Any]:
    """One full-universe cycle against the real IP limit with injected latency; floor and ratio.

    The simulator generates each symbol's history the first time it is asked (Bybit has it ready): the
    first collector's cycle is timed as "cold simulator". Then fresh clients and collectors (nothing
    cached) run the measured first cycle and the incremental one after it, as `asym collect` does (a
    data-only client), and a first cycle as a trading process does (10 % of the window kept for orders)."""
    _pin_self(1)
    async with sim_process("--symbols", str(symbols), "--faults", f"latency_ms={latency}") as sim:
        creds = Credentials(sim.info["api_key"], sim.info["api_secret"])
        url = sim.info["rest_url"]
        [(cold, cold_s)] = await _cycles(url, creds, 1, data_only_config())
        (result, wall), (second, wall2) = await _cycles(url, creds, 2, data_only_config())
        [(trading, trading_s)] = await _cycles(url, creds, 1, ClientConfig())
    floor = result.requests / BYBIT_IP_RATE
    return {
        "symbols": len(result.universe),
        "requests": result.requests,
        "seconds": wall,
        "floor_s": floor,
        "ratio": wall / floor if floor else float("nan"),
        "completeness": result.completeness.ratio,
        "failures": sum(result.failures.values()),
        "second_requests": second.requests,
        "second_seconds": wall2,
        "second_floor_s": second.requests / BYBIT_IP_RATE,
        "trading_requests": trading.requests,
        "trading_seconds": trading_s,
        "trading_floor_s": trading.requests / BYBIT_IP_RATE,
        "trading_failures": sum(trading.failures.values()),
        "cold_sim_seconds": cold_s,
        "cold_sim_requests": cold.requests,
        "latency_ms": latency,
    }


async def bench_streaming(symbols: int, seconds: float, speed: float, cycle_s: float) -> dict[str, Any]:
    """RSS and CPU of the collector streaming books, tickers and liquidations of `symbols` symbols."""
    _pin_self(1)
    async with sim_process("--symbols", str(symbols), "--speed", str(speed), "--no-rate-limits") as sim:
        creds = Credentials(sim.info["api_key"], sim.info["api_secret"])
        async with BybitClient(sim.info["rest_url"], creds) as client:
            collector = Collector(client, CollectorConfig(cycle_seconds=cycle_s))
            rss: list[float] = []
            cycles = 0
            try:
                await collector.collect_once()  # warm: subscriptions and history loaded
                cycles += 1
                c0, t0 = cpu_s(), time.perf_counter()
                next_cycle = t0 + cycle_s
                while (now := time.perf_counter()) - t0 < seconds:
                    if now >= next_cycle:
                        await collector.collect_once()
                        cycles += 1
                        next_cycle = now + cycle_s
                    await asyncio.sleep(1.0)
                    rss.append(rss_mb())
                cpu = cpu_s() - c0
                wall = time.perf_counter() - t0
            finally:
                await collector.close()
            msgs = sum(len(v) for v in collector.freshness.snapshot(0).values())
    return {
        "symbols": symbols,
        "speed": speed,
        "seconds": wall,
        "market_minutes": wall * speed / 60,
        "cycles": cycles,
        "rss_steady_mb": sorted(rss)[len(rss) // 2] if rss else float("nan"),
        "rss_max_mb": max(rss) if rss else float("nan"),
        "cpu_pct_of_core": 100 * cpu / wall,
        "streams_seen": msgs,
    }


def _phase(name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """Run one benchmark coroutine in this (child) process."""
    from asym import eventloop

    coro = bench_cycle(*args) if name == "cycle" else bench_streaming(*args)
    return dict(eventloop.run(coro))


def _isolated(name: str, *args: Any) -> dict[str, Any]:
    """One phase in a fresh process: RSS must not carry what an earlier phase allocated."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_phase, name, args).result()


def run(quick: bool = False) -> dict[str, Any]:
    """Every collection benchmark, each in its own process (quick: smaller, for a smoke run)."""
    from asym.bench.common import machine_info

    return {
        "machine": machine_info(),
        "cycle": _isolated("cycle", 100 if quick else 500),
        # An hour of market time at 20x (the simulator cannot stream 500 symbols much faster on one
        # core), a cycle every 10 market minutes.
        "memory": _isolated("streaming", 50 if quick else 500, 20 if quick else 180, 20.0, 30.0),
        "cpu": _isolated("streaming", 20 if quick else 100, 15 if quick else 60, 1.0, 1e9),
    }


def render(r: dict[str, Any]) -> str:
    """Markdown for docs/benchmarks.md."""
    c, m, u = r["cycle"], r["memory"], r["cpu"]
    rows = [
        [
            f"first cycle, {c['symbols']} symbols, IP limit on, {c['latency_ms']} ms latency "
            "(`asym collect`: data-only client)",
            "≤ 1.3x floor (spec: < 5 min)",
            f"{c['seconds']:.1f} s ({c['requests']} requests)",
            f"floor {c['floor_s']:.1f} s",
            f"{c['ratio']:.2f}x",
        ],
        [
            "next cycle (incremental)",
            "≤ 1.3x floor",
            f"{c['second_seconds']:.1f} s ({c['second_requests']} requests)",
            f"floor {c['second_floor_s']:.1f} s",
            f"{c['second_seconds'] / c['second_floor_s']:.2f}x",
        ],
    ]
    if "trading_seconds" in c:
        rows.append(
            [
                "first cycle in a trading process (10 % of the IP window kept for orders)",
                "-",
                f"{c['trading_seconds']:.1f} s ({c['trading_requests']} requests)",
                f"floor {c['trading_floor_s']:.1f} s",
                f"{c['trading_seconds'] / c['trading_floor_s']:.2f}x",
            ]
        )
    rows += [
        [
            "first cycle against a cold simulator (it generates each symbol's history on first request)",
            "-",
            f"{c['cold_sim_seconds']:.1f} s ({c['cold_sim_requests']} requests)",
            "-",
            "-",
        ],
        [
            f"RSS, {m['symbols']} symbols streaming, {m['market_minutes']:.0f} market minutes",
            "< 256 MB (spec: < 512 MB)",
            f"{m['rss_steady_mb']:.0f} MB median, {m['rss_max_mb']:.0f} MB max",
            "-",
            "-",
        ],
        [
            f"CPU, {u['symbols']} symbols streaming at real push rates",
            "< 25 % of a core (spec: < 50 %)",
            f"{u['cpu_pct_of_core']:.1f} %",
            "-",
            "-",
        ],
    ]
    text = markdown_table(["collection", "target", "asym", "reference", "ratio"], rows)
    return text + (
        f"\n\nCompleteness of the first cycle: {c['completeness']:.1%}; failed requests: {c['failures']}"
        f" (in the trading process's: {c.get('trading_failures', '-')}). "
        "The floor is the cycle's requests at Bybit's IP limit (600 per 5 s). asym's client paces itself "
        "at 550 per 5 s to stay clear of the ban, counting each request from when it is sent until 5 s "
        "after its answer (the venue counts arrivals, which it cannot see). A process that trades also "
        "keeps 10 % of that window for order placement and cancellation, so its data requests get 495 "
        "per window; `asym collect`, `record` and `demo` never trade and give data the whole window. "
        "The measured first cycles are fresh clients and collectors (nothing cached), each started one IP "
        "window after the previous one, against a simulator that already generated its history; each "
        "figure comes from its own process, the simulator from another one pinned to core 0."
    )
