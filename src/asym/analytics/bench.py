"""Benchmark of the batch path: synthetic but complete inputs for many assets, timed compute_enhanced_batch.

Run: `python -m asym.analytics.bench [n_assets] [repeats]`. `synthetic_inputs` also serves tests and demos
that need a complete, clean AssetInputs (every input present, no quality flag).
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal

import numpy as np

from asym.analytics.candles import CandleArrays
from asym.analytics.config import DEFAULT_CONFIG, AnalyticsConfig
from asym.analytics.enhanced import compute_enhanced_batch
from asym.analytics.inputs import AssetInputs
from asym.domain import FundingRate, Liquidation, LongShortRatio, OpenInterest, OrderBook, Side, Ticker

_MIN = 60_000
_HOUR = 60 * _MIN


def _walk(
    rng: np.random.Generator, n: int, start_price: float, sigma: float, step_ms: int, end_ms: int
) -> CandleArrays:
    """A geometric random walk of n closed candles ending exactly at end_ms."""
    rets = rng.normal(0.0, sigma, n)
    close = start_price * np.exp(np.cumsum(rets))
    open_ = np.concatenate(([start_price], close[:-1]))
    wick = np.abs(rng.normal(0.0, sigma / 2, n)) * close
    high = np.maximum(open_, close) + wick
    low = np.minimum(open_, close) - wick
    volume = rng.uniform(100.0, 1000.0, n)
    start = end_ms - step_ms * np.arange(n, 0, -1, dtype=np.int64)
    return CandleArrays(
        start=start, open=open_, high=high, low=low, close=close, volume=volume, turnover=volume * close
    )


def _dec(x: float, places: int = 4) -> Decimal:
    return Decimal(f"{x:.{places}f}")


def synthetic_inputs(
    symbol: str, now_ms: int, rng: np.random.Generator, *, price: float = 100.0
) -> AssetInputs:
    """A complete, valid AssetInputs around `price` (random-walk candles, 25-level book, all histories)."""
    end = now_ms - now_ms % _HOUR
    c60 = _walk(rng, 200, price, 0.006, _HOUR, end)
    last = float(c60.close[-1])
    end5 = now_ms - now_ms % (5 * _MIN)
    c5 = _walk(rng, 300, last, 0.0015, 5 * _MIN, end5)
    last = float(c5.close[-1])
    tick = 10.0 ** (np.floor(np.log10(last)) - 4)
    bid0 = np.floor(last / tick) * tick
    bids = tuple((_dec(bid0 - i * tick, 6), _dec(float(rng.uniform(1, 50)), 3)) for i in range(25))
    asks = tuple((_dec(bid0 + (i + 1) * tick, 6), _dec(float(rng.uniform(1, 50)), 3)) for i in range(25))
    last_d = _dec(bid0, 6)
    ticker = Ticker(
        symbol=symbol,
        ts=now_ms - 500,
        last_price=last_d,
        mark_price=last_d,
        index_price=last_d,
        bid1_price=bids[0][0],
        ask1_price=asks[0][0],
        volume_24h=_dec(5e6 / last, 3),
        turnover_24h=_dec(5e6, 2),
        open_interest=_dec(2e6 / last, 3),
        funding_rate=_dec(float(rng.normal(1e-4, 5e-5)), 6),
        next_funding_time=now_ms - now_ms % (8 * _HOUR) + 8 * _HOUR,
        funding_interval_hours=8,
    )
    book = OrderBook(symbol=symbol, bids=bids, asks=asks, ts=now_ms - 200)
    funding = [
        FundingRate(symbol=symbol, rate=_dec(float(rng.normal(1e-4, 5e-5)), 6), ts=end - i * 8 * _HOUR)
        for i in range(60, 0, -1)
    ]
    oi = [
        OpenInterest(symbol=symbol, open_interest=_dec(2e6 / last * (1 + 0.002 * i), 3), ts=end - i * _HOUR)
        for i in range(24, -1, -1)
    ]
    ls = [
        LongShortRatio(
            symbol=symbol, buy_ratio=Decimal("0.55"), sell_ratio=Decimal("0.45"), ts=end - i * _HOUR
        )
        for i in range(5, -1, -1)
    ]
    liqs = [
        Liquidation(
            symbol=symbol,
            side=Side.BUY if i % 2 else Side.SELL,
            price=_dec(last * (1 + float(rng.uniform(-0.03, 0.03))), 6),
            size=_dec(float(rng.uniform(50, 500)) / last, 6),
            ts=now_ms - int(rng.integers(0, 3_600_000)),
        )
        for i in range(10)
    ]
    return AssetInputs(
        symbol=symbol,
        now_ms=now_ms,
        ticker=ticker,
        book=book,
        candles={"60": c60, "5": c5},
        funding_history=funding,
        open_interest_history=oi,
        long_short_history=ls,
        liquidations=liqs,
    )


def run_benchmark(
    n_assets: int = 500, repeats: int = 5, seed: int = 7, config: AnalyticsConfig = DEFAULT_CONFIG
) -> dict[str, float]:
    """Time compute_enhanced_batch over n_assets synthetic assets: wall best/median and median CPU time

    of `repeats` runs (CPU time is the steadier figure on a shared machine)."""
    rng = np.random.default_rng(seed)
    now = 1_750_000_000_000
    inputs = [
        synthetic_inputs(f"SYM{i}USDT", now, rng, price=float(rng.uniform(0.01, 50_000)))
        for i in range(n_assets)
    ]
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        compute_enhanced_batch(inputs, config)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    times.sort()
    cpu.sort()
    return {
        "n_assets": float(n_assets),
        "best_s": times[0],
        "median_s": times[len(times) // 2],
        "median_cpu_s": cpu[len(cpu) // 2],
        "per_asset_ms": times[len(times) // 2] / n_assets * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    """CLI entry: print the benchmark figures."""
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 500
    repeats = int(args[1]) if len(args) > 1 else 5
    r = run_benchmark(n, repeats)
    print(
        f"compute_enhanced_batch: {int(r['n_assets'])} assets, median {r['median_s'] * 1000:.1f} ms "
        f"(best {r['best_s'] * 1000:.1f} ms, CPU {r['median_cpu_s'] * 1000:.1f} ms), "
        f"{r['per_asset_ms']:.3f} ms/asset"
    )


if __name__ == "__main__":
    main()
