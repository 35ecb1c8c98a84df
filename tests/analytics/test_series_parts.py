"""The parts of the series path: indicator windows (TA-Lib warm-up), exact spreads, books on a grid."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
import talib

from asym.analytics import AnalyticsConfig, CandleArrays
from asym.analytics.indicators import atr, bbands_width, ema, realized_vol, rsi
from asym.analytics.liquidity import check_book, depth_within_band, spread_pct
from asym.analytics.series import _spreads
from asym.analytics.series_book import BookSeries, book_columns, grid_decimals, grid_floats
from asym.analytics.series_candles import CandleWindows, candle_windows
from asym.analytics.series_indicators import indicator_columns, realized_vol_column
from asym.domain import OrderBook
from asym.errors import DataError

from .series_builders import M5, T0, five_minute_bars

CFG = AnalyticsConfig()


def _windows(a: CandleArrays, lookback: int = 200) -> tuple[np.ndarray, CandleWindows]:
    times = a.start + M5  # a step at every bar's close
    return times, candle_windows(a, M5, times, lookback, 2.0, 10.0)


def test_warm_up_makes_full_series_values_differ_and_the_window_correction_removes_it() -> None:
    """EMA, RSI and ATR depend on where their input starts: over the full series they differ from the
    per-step 200-bar window by far more than rounding; the corrected series values do not."""
    a = five_minute_bars(1500, np.random.default_rng(11))
    _, w = _windows(a)
    cols = indicator_columns(w, np.ones(len(a), dtype=bool), CFG)
    full = {
        "ema_slow": talib.EMA(a.close, 50),
        "rsi": talib.RSI(a.close, 14),
        "atr": talib.ATR(a.high, a.low, a.close, 14),
    }
    worst_full = dict.fromkeys(full, 0.0)
    for e in range(300, 1500, 7):  # full 200-bar windows
        win = a.take(slice(e - 199, e + 1))
        per_step = {
            "ema_slow": ema(win.close, 50),
            "rsi": rsi(win.close, 14),
            "atr": atr(win.high, win.low, win.close, 14),
        }
        corrected = {"ema_slow": cols.ema_slow[e], "rsi": cols.rsi[e], "atr": cols.atr[e]}
        for k, v in per_step.items():
            assert v is not None
            assert math.isclose(corrected[k], v, rel_tol=1e-12), (k, e)
            worst_full[k] = max(worst_full[k], abs(full[k][e] / v - 1))
        assert math.isclose(cols.ema_fast[e], ema(win.close, 20) or 0, rel_tol=1e-12)
        bb = bbands_width(win.close, 20, 2.0)
        assert bb is not None and math.isclose(cols.bb_width[e], bb, rel_tol=1e-9)
    assert worst_full["ema_slow"] > 1e-6 and worst_full["rsi"] > 1e-9 and worst_full["atr"] > 1e-9


def test_short_windows_and_flat_prices_match_the_per_step_indicators_exactly_where_they_are_zero() -> None:
    a = five_minute_bars(120, np.random.default_rng(12))
    close = a.close.copy()
    close[60:] = close[59]  # flat from bar 60: no gain, no loss, no range
    flat = CandleArrays(start=a.start, open=close, high=close, low=close, close=close, volume=a.volume)
    _, w = _windows(flat, lookback=40)
    cols = indicator_columns(w, np.ones(len(flat), dtype=bool), CFG)
    for e in range(len(flat)):
        win = flat.take(slice(max(0, e - 39), e + 1))
        for name, got, want in (
            ("rsi", cols.rsi[e], rsi(win.close, 14)),
            ("atr", cols.atr[e], atr(win.high, win.low, win.close, 14)),
            ("ema", cols.ema_fast[e], ema(win.close, 20)),
        ):
            if want is None:
                assert math.isnan(got), (name, e)
            elif want == 0.0:
                assert got == 0.0, (name, e)  # exactly, not a rounding residue
            else:
                assert math.isclose(got, want, rel_tol=1e-12), (name, e)
    assert cols.rsi[110] == 0.0 and cols.atr[110] == 0.0


def test_realized_volatility_is_bit_identical_to_the_per_step_function() -> None:
    a = five_minute_bars(600, np.random.default_rng(13))
    _, w = _windows(a, lookback=288)
    for n in (12, 24):
        vol, short = realized_vol_column(w, np.ones(len(a), dtype=bool), n)
        for e in range(len(a)):
            want = realized_vol(a.close[max(0, e - 287) : e + 1], n, 5.0)
            assert (math.isnan(vol[e]) and want is None) or vol[e] == want
            assert bool(short[e]) == (want is None)


def test_spreads_on_tick_counts_are_spread_pct_to_the_last_bit() -> None:
    rng = np.random.default_rng(14)
    step = Decimal("0.1")
    to_dec = grid_decimals(step)
    bid = rng.integers(1, 10**10, 20_000)
    ask = bid + rng.integers(1, 1000, 20_000)
    bids, asks = [to_dec(int(x)) for x in bid], [to_dec(int(x)) for x in ask]
    got = _spreads(bid, ask, bids, asks)
    want = np.array([spread_pct(b, a) for b, a in zip(bids, asks, strict=True)])
    assert np.array_equal(got, want)
    # beyond the proven range the Decimal function itself is used
    big = np.array([10**11, 3], dtype=np.int64)
    big_ask = big + 1
    assert list(_spreads(big, big_ask, [to_dec(int(x)) for x in big], [to_dec(int(x)) for x in big_ask])) == [
        spread_pct(to_dec(int(b)), to_dec(int(a))) for b, a in zip(big, big_ask, strict=True)
    ]


def test_grid_values_equal_their_decimals() -> None:
    rng = np.random.default_rng(15)
    for step in (Decimal("0.1"), Decimal("0.0001"), Decimal("0.5"), Decimal("25"), Decimal("0.00000125")):
        n = rng.integers(0, 10**9, 2000)
        conv = grid_decimals(step)
        assert list(grid_floats(n, step)) == [float(conv(int(x))) for x in n]
        assert all(conv(int(x)) == step * int(x) for x in n[:50])
    with pytest.raises(DataError):
        grid_decimals(Decimal(0))


def test_book_series_round_trips_and_reproduces_check_book_and_depth() -> None:
    rng = np.random.default_rng(16)
    books: list[OrderBook | None] = []
    for i in range(60):
        mid = 250_000 + int(rng.integers(-500, 500))
        bids = tuple(
            (Decimal(mid - k * 3) / 1000, Decimal(int(rng.integers(1, 900))) / 10) for k in range(25)
        )
        asks = tuple(
            (Decimal(mid + 1 + k * 3) / 1000, Decimal(int(rng.integers(1, 900))) / 10) for k in range(25)
        )
        books.append(None if i % 17 == 3 else OrderBook(symbol="TESTUSDT", bids=bids, asks=asks, ts=T0 + i))
    bs = BookSeries.from_books("TESTUSDT", books, Decimal("0.001"), Decimal("0.1"))
    assert [bs.book(i) for i in range(len(books))] == books
    times = np.array([T0 + i for i in range(len(books))], dtype=np.int64)
    cols = book_columns(bs, "TESTUSDT", times, CFG)
    depths = cols.depths(np.flatnonzero(cols.usable))
    j = 0
    for i, b in enumerate(books):
        if b is None:
            assert cols.status[i] == "book_missing"
            continue
        view = check_book(b, "TESTUSDT", int(times[i]), CFG)
        assert not isinstance(view, str) and cols.status[i] is None
        assert float(cols.mid[i]) == view.mid and int(cols.levels[i]) == view.levels
        assert depths[j] == depth_within_band(view, CFG.depth_band_pct) == cols.depth(i)
        j += 1
    with pytest.raises(DataError, match="multiple"):
        BookSeries.from_books("TESTUSDT", books, Decimal("0.01"), Decimal("0.1"))
