"""Benchmark of the backtester (`asym.backtest`): speed of the code that trades on history.

1. **Year, 1h, 10 symbols, rules** (target < 20 s): the shared data's Bybit BTC/ETH/SOL/DOGE/HYPE (one
   year of 1h candles and funding) plus Binance XRP/BNB/ADA/LINK/AVAX 1h (about six months, replayed once
   before their start, rescaled to join the recording, so every symbol covers the year).
2. **30 days of 1m data, 4 symbols** (target < 60 s): Bybit linear 1m BTC/ETH/SOL/BNB, decisions every
   15 minutes, the venue moving along every 1m candle.
3. **Sweep throughput**: backtests per minute of an 8-point grid (2 months, 3 symbols, 1h), one process
   vs a process pool (data and enhanced data prepared once and excluded).

Each run reports its phases: loading (the project's loaders), enhanced data (compute_enhanced per symbol
and step, serial and in parallel processes), and the trading loop (signals -> TradingSession -> CoreVenue).

Run: python -m asym.bench.backtest_bench [--quick]
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from asym import eventloop
from asym.bench.common import machine_info, markdown_table

YEAR_TARGET_S = 20.0
MINUTE_TARGET_S = 60.0
DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
BYBIT_YEAR = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT", "HYPEUSDT"]
BINANCE_HALF = ["XRPUSDT", "BNBUSDT", "ADAUSDT", "LINKUSDT", "AVAXUSDT"]
MINUTE_SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"]
HOUR = 3_600_000
DAY = 86_400_000


def _replayed(data: Any, start_ms: int) -> Any:
    """The series extended back to `start_ms` by replaying its own bars: copy k sits k series-lengths
    earlier, its prices scaled by s_k = s_(k-1) x first open / last close, so each copy's last close is the
    next segment's first open."""
    from asym.backtest.data import symbol_data
    from asym.domain import Candle

    real = list(data.candles)
    step = data.interval.ms
    n = len(real)
    ratio = real[0].open / real[-1].close
    before: list[Any] = []
    scale = Decimal(1)
    k = 1
    while real[0].start - (k - 1) * n * step > start_ms:
        scale *= ratio
        copy = []
        for c in real:
            t = c.start - k * n * step
            if t < start_ms:
                continue
            q = Decimal("0.0001") if c.close < 10 else Decimal("0.01")
            o, h, lo, cl = ((x * scale).quantize(q) for x in (c.open, c.high, c.low, c.close))
            copy.append(
                Candle(
                    symbol=c.symbol,
                    interval=c.interval,
                    start=t,
                    open=o,
                    high=max(h, o, cl),
                    low=min(lo, o, cl),
                    close=cl,
                    volume=c.volume,
                    turnover=c.turnover * scale,
                )
            )
        before = copy + before
        k += 1
    return symbol_data(data.symbol, before + real, data.funding, data.source + " (replayed before its start)")


def _year_data() -> Any:
    from asym.backtest.data import MarketData, load_files

    bybit = load_files(DATA / "bybit" / "multi-venue-1h-funding", BYBIT_YEAR)
    start = bybit.first_ms
    symbols = dict(bybit.symbols)
    folder = DATA / "binance" / "um-10-symbols" / "data"
    for sym in BINANCE_HALF:
        one = load_files(folder / "1h" / f"{sym}.csv", [sym], funding=folder / "funding" / f"{sym}.csv")
        symbols[sym] = _replayed(one[sym], start)
    return MarketData(symbols)


def _quiet() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


async def _timed_run(cfg: Any, data: Any, workers: int, cache: Path | None = None) -> dict[str, Any]:
    from asym.backtest.inputs import step_times
    from asym.backtest.precompute import compute_all
    from asym.backtest.runner import _analytics, run_backtest

    steps = step_times(cfg.start_ms, cfg.end_ms, cfg.step_ms)
    configs, _ = _analytics(data, cfg.analytics_config())

    async def enhanced() -> Any:
        return await asyncio.to_thread(
            compute_all, data, steps, cfg.start_ms, configs, seed=cfg.seed, workers=workers, cache_dir=cache
        )

    t0 = time.perf_counter()
    first = await enhanced()
    t1 = time.perf_counter()
    result = await run_backtest(cfg, data=data, enhanced=first)
    t2 = time.perf_counter()
    warm = None
    if cache is not None:  # the same run again, its enhanced data from the cache (a re-run, a sweep point)
        await run_backtest(cfg, data=data, enhanced=await enhanced())
        warm = round(time.perf_counter() - t2, 2)
    return {
        "warm_s": warm,
        "enhanced_s": round(t1 - t0, 2),
        "trading_s": round(t2 - t1, 2),
        "symbol_steps": len(steps) * len(data.names),
        "steps": len(steps),
        "trades": len(result.trades),
        "engine_instants": int(result.timings.get("instants", 0)),
        "pnl": str(result.summary.pnl.quantize(Decimal("0.01"))),
    }


def _bench_year(quick: bool) -> dict[str, Any]:
    from asym.backtest.config import BacktestConfig
    from asym.backtest.data import MarketData, trim

    t0 = time.perf_counter()
    data = _year_data()
    load_s = time.perf_counter() - t0
    start = data.first_ms + 10 * DAY
    start -= start % HOUR
    end = min(s.end_ms for s in data.symbols.values()) - HOUR
    if quick:
        end = start + 30 * DAY
        data = MarketData(dict(trim(data, start - 10 * DAY, end).symbols))
    cfg = BacktestConfig(data=Path("bench"), symbols=tuple(data.names), start_ms=start, end_ms=end)
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="asym-bench-") as tmp:
        out = eventloop.run(_timed_run(cfg, data, cpus, Path(tmp)))
    out["load_s"] = round(load_s, 2)
    out["workers"] = cpus
    out["total_s"] = round(load_s + out["enhanced_s"] + out["trading_s"], 2)
    out["days"] = round((end - start) / DAY, 1)
    return out


def _bench_minutes(quick: bool) -> dict[str, Any]:
    from asym.backtest.config import BacktestConfig
    from asym.backtest.data import load_files, trim

    t0 = time.perf_counter()
    data = load_files(DATA / "bybit" / "linear-1m", MINUTE_SYMBOLS)
    load_s = time.perf_counter() - t0
    start = data.first_ms + 2 * DAY
    start -= start % HOUR
    end = min(s.end_ms for s in data.symbols.values()) - HOUR
    if quick:
        end = start + 5 * DAY
    data = trim(data, start - 2 * DAY, end)
    # 2 days of warm-up: the 1h indicators see 48 bars (1m data starts 30 days before its end)
    cfg = BacktestConfig(
        data=Path("bench"),
        symbols=tuple(data.names),
        start_ms=start,
        end_ms=end,
        interval="15",
        warmup_days=2,
    )
    cpus = os.cpu_count() or 1
    out = eventloop.run(_timed_run(cfg, data, cpus))
    out["load_s"] = round(load_s, 2)
    out["total_s"] = round(load_s + out["enhanced_s"] + out["trading_s"], 2)
    out["days"] = round((end - start) / DAY, 1)
    out["candles"] = sum(len(s.candles) for s in data.symbols.values())
    return out


def _bench_sweep(quick: bool) -> dict[str, Any]:
    from asym.backtest.config import BacktestConfig
    from asym.backtest.data import MarketData, load_files, parse_time, trim
    from asym.backtest.inputs import step_times
    from asym.backtest.precompute import compute_all
    from asym.backtest.runner import _analytics
    from asym.backtest.sweep import parse_grid, run_sweep

    data = load_files(DATA / "bybit" / "multi-venue-1h-funding", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    start = parse_time("2025-07-01")
    end = start + (14 if quick else 60) * DAY
    data = MarketData(dict(trim(data, start - 10 * DAY, end).symbols))
    cfg = BacktestConfig(data=Path("bench"), symbols=tuple(data.names), start_ms=start, end_ms=end)
    grid = parse_grid(["risk.risk_per_trade=0.005,0.01", "rules.entry_score=2,3", "risk.max_leverage=3,5"])
    # the shared part (data, enhanced data) is prepared once, outside the measured sweeps
    configs, _ = _analytics(data, cfg.analytics_config())
    enhanced = compute_all(data, step_times(start, end, cfg.step_ms), start, configs)
    cpus = os.cpu_count() or 1
    serial = eventloop.run(run_sweep(cfg, grid, executor="serial", shared=(data, enhanced)))
    pool = eventloop.run(run_sweep(cfg, grid, executor="process", workers=cpus, shared=(data, enhanced)))
    same = [p.metrics for p in serial.points] == [p.metrics for p in pool.points]
    return {
        "points": len(serial.points),
        "days": (end - start) // DAY,
        "symbols": len(data.names),
        "serial_s": round(serial.seconds, 2),
        "serial_per_min": round(serial.per_minute, 1),
        "parallel_s": round(pool.seconds, 2),
        "parallel_per_min": round(pool.per_minute, 1),
        "workers": pool.workers,
        "identical_metrics": same,
    }


def run(quick: bool = False) -> dict[str, Any]:
    """All three measurements (`quick`: shorter periods, for a smoke run)."""
    _quiet()
    year = _bench_year(quick)
    minutes = _bench_minutes(quick)
    sweep = _bench_sweep(quick)
    return {
        "machine": machine_info(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "quick": quick,
        "year_1h_10_symbols": year,
        "month_1m_4_symbols": minutes,
        "sweep": sweep,
        "targets_s": {"year": YEAR_TARGET_S, "minutes": MINUTE_TARGET_S},
    }


def render(results: dict[str, Any]) -> str:
    """A markdown section for benchmarks.md."""
    y, m, s = results["year_1h_10_symbols"], results["month_1m_4_symbols"], results["sweep"]

    def rate(r: dict[str, Any]) -> str:
        enh = r["symbol_steps"] / max(r["enhanced_s"], 1e-9)
        trade = r["symbol_steps"] / max(r["trading_s"], 1e-9)
        return f"{enh:,.0f} / {trade:,.0f}"

    rows = [
        [
            "year, 1h, 10 symbols, rules",
            f"{y['days']} d, {y['steps']:,} steps",
            y["load_s"],
            y["enhanced_s"],
            y["trading_s"],
            y["total_s"],
            f"< {YEAR_TARGET_S:g}",
            rate(y),
            y["trades"],
        ],
        [
            "30 d of 1m, 4 symbols, 15m decisions",
            f"{m['days']} d, {m['candles']:,} candles",
            m["load_s"],
            m["enhanced_s"],
            m["trading_s"],
            m["total_s"],
            f"< {MINUTE_TARGET_S:g}",
            rate(m),
            m["trades"],
        ],
    ]
    table = markdown_table(
        [
            "run",
            "period",
            "load s",
            "enhanced s",
            "trading s",
            "total s",
            "target s",
            "symbol-steps/s (enhanced / trading)",
            "trades",
        ],
        rows,
    )
    sweep = markdown_table(
        ["sweep", "backtests", "seconds", "backtests / minute"],
        [
            [
                f"1 process ({s['symbols']} symbols, {s['days']} d, 1h)",
                s["points"],
                s["serial_s"],
                s["serial_per_min"],
            ],
            [f"{s['workers']} processes", s["points"], s["parallel_s"], s["parallel_per_min"]],
        ],
    )
    return (
        f"### Backtests\n\n{results['machine']}; load average {results['load_average_1m']} at the end"
        f"{' (quick run)' if results['quick'] else ''}.\n\n{table}\n\n{sweep}\n\n"
        f"Enhanced data in {y['workers']} processes. The year again with its enhanced data from the "
        f"on-disk cache (a re-run or a sweep point): {y['warm_s']} s (load excluded). Sweep points identical "
        f"to the serial run: {s['identical_metrics']}.\n"
    )


def main() -> None:
    """Print the results as JSON and markdown."""
    import json

    results = run(quick="--quick" in sys.argv[1:])
    print(json.dumps(results, indent=2))
    print(render(results))


if __name__ == "__main__":
    main()
