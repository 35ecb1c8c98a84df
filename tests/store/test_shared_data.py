"""Real data end to end: load a shared file, store it twice, read it back and export it, all exact."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from asym.domain import Interval
from asym.market.loaders import load_funding, load_klines
from asym.store import Store
from asym.store import queries as q
from asym.store.codec import norm_decimal

pytestmark = pytest.mark.shared_data


async def test_dirty_file_cleaned_stored_exported(shared_data: Path, store: Store, tmp_path: Path) -> None:
    candles, report = load_klines(shared_data / "dirty/binance-spot-1h-2017-2021/Binance_BTCUSDT_d.csv")
    assert report.dirty and len(candles) == 1_395
    assert await store.write_candles(candles, venue="binance-spot") == 1_395
    assert (
        await store.write_candles(candles, venue="binance-spot") == 0
    )  # loading the file again: no duplicates
    back = await store.candles("BTCUSDT", Interval.D1, venue="binance-spot")
    assert back == candles
    # the file says 36677.83000000: the store hands back the canonical 36677.83, the same number
    assert [str(c.close) for c in back] == [str(norm_decimal(c.close)) for c in candles]
    dest = tmp_path / "btc.parquet"
    assert await store.export_parquet("candles", dest) == 1_395
    closes = pq.read_table(dest, columns=["close"]).column("close").to_pylist()
    assert closes == [c.close for c in candles]


async def test_funding_from_parquet_round_trips(shared_data: Path, store: Store) -> None:
    rates, _ = load_funding(
        shared_data / "bybit/multi-venue-1h-funding/funding_rates.parquet", venue="bybit", coin="BTC"
    )
    assert await store.write_funding(rates) == 1_092
    assert await store.query(q.funding, "BTCUSDT") == rates
