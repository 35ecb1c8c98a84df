"""Candle arrays: conversion, validation (open bars, bad rows, gaps, staleness) and resampling."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from asym.analytics import CandleArrays, candles_to_arrays, resample_candles
from asym.analytics.candles import interval_ms, prepare_candles
from asym.domain import Candle, Interval
from asym.errors import DataError

from .conftest import load_bybit_iso, load_bybit_ms

H = 3_600_000


def _arrays(n: int, step: int = H, t0: int = 1_000 * H) -> CandleArrays:
    close = 100 + np.arange(n, dtype=float)
    return CandleArrays(
        start=t0 + step * np.arange(n),
        open=close - 0.5,
        high=close + 1,
        low=close - 1,
        close=close,
        volume=np.full(n, 10.0),
    )


def _end(a: CandleArrays, step: int = H) -> int:
    return int(a.start[-1]) + step


def test_clean_candles_pass_unchanged() -> None:
    a = _arrays(50)
    p = prepare_candles(a, H, _end(a), 2.0)
    assert p.problems == ()
    assert np.array_equal(p.arrays.close, a.close)


def test_newest_first_input_is_sorted() -> None:
    a = _arrays(30)
    rev = a.take(np.arange(29, -1, -1))
    p = prepare_candles(rev, H, _end(a), 2.0)
    assert p.problems == ()
    assert np.array_equal(p.arrays.start, a.start)


def test_still_open_bar_is_dropped_without_a_flag() -> None:
    a = _arrays(30)
    now = int(a.start[-1]) + H // 2  # the last bar is still forming
    p = prepare_candles(a, H, now, 2.0)
    assert p.problems == ()
    assert len(p.arrays) == 29
    assert len(prepare_candles(a, H, _end(a), 2.0).arrays) == 30  # ends exactly now: closed


@pytest.mark.parametrize(
    ("column", "value"),
    [("close", np.nan), ("high", np.inf), ("low", 0.0), ("open", -1.0), ("volume", -1.0), ("volume", np.nan)],
)
def test_invalid_row_keeps_only_the_clean_suffix(column: str, value: float) -> None:
    a = _arrays(40)
    getattr(a, column)[10] = value
    p = prepare_candles(a, H, _end(a), 2.0)
    assert p.problems == ("invalid",)
    assert len(p.arrays) == 29  # rows 11..39
    assert int(p.arrays.start[0]) == int(a.start[11])


def test_high_below_close_is_invalid() -> None:
    a = _arrays(20)
    a.high[-1] = a.close[-1] - 0.1
    p = prepare_candles(a, H, _end(a), 2.0)
    assert p.problems == ("invalid",)
    assert len(p.arrays) == 0


def test_bar_range_ratio_boundary() -> None:
    a = _arrays(5)
    a.low[-1], a.high[-1] = 10.0, 100.0  # high / low == 10: extreme but accepted
    a.open[-1] = a.close[-1] = 50.0
    assert prepare_candles(a, H, _end(a), 2.0).problems == ()
    a.high[-1] = 100.001
    assert prepare_candles(a, H, _end(a), 2.0).problems == ("invalid",)


def test_duplicate_start_keeps_the_later_row() -> None:
    a = _arrays(10)
    dup = CandleArrays(
        start=np.r_[a.start, a.start[-1]],
        open=np.r_[a.open, 1.0],
        high=np.r_[a.high, 3.0],
        low=np.r_[a.low, 0.5],
        close=np.r_[a.close, 2.0],
        volume=np.r_[a.volume, 1.0],
    )
    p = prepare_candles(dup, H, _end(a), 2.0)
    assert p.problems == ("invalid",)
    assert len(p.arrays) == 1 and p.arrays.close[0] == 2.0


def test_gap_keeps_the_contiguous_suffix() -> None:
    a = _arrays(40)
    a.start[25:] += H  # one missing hour before row 25
    p = prepare_candles(a, H, _end(a), 2.0)
    assert p.problems == ("gap",)
    assert len(p.arrays) == 15


def test_staleness_boundary() -> None:
    a = _arrays(30)
    assert prepare_candles(a, H, _end(a) + 2 * H, 2.0).problems == ()  # exactly 2 intervals: fresh
    assert prepare_candles(a, H, _end(a) + 2 * H + 1, 2.0).problems == ("stale",)


def test_columns_must_have_equal_length() -> None:
    with pytest.raises(DataError):
        CandleArrays.from_columns(
            start=[1, 2], open=[1.0], high=[1, 2], low=[1, 2], close=[1, 2], volume=[1, 2]
        )


def test_candles_to_arrays_skips_open_candles_and_never_raises_on_bad_decimals() -> None:
    def c(start: int, close: str, confirmed: bool = True) -> Candle:
        return Candle(
            symbol="X",
            interval=Interval.H1,
            start=start,
            open=Decimal("1"),
            high=Decimal("2"),
            low=Decimal("0.5"),
            close=Decimal(close),
            volume=Decimal("3"),
            turnover=Decimal("4"),
            confirmed=confirmed,
        )

    a = candles_to_arrays([c(0, "1.5"), c(H, "sNaN"), c(2 * H, "NaN"), c(3 * H, "1.1", confirmed=False)])
    assert list(a.start) == [0, H, 2 * H]
    assert a.close[0] == 1.5 and np.isnan(a.close[1]) and np.isnan(a.close[2])
    assert prepare_candles(a, H, 3 * H, 2.0).problems == ("invalid",)


def test_interval_ms() -> None:
    assert interval_ms("5") == 300_000
    assert interval_ms("60") == H
    assert interval_ms("7") is None


def test_resample_keeps_only_complete_buckets() -> None:
    a = _arrays(14, step=60_000, t0=1_000 * H + 3 * 60_000)  # starts 3 minutes into a 5m bucket
    r = resample_candles(a, 60_000, 300_000)
    assert list(r.start) == [1_000 * H + 300_000, 1_000 * H + 600_000]
    assert r.open[0] == a.open[2] and r.close[0] == a.close[6]
    assert r.high[0] == a.high[2:7].max() and r.low[0] == a.low[2:7].min()
    assert r.volume[0] == 50.0
    with pytest.raises(DataError):
        resample_candles(a, 60_000, 90_000)


@pytest.mark.parametrize(("symbol", "minutes"), [("BTCUSDT", 5), ("ETHUSDT", 60)])
def test_resampled_1m_reproduces_bybit_5m_and_60m(shared_data: Path, symbol: str, minutes: int) -> None:
    """README: resampling the 1m set reproduces Bybit's own 5m/60m bars exactly."""
    one = load_bybit_iso(shared_data / "bybit" / "linear-1m" / f"{symbol}_1m.csv")
    ref = load_bybit_iso(shared_data / "bybit" / "linear-5m-15m-60m-240m" / f"{symbol}_{minutes}m.csv")
    mine = resample_candles(one, 60_000, minutes * 60_000)
    common, i, j = np.intersect1d(mine.start, ref.start, return_indices=True)
    assert len(common) > 0.9 * len(mine)
    for col in ("open", "high", "low", "close"):
        assert np.array_equal(getattr(mine, col)[i], getattr(ref, col)[j]), col
    assert np.allclose(mine.volume[i], ref.volume[j], rtol=1e-9, atol=1e-6)


def test_real_bybit_1h_file_gap_is_found(shared_data: Path) -> None:
    """BTCUSDT_60.csv (11 months) has one 2-hour step: only the contiguous part after it is used."""
    a = load_bybit_ms(shared_data / "bybit" / "btcusdt-15m-1h-4h-1d-1w" / "BTCUSDT_60.csv")
    gap_at = int(np.flatnonzero(np.diff(a.start) != H)[0]) + 1
    p = prepare_candles(a, H, _end(a), 2.0)
    assert p.problems == ("gap",)
    assert len(p.arrays) == len(a) - gap_at
    assert np.all(np.diff(p.arrays.start) == H)
