"""Positions and the wallet: average price, realised / unrealised P&L, flips, margins, leverage."""

from __future__ import annotations

import pytest

from asym.domain import Side
from asym.sim.types import SimRejection

from .conftest import DEPOSIT, Harness
from .scripted import D, ScriptedMarket

TAKER = D("0.00055")


def _buy_at(h: Harness, market: ScriptedMarket, qty: str, price: str) -> None:
    market.set_book("BTCUSDT", [(str(D(price) - 1), "100")], [(price, "100")])
    h.place("Buy", qty)


def _sell_at(h: Harness, market: ScriptedMarket, qty: str, price: str) -> None:
    market.set_book("BTCUSDT", [(price, "100")], [(str(D(price) + 1), "100")])
    h.place("Sell", qty)


def test_sequence_of_trades_gives_exact_average_pnl_and_wallet(h: Harness, market: ScriptedMarket) -> None:
    _buy_at(h, market, "1", "50000")
    _buy_at(h, market, "2", "51000")
    # avg = (50000 + 2 x 51000) / 3 = 50666.666... -> 8 decimals, half-even.
    assert h.pos().avg_price == D("50666.66666667")
    _sell_at(h, market, "1.5", "52000")
    pos = h.pos()
    assert pos.size == 1500 and pos.avg_price == D("50666.66666667")  # reducing keeps the average
    pnl1 = (D(52000) - D("50666.66666667")) * D("1.5")
    assert pnl1 == D("1999.999999995")
    # Flip: sell 4 at 49000 closes the 1.5 left, then opens a 2.5 short at 49000.
    _sell_at(h, market, "4", "49000")
    pnl2 = (D(49000) - D("50666.66666667")) * D("1.5")
    assert pnl2 == D("-2500.000000005")
    pos = h.pos()
    assert pos.side is Side.SELL and pos.size == 2500 and pos.avg_price == D(49000)
    fees = (D(50000) + D(102000) + D(78000) + D(196000)) * TAKER
    assert fees == D("234.3")
    w = h.wallet()
    assert w.total_wallet_balance == DEPOSIT + pnl1 + pnl2 - fees
    # The last fill both closed and opened: its execution reports the closed part and its P&L.
    last = h.e.executions(h.uid, symbol="BTCUSDT", order_id="", exec_type="Trade")[0]
    assert last.closed_size == 1500 and last.exec_pnl == pnl2
    # Realised P&L on the position is Bybit's: price P&L minus fees since the position last opened.
    assert pos.cum_realised_pnl == pnl1 + pnl2 - fees
    # Short 2.5 from 49000, mark to 48000: UPL = (48000 - 49000) x 2.5 x -1 = +2500.
    market.set_mark("BTCUSDT", "48000")
    pos = h.pos()
    assert pos.unrealised_pnl == D(2500)
    w = h.wallet()
    assert w.total_perp_upl == D(2500)
    assert w.total_equity == w.total_wallet_balance + D(2500)
    # IM = 2.5 x 49000 / 10; MM = 2.5 x 48000 (mark) x 0.5 %.
    assert pos.position_im == D("12250") and pos.position_mm == D("600")
    assert w.total_available_balance == w.total_equity - D("12250")
    assert w.total_maintenance_margin == D("600")


def test_current_realised_pnl_restarts_with_a_new_position(h: Harness, market: ScriptedMarket) -> None:
    _buy_at(h, market, "1", "50000")
    _sell_at(h, market, "1", "50100")
    assert h.pos().size == 0
    first = h.pos().cum_realised_pnl
    assert first == D(100) - (D(50000) + D(50100)) * TAKER
    _buy_at(h, market, "1", "50000")
    pos = h.pos()
    assert pos.cur_realised_pnl == -D(50000) * TAKER
    assert pos.cum_realised_pnl == first - D(50000) * TAKER


def test_leverage_changes_margin_and_is_validated(h: Harness, market: ScriptedMarket) -> None:
    _buy_at(h, market, "1", "50000")
    h.e.set_leverage(h.uid, "BTCUSDT", D(20), h.now)
    assert h.pos().leverage == D(20) and h.pos().position_im == D(2500)
    with pytest.raises(SimRejection) as same:
        h.e.set_leverage(h.uid, "BTCUSDT", D("20.00"), h.now)
    assert same.value.ret_code == 110043
    for bad in (D("0.5"), D(101), D("10.005")):
        with pytest.raises(SimRejection) as err:
            h.e.set_leverage(h.uid, "BTCUSDT", bad, h.now)
        assert err.value.ret_code == 10001
    # Leverage of a flat symbol is remembered for its next position.
    h.e.set_leverage(h.uid, "ETHUSDT", D(5), h.now)
    assert h.pos("ETHUSDT").leverage == D(5)


def test_lowering_leverage_beyond_the_margin_is_refused(h: Harness, market: ScriptedMarket) -> None:
    h.e.set_leverage(h.uid, "BTCUSDT", D(50), h.now)
    _buy_at(h, market, "20", "50000")  # 1,000,000 of value, IM 20,000 at 50x
    with pytest.raises(SimRejection) as err:
        h.e.set_leverage(h.uid, "BTCUSDT", D(2), h.now)  # IM 500,000 > equity
    assert err.value.ret_code == 110044
    assert h.pos().leverage == D(50)


def test_liquidation_and_bankruptcy_prices(h: Harness, market: ScriptedMarket) -> None:
    _buy_at(h, market, "1", "50000")
    pos = h.pos()
    # Long 1 @ 50000, 10x, MM rate 0.5 %: L = (50000 - 5000) / 0.995 = 45226.13..., rounded up to the
    # tick (towards the entry); bust = 50000 x (1 - 1/10) = 45000.
    assert h.px("BTCUSDT", pos.liq_price) == D("45226.2")
    assert h.px("BTCUSDT", pos.bust_price) == D("45000")
    _sell_at(h, market, "2", "50000")  # flip to a 1 BTC short @ 50000
    pos = h.pos()
    # Short: L = (50000 + 5000) / 1.005 = 54726.36..., rounded down; bust = 55000.
    assert h.px("BTCUSDT", pos.liq_price) == D("54726.3")
    assert h.px("BTCUSDT", pos.bust_price) == D("55000")


def test_risk_tier_by_position_value(h: Harness, market: ScriptedMarket) -> None:
    h.e.set_leverage(h.uid, "BTCUSDT", D(100), h.now)
    _buy_at(h, market, "50", "50000")
    _buy_at(h, market, "50", "50000")  # 100 BTC = 5,000,000 > tier 1's 2,000,000
    market.set_mark("BTCUSDT", "50000")
    pos = h.pos()
    assert pos.risk_id == 2
    # MM = 5,000,000 x 1 % - 10,000 deduction.
    assert pos.position_mm == D(40_000)


def test_flat_position_view(h: Harness) -> None:
    pos = h.pos("ETHUSDT")
    assert pos.side is None and pos.size == 0 and pos.liq_price is None
    assert pos.leverage == D(10) and pos.seq == -1
    assert h.e.positions(h.uid, None) == []


def test_worked_example_of_the_documentation(h: Harness, market: ScriptedMarket) -> None:
    """docs/simulator-engine.md, 'Worked example': every figure it states."""
    market.set_book("BTCUSDT", [("49999.9", "1")], [("50000.1", "1"), ("50000.2", "1"), ("50000.3", "1")])
    market.set_mark("BTCUSDT", "50000")
    buy = h.place("Buy", "2.5")
    assert buy.cum_exec_fee == D("68.7502475") and h.px("BTCUSDT", buy.price) == D(52500)
    pos = h.pos()
    assert pos.avg_price == D("50000.18") and pos.unrealised_pnl == D("-0.45")
    assert pos.position_im == D("12500.045") and pos.position_mm == D(625)
    assert h.px("BTCUSDT", pos.liq_price) == D("45226.3") and h.px("BTCUSDT", pos.bust_price) == D("45000.2")
    assert h.wallet().total_wallet_balance == D("99931.2497525")
    h.tick(fundings=[market.funding("BTCUSDT", "0.0001", "50100", ts=h.now)])
    (funding,) = h.e.executions(h.uid, symbol="BTCUSDT", order_id="", exec_type="Funding")
    assert funding.exec_fee == D("12.525") and h.wallet().total_wallet_balance == D("99918.7247525")
    sell = h.place("Sell", "1", "50500")
    h.tick([market.trade("BTCUSDT", "50500", "3", Side.BUY, ts=h.now)])
    (fill,) = h.e.executions(h.uid, symbol="BTCUSDT", order_id=sell.order_id, exec_type=None)
    assert fill.is_maker and fill.exec_pnl == D("499.82") and fill.exec_fee == D("10.1")
    assert h.wallet().total_wallet_balance == D("100408.4447525")
    pos = h.pos()
    assert pos.size == 1500 and pos.avg_price == D("50000.18")
    assert pos.cum_realised_pnl == D("408.4447525")
