"""Reduce-only behaviour, order margin, amend/cancel, queries, events and account reset."""

from __future__ import annotations

from asym.domain import OrderStatus, Side
from asym.sim.engine import Engine
from asym.sim.engine.types import AmendOrder

from .conftest import DEPOSIT, Harness
from .scripted import D, ScriptedMarket


def test_reduce_only_is_truncated_to_the_position(h: Harness) -> None:
    h.place("Buy", "1")
    order = h.place("Sell", "3", "50100", reduce_only=True)
    assert order.qty == 1000 and order.status is OrderStatus.NEW
    market_close = h.place("Sell", "5", reduce_only=True)  # cancels the rest (nothing left to reduce)
    assert market_close.qty == 1000 and market_close.cum_exec_qty == 1000
    assert h.pos().size == 0
    got = h.order(order.order_id)
    assert got.status is OrderStatus.CANCELLED and got.cancel_type == "CancelByReduceOnly"


def test_resting_reduce_only_shrinks_with_the_position(h: Harness) -> None:
    h.place("Buy", "1")
    order = h.place("Sell", "1", "50100", reduce_only=True)
    h.drain()
    h.place("Sell", "0.6")
    shrunk = h.order(order.order_id)
    assert shrunk.qty == 400 and shrunk.status is OrderStatus.NEW
    assert any(o.order_id == order.order_id and o.qty == 400 for o in h.drain().orders)


def test_reduce_only_maker_fill_never_increases_the_position(h: Harness, market: ScriptedMarket) -> None:
    h.place("Buy", "1")
    order = h.place("Sell", "1", "50100", reduce_only=True)
    h.tick([market.trade("BTCUSDT", "50100", "5", Side.BUY, ts=h.now)])
    assert h.order(order.order_id).status is OrderStatus.FILLED
    assert h.pos().size == 0


def test_orders_that_only_reduce_reserve_no_margin(h: Harness) -> None:
    h.place("Buy", "2")
    h.place("Sell", "1", "50100")
    assert h.wallet().coins[0].total_order_im == 0
    h.place("Sell", "2", "50100")
    # 3 BTC of sells against a 2 BTC long: only 1 BTC (one third of 150300 of value) needs margin:
    # 50100 / 10 + 50100 x 0.00055 = 5010 + 27.555.
    assert h.wallet().coins[0].total_order_im == D("5037.555")


def test_amend_price_and_qty_of_a_resting_order(h: Harness, market: ScriptedMarket) -> None:
    order = h.place("Buy", "1", "49900", order_link_id="amend-me")
    h.e.amend_order(h.uid, AmendOrder("BTCUSDT", order_link_id="amend-me", qty=2000), h.now)
    assert h.order(order.order_id).qty == 2000
    # Amending the price through the book makes it take liquidity at once.
    h.e.amend_order(h.uid, AmendOrder("BTCUSDT", order.order_id, price=market.p("BTCUSDT", "50000.1")), h.now)
    got = h.order(order.order_id)
    assert got.status is OrderStatus.PARTIALLY_FILLED and got.cum_exec_qty == 1000
    assert h.wallet().coins[0].total_order_im == D("5000.01") + D("50000.1") * D("0.00055")


def test_amend_post_only_through_the_book_cancels_it(h: Harness, market: ScriptedMarket) -> None:
    from asym.domain import TimeInForce

    order = h.place("Buy", "1", "49900", tif=TimeInForce.POST_ONLY)
    h.e.amend_order(h.uid, AmendOrder("BTCUSDT", order.order_id, price=market.p("BTCUSDT", "50000.2")), h.now)
    got = h.order(order.order_id)
    assert got.status is OrderStatus.CANCELLED and got.reject_reason == "EC_PostOnlyWillTakeLiquidity"


def test_queries_newest_first_open_and_closed(h: Harness) -> None:
    a = h.place("Buy", "1", "49000", order_link_id="a")
    b = h.place("Buy", "1", "49001", order_link_id="b")
    c = h.place("Buy", "0.5")  # filled: closed
    h.e.cancel_order(h.uid, "BTCUSDT", a.order_id, "", h.now)
    q = h.e.orders
    assert [o.order_id for o in q(h.uid, symbol=None, order_id="", order_link_id="", open_only=True)] == [
        b.order_id
    ]
    all_ids = [o.order_id for o in q(h.uid, symbol="BTCUSDT", order_id="", order_link_id="", open_only=False)]
    assert all_ids == [c.order_id, b.order_id, a.order_id]
    # Id lookups ignore open_only; orderLinkId finds closed orders too.
    (found,) = q(h.uid, symbol=None, order_id="", order_link_id="a", open_only=True)
    assert found.order_id == a.order_id and found.status is OrderStatus.CANCELLED
    assert q(h.uid, symbol="ETHUSDT", order_id=c.order_id, order_link_id="", open_only=False) == []
    assert q(h.uid, symbol=None, order_id="nope", order_link_id="", open_only=False) == []
    # Returned objects are copies: changing them changes nothing inside.
    found.qty = 999_999
    assert h.order(a.order_id).qty == 1000


def test_closed_orders_keep_the_last_500(h: Harness) -> None:
    first = h.place("Buy", "0.001", "49000")
    h.e.cancel_order(h.uid, "BTCUSDT", first.order_id, "", h.now)
    for i in range(500):
        o = h.place("Buy", "0.001", str(48000 + i))
        h.e.cancel_order(h.uid, "BTCUSDT", o.order_id, "", h.now)
    closed = h.e.orders(h.uid, symbol=None, order_id="", order_link_id="", open_only=False)
    assert len(closed) == 500 and first.order_id not in {o.order_id for o in closed}


def test_executions_filters(h: Harness, market: ScriptedMarket) -> None:
    buy = h.place("Buy", "1.5")
    h.place("Sell", "0.5")
    h.tick(fundings=[market.funding("BTCUSDT", "0.0001", "50000", ts=h.now)])
    ex = h.e.executions
    assert len(ex(h.uid, symbol=None, order_id="", exec_type=None)) == 4
    assert ex(h.uid, symbol=None, order_id="", exec_type=None)[0].exec_type.value == "Funding"
    assert len(ex(h.uid, symbol="BTCUSDT", order_id=buy.order_id, exec_type=None)) == 2
    assert len(ex(h.uid, symbol="ETHUSDT", order_id="", exec_type=None)) == 0
    assert len(ex(h.uid, symbol=None, order_id="", exec_type="Trade")) == 3
    seqs = [x.seq for x in ex(h.uid, symbol=None, order_id="", exec_type=None)]
    assert seqs == sorted(seqs, reverse=True)


def test_position_and_wallet_events_on_create_and_cancel(h: Harness) -> None:
    h.drain()
    order = h.place("Buy", "1", "49000")
    ev = h.drain()
    assert [o.status for o in ev.orders] == [OrderStatus.NEW] and len(ev.positions) == 1
    assert ev.wallet is not None and ev.wallet.coins[0].total_order_im > 0
    h.e.cancel_order(h.uid, "BTCUSDT", order.order_id, "", h.now)
    ev = h.drain()
    assert [(o.status, o.cancel_type) for o in ev.orders] == [(OrderStatus.CANCELLED, "CancelByUser")]
    assert len(ev.positions) == 1 and ev.wallet is not None and ev.wallet.coins[0].total_order_im == 0


def test_event_objects_are_snapshots(h: Harness, market: ScriptedMarket) -> None:
    h.drain()
    order = h.place("Buy", "1", "49990")
    h.tick([market.trade("BTCUSDT", "49990", "0.25", ts=h.now)])
    h.tick([market.trade("BTCUSDT", "49990", "5", ts=h.now)])
    mine = [o for o in h.drain().orders if o.order_id == order.order_id]
    assert [(o.status, o.cum_exec_qty) for o in mine] == [
        (OrderStatus.NEW, 0),
        (OrderStatus.PARTIALLY_FILLED, 250),
        (OrderStatus.FILLED, 1000),
    ]


def test_open_account_resets_and_accounts_are_separate(h: Harness) -> None:
    h.place("Buy", "1", "49000", order_link_id="x")
    h.place("Buy", "1")
    h.e.open_account("other", D(5))
    assert h.e.positions("other", None) == []
    h.e.open_account(h.uid, D(1000))
    assert h.e.active_symbols() == set()
    assert h.wallet().total_wallet_balance == D(1000)
    assert h.e.order_count_by_link_id(h.uid, "x") == 0
    assert h.e.positions(h.uid, None) == []


def test_ids_are_deterministic_and_public_trades_recorded(market: ScriptedMarket) -> None:
    def run(mkt: ScriptedMarket) -> tuple[list[str], list[str]]:
        engine = Engine(mkt, seed=42)
        engine.open_account("u", DEPOSIT)
        h = Harness(mkt, engine, uid="u")
        orders = [h.place("Buy", "1.5").order_id, h.place("Sell", "1", "50100").order_id]
        execs = [x.exec_id for x in engine.executions("u", symbol=None, order_id="", exec_type=None)]
        trades = engine.drain_public_trades()
        assert [(t.price, t.size, t.taker_side) for t in trades] == [
            (500001, 1000, Side.BUY),
            (500002, 500, Side.BUY),
        ]
        assert engine.drain_public_trades() == []
        return orders, execs

    first = run(market)
    assert first == run(ScriptedMarket())
    assert len(first[0][0]) == 36 and first[0][0].count("-") == 4
