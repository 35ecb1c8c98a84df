"""The fast paths equal the straightforward ones: batched books, integer tickers, integer kline tables,
lazy history blocks. Each test compares two independent computations of the same market state."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from asym.domain import Interval
from asym.sim.config import SimConfig
from asym.sim.market import Market
from asym.sim.market.book import POOL_MAX_DEPTH, BookGrid, BookParams, BookPool, build_book
from asym.sim.market.series import GeneratedSeries
from asym.sim.market.trades import TICK_DIRECTIONS
from asym.sim.types import PriceKind

from .conftest import START_MS, make_market

SYMBOLS = ["BTCUSDT", "ETHUSDT", "XRPUSDT", "DOGEUSDT", "SHIB1000USDT", "ADAUSDT"]


def test_pool_books_equal_single_books_including_fallbacks() -> None:
    rng = random.Random(5)
    params = [
        BookParams(
            key=rng.getrandbits(63),
            spread_ticks=rng.choice([1, 2, 5, 40, 150]),
            level_size=rng.choice([1.0, 30.0, 3e4]),
        )
        for _ in range(24)
    ]
    pool = BookPool(capacity=2)  # grows while rows are added
    rows = [pool.add(p) for p in params]
    refs = [rng.randint(2, 2_000_000) for _ in params]
    refs[0] = 3  # bids run into tick 1
    t = START_MS
    compared = fallbacks = 0
    for step in range(60):
        t += rng.choice([100, 100, 300, 7_000]) if step != 30 else -50_000  # once backwards in time
        for i in range(len(refs)):
            refs[i] = max(1, refs[i] + rng.randint(-40, 40))
        levels = [rng.choice([0, 0, 1, 2, 4, 8]) for _ in params]
        ups = [rng.random() < 0.5 for _ in params]
        depth = rng.choice([1, 25, POOL_MAX_DEPTH])
        built = pool.build(rows, refs, ups, levels, t, depth)
        for i, p in enumerate(params):
            if not built.ok[i]:
                fallbacks += 1
                continue
            assert built.lists(i) == build_book(p, refs[i], ups[i], levels[i], t, depth), (step, i)
            compared += 1
    assert compared > 1000
    assert fallbacks > 0, "wide books must fall back to a BookGrid (none did: the test lost its edge)"


def test_grid_refresh_survives_time_going_back() -> None:
    p = BookParams(key=11, spread_ticks=2, level_size=40.0)
    grid = BookGrid(p)
    for t in (START_MS + 60_000, START_MS, START_MS + 5_000, START_MS + 120_000):
        assert grid.build(500_000, True, 1, t, 200) == build_book(p, 500_000, True, 1, t, 200)


def test_batched_books_equal_book_by_book() -> None:
    batched, single = make_market(), make_market()
    for k in range(40):
        t = START_MS + 100 + k * 137
        batched.advance(t, SYMBOLS)
        single.advance(t, SYMBOLS)
        depth = 1 if k % 5 == 0 else 50
        batch = batched.books(SYMBOLS, depth)
        for i, s in enumerate(SYMBOLS):
            ref = single.book(s, depth)
            assert batch.books.lists(i) == (ref.bids, ref.asks), (k, s)
            assert (batch.update_id[i], batch.seq[i], batch.cts) == (ref.update_id, ref.seq, ref.cts)
            # The batch serves later single-symbol requests and the ticker's top of book.
            assert batched.book(s, depth) == ref
            tk = batched.ticker(s)
            assert (tk.bid1, tk.bid1_size, tk.ask1, tk.ask1_size) == (*ref.bids[0], *ref.asks[0])
    with pytest.raises(ValueError):
        batched.books(SYMBOLS, POOL_MAX_DEPTH + 1)


def test_books_asked_one_by_one_are_batched_by_demand_with_equal_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from asym.sim.market import quotes

    demand, plain = make_market(), make_market()
    for k in range(30):
        t = START_MS + 100 + k * 100
        for m in (demand, plain):
            m.advance(t, SYMBOLS)
        for s in SYMBOLS:  # round robin, as a REST client asks
            monkeypatch.setattr(quotes, "DEMAND_MIN_BATCH", 10**9)  # plain: never batched
            ref = plain.book(s, 25)
            monkeypatch.undo()
            assert demand.book(s, 25) == ref, (k, s)
    assert demand._quotes._pool.params, "demand batching never built a batch"
    assert not plain._quotes._pool.params


def test_integer_ticker_equals_ticker_view() -> None:
    m = make_market()
    for k in range(60):
        t = START_MS + k * 1_013 + (61_000 if k % 20 == 19 else 0)
        m.advance(t, SYMBOLS)
        for s in SYMBOLS:
            raw, view = m.ticker_raw(s), m.ticker(s)
            inst = m.instrument(s)
            assert (raw.ts, raw.cs, raw.last, raw.mark, raw.index) == (
                view.ts,
                view.cs,
                view.last,
                view.mark,
                view.index,
            )
            assert (raw.bid1, raw.bid1_size, raw.ask1, raw.ask1_size) == (
                view.bid1,
                view.bid1_size,
                view.ask1,
                view.ask1_size,
            )
            assert (raw.prev_price_24h, raw.high_24h, raw.low_24h, raw.prev_price_1h) == (
                view.prev_price_24h,
                view.high_24h,
                view.low_24h,
                view.prev_price_1h,
            )
            assert inst.qty.to_decimal(raw.volume_24h) == view.volume_24h
            assert raw.turnover_24h * inst.price.step * inst.qty.step == view.turnover_24h
            assert inst.qty.to_decimal(raw.open_interest) == view.open_interest > 0
            assert TICK_DIRECTIONS[raw.tick_dir] == view.tick_direction
            assert (raw.funding_rate, raw.next_funding_time) == (view.funding_rate, view.next_funding_time)


@pytest.mark.parametrize("kind", [PriceKind.TRADE, PriceKind.MARK, PriceKind.INDEX, PriceKind.PREMIUM])
def test_kline_table_equals_kline_rows(kind: str) -> None:
    m = make_market()
    m.advance(START_MS + 95_000, ["SOLUSDT"])
    for interval, start in (
        (Interval.M1, None),
        (Interval.H1, None),
        (Interval.D1, None),
        (Interval.M5, START_MS - 86_400_000),
    ):
        rows: list[Any] = list(m.klines("SOLUSDT", interval, start, None, 300, kind))
        table = m.kline_table("SOLUSDT", interval, start, None, 300, kind)
        assert len(rows) == len(table.start) > 0
        for i, r in enumerate(rows):
            assert r.start == table.start[i]
            if kind == PriceKind.PREMIUM:
                q = Decimal("0.000001")
                assert (r.open, r.close) == (table.open[i] * q, table.close[i] * q)
            else:
                assert (r.open, r.high, r.low, r.close) == (
                    table.open[i],
                    table.high[i],
                    table.low[i],
                    table.close[i],
                )
        if kind == PriceKind.TRADE:
            inst = m.instrument("SOLUSDT")
            assert [r.volume for r in rows] == [inst.qty.to_decimal(v) for v in table.volume]


def test_history_days_skip_auxiliary_series_until_needed() -> None:
    m = make_market(history_days=6)
    series = m._sym("ETHUSDT").series
    assert isinstance(series, GeneratedSeries)
    day = START_MS // 86_400_000 - 4
    premium_alone = series.premium(day).copy()  # funding path: no candles built for that day
    assert day not in series._cache
    m.klines("ETHUSDT", Interval.H1, (day * 1440 + 60) * 60_000, None, 20, PriceKind.TRADE)
    blk = series._cache[day]
    assert not blk.aux_ready, "trade candles must not compute the day's premium, OI and ratio"
    np.testing.assert_array_equal(blk.premium, premium_alone)  # computed now, identical
    assert blk.aux_ready
    # Caches stay bounded however far back the requests go.
    m.klines("ETHUSDT", Interval.D1, None, None, 10, PriceKind.MARK)
    assert len(series._cache) <= 8


def test_built_and_replay_clock_start_inside_the_recording(shared_data) -> None:  # type: ignore[no-untyped-def]
    from asym.sim.exchange import SimExchange

    m = make_market()
    assert not m.built("BTCUSDT")
    m.ticker("BTCUSDT")
    assert m.built("BTCUSDT") and not m.built("ETHUSDT")
    replay = shared_data / "bybit" / "linear-1m" / "SOLUSDT_1m.csv"
    ex = SimExchange(SimConfig(replay=replay, start_ms=1_000_000_000_000, history_days=3))
    market = ex.market
    assert isinstance(market, Market)
    assert market.start_ms != 1_000_000_000_000  # outside the recording: the market moved it
    assert abs(ex.clock.now_ms() - market.start_ms) < 5_000
    assert ex.now_ms() >= market.start_ms
    assert market.book("SOLUSDT", 1).bids  # and it answers at that time


def test_market_wide_books_on_a_large_universe() -> None:
    m = Market(SimConfig(symbols=300, seed=3, history_days=2), START_MS)
    names = [i.symbol for i in m.instruments()]
    batch = m.books(names, 50)
    other = Market(SimConfig(symbols=300, seed=3, history_days=2), START_MS)
    for i in range(0, 300, 37):
        ref = other.book(names[i], 50)
        assert batch.books.lists(i) == (ref.bids, ref.asks)
