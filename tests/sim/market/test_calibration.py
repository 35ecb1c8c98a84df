"""The generator against real Bybit 1m data: the same statistics computed on both sides.

Real side: ../shared/data/bybit/linear-1m/{BTC,SOL}USDT_1m.csv (30 days). Generated side: the 30 days of
1m history of a default-seed market, read through the public klines API. Tolerances are stated here and
in docs/simulator-market.md.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from asym.domain import Interval
from asym.sim.config import SimConfig
from asym.sim.market import Market
from asym.sim.market import calibration as cal
from asym.sim.types import KlineRow, PriceKind

from .conftest import START_MS

VOL_TOLERANCE = 0.35
"""Annualised vol within +-35 % of the real figure."""
KURTOSIS_FACTOR = 3.0
"""Excess kurtosis within a factor 3 of the real figure, and clearly fat-tailed (> 3)."""
ACF_TOLERANCE = 0.12
"""|r| autocorrelation positive at lags 1..10 and within +-0.12 of the real value at each lag."""
CORR_TOLERANCE = 0.15
"""Alt-to-BTC correlation of 1m returns within +-0.15."""
RANGE_TOLERANCE = 0.25
"""mean(ln(high/low)) / mean(|r|) within +-25 %."""
VOLUME_CORR_TOLERANCE = 0.2
"""corr(volume, |r|) within +-0.2 (and positive)."""


def _real(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ts, hi, lo, cl, vol = [], [], [], [], []
    with path.open() as f:
        rows = csv.reader(f)
        next(rows)
        for r in rows:
            ts.append(datetime.fromisoformat(r[0]).timestamp())
            hi.append(float(r[2]))
            lo.append(float(r[3]))
            cl.append(float(r[4]))
            vol.append(float(r[5]))
    return np.array(ts), np.array(hi), np.array(lo), np.array(cl), np.array(vol)


def _generated(market: Market, symbol: str, first_ms: int) -> list[KlineRow]:
    out: list[KlineRow] = []
    t = first_ms
    while True:
        rows = market.klines(symbol, Interval.M1, t, START_MS, 1000, PriceKind.TRADE)
        assert all(isinstance(r, KlineRow) for r in rows)
        out += [r for r in reversed(rows) if isinstance(r, KlineRow)]
        if len(rows) < 1000:
            return out
        t = rows[0].start + 60_000


@pytest.fixture(scope="module")
def generated() -> dict[str, list[KlineRow]]:
    """30 days of generated 1m history for BTCUSDT and SOLUSDT (default seed)."""
    m = Market(SimConfig(seed=7, history_days=30), START_MS)
    first = (START_MS // 86_400_000 - 30) * 86_400_000
    return {s: _generated(m, s, first) for s in ("BTCUSDT", "SOLUSDT")}


@pytest.mark.shared_data
@pytest.mark.parametrize("symbol", ["BTCUSDT", "SOLUSDT"])
def test_generator_matches_real_bybit_statistics(
    shared_data: Path, generated: dict[str, list[KlineRow]], symbol: str
) -> None:
    _, hi, lo, close, vol = _real(shared_data / "bybit" / "linear-1m" / f"{symbol}_1m.csv")
    real = cal.return_stats(close)
    rows = generated[symbol]
    assert len(rows) >= 30 * 1440
    g_close = np.array([r.close for r in rows], dtype=np.float64)
    gen = cal.return_stats(g_close)

    # The committed targets are what the real files say.
    target = cal.TARGETS[symbol]
    assert real.vol_ann == pytest.approx(target.vol_ann, abs=0.001)
    assert real.kurtosis == pytest.approx(target.kurtosis, abs=0.1)
    assert np.allclose(real.abs_acf, target.abs_acf, atol=0.001)

    assert abs(gen.vol_ann / real.vol_ann - 1) <= VOL_TOLERANCE, (gen.vol_ann, real.vol_ann)
    assert gen.kurtosis > 3.0
    assert real.kurtosis / KURTOSIS_FACTOR <= gen.kurtosis <= real.kurtosis * KURTOSIS_FACTOR, (
        gen.kurtosis,
        real.kurtosis,
    )
    for lag, (g, r) in enumerate(zip(gen.abs_acf, real.abs_acf, strict=True), start=1):
        assert g > 0, f"|r| autocorrelation at lag {lag} must be positive"
        assert abs(g - r) <= ACF_TOLERANCE, (lag, g, r)

    # Intra-minute range and volume behave like the real ones.
    r_real = cal.log_returns(close)
    r_gen = cal.log_returns(g_close)
    g_hi = np.array([r.high for r in rows], dtype=np.float64)
    g_lo = np.array([r.low for r in rows], dtype=np.float64)
    g_vol = np.array([float(r.volume) for r in rows])
    range_real = np.log(hi / lo).mean() / np.abs(r_real).mean()
    range_gen = np.log(g_hi / g_lo).mean() / np.abs(r_gen).mean()
    assert abs(range_gen / range_real - 1) <= RANGE_TOLERANCE, (range_gen, range_real)
    vc_real = cal.correlation(vol[1:], np.abs(r_real))
    vc_gen = cal.correlation(g_vol[1:], np.abs(r_gen))
    assert vc_gen > 0.2
    assert abs(vc_gen - vc_real) <= VOLUME_CORR_TOLERANCE, (vc_gen, vc_real)


@pytest.mark.shared_data
def test_alt_correlation_to_btc_matches_real(shared_data: Path, generated: dict[str, list[KlineRow]]) -> None:
    d = shared_data / "bybit" / "linear-1m"
    tb, *_, cb, _ = _real(d / "BTCUSDT_1m.csv")
    ts, *_, cs, _ = _real(d / "SOLUSDT_1m.csv")
    common, ib, isol = np.intersect1d(tb, ts, return_indices=True)
    assert common.size > 40_000
    real = cal.correlation(cal.log_returns(cb[ib]), cal.log_returns(cs[isol]))
    assert real == pytest.approx(cal.TARGETS["SOLUSDT"].corr_btc, abs=0.001)

    gb = generated["BTCUSDT"]
    gs = generated["SOLUSDT"]
    assert [r.start for r in gb] == [r.start for r in gs]
    gen = cal.correlation(
        cal.log_returns(np.array([r.close for r in gb], dtype=np.float64)),
        cal.log_returns(np.array([r.close for r in gs], dtype=np.float64)),
    )
    assert abs(gen - real) <= CORR_TOLERANCE, (gen, real)
