"""Public trades, recent trades, tickers, open interest and long/short ratio."""

from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np

from asym.domain import Interval, PeriodInterval, Side
from asym.sim.market import Market
from asym.sim.types import KlineRow, PriceKind, TradeEvent

from .conftest import START_MS, make_market

MINUTE = 60_000


def _run(m: Market, symbol: str, minutes: int, step_ms: int = 5_000) -> list[TradeEvent]:
    m.ticker(symbol)
    trades: list[TradeEvent] = []
    t = START_MS
    while t < START_MS + minutes * MINUTE:
        t += step_ms
        trades += m.advance(t).trades
    return trades


def test_trades_are_consistent_with_candles() -> None:
    m = make_market()
    trades = _run(m, "SOLUSDT", 6)
    assert len(trades) > 100
    assert len({t.trade_id for t in trades}) == len(trades)
    assert all(len(t.trade_id) == 36 and t.trade_id.count("-") == 4 for t in trades)
    seqs = [t.seq for t in trades]
    assert all(b > a for a, b in itertools.pairwise(seqs))
    times = [t.ts for t in trades]
    assert times == sorted(times) and times[0] > START_MS
    assert {t.taker_side for t in trades} == {Side.BUY, Side.SELL}
    # Tick directions follow the prices.
    for a, b in itertools.pairwise(trades):
        if b.price > a.price:
            assert b.tick_direction == "PlusTick"
        elif b.price < a.price:
            assert b.tick_direction == "MinusTick"
        else:
            assert b.tick_direction in ("ZeroPlusTick", "ZeroMinusTick")
    # Every complete minute's candle is exactly the candle of its trades.
    candles = {
        r.start: r
        for r in m.klines("SOLUSDT", Interval.M1, START_MS - MINUTE, None, 20, PriceKind.TRADE)
        if isinstance(r, KlineRow)
    }
    inst = m.instrument("SOLUSDT")
    checked = 0
    for start in range((START_MS // MINUTE + 1) * MINUTE, m.now_ms() // MINUTE * MINUTE, MINUTE):
        in_minute = [t for t in trades if start <= t.ts < start + MINUTE]
        c = candles[start]
        assert in_minute[0].price == c.open and in_minute[-1].price == c.close
        assert max(t.price for t in in_minute) == c.high and min(t.price for t in in_minute) == c.low
        assert inst.qty.to_decimal(sum(t.size for t in in_minute)) == c.volume
        turnover = sum(t.price * t.size for t in in_minute) * inst.price.step * inst.qty.step
        assert turnover == c.turnover
        checked += 1
    assert checked >= 4


def test_recent_trades_newest_first_and_equal_to_the_stream() -> None:
    m = make_market()
    trades = _run(m, "BTCUSDT", 3)
    recent = m.recent_trades("BTCUSDT", 60)
    assert len(recent) == 60
    assert recent == list(reversed(trades[-60:]))
    assert len(m.recent_trades("BTCUSDT", 1000)) == 1000  # warm-up minutes hold enough trades
    assert m.recent_trades("BTCUSDT", 1)[0] == trades[-1]


def test_ticker_fields() -> None:
    m = make_market()
    _run(m, "ETHUSDT", 3, step_ms=30_000)
    tk = m.ticker("ETHUSDT")
    inst = m.instrument("ETHUSDT")
    assert tk.ts == m.now_ms() and tk.symbol == "ETHUSDT"
    assert tk.low_24h <= tk.last <= tk.high_24h
    assert tk.bid1 < tk.ask1 and tk.bid1_size > 0 and tk.ask1_size > 0
    assert abs(tk.mark / tk.last - 1) < 0.003 and abs(tk.index / tk.last - 1) < 0.003
    assert tk.next_funding_time % (8 * 3_600_000) == 0 and tk.next_funding_time > tk.ts
    assert tk.funding_interval_hours == 8 and tk.funding_cap == inst.info.upper_funding_rate
    assert -tk.funding_cap <= tk.funding_rate <= tk.funding_cap
    assert tk.open_interest > 0 and tk.open_interest % inst.info.qty_step == 0
    assert tk.tick_direction in ("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick")
    # 24 h statistics are the rolling window of 1m candles (the open one included).
    m1 = [
        r
        for r in m.klines("ETHUSDT", Interval.M1, None, None, 1000, PriceKind.TRADE)
        if isinstance(r, KlineRow)
    ]
    m2 = [
        r
        for r in m.klines("ETHUSDT", Interval.M1, None, m1[-1].start - 1, 440, PriceKind.TRADE)
        if isinstance(r, KlineRow)
    ]
    day = m1 + m2
    assert len(day) == 1440
    assert tk.high_24h == max(r.high for r in day) and tk.low_24h == min(r.low for r in day)
    assert tk.volume_24h == sum((r.volume for r in day), Decimal(0))
    assert tk.turnover_24h == sum((r.turnover for r in day), Decimal(0))
    assert tk.prev_price_24h == day[-1].open
    assert tk.prev_price_1h == day[60].open
    # Realistic size: ETH trades billions a day.
    assert 5e8 < float(tk.turnover_24h) < 2e10
    # Cached within a 100 ms step, fresh after.
    assert m.ticker("ETHUSDT") is tk
    m.advance(m.now_ms() + 100)
    assert m.ticker("ETHUSDT").ts == tk.ts + 100


def test_open_interest_history() -> None:
    m = make_market(history_days=3)
    rows = m.open_interest_history("BTCUSDT", PeriodInterval.H1, None, None, 50)
    assert len(rows) == 50
    assert [r.ts for r in rows] == sorted((r.ts for r in rows), reverse=True)
    assert all(r.ts % 3_600_000 == 0 and r.ts <= START_MS for r in rows)
    values = [float(r.open_interest) for r in rows]
    assert min(values) > 0 and len(set(values)) > 40  # moves
    assert all(r.open_interest == r.open_interest.quantize(Decimal("0.001")) for r in rows)
    # BTC open interest of a few tens of thousands of BTC, like Bybit's.
    assert 10_000 < np.median(values) < 200_000
    five = m.open_interest_history(
        "BTCUSDT", PeriodInterval.MIN5, START_MS - 3_600_000, START_MS - 1_800_000, 200
    )
    assert [r.ts for r in five] == list(
        range((START_MS - 1_800_000) // 300_000 * 300_000, START_MS - 3_600_000 - 1, -300_000)
    )
    day = m.open_interest_history("BTCUSDT", PeriodInterval.D1, None, None, 10)
    assert len(day) == 3  # midnights after the history began
    # The ticker's value continues the history.
    assert abs(float(m.ticker("BTCUSDT").open_interest) / values[0] - 1) < 0.1


def test_account_ratio() -> None:
    m = make_market(history_days=3)
    rows = m.account_ratio("SOLUSDT", PeriodInterval.H1, None, None, 72)
    assert len(rows) == 72
    for r in rows:
        assert r.buy_ratio + r.sell_ratio == Decimal(1)
        assert Decimal(0) < r.buy_ratio < Decimal(1)
        assert r.buy_ratio == r.buy_ratio.quantize(Decimal("0.0001"))
    assert len({r.buy_ratio for r in rows}) > 20
    # Crowds buy dips: the long share moves against the price.
    closes = {
        r.start: r.close
        for r in m.klines("SOLUSDT", Interval.H1, None, None, 80, PriceKind.TRADE)
        if isinstance(r, KlineRow)
    }
    ratio = {r.ts: float(r.buy_ratio) for r in rows}
    h = 3_600_000
    price_at = {
        start + h: close for start, close in closes.items()
    }  # an hour's close is the price at its end
    ts = sorted(t for t in ratio if t - h in ratio and t in price_at and t - h in price_at)
    d_ratio = np.array([ratio[t] - ratio[t - h] for t in ts])
    d_price = np.array([np.log(price_at[t] / price_at[t - h]) for t in ts])
    assert np.corrcoef(d_ratio, d_price)[0, 1] < -0.2
