"""Loading history: kline files and folders (through the project's loaders), funding found beside them,
the DuckDB store, and the shared multi-venue set; bad input gets a clear error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from asym.backtest.data import MarketData, load_data, load_files, parse_time, trim
from asym.domain import Interval
from asym.errors import ConfigError, DataError

from .conftest import DAY, HOUR, T0, synthetic

D = Decimal


def _csv(path: Path, rows: list[tuple[int, str, str, str, str, str]]) -> None:
    lines = ["timestamp,open,high,low,close,volume"] + [",".join(str(x) for x in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def _rows(n: int, start: int = T0) -> list[tuple[int, str, str, str, str, str]]:
    return [(start + i * HOUR, "100.0", "102.5", "99.5", f"{100 + i % 3}.0", "12.5") for i in range(n)]


def test_parse_time_accepts_dates_iso_and_epoch_and_rejects_junk() -> None:
    assert parse_time("2025-06-01") == T0
    assert parse_time("2025-06-01T02:00") == T0 + 2 * HOUR
    assert parse_time("2025-06-01 04:00:00+02:00") == T0 + 2 * HOUR
    assert parse_time(str(T0)) == T0
    with pytest.raises(ConfigError, match="not a date"):
        parse_time("yesterday")


def test_folder_of_files_with_funding_subfolder(tmp_path: Path) -> None:
    _csv(tmp_path / "BTCUSDT_60.csv", _rows(48))
    _csv(tmp_path / "ETHUSDT_60.csv", _rows(30))
    (tmp_path / "funding").mkdir()
    (tmp_path / "funding" / "BTCUSDT.csv").write_text(
        "timestamp,symbol,funding_rate\n"
        f"{T0 + 8 * HOUR},BTCUSDT,0.00012345\n{T0 + 16 * HOUR},BTCUSDT,-0.0000501\n"
    )
    data = load_files(tmp_path, ["BTCUSDT", "ETHUSDT"])
    btc, eth = data["BTCUSDT"], data["ETHUSDT"]
    assert data.names == ["BTCUSDT", "ETHUSDT"]
    assert btc.interval is Interval.H1 and len(btc.candles) == 48 and len(eth.candles) == 30
    assert [f.rate for f in btc.funding] == [Decimal("0.00012345"), Decimal("-0.0000501")]
    assert eth.funding == ()
    # exact values kept, float columns beside them
    assert btc.candles[1].close == Decimal("101.0") and btc.arrays.close[1] == 101.0
    assert btc.closed_count(T0 + HOUR) == 1 and btc.closed_count(T0 + HOUR - 1) == 0
    assert btc.funding_upto(T0 + 8 * HOUR) == 1
    # every symbol found when none is named
    assert load_files(tmp_path, None).names == ["BTCUSDT", "ETHUSDT"]


def test_dirty_file_is_cleaned_and_reported(tmp_path: Path) -> None:
    rows = _rows(10)
    dirty = [*reversed(rows), rows[3]]  # newest first, one duplicate
    _csv(tmp_path / "SOLUSDT_60.csv", dirty)
    data = load_files(tmp_path / "SOLUSDT_60.csv", ["SOLUSDT"])
    assert [c.start for c in data["SOLUSDT"].candles] == [r[0] for r in rows]
    (report,) = data.reports
    assert report.reversed_order is False and report.duplicates_removed == 1


def test_missing_symbol_path_and_bad_rows_give_clear_errors(tmp_path: Path) -> None:
    _csv(tmp_path / "BTCUSDT_60.csv", _rows(5))
    with pytest.raises(DataError, match="no candles found for XRPUSDT"):
        load_files(tmp_path, ["XRPUSDT"])
    with pytest.raises(ConfigError, match="no such file or folder"):
        load_files(tmp_path / "nope", ["BTCUSDT"])
    _csv(tmp_path / "ADAUSDT_60.csv", _rows(1))
    with pytest.raises(DataError, match="ADAUSDT"):
        load_files(tmp_path, ["ADAUSDT"])


def test_trim_keeps_the_window() -> None:
    data = MarketData({"BTCUSDT": synthetic(start=T0, n=48)})
    t = trim(data, T0 + 10 * HOUR, T0 + 20 * HOUR)
    s = t["BTCUSDT"]
    assert [c.start for c in s.candles] == [T0 + h * HOUR for h in range(10, 20)]
    assert all(T0 + 10 * HOUR <= f.ts <= T0 + 20 * HOUR for f in s.funding)
    with pytest.raises(DataError, match="fewer than two candles"):
        trim(data, T0 + 100 * DAY, None)


async def test_duckdb_store_as_source(tmp_path: Path) -> None:
    from asym.store import Store, StoreConfig

    s = synthetic(start=T0, n=72)
    db = tmp_path / "asym.duckdb"
    store = await Store.open(StoreConfig(path=str(db)))
    try:
        await store.write_candles(list(s.candles))
        await store.write_funding(list(s.funding))
    finally:
        await store.close()
    data = await load_data(db, ["BTCUSDT"], start_ms=T0 + 24 * HOUR, end_ms=T0 + 48 * HOUR)
    got = data["BTCUSDT"]
    assert [c.start for c in got.candles] == [T0 + h * HOUR for h in range(24, 48)]
    assert [(c.open, c.close) for c in got.candles] == [(c.open, c.close) for c in s.candles[24:48]]
    assert [f.ts for f in got.funding] == [
        f.ts for f in s.funding if T0 + 24 * HOUR <= f.ts <= T0 + 48 * HOUR
    ]
    with pytest.raises(ConfigError, match="needs --symbols"):
        await load_data(db, None)


def test_shared_multi_venue_set_loads_bybit_rows_with_exact_funding(multi_venue: MarketData) -> None:
    btc = multi_venue["BTCUSDT"]
    assert btc.interval is Interval.H1
    assert 8730 <= len(btc.candles) <= 8736  # a year of hourly bars (the loader drops the venue's open bar)
    assert len(btc.funding) == 1092
    assert (btc.funding[0].ts, btc.funding[0].rate) == (1741449600000, Decimal("0.00001288"))
    assert btc.first_ms == parse_time("2025-03-06T11:00")


async def test_what_a_store_recorded_reaches_the_inputs_up_to_t_only(tmp_path: Path) -> None:
    from asym.analytics import DEFAULT_CONFIG, compute_enhanced
    from asym.backtest.bars import BarMarket
    from asym.backtest.inputs import SymbolFeed, analytics_config_for, inputs_at
    from asym.domain import Liquidation, LongShortRatio, OpenInterest, Side
    from asym.store import Store, StoreConfig

    s = synthetic(start=T0 - 10 * DAY, n=24 * 12)
    oi = [
        OpenInterest(symbol="BTCUSDT", open_interest=D(50_000 + i), ts=T0 - 60 * HOUR + i * HOUR)
        for i in range(90)
    ]
    ls = [
        LongShortRatio(
            symbol="BTCUSDT", buy_ratio=D("0.6"), sell_ratio=D("0.4"), ts=T0 - 60 * HOUR + i * HOUR
        )
        for i in range(90)
    ]
    liq = [
        Liquidation(
            symbol="BTCUSDT", side=Side.BUY, price=D("50000.0"), size=D("0.5"), ts=T0 - HOUR + i * 600_000
        )
        for i in range(12)
    ]
    db = tmp_path / "rec.duckdb"
    store = await Store.open(StoreConfig(path=str(db)))
    try:
        await store.write_candles(list(s.candles))
        await store.write_open_interest(oi)
        await store.write_long_short(ls)
        await store.write_liquidations(liq)
    finally:
        await store.close()
    data = await load_data(db, ["BTCUSDT"], start_ms=T0 - 10 * DAY, end_ms=T0 + 2 * DAY)
    got = data["BTCUSDT"]
    assert got.open_interest is not None and len(got.open_interest) == 90 and got.liquidations is not None
    cfg = analytics_config_for(got.interval, DEFAULT_CONFIG)
    feed = SymbolFeed.build(got, cfg)
    o, r, x = feed.recorded_at(T0)
    assert o is not None and r is not None and x is not None
    assert len(o) == 48 and o[-1].ts == T0 and all(p.ts <= T0 for p in o)
    assert [p.ts for p in x] == [q.ts for q in liq if T0 - HOUR < q.ts <= T0]
    m = BarMarket(data, T0)
    m.advance(T0, [])
    e = compute_enhanced(inputs_at(feed, m, T0), cfg)
    assert e.oi_sentiment is not None and e.nearby_liquidations is not None
    assert not any(
        f.startswith(("oi_history_missing", "ls_ratio_missing", "liquidations_missing"))
        for f in e.quality_flags
    )
    # a file source records none of them: None, and the enhanced data says so
    plain = SymbolFeed.build(synthetic(start=T0 - 10 * DAY, n=24 * 12), cfg)
    assert plain.recorded_at(T0) == (None, None, None)
