"""Loaders for the shared real data and a builder of complete, clean inputs (analytics tests only)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from asym.analytics import AssetInputs, CandleArrays
from asym.analytics.bench import synthetic_inputs

NOW = 1_750_000_123_456
"""A fixed 'now' for synthetic inputs (2025-06-15)."""

T = TypeVar("T")


def some(value: T | None) -> T:
    """The value, asserting it is not None (a test expecting a computed value fails here otherwise)."""
    assert value is not None
    return value


@cache
def load_jesse(path: Path) -> np.ndarray:
    """A Jesse test-candle file as rows of timestamp_ms, open, close, high, low, volume (its column order)."""
    return np.loadtxt(path, delimiter=",", skiprows=1)


def jesse_arrays(path: Path) -> CandleArrays:
    """A Jesse candle file mapped by name (its columns are open, CLOSE, HIGH, LOW, not OHLC)."""
    a = load_jesse(path)
    return CandleArrays(
        start=a[:, 0].astype(np.int64), open=a[:, 1], close=a[:, 2], high=a[:, 3], low=a[:, 4], volume=a[:, 5]
    )


@cache
def load_bybit_iso(path: Path) -> CandleArrays:
    """A Bybit CSV `timestamp,open,high,low,close,volume` with ISO timestamps (linear-1m, linear-5m...)."""
    t = pacsv.read_csv(path)
    ts = t.column("timestamp").cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).to_numpy()
    col = {n: t.column(n).to_numpy().astype(np.float64) for n in ("open", "high", "low", "close", "volume")}
    return CandleArrays(start=ts, turnover=col["volume"] * col["close"], **col)


@cache
def load_bybit_ms(path: Path) -> CandleArrays:
    """A Bybit CSV `timestamp(ms),open,high,low,close,volume`."""
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    return CandleArrays(
        start=a[:, 0].astype(np.int64), open=a[:, 1], high=a[:, 2], low=a[:, 3], close=a[:, 4], volume=a[:, 5]
    )


@cache
def bybit_funding(path: Path, coin: str) -> tuple[np.ndarray, np.ndarray]:
    """(ts_ms, rate) of Bybit's settled funding for `coin`, oldest first."""
    t = pq.read_table(path)
    t = t.filter(pc.and_(pc.equal(t["venue"], "bybit"), pc.equal(t["coin"], coin)))
    ts = t.column("timestamp").cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).to_numpy()
    order = np.argsort(ts)
    return ts[order], t.column("funding_rate").to_numpy()[order]


@pytest.fixture
def clean_inputs() -> AssetInputs:
    """A complete synthetic AssetInputs: every input present and valid (compute_enhanced flags nothing)."""
    return synthetic_inputs("TESTUSDT", NOW, np.random.default_rng(42), price=250.0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this folder's tests that read ../shared/data with the project's `shared_data` marker."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents and "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)
