"""The fast enhanced data (one series per symbol) equals the per-step reference, and so do backtests.

`enhanced_series` (venue series + compute_enhanced_series) against `enhanced_series_stepwise` (a BarMarket
advanced step by step, compute_enhanced(inputs_at(...)) at each step): on a sample of steps across a
year of real Bybit data, inside candles, on 1m data; the venue's ticker and book at each step; whole
backtests byte for byte; processes; the shared venue series and the worker estimate.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from asym.analytics import DEFAULT_CONFIG
from asym.analytics.types import EnhancedData
from asym.backtest import convert
from asym.backtest.bars import BarMarket
from asym.backtest.config import BacktestConfig
from asym.backtest.data import MarketData, load_files, parse_time
from asym.backtest.inputs import (
    BOOK_DEPTH,
    analytics_config_for,
    bar_market,
    bar_series,
    base_state,
    enhanced_series,
    enhanced_series_stepwise,
    step_times,
    venue_series,
)
from asym.backtest.metrics import compute_metrics
from asym.backtest.precompute import auto_workers, compute_all, fingerprint
from asym.backtest.report import metrics_json
from asym.backtest.runner import _analytics, run_backtest
from asym.sim.market.book import BookGrid
from asym.sim.market.book_times import book_sides

from .conftest import DAY, HOUR, synthetic, window

TA_FIELDS = frozenset({"rsi_14", "atr_14", "atr_pct", "ema_fast", "ema_slow", "bb_width"})


def _same(a: Any, b: Any, path: str = "") -> None:
    """Field by field: TA-Lib floats within rel 1e-9, everything else identical (Decimals to the digit)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and path.rsplit(".", 1)[-1] in TA_FIELDS:
        assert abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12, f"{path}: {a} != {b}"
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"


def _equal(fast: list[EnhancedData | None], slow: list[EnhancedData | None]) -> None:
    assert len(fast) == len(slow)
    for i, (f, s) in enumerate(zip(fast, slow, strict=True)):
        _same(msgspec.to_builtins(f), msgspec.to_builtins(s), f"step {i}")


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
def test_a_year_of_steps_equals_the_per_step_reference(multi_venue: MarketData, symbol: str) -> None:
    sd = multi_venue[symbol]
    calib = sd.first_ms + 10 * DAY
    calib -= calib % HOUR
    # every 7th hour across the year (each hour of the day, every weekday), and steps before the data
    steps = step_times(sd.first_ms - 2 * DAY, sd.end_ms + 2 * DAY, 7 * HOUR)
    cfg = analytics_config_for(sd.interval, DEFAULT_CONFIG)
    fast = enhanced_series(multi_venue, symbol, steps, calib, cfg)
    _equal(fast, enhanced_series_stepwise(multi_venue, symbol, steps, calib, cfg))
    have = [e for e in fast if e is not None]
    assert len(have) > 1200 and fast[0] is None and fast[-1] is None  # before the data and after it
    inside = [e for e, t in zip(fast, steps, strict=True) if e and sd.first_ms + 30 * DAY < t < sd.end_ms]
    assert all(e.technical_indicators is not None and e.funding_sentiment is not None for e in inside)
    assert any("candles_stale:60" in e.quality_flags for e in have)  # the day after the data


def test_steps_inside_candles_and_a_burst_of_consecutive_hours(multi_venue: MarketData) -> None:
    sd = multi_venue["BTCUSDT"]
    t0 = parse_time("2025-10-09")  # around 10 October 2025's crash: volatile books
    cfg = analytics_config_for(sd.interval, DEFAULT_CONFIG)
    steps = step_times(t0, t0 + 4 * DAY, 20 * 60_000)  # every 20 minutes: most steps fall inside a candle
    fast = enhanced_series(multi_venue, "BTCUSDT", steps, t0 - 20 * DAY, cfg)
    _equal(fast, enhanced_series_stepwise(multi_venue, "BTCUSDT", steps, t0 - 20 * DAY, cfg))


def test_minute_data_with_resampled_intervals_equals_the_reference(shared_data: Path) -> None:
    data = load_files(shared_data / "bybit" / "linear-1m" / "BTCUSDT_1m.csv", ["BTCUSDT"])
    sd = data["BTCUSDT"]
    t0 = sd.first_ms + 2 * DAY
    t0 -= t0 % HOUR
    cfg = analytics_config_for(sd.interval, DEFAULT_CONFIG)
    assert cfg.vol_short_interval == "5" and cfg.indicator_interval == "60"  # live intervals, resampled
    steps = step_times(t0, t0 + DAY, 15 * 60_000)
    fast = enhanced_series(data, "BTCUSDT", steps, t0, cfg)
    _equal(fast, enhanced_series_stepwise(data, "BTCUSDT", steps, t0, cfg))
    assert all(e is not None and e.technical_indicators is not None for e in fast)


def test_the_venue_series_is_the_bar_markets_ticker_and_book_at_every_step(multi_venue: MarketData) -> None:
    sd = multi_venue["SOLUSDT"]
    t0 = parse_time("2025-10-09")
    times = np.array(step_times(t0, t0 + 5 * DAY, 40 * 60_000), dtype=np.int64)
    tickers, books = venue_series(sd, times, t0 - 30 * DAY)
    market = BarMarket(MarketData({"SOLUSDT": sd}), t0 - 30 * DAY, book_depth=BOOK_DEPTH)
    inst = market.instrument("SOLUSDT")
    levels = base_state(market.series["SOLUSDT"], times)[2]
    assert levels.max() >= 3  # volatile books (wider spans) are part of the sample
    for i, t in enumerate(times.tolist()):
        market.advance(t, [])
        book = convert.book(inst, market.book("SOLUSDT", BOOK_DEPTH))
        assert books.book(i) == msgspec.structs.replace(book, update_id=0, seq=0)
        ticker = convert.ticker(inst, market.ticker("SOLUSDT"), open_interest=False)
        kept = tickers.ticker(i)
        assert kept is not None
        for name in kept.__struct_fields__:
            if getattr(kept, name) is not None or name == "open_interest":
                assert getattr(kept, name) == getattr(ticker, name), (i, name)
                assert str(getattr(kept, name)) == str(getattr(ticker, name)), (i, name)


def test_book_sides_equal_book_grid_including_sides_cut_at_tick_one() -> None:
    sd = synthetic("BTCUSDT", n=100)
    s = bar_series(sd, sd.first_ms + 3 * DAY, 7)
    rng = np.random.default_rng(3)
    n = 400
    touch = np.where(np.arange(n) < 40, rng.integers(1, 120, n), rng.integers(1_000, 2_000_000, n))
    level = rng.integers(0, 9, n)
    t = rng.integers(1_700_000_000_000, 1_800_000_000_000, n)
    for direction in (-1, 1):
        px, sz, found, done = book_sides(s.book_params, touch, level, t, direction, BOOK_DEPTH)
        for i in range(n):
            want = BookGrid(s.book_params).side(
                int(touch[i]), direction, BOOK_DEPTH, int(level[i]), int(t[i])
            )
            if done[i]:
                got = list(zip(px[i, : found[i]].tolist(), sz[i, : found[i]].tolist(), strict=True))
                assert got == want, (direction, i)
            else:
                assert len(want) >= found[i]  # rebuilt by venue_series with BookGrid itself
        if direction < 0:
            assert (found[:40] < BOOK_DEPTH).any()  # bids stopped at tick 1 were exercised


async def test_a_backtest_on_the_fast_data_is_byte_identical_to_one_on_the_per_step_data(
    multi_venue: MarketData,
) -> None:
    t0 = parse_time("2025-08-01")
    data = window(multi_venue, t0 - 10 * DAY, t0 + 8 * DAY)
    cfg = BacktestConfig(
        data=Path("unused"),
        symbols=tuple(data.names),
        start_ms=t0,
        end_ms=t0 + 8 * DAY,
        rules={"entry_score": 2},
    )
    steps = step_times(cfg.start_ms, cfg.end_ms, cfg.step_ms)
    configs, _ = _analytics(data, cfg.analytics_config())
    slow = {s: enhanced_series_stepwise(data, s, steps, t0, configs[s], cfg.seed) for s in data.names}
    a = await run_backtest(cfg, data=data, record_all_decisions=True)  # the fast path
    b = await run_backtest(cfg, data=data, enhanced=slow, record_all_decisions=True)
    assert a.summary.entries > 0
    assert metrics_json(compute_metrics(a)) == metrics_json(compute_metrics(b))
    assert a.decisions == b.decisions and a.equity == b.equity and a.executions == b.executions


def test_enhanced_data_from_several_processes_equals_one_process(multi_venue: MarketData) -> None:
    t0 = parse_time("2025-07-01")
    data = window(multi_venue, t0 - 10 * DAY, t0 + 20 * DAY)
    steps = step_times(t0, t0 + 20 * DAY, HOUR)
    configs = {s: analytics_config_for(data[s].interval, DEFAULT_CONFIG) for s in data.names}
    one = compute_all(data, steps, t0, configs, workers=1)
    for workers in (2, 3):
        many = compute_all(data, steps, t0, configs, workers=workers)
        assert list(many) == data.names
        for s in data.names:
            _equal(many[s], one[s])


def test_the_trading_venue_shares_the_series_the_enhanced_data_built() -> None:
    sd = synthetic("BTCUSDT", n=200)
    data = MarketData({"BTCUSDT": sd})
    calib = sd.first_ms + 5 * DAY
    s = bar_series(sd, calib, 7)
    again = bar_series(sd, calib, 7)
    assert again.c is s.c and again.level is s.level  # built once ...
    assert again._grids is not s._grids  # ... but every user has its own memo of book hashes
    assert bar_series(sd, calib, 8).c is not s.c and bar_series(sd, calib + HOUR, 7).c is not s.c
    market = bar_market(data, calib, 7)
    assert market.series["BTCUSDT"].c is s.c
    plain = BarMarket(data, calib, 7)
    assert [(i.symbol, i.price.step, i.qty.step) for i in market.instruments()] == [
        (i.symbol, i.price.step, i.qty.step) for i in plain.instruments()
    ]
    market.advance(calib + HOUR, [])
    plain.advance(calib + HOUR, [])
    assert market.book("BTCUSDT", 50) == plain.book("BTCUSDT", 50)
    assert market.ticker("BTCUSDT") == plain.ticker("BTCUSDT")
    assert fingerprint(data) == data.fingerprint() == fingerprint(data)


def test_worker_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """One process unless the steps are many: a worker's result is decoded here (about half of what
    computing it costs) and the venue series it built are built again for the trading loop."""
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    data = MarketData({s: synthetic(s, n=24 * 30) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")})
    assert auto_workers(data, data.names, 500) == 1  # starting a pool costs more than it saves
    assert auto_workers(data, data.names[:1], 10**6) == 1  # one symbol: one task
    assert auto_workers(data, data.names, 10**6) == 3  # many steps: the pool pays off
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert auto_workers(data, data.names, 10**6) == 1


def test_an_unknown_symbol_without_funding_and_a_recorded_store_equal_the_reference() -> None:
    from decimal import Decimal

    from asym.backtest.data import symbol_data
    from asym.domain import Liquidation, LongShortRatio, OpenInterest, Side

    plain = synthetic("ZZZUSDT", n=24 * 20, price=3.25)  # not in the simulator's table; no funding
    bare = symbol_data("ZZZUSDT", plain.candles, [], "no funding")
    t0 = bare.first_ms + 9 * DAY
    steps = step_times(t0, t0 + 6 * DAY, HOUR)
    cfg = analytics_config_for(bare.interval, DEFAULT_CONFIG)
    data = MarketData({"ZZZUSDT": bare})
    fast = enhanced_series(data, "ZZZUSDT", steps, t0, cfg)
    _equal(fast, enhanced_series_stepwise(data, "ZZZUSDT", steps, t0, cfg))
    assert all(e is not None and "funding_history_missing" in e.quality_flags for e in fast)

    btc = synthetic("BTCUSDT", n=24 * 20)
    ts = range(btc.first_ms, btc.end_ms, 15 * 60_000)
    rec = symbol_data(
        "BTCUSDT",
        btc.candles,
        btc.funding,
        "store",
        open_interest=[
            OpenInterest(symbol="BTCUSDT", open_interest=Decimal(50_000 + (i * 37) % 900), ts=t)
            for i, t in enumerate(ts)
        ],
        long_short=[
            LongShortRatio(symbol="BTCUSDT", buy_ratio=Decimal("0.62"), sell_ratio=Decimal("0.38"), ts=t)
            for t in ts
        ],
        liquidations=[
            Liquidation(
                symbol="BTCUSDT",
                side=Side.BUY if i % 2 else Side.SELL,
                price=btc.candles[min(i // 4, len(btc.candles) - 1)].close,
                size=Decimal("0.5"),
                ts=t,
            )
            for i, t in enumerate(ts)
        ],
    )
    data = MarketData({"BTCUSDT": rec})
    fast = enhanced_series(data, "BTCUSDT", steps, t0, cfg)
    _equal(fast, enhanced_series_stepwise(data, "BTCUSDT", steps, t0, cfg))
    assert all(
        e is not None and e.oi_sentiment is not None and e.nearby_liquidations is not None for e in fast
    )


def test_blocks_of_steps_give_the_same_series(
    multi_venue: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    sd = multi_venue["ETHUSDT"]
    t0 = parse_time("2025-09-01")
    steps = step_times(t0, t0 + 10 * DAY, HOUR)
    cfg = analytics_config_for(sd.interval, DEFAULT_CONFIG)
    whole = enhanced_series(multi_venue, "ETHUSDT", steps, t0, cfg)
    monkeypatch.setattr("asym.backtest.inputs.STEP_BLOCK", 37)
    assert enhanced_series(multi_venue, "ETHUSDT", steps, t0, cfg) == whole
