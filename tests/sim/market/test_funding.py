"""Funding: Bybit's formula, caps, settlements at 00/08/16 UTC, history and the ticker's prediction."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from asym.domain import Interval
from asym.sim.market import funding as fund
from asym.sim.types import FundingSettlement, KlineRow, PriceKind

from .conftest import START_MS, make_market

EIGHT_HOURS = 8 * 3_600_000


def test_formula_clamp_and_caps() -> None:
    # A premium within +-0.05 % of the interest rate gives exactly the interest rate.
    assert fund.funding_rate(np.full(480, 0.0002), 0.005) == Decimal("0.00010000")
    assert fund.funding_rate(np.full(480, -0.0003), 0.005) == Decimal("0.00010000")
    # Beyond it the premium shows through, by 0.05 %.
    assert fund.funding_rate(np.full(480, -0.0010), 0.005) == Decimal("-0.00050000")
    assert fund.funding_rate(np.full(480, 0.0020), 0.005) == Decimal("0.00150000")
    # Capped both ways.
    assert fund.funding_rate(np.full(480, 0.05), 0.005) == Decimal("0.00500000")
    assert fund.funding_rate(np.full(480, -0.05), 0.0375) == Decimal("-0.03750000")
    # Later minutes weigh more.
    rising = np.concatenate((np.full(240, -0.002), np.full(240, 0.0)))
    assert fund.funding_rate(rising, 0.005) > fund.funding_rate(rising[::-1], 0.005)
    assert fund.funding_rate(np.zeros(0), 0.005) == Decimal("0.00010000")


def test_settlement_times() -> None:
    t = int(datetime(2025, 6, 15, 15, 6, tzinfo=UTC).timestamp() * 1000)
    assert fund.next_settlement(t) == int(datetime(2025, 6, 15, 16, tzinfo=UTC).timestamp() * 1000)
    at16 = fund.next_settlement(t)
    assert fund.next_settlement(at16) == int(datetime(2025, 6, 16, tzinfo=UTC).timestamp() * 1000)
    days = fund.settlements_between(at16 - 1, at16 + 2 * EIGHT_HOURS)
    assert [datetime.fromtimestamp(x / 1000, tz=UTC).hour for x in days] == [16, 0, 8]


def test_settlements_are_emitted_at_00_08_16_and_match_history() -> None:
    m = make_market(history_days=2)
    m.ticker("BTCUSDT")
    m.ticker("ETHUSDT")
    t16 = fund.next_settlement(START_MS)
    before = m.ticker("BTCUSDT")
    assert before.next_funding_time == t16
    events: list[FundingSettlement] = []
    t = START_MS
    while t < t16 + 90_000:
        t += 30_000
        events += m.advance(t).fundings
    assert sorted((e.symbol, e.ts) for e in events) == [("BTCUSDT", t16), ("ETHUSDT", t16)]
    for e in events:
        assert datetime.fromtimestamp(e.ts / 1000, tz=UTC).hour in (0, 8, 16)
        cap = m.instrument(e.symbol).info.upper_funding_rate
        assert -cap <= e.rate <= cap
        assert e.rate == e.rate.quantize(Decimal("0.00000001"))
        hist = m.funding_history(e.symbol, None, None, 1)
        assert hist[0].ts == e.ts and hist[0].rate == e.rate
        # The mark price at settlement is near the last price then.
        close = m.klines(e.symbol, Interval.M1, None, e.ts - 1, 1, PriceKind.TRADE)[0]
        assert isinstance(close, KlineRow)
        assert abs(e.mark / close.close - 1) < 0.005
    assert m.ticker("BTCUSDT").next_funding_time == t16 + EIGHT_HOURS


def test_funding_history_range_and_caps() -> None:
    m = make_market(history_days=10, symbols=120)
    for symbol in ("BTCUSDT", "ALT110USDT"):
        rows = m.funding_history(symbol, None, None, 200)
        assert len(rows) >= 10 * 3
        assert [r.ts for r in rows] == sorted((r.ts for r in rows), reverse=True)
        assert all(r.ts % EIGHT_HOURS == 0 and r.ts <= START_MS for r in rows)
        cap = m.instrument(symbol).info.upper_funding_rate
        assert all(-cap <= r.rate <= cap for r in rows)
        # Range and limit.
        lo, hi = rows[5].ts, rows[1].ts
        sub = m.funding_history(symbol, lo, hi, 200)
        assert [r.ts for r in sub] == [r.ts for r in rows[1:6]]
        assert m.funding_history(symbol, None, hi, 2) == rows[1:3]
    # BTC funding looks like Bybit's in 2025: mostly just under or at the 0.01 % interest rate.
    btc = [float(r.rate) for r in m.funding_history("BTCUSDT", None, None, 200)]
    assert -0.0005 < float(np.median(btc)) <= 0.0001
    assert max(btc) <= 0.0003


def test_ticker_predicts_the_coming_rate() -> None:
    m = make_market()
    t16 = fund.next_settlement(START_MS)
    m.advance(t16 - 1)
    predicted = m.ticker("SOLUSDT").funding_rate
    m.advance(t16 + 1)
    settled = m.funding_history("SOLUSDT", None, None, 1)[0]
    assert settled.ts == t16
    assert abs(predicted - settled.rate) <= Decimal("0.00001")
