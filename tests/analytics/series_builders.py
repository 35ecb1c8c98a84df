"""Builders of synthetic symbol histories for the series tests, and the field-by-field comparison."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np

from asym.analytics import CandleArrays, resample_candles
from asym.analytics.series_book import BookSeries
from asym.analytics.series_inputs import SeriesInputs, TickerSeries
from asym.analytics.types import EnhancedData
from asym.domain import FundingRate, Liquidation, LongShortRatio, OpenInterest, Side

SYMBOL = "TESTUSDT"
M5 = 300_000
H1 = 3_600_000
T0 = 1_750_003_200_000  # a whole hour (2025-06-15 16:00 UTC)
TICK = Decimal("0.01")
QTY = Decimal("0.001")
TA_FIELDS = frozenset({"rsi_14", "atr_14", "atr_pct", "ema_fast", "ema_slow", "bb_width"})
"""Floats computed from TA-Lib's EMA/RSI/ATR/Bollinger: equal up to rounding (rel 1e-9); all else exact."""
REL = 1e-9


def five_minute_bars(n: int, rng: np.random.Generator, price: float = 250.0) -> CandleArrays:
    """n clean 5m candles from T0 - n*5m (a random walk on the 0.01 grid, turnover = volume x close)."""
    start = T0 - n * M5 + np.arange(n, dtype=np.int64) * M5
    close = np.round(price * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    spread = np.round(np.abs(rng.normal(0, 0.001, n)) * close, 2) + 0.01
    high = np.maximum(open_, close) + spread
    low = np.maximum(0.01, np.minimum(open_, close) - spread)
    volume = np.round(rng.uniform(10, 500, n), 3)
    return CandleArrays(
        start=start, open=open_, high=high, low=low, close=close, volume=volume, turnover=volume * close
    )


def drop_rows(a: CandleArrays, rows: list[int]) -> CandleArrays:
    """`a` without the given rows (a gap)."""
    keep = np.ones(len(a), dtype=bool)
    keep[rows] = False
    return a.take(np.flatnonzero(keep))


def set_value(a: CandleArrays, col: str, row: int, value: float) -> CandleArrays:
    """`a` with one value replaced (a bad print)."""
    arr = getattr(a, col).copy()
    arr[row] = value
    return replace(a, **{col: arr})


def venue(
    times: np.ndarray, closes: CandleArrays, rates: list[FundingRate], rng: np.random.Generator
) -> tuple[TickerSeries, BookSeries]:
    """A ticker and a 25-level book per step, around the last 5m close known at the step."""
    n = len(times)
    k = np.maximum(np.searchsorted(closes.start, times - M5, side="right") - 1, 0)
    last_ticks = np.round(np.nan_to_num(closes.close[k], nan=250.0, posinf=250.0) / 0.01).astype(np.int64)
    bid0 = last_ticks - rng.integers(0, 2, n)
    ask0 = bid0 + rng.integers(1, 3, n)
    gaps = rng.integers(1, 4, (n, 25))
    bid_px = bid0[:, None] - np.concatenate(
        (np.zeros((n, 1), np.int64), np.cumsum(gaps[:, 1:], axis=1)), axis=1
    )
    ask_px = ask0[:, None] + np.concatenate(
        (np.zeros((n, 1), np.int64), np.cumsum(gaps[:, 1:], axis=1)), axis=1
    )
    books = BookSeries(
        symbol=SYMBOL,
        ts=np.asarray(times, dtype=np.int64),
        price_step=TICK,
        size_step=QTY,
        bid_px=bid_px,
        bid_sz=rng.integers(1, 50_000, (n, 25)),
        ask_px=ask_px,
        ask_sz=rng.integers(1, 50_000, (n, 25)),
        bid_n=np.full(n, 25),
        ask_n=np.full(n, 25),
        present=np.ones(n, dtype=bool),
    )
    rate_ts = [r.ts for r in rates]
    last = [books.price(int(x)) for x in last_ticks]
    j = np.searchsorted(np.asarray(rate_ts, dtype=np.int64), times, side="right")
    tickers = TickerSeries(
        symbol=SYMBOL,
        ts=[int(t) for t in times],
        present=[True] * n,
        last_price=last,
        mark_price=last,
        index_price=[books.price(int(x) + 1) for x in last_ticks],
        bid1_price=[books.price(int(x)) for x in bid0],
        ask1_price=[books.price(int(x)) for x in ask0],
        volume_24h=[QTY * int(v) for v in rng.integers(1_000, 10**7, n)],
        turnover_24h=[Decimal(f"{v:.2f}") for v in rng.uniform(1e5, 1e10, n)],
        open_interest=[None] * n,
        funding_rate=[rates[x - 1].rate if x else None for x in j],
        next_funding_time=[int(t // (8 * H1) + 1) * 8 * H1 for t in times],
        funding_interval_hours=[8] * n,
    )
    return tickers, books


def funding(n: int, rng: np.random.Generator, until: int = T0) -> list[FundingRate]:
    """n settlements every 8 hours up to `until`, rates around the 0.01 % baseline."""
    ts = [until - (n - 1 - i) * 8 * H1 for i in range(n)]
    return [FundingRate(symbol=SYMBOL, rate=Decimal(f"{rng.normal(0.0001, 0.0002):.8f}"), ts=t) for t in ts]


def series(
    rng: np.random.Generator,
    *,
    hours: int = 60,
    step_ms: int = 15 * 60_000,
    extra_hours: int = 3,
    m5: CandleArrays | None = None,
    h1: CandleArrays | None = None,
    rates: list[FundingRate] | None = None,
    **kw: Any,
) -> SeriesInputs:
    """A symbol's series: `hours` of 5m candles (and the 1h candles built from them) before T0, steps
    every `step_ms` from the start until `extra_hours` after the data (its candles then go stale)."""
    m5 = m5 if m5 is not None else five_minute_bars(hours * 12, rng)
    h1 = h1 if h1 is not None else resample_candles(m5, M5, H1)
    rates = rates if rates is not None else funding(30, rng)
    first = int(m5.start[0]) + M5
    times = np.arange(first - first % step_ms + step_ms, T0 + extra_hours * H1, step_ms, dtype=np.int64)
    tickers, books = venue(times, m5, rates, rng)
    args: dict[str, Any] = {
        "symbol": SYMBOL,
        "times": times,
        "tickers": tickers,
        "books": books,
        "candles": {"5": m5, "60": h1},
        "lookbacks": {"60": 200, "5": 288},
        "funding_history": rates,
    }
    args.update(kw)
    return SeriesInputs(**args)


def recorded(rng: np.random.Generator, n: int = 400) -> dict[str, Any]:
    """Open interest and long/short points every 15 minutes and liquidations every 10, before T0."""
    oi = [
        OpenInterest(
            symbol=SYMBOL, open_interest=Decimal(f"{50_000 + 300 * math.sin(i / 9):.3f}"), ts=T0 - i * 900_000
        )
        for i in range(n)
    ]
    ls = [
        LongShortRatio(
            symbol=SYMBOL, buy_ratio=Decimal("0.6"), sell_ratio=Decimal("0.4"), ts=T0 - i * 900_000
        )
        for i in range(n)
    ]
    liq = [
        Liquidation(
            symbol=SYMBOL,
            side=Side.BUY if i % 3 else Side.SELL,
            price=Decimal(f"{250 + rng.normal(0, 3):.2f}"),
            size=Decimal("40"),
            ts=T0 - i * 600_000,
        )
        for i in range(n)
    ]
    return {"open_interest_history": oi, "long_short_history": ls, "liquidations": liq}


def compare(batch: EnhancedData, step: EnhancedData, where: str = "") -> None:
    """Field by field: TA-Lib floats within REL, everything else identical (Decimals to the digit)."""
    _same(msgspec.to_builtins(batch), msgspec.to_builtins(step), where)


def _same(a: Any, b: Any, path: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and path.rsplit(".", 1)[-1] in TA_FIELDS:
        assert math.isclose(a, b, rel_tol=REL, abs_tol=1e-12), f"{path}: {a} != {b}"
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"
