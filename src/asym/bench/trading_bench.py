"""Benchmark of the trading shell (`asym.trading.session`, `.executor`, `.monitoring`).

1. Internal latency from a validated signal to the order request on the wire (target p99 < 10 ms): the
   session gets one validated signal per cycle and decides (risk, sizing, plan), makes the intent durable
   (the fsynced journal of a file store), sets the leverage when the symbol's is not set yet, and sends.
   "On the wire" is the moment aiohttp writes the order/create body to the socket (a trace hook reading
   the orderLinkId out of the chunk); "validated" is when `on_cycle` receives the signal. The simulator
   runs in another process (`asym sim serve`), so its work is not on this event loop. Reported for entries
   on a symbol whose leverage is already set (the steady state) and for first entries (one more REST
   round trip, set-leverage, before the order).
2. Position monitoring cost for 50 open positions: CPU per mark update of the books (pure), and the CPU of
   this process per second while the live follower (private streams, 50 ticker streams, ticks) runs
   against the simulator with 50 open positions.

Run: python -m asym.bench.trading_bench
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp

from asym import eventloop
from asym.bench.common import machine_info, markdown_table, percentile
from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient
from asym.domain import ExecType, Execution, Side
from asym.logging import configure_logging
from asym.signals.schema import Action, EntryType, Signal, TakeProfit, Usage
from asym.store import Store, StoreConfig
from asym.trading.config import RiskConfig
from asym.trading.monitoring import Books, FollowConfig, PositionMonitor
from asym.trading.persist import SessionStart
from asym.trading.session import SessionConfig, TradingSession

SYMBOLS = 60
POSITIONS = 50
LATENCY_ROUNDS = 2
"""Passes over the symbols: the first sets each symbol's leverage, the later ones find it set."""
FOLLOW_S = 10.0
TARGET_P99_MS = 10.0
_LINK = re.compile(rb'"orderLinkId":\s*"([^"]+)"')


async def _start_sim(symbols: int) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "asym.cli.main",
        "sim",
        "serve",
        "--port",
        "0",
        "--symbols",
        str(symbols),
        "--no-rate-limits",
        "--seed",
        "9",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    return proc, json.loads(line)


def _signal(symbol: str, side: Side, mark: Decimal, data_ts: int, action: Action | None = None) -> Signal:
    sign = 1 if side is Side.BUY else -1
    act = action or (Action.LONG if side is Side.BUY else Action.SHORT)
    trade = act in (Action.LONG, Action.SHORT)
    return Signal(
        symbol=symbol,
        action=act,
        entry_type=EntryType.MARKET if trade else None,
        entry_price=mark if trade else None,
        mark_price=mark,
        stop_loss=mark * (1 - sign * Decimal("0.01")) if trade else None,
        take_profits=(
            TakeProfit(
                price=mark * (1 + sign * Decimal("0.05")), fraction=Decimal(1), reward_risk=Decimal(3)
            ),
        )
        if trade
        else (),
        confidence=0.7,
        leverage=Decimal(3) if trade else None,
        horizon_hours=24.0 if trade else None,
        reward_risk=Decimal(4) if trade else None,
        stop_atr=1.5,
        rationale="bench",
        model_id="bench",
        prompt_version="b1",
        latency_ms=0.0,
        usage=Usage(),
        data_timestamp=data_ts,
    )


def _enhanced(symbol: str, ts: int, mark: Decimal) -> Any:
    from asym.analytics.types import EnhancedData

    return EnhancedData(
        symbol=symbol,
        timestamp=ts,
        last_price=mark,
        mark_price=mark,
        index_price=mark,
        bid_price=None,
        ask_price=None,
        volume_24h=None,
        turnover_24h=None,
        funding_rate=None,
        next_funding_time=None,
        open_interest=None,
        liquidity_score=0.8,
        liquidation_risk=None,
        funding_sentiment=None,
        oi_sentiment=None,
        market_risk_score=0.3,
        spread_pct=0.01,
        nearby_liquidations=None,
        order_book_depth=25,
        technical_indicators=None,
        quality_flags=(),
    )


def _trace(on_wire: dict[str, float]) -> aiohttp.TraceConfig:
    tc = aiohttp.TraceConfig()

    async def chunk_sent(
        session: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestChunkSentParams
    ) -> None:
        if params.url.path.endswith("/order/create"):
            m = _LINK.search(params.chunk)
            if m:
                on_wire.setdefault(m.group(1).decode(), time.perf_counter())

    tc.on_request_chunk_sent.append(chunk_sent)
    return tc


def _bench_config() -> SessionConfig:
    risk = RiskConfig(
        risk_per_trade=Decimal("0.0005"),
        max_concurrent_positions=SYMBOLS,
        max_total_exposure=Decimal(10),
        max_correlated_exposure=Decimal(10),
    )
    return SessionConfig(risk=risk)


async def _latency_and_follow(info: dict[str, Any], db: Path) -> dict[str, Any]:
    on_wire: dict[str, float] = {}
    http = aiohttp.ClientSession(trace_configs=[_trace(on_wire)])
    client = BybitClient(info["rest_url"], Credentials(info["api_key"], info["api_secret"]))
    await client.start(http)
    store = await Store.open(StoreConfig(path=str(db)))
    clock_offset = 0

    def clock() -> int:
        return int(time.time() * 1000) + clock_offset

    session = TradingSession(client, clock, _bench_config(), store=store, venue_name="bench")
    await session.start()
    symbols = sorted(session.instruments)[:SYMBOLS]
    first: list[float] = []
    steady: list[float] = []
    for rnd in range(LATENCY_ROUNDS):
        for i, sym in enumerate(symbols):
            tickers = await client.get_tickers(sym)
            mark = tickers[0].mark_price or tickers[0].last_price
            now = clock()
            data = [_enhanced(sym, now, mark)]
            if session.books.held(sym) != 0:  # close the previous round's position first (not measured)
                await session.on_cycle(data, [_signal(sym, Side.BUY, mark, now, Action.CLOSE)], now)
                await session.reconcile(clock())
            side = Side.BUY if (i + rnd) % 2 == 0 else Side.SELL
            t0 = time.perf_counter()
            report = await session.on_cycle(data, [_signal(sym, side, mark, now + rnd)], now)
            for link in report.entries:
                if link in on_wire:
                    (first if rnd == 0 else steady).append((on_wire[link] - t0) * 1000)
            await session.reconcile(clock())  # books the fill (no stream follower yet): not measured
    await session.reconcile(clock())
    # follow POSITIONS open positions live
    for sym in symbols[POSITIONS:]:
        if session.books.held(sym) != 0:
            await session.on_cycle([], [_signal(sym, Side.BUY, Decimal(1), clock(), Action.CLOSE)], clock())
    await session.reconcile(clock())
    open_positions = len(session.portfolio.positions())
    monitor = PositionMonitor(client, session, FollowConfig(tick_interval_s=0.25, reconcile_interval_s=3600))
    await monitor.start()
    await asyncio.sleep(2.0)  # ticker streams subscribed and flowing
    cpu0, wall0, marks0, events0 = time.process_time(), time.monotonic(), monitor.mark_updates, monitor.events
    await asyncio.sleep(FOLLOW_S)
    cpu1, wall1 = time.process_time(), time.monotonic()
    marks, events = monitor.mark_updates - marks0, monitor.events - events0
    await monitor.stop()
    await session.close()
    await store.close()
    await client.close()
    await http.close()
    return {
        "first_ms": first,
        "steady_ms": steady,
        "follow_positions": open_positions,
        "follow_wall_s": wall1 - wall0,
        "follow_cpu_s": cpu1 - cpu0,
        "follow_mark_updates": marks,
        "follow_private_events": events,
    }


def _books_mark_cost(positions: int = POSITIONS, updates: int = 50_000) -> float:
    """Microseconds of CPU per mark update with `positions` open positions (the books alone)."""
    books = Books()
    books.open(SessionStart(ts=0, venue="bench", balance=Decimal(1_000_000)))
    syms = [f"S{i:02d}USDT" for i in range(positions)]
    for i, s in enumerate(syms):
        books.book(
            Execution(
                exec_id=f"x{i}",
                order_id=f"o{i}",
                order_link_id="",
                symbol=s,
                side=Side.BUY if i % 2 else Side.SELL,
                price=Decimal("100.5"),
                qty=Decimal(10),
                value=Decimal(1005),
                fee=Decimal("0.55"),
                fee_rate=Decimal("0.00055"),
                is_maker=False,
                exec_type=ExecType.TRADE,
                ts=1,
            )
        )
    prices = [Decimal(100) + Decimal(k % 97) / 100 for k in range(1000)]
    t0 = time.process_time()
    for k in range(updates):
        books.mark(syms[k % positions], prices[k % 1000], 2 + k)
    return (time.process_time() - t0) / updates * 1e6


async def run() -> dict[str, Any]:
    """Run both measurements; a dict for `render`."""
    configure_logging("WARNING")  # as `asym run` does: no info lines on the hot path
    proc, info = await _start_sim(SYMBOLS + 2)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            live = await _latency_and_follow(info, Path(tmp) / "bench.duckdb")
    finally:
        proc.terminate()
        await proc.wait()
    mark_us = _books_mark_cost()
    steady, first = live["steady_ms"], live["first_ms"]
    per_s = live["follow_cpu_s"] / live["follow_wall_s"]
    marks_per_s = live["follow_mark_updates"] / live["follow_wall_s"]
    return {
        "machine": machine_info(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "steady_n": len(steady),
        "steady_p50_ms": percentile(steady, 50),
        "steady_p99_ms": percentile(steady, 99),
        "first_n": len(first),
        "first_p50_ms": percentile(first, 50),
        "first_p99_ms": percentile(first, 99),
        "target_p99_ms": TARGET_P99_MS,
        "books_mark_us": mark_us,
        "follow_positions": live["follow_positions"],
        "follow_cpu_share": per_s,
        "follow_marks_per_s": marks_per_s,
        "follow_cpu_ms_per_mark": per_s / marks_per_s * 1000 if marks_per_s else float("nan"),
        "follow_private_events": live["follow_private_events"],
    }


def render(results: dict[str, Any]) -> str:
    """Markdown section for docs/benchmarks.md."""
    r = results
    lat = markdown_table(
        ["signal validated -> order/create on the wire", "n", "p50", "p99", "target p99", "met"],
        [
            [
                "entry, symbol leverage already set (steady state)",
                r["steady_n"],
                f"{r['steady_p50_ms']:.2f} ms",
                f"{r['steady_p99_ms']:.2f} ms",
                f"< {r['target_p99_ms']:g} ms",
                "yes" if r["steady_p99_ms"] < r["target_p99_ms"] else "no",
            ],
            [
                "first entry on a symbol (set-leverage round trip first)",
                r["first_n"],
                f"{r['first_p50_ms']:.2f} ms",
                f"{r['first_p99_ms']:.2f} ms",
                "",
                "",
            ],
        ],
    )
    mon = markdown_table(
        ["position monitoring, 50 open positions", "value"],
        [
            ["books: CPU per mark update (pure)", f"{r['books_mark_us']:.1f} µs"],
            [
                f"live follower: process CPU while following {r['follow_positions']} positions",
                f"{r['follow_cpu_share']:.1%} of one core",
            ],
            ["live follower: mark updates per second", f"{r['follow_marks_per_s']:.0f}"],
            [
                "live follower: process CPU per mark update (WS decode included)",
                f"{r['follow_cpu_ms_per_mark']:.3f} ms",
            ],
        ],
    )
    return (
        "## Trading shell (`asym.trading.session`)\n\n"
        f"{r['machine']}; load average {r['load_average_1m']} while measuring\n\n"
        f"{lat}\n\n{mon}\n"
    )


def main() -> None:
    """Run and print the markdown."""
    print(render(eventloop.run(run())))


if __name__ == "__main__":
    main()
