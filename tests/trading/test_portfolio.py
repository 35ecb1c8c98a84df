"""Portfolio P&L on hand-computed sequences (exact Decimal), a flip, funding, days, drawdown, reconcile."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asym.domain import ExecType, Side
from asym.errors import DataError
from asym.trading import DiscrepancyKind, Portfolio

from .builders import NOW, fill, position, wallet

D = Decimal
DAY = 86_400_000


def test_add_reduce_flip_funding_and_close() -> None:
    pf = Portfolio(D(10000), NOW)
    # buy 2 @ 100 (fee 0.11) and 1 @ 106 (fee 0.0583): size 3, cost 306, avg 102
    pf.apply_execution(fill("1", "2", "100"))
    pf.apply_execution(fill("2", "1", "106"))
    p = pf.position("BTCUSDT")
    assert p is not None and p.size == D(3) and p.cost == D(306) and p.avg_price == D(102)
    assert pf.balance == D("9999.8317")
    # sell 1.5 @ 110 (fee 0.09075): removed cost 306 x 1.5 / 3 = 153, realised 165 - 153 = 12
    pf.apply_execution(fill("3", "1.5", "110", side=Side.SELL))
    p = pf.position("BTCUSDT")
    assert p is not None and p.size == D("1.5") and p.cost == D(153) and p.realised_pnl == D(12)
    assert pf.balance == D("10011.74095")
    # sell 3 @ 104 (fee 0.1716): closes 1.5 for +3 (156 - 153), opens a 1.5 short at 104
    pf.apply_execution(fill("4", "3", "104", side=Side.SELL))
    p = pf.position("BTCUSDT")
    assert p is not None and p.size == D("-1.5") and p.side is Side.SELL and p.avg_price == D(104)
    assert p.realised_pnl == D(15) and pf.balance == D("10014.56935")
    # funding paid 0.0156
    pf.apply_execution(fill("5", "1.5", "104", side=Side.SELL, fee="0.0156", exec_type=ExecType.FUNDING))
    assert pf.balance == D("10014.55375") and pf.total_funding == D("0.0156")
    # mark 100: short gains 156 - 150 = 6
    pf.update_mark("BTCUSDT", D(100), NOW)
    assert pf.unrealised_pnl == D(6) and pf.equity == D("10020.55375")
    # buy 1.5 @ 98 (fee 0.08085) closes the short for +9
    pf.apply_execution(fill("6", "1.5", "98"))
    assert pf.positions() == [] and pf.unrealised_pnl == 0
    assert pf.total_realised == D(24)
    assert pf.total_fees == D("0.11") + D("0.0583") + D("0.09075") + D("0.1716") + D("0.08085")
    # balance = deposit + realised - fees - funding, to the last digit
    assert pf.balance == D(10000) + D(24) - pf.total_fees - D("0.0156") == D("10023.4729")


def test_round_trip_is_exact_with_a_repeating_average() -> None:
    pf = Portfolio(D(1000), NOW)
    for i, (q, px, side) in enumerate(
        [("1", "100", Side.BUY), ("2", "101", Side.BUY), ("1", "102", Side.SELL), ("2", "99", Side.SELL)]
    ):
        pf.apply_execution(fill(str(i), q, px, side=side, fee="0"))
    # avg 100.666..., but the round trip realises exactly (102 + 198) - (100 + 202) = -2
    assert pf.total_realised == D(-2) and pf.balance == D(998)


def test_rebates_and_received_funding_credit_the_balance() -> None:
    pf = Portfolio(D(100), NOW)
    pf.apply_execution(fill("1", "1", "10", fee="-0.002"))
    pf.apply_execution(fill("2", "1", "10", fee="-0.001", exec_type=ExecType.FUNDING))
    assert pf.balance == D("100.003")


def test_duplicates_and_bad_executions() -> None:
    pf = Portfolio(D(100), NOW)
    assert pf.apply_execution(fill("1", "1", "10"))
    assert not pf.apply_execution(fill("1", "1", "10"))
    with pytest.raises(DataError):
        pf.apply_execution(fill("2", "NaN", "10"))
    with pytest.raises(DataError):
        pf.apply_execution(fill("3", "0", "10"))
    with pytest.raises(DataError):
        pf.update_mark("BTCUSDT", D(0), NOW)
    p = pf.position("BTCUSDT")
    assert p is not None and p.size == D(1)
    # the rejected ids were not consumed: a corrected copy is booked
    assert pf.apply_execution(fill("2", "1", "10"))


def test_peak_and_drawdown() -> None:
    pf = Portfolio(D(10000), NOW)
    pf.apply_execution(fill("1", "1", "100", fee="0"))
    pf.update_mark("BTCUSDT", D(110), NOW + 1)
    assert pf.peak_equity == D(10010) and pf.drawdown == 0
    pf.update_mark("BTCUSDT", D(90), NOW + 2)
    assert pf.equity == D(9990) and pf.drawdown == D(20) / D(10010)
    # a withdrawal is not a drawdown
    pf.transfer(D(-1000), NOW + 3)
    assert pf.drawdown == D(20) / D(9010)
    pf.reset_peak()
    assert pf.drawdown == 0


def test_daily_pnl_rolls_at_utc_midnight() -> None:
    day0 = NOW - NOW % DAY
    pf = Portfolio(D(1000), day0 + 1000)
    pf.apply_execution(fill("1", "1", "100", fee="0", ts=day0 + 2000))
    pf.update_mark("BTCUSDT", D(95), day0 + 3000)
    assert pf.daily_pnl(day0 + 4000) == D(-5)
    # next day: the day starts at equity 995
    pf.update_mark("BTCUSDT", D(97), day0 + DAY + 10)
    assert pf.day_start_equity(day0 + DAY + 20) == D(995)
    assert pf.daily_pnl(day0 + DAY + 20) == D(2)
    # a deposit is not P&L
    pf.transfer(D(500), day0 + DAY + 30)
    assert pf.daily_pnl(day0 + DAY + 40) == D(2)
    # a day without events: daily P&L is 0 from that midnight
    assert pf.daily_pnl(day0 + 3 * DAY) == 0
    pt = pf.record_equity(day0 + 3 * DAY)
    assert pt.equity == D(1497) and list(pf.history) == [pt]


def test_reconcile_finds_every_difference() -> None:
    pf = Portfolio(D(1000), NOW)
    pf.apply_execution(fill("1", "0.1", "50000", fee="0"))
    pf.apply_execution(fill("2", "1", "2000", side=Side.SELL, symbol="ETHUSDT", fee="0"))
    good = [position(size="0.1", avg="50000"), position("ETHUSDT", Side.SELL, "1", "2000")]
    assert pf.reconcile(good, wallet("1000")) == []
    assert pf.reconcile(good, wallet("1000.009")) == []  # within the 0.01 tolerance
    found = pf.reconcile(
        [position(size="0.2", avg="50000"), position("SOLUSDT", Side.BUY, "3", "150")], wallet("990")
    )
    kinds = {(d.kind, d.symbol) for d in found}
    assert kinds == {
        (DiscrepancyKind.SIZE_MISMATCH, "BTCUSDT"),
        (DiscrepancyKind.MISSING_VENUE, "ETHUSDT"),
        (DiscrepancyKind.MISSING_LOCAL, "SOLUSDT"),
        (DiscrepancyKind.BALANCE_MISMATCH, ""),
    }
    size = next(d for d in found if d.kind is DiscrepancyKind.SIZE_MISMATCH)
    assert (size.local, size.venue) == (D("0.1"), D("0.2"))
    avg = pf.reconcile([position(size="0.1", avg="50001"), good[1]], None)
    assert [d.kind for d in avg] == [DiscrepancyKind.AVG_PRICE_MISMATCH]


def test_adopting_the_venue_view() -> None:
    pf = Portfolio(D(1000), NOW)
    pf.adopt_position(position(size="0.3", avg="40000", mark="41000"))
    p = pf.position("BTCUSDT")
    assert p is not None and p.size == D("0.3") and p.avg_price == D(40000) and p.unrealised_pnl == D(300)
    pf.adopt_balance(wallet("1234.5"))
    assert (
        pf.balance == D("1234.5")
        and pf.reconcile([position(size="0.3", avg="40000")], wallet("1234.5")) == []
    )
    assert [e.notional for e in pf.exposures()] == [D("12300.0")]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 5000), st.integers(9_000_00, 11_000_00)
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_fill_sequence_closed_flat_realises_cash_flow_exactly(fills: list[tuple[Side, int, int]]) -> None:
    """Whatever the adds, reduces and flips: once flat, realised P&L is exactly sells minus buys, and the
    balance is deposit + realised - fees to the last digit."""
    pf = Portfolio(D(100000), NOW)
    size = D(0)
    cash = D(0)
    seq = list(fills)
    for i, (side, q_steps, px_cents) in enumerate(seq):
        q, px = D(q_steps) / 1000, D(px_cents) / 100
        pf.apply_execution(fill(str(i), str(q), str(px), side=side))
        size += q * side.sign
        cash -= q * px * side.sign
    if size != 0:  # close whatever is left
        side = Side.SELL if size > 0 else Side.BUY
        pf.apply_execution(fill("last", str(abs(size)), "1000", side=side))
        cash += size * 1000
    assert pf.positions() == []
    assert pf.total_realised == cash
    assert pf.balance == D(100000) + cash - pf.total_fees
