"""The loaders on every shared real data set (../shared/data; skipped when absent).

Counts are the ones ../shared/data/README.md gives, verified against the files.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from asym.domain import Interval
from asym.errors import DataError
from asym.market.loaders import DirtyDataError, load_funding, load_klines
from asym.market.quality import QualityKind
from asym.market.validation import cross_validate

pytestmark = pytest.mark.shared_data
D = Decimal


def _assert_series(candles: list, interval: Interval) -> None:
    starts = [c.start for c in candles]
    assert starts == sorted(set(starts)), "strictly ascending, unique"
    assert all(c.interval is interval for c in candles)


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"])
def test_bybit_linear_1m(shared_data: Path, symbol: str) -> None:
    candles, r = load_klines(shared_data / f"bybit/linear-1m/{symbol}_1m.csv", on_dirty="reject")
    assert len(candles) == 43_200 and r.rows_read == 43_200
    assert r.symbol == symbol and r.interval == "1" and r.iso_timestamps == 43_200
    assert r.missing_starts == [] and not r.dirty and r.estimated_fields == ("turnover",)
    _assert_series(candles, Interval.M1)
    if (
        symbol == "BTCUSDT"
    ):  # first row: 2025-05-30 16:39:00+00:00,104217.5,104402.7,104200.0,104337.8,477.605
        c = candles[0]
        assert (c.start, c.open, c.high, c.low, c.close, c.volume) == (
            1_748_623_140_000,
            D("104217.5"),
            D("104402.7"),
            D("104200.0"),
            D("104337.8"),
            D("477.605"),
        )


@pytest.mark.parametrize(
    ("name", "interval", "rows"),
    [
        ("BTCUSDT_5m", Interval.M5, 25_920),
        ("ETHUSDT_15m", Interval.M15, 8_640),
        ("ADAUSDT_60m", Interval.H1, 720),
        ("DOGEUSDT_240m", Interval.H4, 180),
    ],
)
def test_bybit_linear_multi_interval(shared_data: Path, name: str, interval: Interval, rows: int) -> None:
    candles, r = load_klines(shared_data / f"bybit/linear-5m-15m-60m-240m/{name}.csv", on_dirty="reject")
    assert len(candles) == rows and r.missing_starts == []
    _assert_series(candles, interval)


def test_bybit_alts_ms_plus_local_datetime(shared_data: Path) -> None:
    files = sorted((shared_data / "bybit/linear-alts-5m-1h").glob("*USDT_*.csv"))
    assert len(files) == 12
    for f in files:
        interval = Interval.M5 if f.stem.endswith("_5") else Interval.H1
        candles, r = load_klines(f, on_dirty="reject")
        expected = {Interval.M5: (25_922, 25_923), Interval.H1: (2_160,)}[interval]
        assert len(candles) in expected, f.name
        assert r.millisecond_timestamps == len(candles) and r.missing_starts == []
        # the datetime column is local time two hours ahead of the ms column: a zone, not dirt
        assert r.date_column == "datetime" and r.date_offset_hours == 2.0 and r.date_mismatches == 0
        _assert_series(candles, interval)


def test_btcusdt_turnover_volume_set(shared_data: Path) -> None:
    base = shared_data / "bybit/btcusdt-15m-1h-4h-1d-1w"
    expect = {
        "15": (Interval.M15, 28_191, 261),
        "60": (Interval.H1, 7_861, 1),
        "240": (Interval.H4, 2_715, 0),
        "D": (Interval.D1, 1_591, 0),
        "W": (Interval.W1, 334, 0),
    }
    for name, (interval, rows, missing) in expect.items():
        candles, r = load_klines(base / f"BTCUSDT_{name}.csv", on_dirty="reject")
        assert (len(candles), len(r.missing_starts)) == (rows, missing), name
        assert r.estimated_fields == ("volume",)  # the file's volume column is USDT turnover
        _assert_series(candles, interval)
        if name == "60":
            assert r.missing_starts == [1_769_572_800_000]  # 2026-01-28 04:00 UTC, the README's one gap
            assert candles[0].turnover == D("301264906.0397") and candles[0].volume < 3000


def test_multi_venue_parquet_drops_the_open_bar(shared_data: Path) -> None:
    p = shared_data / "bybit/multi-venue-1h-funding/candles.parquet"
    for coin, rows, dropped in (("BTC", 8_736, 0), ("SOL", 8_735, 1)):
        candles, r = load_klines(p, venue="bybit", coin=coin, on_dirty="reject")
        assert (len(candles), r.open_bars_dropped, r.symbol) == (rows, dropped, f"{coin}USDT")
        assert r.missing_starts == []
        _assert_series(candles, Interval.H1)
    with pytest.raises(DataError, match="several venues"):
        load_klines(p, coin="BTC")


def test_multi_venue_cross_source_validation(shared_data: Path) -> None:
    p = shared_data / "bybit/multi-venue-1h-funding/candles.parquet"
    bybit, _ = load_klines(p, venue="bybit", coin="BTC")
    binance, _ = load_klines(p, venue="binance", coin="BTC")
    other = {c.start: c.close for c in binance}
    pairs = [(c.start, c.close, other[c.start]) for c in bybit if c.start in other]
    assert len(pairs) == 8_736
    events = [e for s, a, b in pairs for e in cross_validate("BTCUSDT", s, {"bybit": a, "binance": b})]
    # the same perpetual on two venues closes within 1 % every hour of the year
    assert events == []


@pytest.mark.parametrize("frame", ["1h", "4h", "1d"])
def test_binance_um_10_symbols(shared_data: Path, frame: str) -> None:
    files = sorted((shared_data / "binance/um-10-symbols/data" / frame).glob("*.csv"))
    assert len(files) == 10
    interval = {"1h": Interval.H1, "4h": Interval.H4, "1d": Interval.D1}[frame]
    for f in files:
        candles, r = load_klines(f, on_dirty="reject")
        assert len(candles) == {"1h": 4_500, "4h": 4_500, "1d": 800}[frame], f.name
        assert r.estimated_fields == () and r.missing_starts == []  # turnover is the quote_volume column
        _assert_series(candles, interval)


def test_jesse_candles(shared_data: Path) -> None:
    files = sorted((shared_data / "indicators/jesse-candles").glob("*.csv"))
    assert len(files) == 21
    loaded = 0
    for f in files:
        try:
            candles, r = load_klines(f, symbol="BTCUSDT", on_dirty="reject")
        except DataError as e:  # two files are 3h candles, which Bybit (and asym's Interval) does not have
            assert f.name in ("test_candles_3.csv", "test_candles_4.csv") and "10800000 ms apart" in str(e)
            continue
        loaded += 1
        assert r.invalid_rows_dropped == 0, f.name  # a misread column order would break OHLC consistency
    assert loaded == 19
    candles, _ = load_klines(shared_data / "indicators/jesse-candles/test_candles_btc.csv", symbol="BTCUSDT")
    c = candles[
        0
    ]  # timestamp_ms,open,close,high,low,volume: 1673764980000,20738.14,20742.16,20746.14,20736.77
    assert (c.open, c.close, c.high, c.low) == (D("20738.14"), D("20742.16"), D("20746.14"), D("20736.77"))


def test_funding_rates(shared_data: Path) -> None:
    p = shared_data / "bybit/multi-venue-1h-funding/funding_rates.parquet"
    for coin in ("BTC", "ETH", "SOL", "DOGE", "HYPE"):
        rates, r = load_funding(p, venue="bybit", coin=coin, on_dirty="reject")
        assert len(rates) == 1_092 and r.symbol == f"{coin}USDT"
        assert all(b.ts - a.ts == 8 * 3_600_000 for a, b in pairwise(rates))
    rates, _ = load_funding(shared_data / "binance/um-10-symbols/data/funding/BTCUSDT.csv", on_dirty="reject")
    assert len(rates) == 200 and rates[0].rate == D("0.00004650")


# ---------------------------------------------------------------- the dirty set


@pytest.fixture(scope="module")
def dirty_btc(shared_data: Path) -> tuple:
    return load_klines(shared_data / "dirty/binance-spot-1h-2017-2021/Binance_BTCUSDT_1h.csv")


def test_dirty_btc_report(dirty_btc: tuple) -> None:
    candles, r = dirty_btc
    assert r.rows_read == 36_062
    assert (r.seconds_timestamps, r.millisecond_timestamps) == (28_584, 7_478) and r.mixed_units
    assert r.duplicates_removed == 2_649  # the README's figure, verified
    assert (
        r.duplicate_conflicts == 2_649
    )  # the s-stamped copies are rounded re-exports: volumes always differ
    assert r.reversed_order and r.out_of_order_rows == 0
    assert (r.date_column, r.twelve_hour_dates, r.date_mismatches) == ("date", 28_584, 91)
    assert r.rows_loaded == len(candles) == 33_413
    assert len(r.missing_starts) == 16
    assert r.dirty and r.unparseable_rows == 0 and r.invalid_rows_dropped == 0
    _assert_series(candles, Interval.H1)


def test_dirty_btc_keeps_the_precise_duplicate_and_flags_the_bad_first_print(dirty_btc: tuple) -> None:
    candles, r = dirty_btc
    by_start = {c.start: c for c in candles}
    # 1605855600: ms row close 18212.00000000 (kept) vs seconds row close 18143.03 (a rounded re-export)
    assert by_start[1_605_855_600_000].close == D("18212")
    first = candles[0]
    assert first.start == 1_502_942_400_000 and first.open == D("16199.91")
    outliers = [(e.ts, e.field) for e in r.events if e.kind is QualityKind.OUTLIER]
    assert outliers == [(1_502_942_400_000, "open")]


def test_dirty_sets_are_rejected_on_request(shared_data: Path) -> None:
    base = shared_data / "dirty/binance-spot-1h-2017-2021"
    with pytest.raises(DirtyDataError) as exc:
        load_klines(base / "Binance_ETHUSDT_1h.csv", on_dirty="reject")
    r = exc.value.report
    assert r.duplicates_removed == 2_649 and r.values_estimated == 1  # one 'nan' Volume USDT
    assert {(e.ts, e.field) for e in r.events if e.kind is QualityKind.OUTLIER} == {
        (1_502_942_400_000, "open"),  # 652.74 open, then trading near 300
        (1_503_374_400_000, "low"),  # a 144.21 low in a 280-309 hour
    }
    daily, rd = load_klines(base / "Binance_BTCUSDT_d.csv")
    assert (rd.rows_read, rd.duplicates_removed, len(daily), rd.reversed_order) == (1_396, 1, 1_395, True)
