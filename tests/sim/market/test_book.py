"""Order-book invariants, persistence between samples, volatility response, ids and sequences."""

from __future__ import annotations

import pytest

from asym.sim.market import Market
from asym.sim.market.book import MAX_DEPTH, BookGrid, BookParams, build_book, vol_level
from asym.sim.types import BookView

from .conftest import START_MS, make_market


def _check(view: BookView, depth: int) -> None:
    assert 1 <= len(view.bids) <= depth and 1 <= len(view.asks) <= depth
    bid_prices = [p for p, _ in view.bids]
    ask_prices = [p for p, _ in view.asks]
    assert bid_prices == sorted(bid_prices, reverse=True) and len(set(bid_prices)) == len(bid_prices)
    assert ask_prices == sorted(ask_prices) and len(set(ask_prices)) == len(ask_prices)
    assert bid_prices[0] < ask_prices[0], "crossed book"
    assert all(isinstance(p, int) and p > 0 for p in bid_prices + ask_prices)  # integer ticks
    assert all(isinstance(s, int) and s > 0 for _, s in view.bids + view.asks)  # integer qty steps
    assert view.cts <= view.ts


@pytest.mark.parametrize("symbol", ["BTCUSDT", "XRPUSDT", "SHIB1000USDT"])
def test_book_invariants_over_time(symbol: str) -> None:
    m = make_market()
    prev: BookView | None = None
    for k in range(120):
        m.advance(START_MS + k * 500)
        view = m.book(symbol, 200)
        _check(view, 200)
        assert len(view.bids) == 200 and len(view.asks) == 200
        if prev is not None:
            assert view.update_id > prev.update_id
            assert view.seq >= prev.seq
        prev = view


def test_depth_is_honoured_and_prefixes_agree(market: Market) -> None:
    full = market.book("ETHUSDT", MAX_DEPTH)
    assert len(full.bids) == len(full.asks) == MAX_DEPTH
    for depth in (1, 25, 50, 200, 499):
        view = market.book("ETHUSDT", depth)
        assert view.bids == full.bids[:depth] and view.asks == full.asks[:depth]
    assert market.book("ETHUSDT", 1000).bids == full.bids  # Bybit allows 1000; the model has 500
    with pytest.raises(ValueError):
        market.book("ETHUSDT", 0)
    # Callers get their own lists.
    market.book("ETHUSDT", 5).bids.clear()
    assert len(market.book("ETHUSDT", 5).bids) == 5


def test_book_on_tick_grid_and_consistent_with_ticker(market: Market) -> None:
    inst = market.instrument("SOLUSDT")
    for k in range(20):
        market.advance(START_MS + k * 3_100)
        view = market.book("SOLUSDT", 50)
        tk = market.ticker("SOLUSDT")
        assert (tk.bid1, tk.bid1_size, tk.ask1, tk.ask1_size) == (*view.bids[0], *view.asks[0])
        # Prices and sizes format on the instrument's grid.
        for p, s in view.bids[:3] + view.asks[:3]:
            assert inst.price.to_int(inst.price.to_str(p)) == p
            assert inst.qty.to_int(inst.qty.to_str(s)) == s


def _changed_share(symbol: str, depth: int, dt_ms: int, samples: int = 120) -> float:
    m = make_market()
    shares = []
    prev: dict[tuple[str, int], int] | None = None
    for k in range(samples):
        m.advance(START_MS + k * dt_ms)
        view = m.book(symbol, depth)
        levels = {("b", p): s for p, s in view.bids} | {("a", p): s for p, s in view.asks}
        if prev is not None:
            union = set(prev) | set(levels)
            shares.append(sum(1 for x in union if prev.get(x) != levels.get(x)) / len(union))
        prev = levels
    assert any(shares), "the book never changed"
    return sum(shares) / len(shares)


@pytest.mark.parametrize("symbol", ["BTCUSDT", "XRPUSDT"])
def test_consecutive_samples_change_few_levels(symbol: str) -> None:
    # Real Bybit (bybit/orderbook/xrpusdt-ob500, 49 deltas ~100 ms apart): 6 % of the 1,000 levels and
    # 25 % of the top-50 levels change per delta. Most levels keep price and size between samples.
    assert _changed_share(symbol, 500, 100) < 0.12
    assert _changed_share(symbol, 500, 300) < 0.30
    assert _changed_share(symbol, 50, 300) < 0.50


def test_spread_widens_and_depth_thins_with_volatility() -> None:
    p = BookParams(key=99, spread_ticks=2, level_size=300.0)
    ref, t = 1_000_000, START_MS
    calm_bids, calm_asks = build_book(p, ref, True, 0, t, 50)
    wild_bids, wild_asks = build_book(p, ref, True, 6, t, 50)
    assert wild_asks[0][0] - wild_bids[0][0] > calm_asks[0][0] - calm_bids[0][0]
    assert sum(s for _, s in wild_bids + wild_asks) < 0.5 * sum(s for _, s in calm_bids + calm_asks)
    # Fewer levels per price range: the 50 levels reach further from the touch.
    assert wild_bids[0][0] - wild_bids[-1][0] > calm_bids[0][0] - calm_bids[-1][0]
    assert vol_level(1.0) == 0 and vol_level(4.0) == 4 and vol_level(1000.0) == 8


def test_violent_minutes_have_thinner_books() -> None:
    m = make_market(history_days=1)
    m.ticker("DOGEUSDT")
    depth: dict[int, list[int]] = {}
    for k in range(480):
        m.advance(START_MS + k * 15_000)
        _, _, level = m._symbols["DOGEUSDT"].live.book_state(m.now_ms())
        view = m.book("DOGEUSDT", 20)
        depth.setdefault(level, []).append(sum(s for _, s in view.bids + view.asks))
    calm = depth.get(0, [])
    wild = [d for lv, ds in depth.items() if lv >= 1 for d in ds]
    assert calm and wild, depth.keys()
    assert sum(wild) / len(wild) < 0.85 * sum(calm) / len(calm)


def test_grid_memo_equals_stateless_book() -> None:
    p = BookParams(key=5, spread_ticks=1, level_size=50.0)
    grid = BookGrid(p)
    for k in range(30):
        ref = 2_000_000 + (k * 37) % 11 - 5 + (k // 10) * 20_000
        t = START_MS + k * 250
        assert grid.build(ref, k % 2 == 0, k % 4, t, 100) == build_book(p, ref, k % 2 == 0, k % 4, t, 100)


def test_book_near_price_floor_never_crosses() -> None:
    p = BookParams(key=1, spread_ticks=3, level_size=10.0)
    bids, asks = build_book(p, 2, False, 0, START_MS, 50)
    assert bids[0][0] >= 1 and asks[0][0] > bids[0][0]
    assert all(price >= 1 for price, _ in bids)
    assert len(asks) == 50
