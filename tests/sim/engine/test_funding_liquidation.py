"""Funding payments and the liquidation of the account's own positions."""

from __future__ import annotations

from asym.domain import ExecType, OrderStatus, OrderType, Side
from asym.sim.engine.types import PlaceOrder

from .conftest import DEPOSIT, Harness
from .scripted import D, ScriptedMarket

TAKER = D("0.00055")


def _fill_at(h: Harness, market: ScriptedMarket, side: str, qty: str, price: str) -> None:
    p = D(price)
    bid = price if side == "Sell" else str(p - 1)
    ask = price if side == "Buy" else str(p + 1)
    market.set_book("BTCUSDT", [(bid, "100")], [(ask, "100")])
    h.place(side, qty)
    market.set_prices("BTCUSDT", last=market.p("BTCUSDT", price), mark=market.p("BTCUSDT", price))


def test_long_pays_and_short_receives_positive_funding(h: Harness, market: ScriptedMarket) -> None:
    h.e.open_account("u2", DEPOSIT)
    _fill_at(h, market, "Buy", "2", "50000")
    market.set_book("BTCUSDT", [("50000", "100")], [("50001", "100")])
    short = PlaceOrder(
        symbol="BTCUSDT", side=Side.SELL, order_type=OrderType.MARKET, qty=market.q("BTCUSDT", "1")
    )
    h.e.place_order("u2", short, h.now)
    wallet_before = h.wallet().total_wallet_balance
    short_before = h.e.wallet("u2").total_wallet_balance
    h.drain()
    h.tick(fundings=[market.funding("BTCUSDT", "0.0001", "50100", ts=h.now + 1)])
    # Long 2 x mark 50100 x 0.0001 = 10.02 paid; short 1 x 50100 x 0.0001 = 5.01 received.
    assert h.wallet().total_wallet_balance == wallet_before - D("10.02")
    assert h.e.wallet("u2").total_wallet_balance == short_before + D("5.01")
    ev = h.drain()
    (funding,) = ev.executions
    assert funding.exec_type is ExecType.FUNDING and funding.order_type is None
    assert funding.exec_fee == D("10.02") and funding.fee_rate == D("0.0001")
    assert funding.exec_value == D("100200") and funding.exec_qty == 2000 and funding.side is Side.BUY
    assert ev.positions and ev.wallet is not None
    (u2_funding,) = h.e.executions("u2", symbol="BTCUSDT", order_id="", exec_type="Funding")
    assert u2_funding.exec_fee == D("-5.01") and u2_funding.side is Side.SELL
    assert h.pos().cum_realised_pnl == -D(100000) * TAKER - D("10.02")


def test_negative_funding_is_paid_by_shorts(h: Harness, market: ScriptedMarket) -> None:
    _fill_at(h, market, "Sell", "1", "50000")
    before = h.wallet().total_wallet_balance
    h.tick(fundings=[market.funding("BTCUSDT", "-0.00025", "49000", ts=h.now)])
    assert h.wallet().total_wallet_balance == before - D("12.25")  # 49000 x 0.00025 paid by the short


def test_flat_accounts_pay_no_funding(h: Harness, market: ScriptedMarket) -> None:
    h.tick(fundings=[market.funding("BTCUSDT", "0.01", "50000", ts=h.now)])
    assert h.wallet().total_wallet_balance == DEPOSIT
    assert h.e.executions(h.uid, symbol=None, order_id="", exec_type=None) == []


def test_long_is_liquidated_at_the_bankruptcy_price(h: Harness, market: ScriptedMarket) -> None:
    _fill_at(h, market, "Buy", "1", "50000")
    resting = h.place("Buy", "0.1", "46000")
    tp_order = h.place("Sell", "0.5", "55000", reduce_only=True)
    # liq = (50000 - 5000) / 0.995 = 45226.13 -> 45226.2; bust = 45000.
    market.set_mark("BTCUSDT", "45226.3")
    h.tick()
    assert h.pos().size == 1000
    h.drain()
    market.set_mark("BTCUSDT", "45226.2")
    h.tick()
    pos = h.pos()
    assert pos.size == 0 and pos.position_status == "Normal"
    for oid in (resting.order_id, tp_order.order_id):
        got = h.order(oid)
        assert got.status is OrderStatus.CANCELLED and got.cancel_type == "CancelAllBeforeLiq"
    ev = h.drain()
    assert [p.position_status for p in ev.positions][:1] == ["Liq"]
    (bust,) = [x for x in ev.executions if x.exec_type is ExecType.BUST_TRADE]
    assert h.px("BTCUSDT", bust.exec_price) == D(45000) and bust.exec_qty == 1000
    assert bust.create_type == "CreateByLiq" and bust.exec_pnl == D(-5000)
    assert bust.exec_fee == D(45000) * TAKER == D("24.75")
    liq_order = h.order(bust.order_id)
    assert liq_order.status is OrderStatus.FILLED and liq_order.create_type == "CreateByLiq"
    # The whole margin (5000) is lost, plus the open and liquidation fees.
    assert h.wallet().total_wallet_balance == DEPOSIT - D("27.5") - D(5000) - D("24.75")
    assert h.e.active_symbols() == set()


def test_short_is_liquidated_when_the_mark_rises(h: Harness, market: ScriptedMarket) -> None:
    h.e.set_leverage(h.uid, "BTCUSDT", D(50), h.now)
    _fill_at(h, market, "Sell", "2", "50000")
    pos = h.pos()
    # IM = 100000 / 50 = 2000; L = (100000 + 2000) / (2 x 1.005) = 50746.26.. -> 50746.2; bust 51000.
    assert h.px("BTCUSDT", pos.liq_price) == D("50746.2") and h.px("BTCUSDT", pos.bust_price) == D(51000)
    market.set_mark("BTCUSDT", "50800")  # beyond the liquidation price: still closed at the bust price
    h.tick()
    assert h.pos().size == 0
    (bust,) = h.e.executions(h.uid, symbol="BTCUSDT", order_id="", exec_type="BustTrade")
    assert bust.exec_pnl == D(-2000) and bust.side is Side.BUY


def test_one_x_long_has_no_liquidation_price(h: Harness, market: ScriptedMarket) -> None:
    h.e.set_leverage(h.uid, "BTCUSDT", D(1), h.now)
    _fill_at(h, market, "Buy", "1", "50000")
    assert h.pos().liq_price is None
    market.set_mark("BTCUSDT", "0.1")
    h.tick()
    assert h.pos().size == 1000
