"""Loaders on small hand-made files: every kind of dirt is fixed and reported, or rejected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from asym.domain import Category, Interval
from asym.errors import DataError
from asym.market.loaders import DirtyDataError, load_funding, load_klines, load_klines_array
from asym.market.quality import QualityKind

H = 3_600_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % H
D = Decimal


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def bars(n: int, start: int = T0, step: int = H) -> list[str]:
    """n consistent hourly rows 'ts,open,high,low,close,volume' drifting upwards."""
    out = []
    for i in range(n):
        o = 100 + i
        out.append(f"{start + i * step},{o},{o + 2},{o - 1},{o + 1},{10 + i}")
    return out


def test_clean_csv_loads_exactly(tmp_path: Path) -> None:
    p = write(
        tmp_path, "BTCUSDT_60.csv", "timestamp,open,high,low,close,volume\n" + "\n".join(bars(5)) + "\n"
    )
    candles, r = load_klines(p, on_dirty="reject")
    assert [c.start for c in candles] == [T0 + i * H for i in range(5)]
    c0 = candles[0]
    assert (c0.symbol, c0.interval, c0.open, c0.high, c0.low, c0.close, c0.volume) == (
        "BTCUSDT",
        Interval.H1,
        D("100"),
        D("102"),
        D("99"),
        D("101"),
        D("10"),
    )
    assert c0.turnover == (D(10) * (D(102) + D(99) + D(101)) / 3).quantize(D("0.00000001"))
    assert r.estimated_fields == ("turnover",)
    assert (r.rows_read, r.rows_loaded, r.dirty, r.missing_starts) == (5, 5, False, [])


def test_headerless_bybit_order_with_turnover(tmp_path: Path) -> None:
    rows = [f"{T0 + i * 60_000},1.5,2,1,1.75,3,4.5" for i in range(3)]
    candles, r = load_klines(write(tmp_path, "x.csv", "\n".join(rows)), symbol="SOLUSDT")
    assert r.layout == "bybit-kline-order" and r.estimated_fields == ()
    assert candles[0].turnover == D("4.5") and candles[0].interval is Interval.M1


def test_jesse_column_order_is_read_by_name(tmp_path: Path) -> None:
    text = "timestamp_ms,open,close,high,low,volume\n" + f"{T0},10,12,13,9,1\n{T0 + H},12,11,12.5,10.5,1\n"
    candles, r = load_klines(write(tmp_path, "j.csv", text), symbol="ETHUSDT")
    assert (candles[0].open, candles[0].high, candles[0].low, candles[0].close) == (D(10), D(13), D(9), D(12))
    assert r.invalid_rows_dropped == 0


DIRTY = """unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount
{t4},2023-11-14 23:00:00,BTC/USDT,104.0,106,103,105,1,105,7
{t3s}.0,2023-11-14 10-PM,BTC/USDT,103,105,102,104,1,104,NULL
{t3},2023-11-14 22:00:00,BTC/USDT,103.5,105,102,104,1,104,9
{t1s}.0,2023-11-14 08-PM,BTC/USDT,101,103,100,102,1,nan,NULL
{t0s}.0,2023-11-14 02-PM,BTC/USDT,100,102,99,101,1,101,NULL
garbage,x,BTC/USDT,1,1,1,1,1,1,1
"""


def dirty_file(tmp: Path) -> Path:
    t = [T0 + i * H for i in range(5)]
    return write(
        tmp,
        "Binance_BTCUSDT_1h.csv",
        DIRTY.format(t4=t[4], t3=t[3], t3s=t[3] // 1000, t1s=t[1] // 1000, t0s=t[0] // 1000),
    )


def test_dirty_file_is_cleaned_with_a_report(tmp_path: Path) -> None:
    candles, r = load_klines(dirty_file(tmp_path))
    assert [c.start for c in candles] == [T0, T0 + H, T0 + 3 * H, T0 + 4 * H]  # ascending, unique
    assert r.symbol == "BTCUSDT" and r.interval == "60"
    assert (r.seconds_timestamps, r.millisecond_timestamps) == (3, 2) and r.mixed_units
    assert (r.duplicates_removed, r.duplicate_conflicts) == (1, 1)
    assert candles[2].open == D("103.5")  # the ms-stamped duplicate wins over the seconds one
    assert r.reversed_order and r.out_of_order_rows == 0
    assert r.unparseable_rows == 1 and "garbage" in r.unparseable_examples[0]
    assert r.date_column == "date" and r.twelve_hour_dates == 3
    assert r.date_mismatches == 1  # '2023-11-14 02-PM' is not the unix time of that row (10 PM was meant)
    assert r.values_estimated == 1  # the NaN 'Volume USDT' was estimated from volume x typical price
    assert candles[1].turnover == (D(1) * (D(103) + D(100) + D(102)) / 3).quantize(D("0.00000001"))
    assert r.missing_starts == [T0 + 2 * H]
    assert r.dirty and len(r.problems) == 6  # unparseable, units, duplicates, order, dates, estimate
    assert "duplicate" in r.summary() and "gaps: 1 missing" in r.summary()


def test_dirty_file_is_rejected_on_request(tmp_path: Path) -> None:
    with pytest.raises(DirtyDataError) as exc:
        load_klines(dirty_file(tmp_path), on_dirty="reject")
    assert isinstance(exc.value, DataError)
    assert exc.value.report.duplicates_removed == 1
    assert "duplicate timestamps removed" in str(exc.value)


def test_invalid_rows_are_dropped_and_reported(tmp_path: Path) -> None:
    rows = bars(4)
    rows[1] = f"{T0 + H},101,100,99,101.5,1"  # high < open and close
    rows[2] = f"{T0 + 2 * H},0,103,99,101,1"  # zero open
    candles, r = load_klines(
        write(tmp_path, "BTCUSDT.csv", "ts,open,high,low,close,volume\n" + "\n".join(rows))
    )
    assert [c.start for c in candles] == [T0, T0 + 3 * H]
    assert r.invalid_rows_dropped == 2 and r.dirty
    kinds = {e.kind for e in r.events}
    assert {QualityKind.OHLC_INCONSISTENT, QualityKind.ZERO_PRICE} <= kinds
    assert r.missing_starts == [T0 + H, T0 + 2 * H]


def test_still_open_bar_is_dropped_given_now(tmp_path: Path) -> None:
    p = write(tmp_path, "BTCUSDT.csv", "timestamp,open,high,low,close,volume\n" + "\n".join(bars(3)))
    candles, r = load_klines(p, now_ms=T0 + 3 * H - 1)
    assert len(candles) == 2 and r.open_bars_dropped == 1 and not r.dirty
    candles, r = load_klines(p, now_ms=T0 + 3 * H)  # exactly at the close: the bar is complete
    assert len(candles) == 3 and r.open_bars_dropped == 0


def test_quote_volume_file_and_outlier_drop(tmp_path: Path) -> None:
    rows = bars(60)
    rows[30] = f"{T0 + 30 * H},130,900,129,131,40"  # an absurd upper wick
    p = write(tmp_path, "BTCUSDT.csv", "timestamp,open,high,low,close,volume\n" + "\n".join(rows))
    candles, r = load_klines(p, volume_is="quote")
    assert r.estimated_fields == ("volume",) and candles[0].turnover == D(10)
    assert r.outliers_flagged == 1 and len(candles) == 60 and not r.dirty
    assert [e.field for e in r.events if e.kind is QualityKind.OUTLIER] == ["high"]
    kept, r2 = load_klines(p, outliers="drop")
    assert len(kept) == 59 and r2.outliers_dropped == 1 and T0 + 30 * H not in {c.start for c in kept}


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_klines(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="cannot find column"):
        load_klines(write(tmp_path, "a.csv", "timestamp,open,close\n1,2,3\n"))
    with pytest.raises(DataError, match="symbol"):
        load_klines(
            write(tmp_path, "noname.csv", "timestamp,open,high,low,close,volume\n" + "\n".join(bars(3)))
        )
    with pytest.raises(DataError, match="no Bybit kline interval"):
        load_klines(
            write(
                tmp_path,
                "BTCUSDT.csv",
                "timestamp,open,high,low,close,volume\n" + "\n".join(bars(3, step=3 * H)),
            )
        )
    with pytest.raises(DataError, match="not the 1 interval"):
        load_klines(
            write(tmp_path, "BTCUSDT.csv", "timestamp,open,high,low,close,volume\n" + "\n".join(bars(3))),
            interval=Interval.M1,
        )
    with pytest.raises(DataError, match="several symbols"):
        load_klines(
            write(
                tmp_path,
                "m.csv",
                f"timestamp,symbol,open,high,low,close,volume\n{T0},A,1,1,1,1,1\n{T0 + H},B,1,1,1,1,1\n",
            )
        )
    with pytest.raises(DataError, match="empty file"):
        load_klines(write(tmp_path, "e.csv", ""))


def test_mixed_iso_and_unit_timestamps(tmp_path: Path) -> None:
    rows = [
        "2023-11-14 22:00:00+00:00,1,2,0.5,1.5,1",
        f"{(T0 + H) * 1000},1,2,0.5,1.5,1",
    ]  # ISO and microseconds
    start = 1_699_999_200_000
    assert start == T0  # 2023-11-14 22:00 UTC
    _, r = load_klines(
        write(tmp_path, "BTCUSDT.csv", "time,open,high,low,close,volume\n" + "\n".join(rows)),
        interval=Interval.H1,
    )
    assert (r.iso_timestamps, r.microsecond_timestamps, r.mixed_units, r.rows_loaded) == (1, 1, True, 2)


def test_parquet_with_venue_and_coin(tmp_path: Path) -> None:
    ts = [T0 + i * H for i in range(4)]
    table = pa.table(
        {
            "timestamp": pa.array(ts * 2, pa.timestamp("ms", tz="UTC")),
            "venue": ["bybit"] * 4 + ["okx"] * 4,
            "coin": ["BTC"] * 4 + ["BTC"] * 4,
            "o": [100.0, 101.0, 102.0, 103.0] * 2,
            "h": [101.5, 102.5, 103.5, 104.5] * 2,
            "l": [99.25, 100.25, 101.25, 102.25] * 2,
            "c": [101.0, 102.0, 103.0, 103.1] * 2,
            "v": [0.1, 0.2, 0.3, 0.001] * 2,
        }
    )
    p = tmp_path / "candles.parquet"
    pq.write_table(table, p)
    candles, r = load_klines(p, venue="bybit", coin="BTC")
    assert (
        r.symbol == "BTCUSDT" and r.open_bars_dropped == 1 and len(candles) == 3
    )  # venue's last bar was open
    assert candles[1].volume == D("0.2") and candles[0].low == D("99.25")  # doubles read at their precision
    candles, _ = load_klines(p, venue="bybit", coin="BTC", drop_last_open=False)
    assert len(candles) == 4
    with pytest.raises(DataError, match="several venues"):
        load_klines(p, coin="BTC")


def test_numpy_arrays(tmp_path: Path) -> None:
    p = write(tmp_path, "BTCUSDT.csv", "timestamp,open,high,low,close,volume\n" + "\n".join(bars(4)))
    arr, r = load_klines_array(p, category=Category.LINEAR)
    assert arr.start.tolist() == [T0 + i * H for i in range(4)]
    assert arr.close.tolist() == [101.0, 102.0, 103.0, 104.0] and r.rows_loaded == 4


def test_funding_csv(tmp_path: Path) -> None:
    text = (
        "timestamp,symbol,funding_rate\n"
        f"{T0 + 8 * H},BTCUSDT,0.0001\n{T0},BTCUSDT,-0.00002245\n{T0},BTCUSDT,-0.00002245\n"
        f"{T0 + 16 * H},BTCUSDT,0.9\n"
    )
    rates, r = load_funding(write(tmp_path, "f.csv", text))
    assert [(f.ts, f.rate) for f in rates] == [(T0, D("-0.00002245")), (T0 + 8 * H, D("0.0001"))]
    assert r.duplicates_removed == 1 and r.invalid_rows_dropped == 1  # 0.9 per interval is out of range
    with pytest.raises(DirtyDataError):
        load_funding(write(tmp_path, "f.csv", text), on_dirty="reject")
