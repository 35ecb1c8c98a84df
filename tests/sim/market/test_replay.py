"""Replay of recorded klines: every shared format loads, source candles survive 1m expansion and
re-aggregation exactly, the live market follows the recording, and bad files get clear errors."""

from __future__ import annotations

import csv
import itertools
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from asym.domain import Interval
from asym.errors import DataError
from asym.sim.config import SimConfig
from asym.sim.market import Market, default_start_ms
from asym.sim.market.replay import expand_candle, load_replay
from asym.sim.types import KlineRow, PriceKind

MINUTE = 60_000


Row = tuple[int, str, str, str, str, str]


def _csv_rows(path: Path) -> list[Row]:
    """(start ms, open, high, low, close, volume) of a shared CSV (ISO or ms time, optional datetime)."""
    out = []
    with path.open() as f:
        rows = csv.reader(f)
        header = next(rows)
        o = header.index("open")
        for r in rows:
            ts = r[0]
            start = int(ts) if ts.isdigit() else int(datetime.fromisoformat(ts).timestamp() * 1000)
            out.append((start, r[o], r[o + 1], r[o + 2], r[o + 3], r[o + 4]))
    return out


def _klines(m: Market, symbol: str, interval: Interval, start: int, limit: int) -> list[KlineRow]:
    rows = m.klines(symbol, interval, start, None, limit, PriceKind.TRADE)
    return sorted((r for r in rows if isinstance(r, KlineRow)), key=lambda r: r.start)


def _assert_same_prices(
    m: Market, symbol: str, got: list[KlineRow], want: list[tuple[int, str, str, str, str, str]]
) -> None:
    inst = m.instrument(symbol)
    assert [k.start for k in got] == [w[0] for w in want]
    for k, w in zip(got, want, strict=True):
        assert (k.open, k.high, k.low, k.close) == tuple(inst.price.to_int(x) for x in w[1:5]), (k, w)


@pytest.mark.shared_data
def test_bybit_1m_csv_replays_exactly(shared_data: Path) -> None:
    path = shared_data / "bybit" / "linear-1m" / "BTCUSDT_1m.csv"
    rows = _csv_rows(path)
    m = Market(SimConfig(replay=path, history_days=10), 0)
    assert [i.symbol for i in m.instruments()] == ["BTCUSDT"]
    assert m.start_ms == rows[0][0] + 10 * 86_400_000  # the first minute after the history
    got = _klines(m, "BTCUSDT", Interval.M1, rows[0][0], 1000)
    _assert_same_prices(m, "BTCUSDT", got, rows[:1000])
    inst = m.instrument("BTCUSDT")
    assert all(k.volume == Decimal(w[5]) for k, w in zip(got, rows[:1000], strict=True))
    # Live: trades follow the recording; completed minutes equal the recorded candles.
    m.ticker("BTCUSDT")
    trades = []
    for step in range(1, 11):
        trades += m.advance(m.start_ms + step * MINUTE).trades
    assert trades
    i0 = next(i for i, r in enumerate(rows) if r[0] == m.start_ms)
    live = _klines(m, "BTCUSDT", Interval.M1, m.start_ms, 9)
    _assert_same_prices(m, "BTCUSDT", live, rows[i0 : i0 + 9])
    for row, w in zip(live, rows[i0 : i0 + 9], strict=True):
        in_minute = [t for t in trades if row.start <= t.ts < row.start + MINUTE]
        assert inst.qty.to_decimal(sum(t.size for t in in_minute)) == Decimal(w[5]) == row.volume
    assert m.ticker("BTCUSDT").last == live[-1].close or m.ticker("BTCUSDT").ts >= live[-1].start + MINUTE


@pytest.mark.shared_data
def test_alt_5m_folder_expands_to_1m_and_back(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "bybit" / "linear-alts-5m-1h"
    for name in ("XRPUSDT_5.csv", "XRPUSDT_60.csv", "ARBUSDT_60.csv"):
        (tmp_path / name).symlink_to(src / name)
    m = Market(SimConfig(replay=tmp_path, history_days=20), 0)
    assert sorted(i.symbol for i in m.instruments()) == ["ARBUSDT", "XRPUSDT"]
    rows = _csv_rows(src / "XRPUSDT_5.csv")  # the finest file wins
    first = rows[0][0]
    got = _klines(m, "XRPUSDT", Interval.M5, first, 300)
    _assert_same_prices(m, "XRPUSDT", got, rows[:300])
    assert all(k.volume == Decimal(w[5]) for k, w in zip(got, rows[:300], strict=True))
    minutes = _klines(m, "XRPUSDT", Interval.M1, first, 1000)
    assert len(minutes) == 1000 and minutes[0].start == first
    for a, b in itertools.pairwise(minutes):
        assert b.start - a.start == MINUTE
        assert a.low <= min(a.open, a.close) <= max(a.open, a.close) <= a.high
    hourly = _csv_rows(src / "ARBUSDT_60.csv")
    _assert_same_prices(m, "ARBUSDT", _klines(m, "ARBUSDT", Interval.H1, hourly[0][0], 100), hourly[:100])
    assert _klines(m, "ARBUSDT", Interval.M1, hourly[0][0], 120)[59].close == m.instrument(
        "ARBUSDT"
    ).price.to_int(hourly[0][4])


@pytest.mark.shared_data
def test_btc_turnover_file_and_daily_weekly(shared_data: Path) -> None:
    d = shared_data / "bybit" / "btcusdt-15m-1h-4h-1d-1w"
    rows = _csv_rows(d / "BTCUSDT_15.csv")
    m = Market(SimConfig(replay=d / "BTCUSDT_15.csv", history_days=30), 0)
    got = _klines(m, "BTCUSDT", Interval.M15, rows[0][0], 200)
    _assert_same_prices(m, "BTCUSDT", got, rows[:200])
    # The file's "volume" is USDT turnover: the replay converts it to base coin and back.
    for k, w in zip(got, rows[:200], strict=True):
        assert float(k.turnover) == pytest.approx(float(w[5]), rel=0.02)
        assert float(k.volume) == pytest.approx(float(w[5]) / float(w[4]), rel=0.02)
    for name, interval in (("BTCUSDT_D.csv", Interval.D1), ("BTCUSDT_W.csv", Interval.W1)):
        src = _csv_rows(d / name)
        mm = Market(SimConfig(replay=d / name, history_days=400), 0)
        _assert_same_prices(mm, "BTCUSDT", _klines(mm, "BTCUSDT", interval, src[0][0], 40), src[:40])


@pytest.mark.shared_data
def test_multi_venue_parquet_picks_bybit(shared_data: Path) -> None:
    path = shared_data / "bybit" / "multi-venue-1h-funding" / "candles.parquet"
    m = Market(SimConfig(replay=path, history_days=30), 0)
    assert sorted(i.symbol for i in m.instruments()) == [
        "BTCUSDT",
        "DOGEUSDT",
        "ETHUSDT",
        "HYPEUSDT",
        "SOLUSDT",
    ]
    table = pq.read_table(path)
    t = table.filter(pc.and_(pc.equal(table["venue"], "bybit"), pc.equal(table["coin"], "ETH"))).to_pydict()
    want = sorted(
        (int(ts.timestamp() * 1000), repr(o), repr(h), repr(lo), repr(c), repr(v))
        for ts, venue, coin, o, h, lo, c, v in zip(
            t["timestamp"], t["venue"], t["coin"], t["o"], t["h"], t["l"], t["c"], t["v"], strict=True
        )
        if venue == "bybit" and coin == "ETH"
    )
    got = _klines(m, "ETHUSDT", Interval.H1, want[0][0], 150)
    _assert_same_prices(m, "ETHUSDT", got, want[:150])
    four = _klines(m, "ETHUSDT", Interval.H4, want[4][0], 5)  # re-aggregated from expanded minutes
    for k in four:
        hours = [w for w in want if k.start <= w[0] < k.start + 4 * 3_600_000]
        inst = m.instrument("ETHUSDT")
        assert k.high == max(inst.price.to_int(w[2]) for w in hours)
        assert k.low == min(inst.price.to_int(w[3]) for w in hours)


def test_expansion_keeps_ohlcv_exact() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    for minutes in (2, 3, 5, 15, 60, 240, 1440):
        for o, h, lo, c, v in (
            (1000, 1010, 990, 1005, 777),
            (500, 500, 500, 500, 0),
            (100, 130, 100, 130, 5),
        ):
            mo, mh, ml, mc, mv = expand_candle(o, h, lo, c, v, minutes, rng)
            assert mo[0] == o and mc[-1] == c and mh.max() == h and ml.min() == lo and mv.sum() == v
            assert list(mo[1:]) == list(mc[:-1])
            assert all(ml <= np.minimum(mo, mc)) and all(mh >= np.maximum(mo, mc))


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_headerless_unsorted_duplicates_gaps_seconds(tmp_path: Path) -> None:
    base = 1_700_000_040  # seconds
    rows = [
        f"{base + 60 * i},{100 + i}.5,{101 + i}.0,{99 + i}.0,{100 + i}.25,{i + 1}.5,{(i + 1) * 150}"
        for i in range(40)
    ]
    rows = rows[::-1]  # newest first
    rows.append(f"{base + 60 * 3},200.5,201.0,199.0,200.25,9.5,1900")  # duplicate of minute 3: the last wins
    del rows[10]  # a gap
    path = _write(tmp_path / "TESTUSDT_1m.csv", rows)
    rep = load_replay(path)
    rec = rep.recordings["TESTUSDT"]
    assert rec.interval_ms == MINUTE and rec.start.size == 40
    assert list(rec.start) == [(base + 60 * i) * 1000 for i in range(40)]
    assert str(rec.tick) == "0.01" and rec.close[3] == 20025
    gap = 29  # rows[10] of the reversed list was minute 29
    assert (
        rec.volume[gap] == 0
        and rec.open[gap] == rec.high[gap] == rec.low[gap] == rec.close[gap] == rec.close[gap - 1]
    )
    m = Market(SimConfig(replay=path, history_days=1), 0)
    assert m.start_ms == (base + 60 * 20) * 1000  # middle of a recording shorter than the history


def test_bad_files_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_replay(tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no \.csv or \.parquet"):
        load_replay(tmp_path / "empty")
    good = "timestamp,open,high,low,close,volume"
    with pytest.raises(DataError, match="symbol"):
        load_replay(
            _write(
                tmp_path / "prices.csv", [good, "1700000040000,1,2,0.5,1.5,3", "1700000100000,1,2,0.5,1.5,3"]
            )
        )
    with pytest.raises(DataError, match="line 3: not a number"):
        load_replay(
            _write(tmp_path / "AUSDT.csv", [good, "1700000040000,1,2,0.5,1.5,3", "1700000100000,1,2,x,1.5,3"])
        )
    with pytest.raises(DataError, match="inconsistent candle"):
        load_replay(
            _write(
                tmp_path / "BUSDT.csv", [good, "1700000040000,1,2,0.5,1.5,3", "1700000100000,1,1.2,0.5,1.5,3"]
            )
        )
    with pytest.raises(DataError, match="missing columns"):
        load_replay(_write(tmp_path / "CUSDT.csv", ["timestamp,open,close", "1700000040000,1,2"]))
    with pytest.raises(DataError, match="timestamp"):
        load_replay(
            _write(tmp_path / "DUSDT.csv", [good, "yesterday,1,2,0.5,1.5,3", "1700000100000,1,2,0.5,1.5,3"])
        )
    with pytest.raises(DataError, match="at least two"):
        load_replay(_write(tmp_path / "EUSDT.csv", [good, "1700000040000,1,2,0.5,1.5,3"]))
    with pytest.raises(DataError, match="Parquet"):
        load_replay(_write(tmp_path / "FUSDT.parquet", ["not parquet"]))


def test_replay_start_and_continuation_after_the_end(tmp_path: Path) -> None:
    t0 = 1_700_000_040_000
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(3 * 1440):
        p = 100 + (i % 50) / 10
        lines.append(f"{t0 + i * MINUTE},{p:.2f},{p + 0.3:.2f},{p - 0.3:.2f},{p + 0.1:.2f},{10 + i % 7}")
    path = _write(tmp_path / "ZZZUSDT_1m.csv", lines)
    cfg = SimConfig(replay=path, history_days=1)
    assert default_start_ms(cfg, 0) == (t0 + 1440 * MINUTE) // MINUTE * MINUTE
    end = t0 + 3 * 1440 * MINUTE
    given = end - 20 * MINUTE + 5_000
    m = Market(cfg, given)
    assert m.start_ms == given  # a start inside the recording is honoured
    assert Market(cfg, 1).start_ms == default_start_ms(cfg, 0)  # outside: the default
    # Past the recording's end the market goes on (generated, continuous from the last close).
    m.ticker("ZZZUSDT")
    m.advance(end + 30 * MINUTE)
    after = _klines(m, "ZZZUSDT", Interval.M1, end - 2 * MINUTE, 30)
    assert after[1].close == after[2].open
    assert all(k.volume > 0 for k in after)
    assert m.ticker("ZZZUSDT").last > 0
