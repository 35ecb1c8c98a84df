"""BarMarket: candle paths, prices at a time, causality, funding at recorded settlements, book and ticker."""

from __future__ import annotations

from decimal import Decimal

from asym.backtest.bars import BarMarket, PathPoint
from asym.backtest.data import symbol_data
from asym.domain import Candle, FundingRate, Interval

from .conftest import DAY, HOUR, T0, market, synthetic


def _perturbed_after(data, t: int):  # type: ignore[no-untyped-def]
    """A copy whose candles starting at or after t (and funding after t) are changed beyond recognition."""
    s = data["BTCUSDT"]
    candles = [
        c
        if c.start < t
        else Candle(
            symbol=c.symbol,
            interval=c.interval,
            start=c.start,
            open=c.open * 2,
            high=c.high * 2,
            low=c.low * 2,
            close=c.close * 2,
            volume=c.volume * 7,
            turnover=c.turnover * 14,
        )
        for c in s.candles
    ]
    rates = [
        f if f.ts <= t else FundingRate(symbol=f.symbol, rate=Decimal("0.01"), ts=f.ts) for f in s.funding
    ]
    return market(symbol_data("BTCUSDT", candles, rates))


def test_path_visits_open_extremes_close_in_order() -> None:
    s = synthetic(start=T0, n=4)
    m = BarMarket(market(s), T0)
    bs = m.series["BTCUSDT"]
    for i, c in enumerate(s.candles):
        pts = bs.points(i)
        tick = Decimal("0.1")
        o, h, lo, cl = (int(x / tick) for x in (c.open, c.high, c.low, c.close))
        mid = [lo, h] if cl >= o else [h, lo]
        assert [p.price for p in pts] == [o, *mid, cl]
        assert [p.ts for p in pts] == [
            c.start + 1,
            c.start + HOUR // 3,
            c.start + 2 * HOUR // 3,
            c.start + HOUR - 1,
        ]


def test_price_at_a_close_is_the_close_and_nothing_of_the_next_candle() -> None:
    s = synthetic(start=T0, n=10)
    m = BarMarket(market(s), T0)
    bs = m.series["BTCUSDT"]
    for i in range(1, 9):
        close_t = s.candles[i].start + HOUR
        assert bs.base_price(close_t)[0] == int(s.candles[i].close / Decimal("0.1"))
        assert bs.base_price(close_t + 1)[0] == int(s.candles[i + 1].open / Decimal("0.1"))


def test_nothing_after_t_changes_the_venue_at_or_before_t() -> None:
    s = synthetic(start=T0 - 3 * DAY, n=24 * 6)
    data = market(s)
    t = T0 + 20 * HOUR
    a, b = BarMarket(data, T0), BarMarket(_perturbed_after(data, t), T0)
    assert a.series["BTCUSDT"].book_params == b.series["BTCUSDT"].book_params
    assert a.instrument("BTCUSDT").info == b.instrument("BTCUSDT").info
    for now in range(T0, t + 1, HOUR // 4):
        ea, eb = a.advance(now, ["BTCUSDT"]), b.advance(now, ["BTCUSDT"])
        assert ea.fundings == eb.fundings
        assert a.ticker("BTCUSDT") == b.ticker("BTCUSDT")
        assert a.book("BTCUSDT", 50) == b.book("BTCUSDT", 50)
    a.advance(t + HOUR, [])
    b.advance(t + HOUR, [])
    assert a.ticker("BTCUSDT").last != b.ticker("BTCUSDT").last  # the perturbation is visible after t


def test_funding_settles_at_recorded_times_at_the_mark_of_that_time() -> None:
    s = synthetic(start=T0, n=48, funding_rate="0.00031")
    m = BarMarket(market(s), T0)
    ev = m.advance(T0 + 2 * DAY, ["BTCUSDT"])
    assert [(f.ts, f.rate) for f in ev.fundings] == [
        (f.ts, f.rate) for f in s.funding if T0 < f.ts <= T0 + 2 * DAY
    ]
    for f in ev.fundings:
        assert f.mark == m.series["BTCUSDT"].base_price(f.ts)[0]
    assert m.advance(T0 + 2 * DAY, ["BTCUSDT"]).fundings == []  # never twice


def test_book_is_sane_and_the_ticker_touch_matches_it() -> None:
    m = BarMarket(market(synthetic(start=T0, n=48)), T0)
    for k in range(1, 40):
        now = T0 + k * HOUR + k * 977
        m.advance(now, [])
        book = m.book("BTCUSDT", 50)
        tk = m.ticker("BTCUSDT")
        assert book.bids[0][0] < book.asks[0][0]
        assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
        assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
        assert (tk.bid1, tk.ask1) == (book.bids[0][0], book.asks[0][0])
        assert (tk.bid1_size, tk.ask1_size) == (book.bids[0][1], book.asks[0][1])
        assert tk.mark == tk.last == tk.index
        assert tk.last in (book.bids[0][0], book.asks[0][0])


def test_pushed_points_become_trades_and_the_price() -> None:
    m = BarMarket(market(synthetic(start=T0, n=48)), T0)
    m.advance(T0 + HOUR, [])
    m.push("BTCUSDT", PathPoint(T0 + HOUR + 500, 500_000, 3))
    ev = m.advance(T0 + HOUR + 500, ["BTCUSDT"])
    (tr,) = ev.trades
    assert (tr.price, tr.size, tr.ts) == (500_000, 3, T0 + HOUR + 500)
    assert m.ticker("BTCUSDT").last == 500_000
    assert m.recent_trades("BTCUSDT", 5)[0] == tr


def test_instruments_and_klines() -> None:
    data = market(synthetic(start=T0, n=48), synthetic("FOOUSDT", start=T0, n=48, price=0.5))
    m = BarMarket(data, T0 + DAY)
    btc, foo = m.instrument("BTCUSDT").info, m.instrument("FOOUSDT").info
    assert (btc.tick_size, btc.qty_step, btc.max_leverage) == (
        Decimal("0.10"),
        Decimal("0.001"),
        Decimal(100),
    )
    assert foo.tick_size == Decimal("0.00001") and foo.min_notional == Decimal(5)
    m.advance(T0 + 9 * HOUR + 5, [])
    rows = m.klines("BTCUSDT", Interval.H4, None, None, 10, "trade")
    src = data["BTCUSDT"].candles
    assert [r.start for r in rows] == [T0 + 4 * HOUR, T0]  # newest first, closed buckets only
    r = rows[1]
    assert r.high == max(int(c.high / Decimal("0.1")) for c in src[:4])
    assert r.close == int(src[3].close / Decimal("0.1"))
    assert m.klines("BTCUSDT", Interval.M5, None, None, 10, "trade") == []
