"""End to end on real data: Bybit 1m candles resampled to 5m/1h, Bybit's real funding history, the real
XRPUSDT order-book snapshot; plus JSON serialisation and the batch path."""

from __future__ import annotations

import dataclasses
import json
import math
import zipfile
from decimal import Decimal
from pathlib import Path

import msgspec
import numpy as np
import pytest

from asym.analytics import (
    DEFAULT_CONFIG,
    AssetInputs,
    CandleArrays,
    EnhancedData,
    compute_enhanced,
    compute_enhanced_batch,
    resample_candles,
    to_json_dict,
    to_json_line,
)
from asym.analytics.bench import synthetic_inputs
from asym.domain import FundingRate, LiquidationRisk, OrderBook, Ticker
from asym.errors import DataError

from .conftest import NOW, bybit_funding, load_bybit_iso, some

MIN = 60_000
H = 60 * MIN
TICK = {"BTCUSDT": "0.1", "ETHUSDT": "0.01", "SOLUSDT": "0.01", "BNBUSDT": "0.01"}


def _real_inputs(shared_data: Path, symbol: str, now: int) -> AssetInputs:
    """AssetInputs at `now` from real 1m candles and real funding; the book is not in this data set."""
    one = load_bybit_iso(shared_data / "bybit" / "linear-1m" / f"{symbol}_1m.csv")
    one = one.take(slice(0, int(np.searchsorted(one.start, now))))  # what was known at `now`
    c5 = resample_candles(one, MIN, 5 * MIN)
    c60 = resample_candles(one, MIN, H)
    day = one.take(slice(-1440, None))
    last = Decimal(repr(float(one.close[-1])))
    tick = Decimal(TICK[symbol])
    ts, rates = bybit_funding(
        shared_data / "bybit" / "multi-venue-1h-funding" / "funding_rates.parquet", symbol[:-4]
    )
    settled = ts <= now
    history = [
        FundingRate(symbol=symbol, rate=Decimal(repr(float(r))), ts=int(t))
        for t, r in zip(ts[settled][-90:], rates[settled][-90:], strict=True)
    ]
    ticker = Ticker(
        symbol=symbol,
        ts=now - 1_000,
        last_price=last,
        mark_price=last,
        bid1_price=last - tick,
        ask1_price=last,
        volume_24h=Decimal(repr(float(day.volume.sum()))),
        turnover_24h=Decimal(repr(round(float(np.dot(day.volume, day.close)), 2))),
        # the last settled rate stands in for the predicted one; BNB is not in the funding data set
        funding_rate=history[-1].rate if history else None,
        funding_interval_hours=8,
    )
    return AssetInputs(
        symbol=symbol,
        now_ms=now,
        ticker=ticker,
        candles={"5": c5.take(slice(-288, None)), "60": c60.take(slice(-200, None))},
        funding_history=history[:-1] or None,
        liquidations=[],
    )


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"])
def test_real_candles_and_funding_give_values_in_range(shared_data: Path, symbol: str) -> None:
    one = load_bybit_iso(shared_data / "bybit" / "linear-1m" / f"{symbol}_1m.csv")
    first_hour = int(one.start[0]) - int(one.start[0]) % H + H
    # every 2 days over the month, once the 200 hours of warm-up exist
    for now in range(first_hour + 201 * H, int(one.start[-1]), 48 * H):
        d = compute_enhanced(_real_inputs(shared_data, symbol, now + 30_000))
        expected = {"book_missing", "oi_history_missing", "ls_ratio_missing"}
        if symbol == "BNBUSDT":
            expected |= {"funding_rate_missing", "funding_history_missing"}
        assert set(d.quality_flags) == expected, d.quality_flags
        ti = d.technical_indicators
        assert ti is not None and ti.interval == "60"
        assert 5 < some(ti.rsi_14) < 95
        assert 0 < some(ti.atr_pct) < 5  # hourly ATR of a major, % of price
        assert 0.02 < some(ti.realized_vol_1h) < 3.0 and 0.02 < some(ti.realized_vol_24h) < 3.0
        assert 0 < some(ti.bb_width) < 0.5
        assert ti.ema_trend in ("UP", "DOWN", "FLAT")
        assert 0 < some(d.spread_pct) < 0.05
        assert some(d.nearby_liquidations).count == 0
        fs = d.funding_sentiment
        if symbol == "BNBUSDT":  # no crowding input at all: the risk bucket is unknown, not LOW
            assert fs is None and d.liquidation_risk is None
        else:
            assert fs is not None and fs.zscore is not None and math.isfinite(fs.zscore)
            assert abs(fs.annualized_pct) < 100
            assert d.liquidation_risk in (LiquidationRisk.LOW, LiquidationRisk.MEDIUM)
        assert 0 < some(d.market_risk_score) < 1
        assert d.liquidity_score is None  # no book in this data set


def test_realized_vol_agrees_with_minute_data(shared_data: Path) -> None:
    """24h realised vol from 24 hourly returns vs from 1440 one-minute returns of the same day."""
    one = load_bybit_iso(shared_data / "bybit" / "linear-1m" / "BTCUSDT_1m.csv")
    end = int(one.start[0]) - int(one.start[0]) % H + 400 * H
    d = compute_enhanced(_real_inputs(shared_data, "BTCUSDT", end))
    day = one.take(slice(int(np.searchsorted(one.start, end)) - 1441, int(np.searchsorted(one.start, end))))
    minute_vol = float(np.std(np.diff(np.log(day.close)), ddof=1)) * math.sqrt(365 * 24 * 60)
    vol_24h = some(some(d.technical_indicators).realized_vol_24h)
    assert 0.4 < vol_24h / minute_vol < 2.5, (vol_24h, minute_vol)


def _xrp_book(shared_data: Path) -> OrderBook:
    with zipfile.ZipFile(shared_data / "bybit" / "orderbook" / "xrpusdt-ob500.data.zip") as z:
        name = z.namelist()[0]
        first = z.read(name).splitlines()[0]
    msg = json.loads(first)
    assert msg["type"] == "snapshot"
    data = msg["data"]
    return OrderBook(
        symbol=data["s"],
        bids=tuple((Decimal(p), Decimal(s)) for p, s in data["b"][:25]),
        asks=tuple((Decimal(p), Decimal(s)) for p, s in data["a"][:25]),
        ts=int(msg["ts"]),
        update_id=int(data["u"]),
        seq=int(data["seq"]),
    )


def test_real_xrp_book_gives_a_plausible_liquidity_score(shared_data: Path) -> None:
    book = _xrp_book(shared_data)
    mid = (book.bids[0][0] + book.asks[0][0]) / 2
    ticker = Ticker(
        symbol="XRPUSDT",
        ts=book.ts,
        last_price=book.asks[0][0],
        # XRPUSDT turnover on Bybit then was of the order of 1e9 USDT a day (assumption for this test)
        turnover_24h=Decimal("1500000000"),
        funding_rate=Decimal("0.0001"),
    )
    d = compute_enhanced(
        AssetInputs(symbol="XRPUSDT", now_ms=book.ts + 100, ticker=ticker, book=book, liquidations=[])
    )
    assert d.order_book_depth == 25
    assert d.spread_pct == pytest.approx(float((book.asks[0][0] - book.bids[0][0]) / mid * 100))
    assert d.bid_price == Decimal("1.9531") and d.ask_price == Decimal("1.9532")
    # 25 levels of a 0.0001 tick span ~0.13 % of price: all inside the 1 % band; ~1.5 M XRP ~ 3 M USDT
    assert 0.6 < some(d.liquidity_score) < 1.0
    assert "book_missing" not in d.quality_flags
    assert d.liquidation_risk is None  # no candles: volatility unknown
    assert "candles_missing:60" in d.quality_flags


def test_json_dict_has_exactly_the_documented_keys(clean_inputs: AssetInputs) -> None:
    d = compute_enhanced(clean_inputs)
    out = to_json_dict(d)
    assert list(out) == list(EnhancedData.__struct_fields__)
    assert set(out) >= {
        "liquidity_score",
        "liquidation_risk",
        "funding_sentiment",
        "oi_sentiment",
        "market_risk_score",
        "spread_pct",
        "nearby_liquidations",
        "order_book_depth",
        "technical_indicators",
        "symbol",
        "timestamp",
        "quality_flags",
    }
    assert set(out["technical_indicators"]) == {
        "rsi_14",
        "atr_14",
        "atr_pct",
        "realized_vol_1h",
        "realized_vol_24h",
        "ema_fast",
        "ema_slow",
        "ema_trend",
        "bb_width",
        "interval",
    }
    assert set(out["nearby_liquidations"]) == {
        "count",
        "notional",
        "long_count",
        "long_notional",
        "short_count",
        "short_notional",
        "band_pct",
        "window_s",
    }
    # money stays exact: strings that read back to the same Decimal
    assert isinstance(out["last_price"], str) and Decimal(out["last_price"]) == d.last_price
    assert Decimal(out["nearby_liquidations"]["notional"]) == some(d.nearby_liquidations).notional
    assert Decimal(out["funding_sentiment"]["rate"]) == some(d.funding_sentiment).rate
    assert out["liquidation_risk"] in {"LOW", "MEDIUM", "HIGH", "EXTREME"}
    assert out["quality_flags"] == []
    text = json.dumps(out, allow_nan=False)
    assert json.loads(to_json_line(d)) == json.loads(text)
    assert b"\n" not in to_json_line(d)


def test_json_of_a_degraded_snapshot_uses_null() -> None:
    out = to_json_dict(compute_enhanced(AssetInputs(symbol="X", now_ms=NOW, ticker=None)))
    assert out["technical_indicators"] is None and out["liquidity_score"] is None
    assert "no_valid_price" in out["quality_flags"]
    json.dumps(out, allow_nan=False)


def test_json_refuses_non_finite_floats(clean_inputs: AssetInputs) -> None:
    d = compute_enhanced(clean_inputs)
    broken = msgspec.structs.replace(d, spread_pct=float("nan"))
    with pytest.raises(DataError, match="spread_pct"):
        to_json_dict(broken)


def test_batch_of_500_assets(clean_inputs: AssetInputs) -> None:
    rng = np.random.default_rng(11)
    inputs = [
        synthetic_inputs(f"A{i}USDT", NOW, rng, price=float(rng.uniform(0.001, 90_000))) for i in range(500)
    ]
    out = compute_enhanced_batch(inputs)
    assert [d.symbol for d in out] == [i.symbol for i in inputs]
    assert all(d.quality_flags == () for d in out)
    assert all(0 <= some(d.market_risk_score) <= 1 and 0 <= some(d.liquidity_score) <= 1 for d in out)
    assert out[7] == compute_enhanced(inputs[7])  # batch == one by one
    risks = {d.liquidation_risk for d in out}
    assert risks <= set(LiquidationRisk)


def test_candle_arrays_accept_lists() -> None:
    a = CandleArrays.from_columns(
        start=[0, H], open=[1, 2], high=[2, 3], low=[0.5, 1], close=[1.5, 2.5], volume=[1, 1]
    )
    assert a.start.dtype == np.int64 and a.close.dtype == np.float64


def test_docs_list_every_config_default() -> None:
    """docs/enhanced-data.md names every AnalyticsConfig field with its current default."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "enhanced-data.md").read_text()
    for f in dataclasses.fields(DEFAULT_CONFIG):
        assert f"`{f.name}` | `{getattr(DEFAULT_CONFIG, f.name)!r}` |" in doc, f.name
    for key in EnhancedData.__struct_fields__:
        assert f"`{key}`" in doc, key


def test_benchmark_helper_runs() -> None:
    """`python -m asym.analytics.bench` works (figures only, nothing timed is asserted)."""
    from asym.analytics.bench import run_benchmark

    r = run_benchmark(n_assets=3, repeats=1)
    assert r["n_assets"] == 3 and r["median_s"] > 0 and r["per_asset_ms"] > 0
