"""Klines: every interval is an exact aggregation of 1m candles on UTC boundaries, Bybit's range rules,
mark/index/premium series, the history length."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from asym.domain import Interval
from asym.sim.market import Market
from asym.sim.market.history import align, next_start
from asym.sim.types import KlineRow, PremiumRow, PriceKind

from .conftest import START_MS, make_market

MINUTE = 60_000


def _rows(
    m: Market, symbol: str, interval: Interval, start: int | None, end: int | None, limit: int
) -> list[KlineRow]:
    rows = m.klines(symbol, interval, start, end, limit, PriceKind.TRADE)
    assert all(isinstance(r, KlineRow) for r in rows)
    return [r for r in rows if isinstance(r, KlineRow)]


def _aggregate(minutes: list[KlineRow]) -> tuple[int, int, int, int, Decimal, Decimal]:
    ordered = sorted(minutes, key=lambda r: r.start)
    return (
        ordered[0].open,
        max(r.high for r in ordered),
        min(r.low for r in ordered),
        ordered[-1].close,
        sum((r.volume for r in ordered), Decimal(0)),
        sum((r.turnover for r in ordered), Decimal(0)),
    )


@pytest.fixture(scope="module")
def live_market() -> Market:
    """A market 95 minutes into live time (history before, an open candle now)."""
    m = make_market(history_days=10)
    m.ticker("ETHUSDT")
    m.advance(START_MS + 95 * MINUTE + 12_345)
    return m


@pytest.mark.parametrize(
    "interval",
    [
        Interval.M3,
        Interval.M5,
        Interval.M15,
        Interval.M30,
        Interval.H1,
        Interval.H2,
        Interval.H4,
        Interval.H6,
    ],
)
def test_interval_is_exact_aggregation_of_1m(live_market: Market, interval: Interval) -> None:
    rows = _rows(live_market, "ETHUSDT", interval, None, None, 4)
    assert len(rows) == 4
    for r in rows:
        assert r.start % interval.ms == 0  # aligned to UTC boundaries
        end = min(r.start + interval.ms, live_market.now_ms() // MINUTE * MINUTE + MINUTE)
        minutes = _rows(live_market, "ETHUSDT", Interval.M1, r.start, end - 1, 1000)
        assert len(minutes) == (end - r.start) // MINUTE
        assert (r.open, r.high, r.low, r.close, r.volume, r.turnover) == _aggregate(minutes)


@pytest.mark.parametrize("interval", [Interval.H12, Interval.D1, Interval.W1, Interval.MONTH])
def test_long_intervals_aggregate_exactly_and_align(live_market: Market, interval: Interval) -> None:
    rows = _rows(live_market, "ETHUSDT", interval, None, None, 2)
    assert rows
    first_data = (START_MS // 86_400_000 - 10) * 86_400_000
    for r in rows:
        d = datetime.fromtimestamp(r.start / 1000, tz=UTC)
        assert (d.hour, d.minute, d.second) == (0 if interval is not Interval.H12 else d.hour, 0, 0)
        if interval is Interval.W1:
            assert d.weekday() == 0
        if interval is Interval.MONTH:
            assert d.day == 1
        a = max(r.start, first_data)
        b = min(next_start(r.start, interval), live_market.now_ms() // MINUTE * MINUTE + MINUTE)
        minutes: list[KlineRow] = []
        t = a
        while t < b:
            chunk = _rows(live_market, "ETHUSDT", Interval.M1, t, b - 1, 1000)
            minutes += chunk
            t = max(x.start for x in chunk) + MINUTE
        assert len(minutes) == (b - a) // MINUTE
        assert (r.open, r.high, r.low, r.close, r.volume, r.turnover) == _aggregate(minutes)


def test_alignment_helpers() -> None:
    t = int(datetime(2025, 6, 18, 13, 47, 12, tzinfo=UTC).timestamp() * 1000)  # a Wednesday
    assert align(t, Interval.W1) == int(datetime(2025, 6, 16, tzinfo=UTC).timestamp() * 1000)
    assert align(t, Interval.MONTH) == int(datetime(2025, 6, 1, tzinfo=UTC).timestamp() * 1000)
    assert next_start(align(t, Interval.MONTH), Interval.MONTH) == int(
        datetime(2025, 7, 1, tzinfo=UTC).timestamp() * 1000
    )
    assert align(t, Interval.H4) == int(datetime(2025, 6, 18, 12, tzinfo=UTC).timestamp() * 1000)
    dec = int(datetime(2025, 12, 31, 23, 59, tzinfo=UTC).timestamp() * 1000)
    assert next_start(align(dec, Interval.MONTH), Interval.MONTH) == int(
        datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000
    )


def test_range_rules(live_market: Market) -> None:
    now = live_market.now_ms()
    newest = _rows(live_market, "ETHUSDT", Interval.M1, None, None, 5)
    assert [r.start for r in newest] == [
        now // MINUTE * MINUTE - k * MINUTE for k in range(5)
    ]  # newest first
    # No start: the `limit` newest starting at or before end.
    end = now - 3_600_000 + 30_000
    rows = _rows(live_market, "ETHUSDT", Interval.M5, None, end, 3)
    assert rows[0].start == end // 300_000 * 300_000
    assert [r.start for r in rows] == sorted((r.start for r in rows), reverse=True)
    # Start given: the `limit` oldest starting at or after start.
    start = now - 7_200_000 + 1
    rows = _rows(live_market, "ETHUSDT", Interval.M15, start, None, 3)
    assert rows[-1].start == (start // 900_000 + 1) * 900_000
    assert len(rows) == 3
    # Start and end: inside the range only.
    rows = _rows(live_market, "ETHUSDT", Interval.M1, now - 600_000, now - 300_000, 1000)
    expected = [t for t in range(now - 600_000, now - 300_000 + 1) if t % MINUTE == 0]
    assert sorted(r.start for r in rows) == expected
    # End in the future is now; start in the future is nothing; limit is honoured.
    assert _rows(live_market, "ETHUSDT", Interval.M1, None, now + 10**9, 2) == newest[:2]
    assert _rows(live_market, "ETHUSDT", Interval.M1, now + MINUTE, None, 10) == []
    assert len(_rows(live_market, "ETHUSDT", Interval.M1, None, None, 1000)) == 1000


def test_history_covers_history_days_and_candles_chain() -> None:
    m = make_market(history_days=3)
    first = (START_MS // 86_400_000 - 3) * 86_400_000
    oldest = _rows(m, "BTCUSDT", Interval.M1, 0, None, 3)
    assert oldest[-1].start == first
    assert START_MS - first >= 3 * 86_400_000
    days = _rows(m, "BTCUSDT", Interval.D1, None, None, 10)
    assert len(days) == 4  # three full days and today's open candle
    chain = sorted(_rows(m, "BTCUSDT", Interval.M1, None, None, 1000), key=lambda r: r.start)
    for a, b in itertools.pairwise(chain):
        assert b.start - a.start == MINUTE
        assert b.open == a.close  # generated prices are continuous
        assert a.low <= min(a.open, a.close) <= max(a.open, a.close) <= a.high
        assert a.volume > 0 and a.turnover > 0


def test_open_candle_closes_at_the_last_price(live_market: Market) -> None:
    tk = live_market.ticker("ETHUSDT")
    newest = _rows(live_market, "ETHUSDT", Interval.M1, None, None, 1)[0]
    assert newest.close == tk.last
    hour = _rows(live_market, "ETHUSDT", Interval.H1, None, None, 1)[0]
    assert hour.close == tk.last
    mark = live_market.klines("ETHUSDT", Interval.M1, None, None, 1, PriceKind.MARK)[0]
    index = live_market.klines("ETHUSDT", Interval.M1, None, None, 1, PriceKind.INDEX)[0]
    assert isinstance(mark, KlineRow) and isinstance(index, KlineRow)
    assert mark.close == tk.mark
    assert index.close == tk.index


def test_mark_index_premium_series(live_market: Market) -> None:
    trade = _rows(live_market, "ETHUSDT", Interval.M15, None, None, 20)
    mark = live_market.klines("ETHUSDT", Interval.M15, None, None, 20, PriceKind.MARK)
    index = live_market.klines("ETHUSDT", Interval.M15, None, None, 20, PriceKind.INDEX)
    prem = live_market.klines("ETHUSDT", Interval.M15, None, None, 20, PriceKind.PREMIUM)
    assert (
        [r.start for r in mark]
        == [r.start for r in index]
        == [r.start for r in prem]
        == [r.start for r in trade]
    )
    for t, mk, ix, p in zip(trade, mark, index, prem, strict=True):
        assert isinstance(mk, KlineRow) and isinstance(ix, KlineRow) and isinstance(p, PremiumRow)
        # Mark and index stay within a small basis of the last price.
        for row in (mk, ix):
            assert row.low <= min(row.open, row.close) <= max(row.open, row.close) <= row.high
            assert abs(row.close / t.close - 1) < 0.005
        assert p.low <= min(p.open, p.close) <= max(p.open, p.close) <= p.high
        assert abs(p.close) < Decimal("0.01")
        assert p.close == p.close.quantize(Decimal("0.000001"))
    with pytest.raises(ValueError):
        live_market.klines("ETHUSDT", Interval.M1, None, None, 1, "bogus")
