"""Crowd liquidations: prices, sides, cascades through dense clusters, replenishment, market rates."""

from __future__ import annotations

import numpy as np

from asym.domain import Side
from asym.sim.market.liquidations import Crowd, CrowdParams
from asym.sim.types import LiquidationEvent

from .conftest import START_MS, make_market

TICK = 0.1
STEP = 0.001


def _params(**kw: float) -> CrowdParams:
    base = {
        "capacity": 3000,
        "open_rate": 5.0,
        "close_hazard": 1 / 360,
        "mean_notional": 20_000.0,
        "max_leverage": 100.0,
        "mmr": 0.005,
        "minute_turnover": 5_000_000.0,
    }
    base.update(kw)
    return CrowdParams(**base)  # type: ignore[arg-type]


def _dense_long_cluster(crowd: Crowd, center: float, n: int, rng: np.random.Generator) -> None:
    """Longs whose liquidation prices sit in a narrow band just below `center` (ticks)."""
    crowd.add(np.full(n, center * 1.011), long_share=1.0, rng=rng)
    lev_entry = center * 1.011
    crowd.liq[crowd.alive] = lev_entry * 0.99 + rng.uniform(-1, 1, crowd.alive_count) * center * 0.0015


def test_cascade_through_a_dense_cluster_extends_the_move() -> None:
    center = 1_000_000.0  # 100,000.0 USDT in 0.1 ticks
    # A forced drop that stops inside the cluster (its liquidation prices span 0.9994-1.0024 x center).
    drop = np.linspace(center * 1.004, center * 1.0015, 300)
    path = np.concatenate((drop, np.full(300, center * 1.0015))).astype(np.int64)

    pushed = Crowd(_params(), TICK, STEP)
    _dense_long_cluster(pushed, center, 1500, np.random.default_rng(1))
    batch = pushed.liquidate(path, sigma_log=0.0005, push=True)

    passive = Crowd(_params(), TICK, STEP)
    _dense_long_cluster(passive, center, 1500, np.random.default_rng(1))
    quiet = passive.liquidate(path, sigma_log=0.0005, push=False)

    assert quiet.index.size >= 100, "a move into a dense cluster liquidates many positions"
    assert batch.push < 0, "forced selling pushes the price down"
    assert batch.path.min() < path.min() * 0.998, "the cascade extends the move"
    assert batch.path[-1] < path[-1]
    assert batch.index.size > 2 * quiet.index.size, "and liquidates the rest of the cluster"
    # Without the push the path is untouched.
    assert np.array_equal(quiet.path, path)
    # Events are in path order, longs (side +1) closed at their bankruptcy price below the trigger.
    assert np.all(np.diff(batch.index) >= 0)
    assert np.all(batch.side == 1)
    assert np.all(batch.price < path[0])
    assert np.all(batch.size > 0)


def test_bankruptcy_prices_and_sides() -> None:
    rng = np.random.default_rng(5)
    crowd = Crowd(_params(capacity=400), TICK, STEP)
    crowd.add(np.full(400, 1_000_000.0), long_share=0.5, rng=rng)
    longs = crowd.alive & (crowd.side > 0)
    shorts = crowd.alive & (crowd.side < 0)
    assert longs.any() and shorts.any()
    # Long: bankrupt below its liquidation price, below entry; short: the mirror image.
    assert np.all(crowd.bust[longs] < crowd.liq[longs]) and np.all(crowd.liq[longs] < 1_000_000)
    assert np.all(crowd.bust[shorts] > crowd.liq[shorts]) and np.all(crowd.liq[shorts] > 1_000_000)
    up = np.linspace(1_000_000, 1_300_000, 600).astype(np.int64)  # +30 %: every short goes
    batch = crowd.liquidate(up, sigma_log=0.0005, push=False)
    assert set(batch.side.tolist()) == {-1}
    assert batch.index.size == int(shorts.sum())


def test_crowd_replenishes() -> None:
    rng = np.random.default_rng(9)
    crowd = Crowd(_params(capacity=500, open_rate=20.0), TICK, STEP)
    path = np.full(600, 1_000_000, dtype=np.int64)
    for _ in range(30):
        crowd.churn(path, volume_rel=1.0, long_share=0.6, rng=rng)
    assert 300 <= crowd.alive_count <= 500
    share_long = float((crowd.side[crowd.alive] > 0).mean())
    assert 0.5 < share_long < 0.7


def test_market_liquidations_look_like_bybit() -> None:
    m = make_market(history_days=2)
    m.ticker("BTCUSDT")
    per_minute: list[int] = []
    events: list[LiquidationEvent] = []
    for k in range(1, 181):
        ev = m.advance(START_MS + k * 60_000)
        per_minute.append(len(ev.liquidations))
        events += ev.liquidations
    # Bybit BTCUSDT: a median of ~2,300 liquidations a day (1.6 a minute), bursts of dozens.
    mean = sum(per_minute) / len(per_minute)
    assert 0.3 < mean < 8.0, mean
    assert max(per_minute) >= 8
    assert {e.side for e in events} == {Side.BUY, Side.SELL}
    assert all(e.symbol == "BTCUSDT" and e.size > 0 and e.price > 0 for e in events)
    ts = [e.ts for e in events]
    assert ts == sorted(ts) and ts[0] > START_MS
    # Liquidated at bankruptcy prices near the market.
    last = m.ticker("BTCUSDT").last
    assert all(abs(e.price / last - 1) < 0.25 for e in events)
