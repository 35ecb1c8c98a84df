"""The engine against the real market model (`asym.sim.market.Market`): book walks, maker fills from the
generated trades, TP/SL triggers on the generated path, funding settlements, and the money invariant."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from asym.domain import ExecType, OrderStatus, OrderType, Side, StopOrderType
from asym.sim.config import SimConfig
from asym.sim.engine import Engine
from asym.sim.engine.types import PlaceOrder, SimOrder
from asym.sim.market import Market
from asym.sim.types import FundingSettlement

SYM = "BTCUSDT"
DEPOSIT = Decimal(100_000)
# Two minutes before the 08:00 UTC funding settlement of a June 2025 day.
FUNDING_TS = int(datetime(2025, 6, 10, 8, 0, tzinfo=UTC).timestamp() * 1000)
START = FUNDING_TS - 120_000


class Driver:
    """Advances a real Market second by second and feeds the engine, like the server's sync loop."""

    def __init__(self, seed: int = 7) -> None:
        self.m = Market(SimConfig.model_validate({"symbols": 5, "seed": seed, "history_days": 1}), START)
        self.e = Engine(self.m, seed=seed)
        self.e.open_account("u", DEPOSIT)
        self.now = START
        self.inst = self.m.instrument(SYM)
        self.fundings: list[FundingSettlement] = []
        self.trades = 0

    def place(self, **kw: object) -> SimOrder:
        return self.e.place_order("u", PlaceOrder(symbol=SYM, **kw), self.now)  # type: ignore[arg-type]

    def run(self, seconds: int, until: object = None) -> None:
        for _ in range(seconds):
            self.now += 1000
            events = self.m.advance(self.now, sorted(self.e.active_symbols() | {SYM}))
            self.fundings.extend(f for f in events.fundings if f.symbol == SYM)
            self.trades += sum(1 for t in events.trades if t.symbol == SYM)
            self.e.on_market(events, self.now)
            if callable(until) and until():
                return

    def order(self, order_id: str) -> SimOrder:
        (o,) = self.e.orders("u", symbol=SYM, order_id=order_id, order_link_id="", open_only=False)
        return o

    def check_wallet_identity(self) -> None:
        pnl = fees = funding = Decimal(0)
        for x in self.e.executions("u", symbol=None, order_id="", exec_type=None):
            if x.exec_type is ExecType.FUNDING:
                funding += x.exec_fee
            else:
                pnl += x.exec_pnl
                fees += x.exec_fee
        assert self.e.wallet("u").total_wallet_balance == DEPOSIT + pnl - fees - funding


@pytest.fixture
def d() -> Driver:
    return Driver()


def test_market_order_walks_the_real_book(d: Driver) -> None:
    book = d.m.book(SYM, 50)
    qty = d.inst.qty.to_int("3")
    # The fills a taker must get: the ask levels, best first, until 3 BTC.
    expected, left = [], qty
    for price, size in book.asks:
        take = min(size, left)
        expected.append((price, take))
        left -= take
        if not left:
            break
    order = d.place(side=Side.BUY, order_type=OrderType.MARKET, qty=qty)
    assert order.status is OrderStatus.FILLED
    fills = d.e.executions("u", symbol=SYM, order_id=order.order_id, exec_type=None)
    assert [(x.exec_price, x.exec_qty) for x in reversed(fills)] == expected
    value = sum((d.inst.price.to_decimal(p) * d.inst.qty.to_decimal(q) for p, q in expected), Decimal(0))
    assert order.cum_exec_value == value
    assert order.cum_exec_fee == value * Decimal("0.00055")
    (pos,) = d.e.positions("u", SYM)
    assert pos.size == qty and pos.avg_price == (value / 3).quantize(Decimal("1e-8"))
    # The mark comes from the market: the protection price is 5 % above it.
    assert order.price == -(-d.m.ticker(SYM).mark * 105 // 100)
    d.check_wallet_identity()


def test_resting_limit_fills_as_maker_from_generated_trades(d: Driver) -> None:
    bid = d.m.book(SYM, 1).bids[0][0]
    order = d.place(side=Side.BUY, order_type=OrderType.LIMIT, qty=d.inst.qty.to_int("0.2"), price=bid - 5)
    assert order.status is OrderStatus.NEW
    d.run(600, until=lambda: d.order(order.order_id).status is OrderStatus.FILLED)
    assert d.trades > 0
    done = d.order(order.order_id)
    assert done.status is OrderStatus.FILLED, "the generated path did not come down 5 ticks in 10 minutes"
    fills = d.e.executions("u", symbol=SYM, order_id=order.order_id, exec_type="Trade")
    assert fills and all(x.is_maker and x.exec_price == bid - 5 for x in fills)
    assert done.cum_exec_fee == done.cum_exec_value * Decimal("0.0002")
    d.check_wallet_identity()


def test_tpsl_close_the_position_on_the_generated_path(d: Driver) -> None:
    last = d.m.ticker(SYM).last
    entry = d.place(
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=d.inst.qty.to_int("0.5"),
        take_profit=last + 40,
        stop_loss=last - 40,
    )
    assert entry.status is OrderStatus.FILLED
    d.run(900, until=lambda: d.e.positions("u", SYM)[0].size == 0)
    (pos,) = d.e.positions("u", SYM)
    assert pos.size == 0, "price stayed within +-4 USDT for 15 minutes"
    closed = d.e.orders("u", symbol=SYM, order_id="", order_link_id="", open_only=False)
    legs = {o.stop_order_type: o for o in closed if o.stop_order_type is not StopOrderType.NONE}
    statuses = {legs[k].status for k in (StopOrderType.TAKE_PROFIT, StopOrderType.STOP_LOSS)}
    assert statuses == {OrderStatus.FILLED, OrderStatus.CANCELLED}
    assert d.e.orders("u", symbol=SYM, order_id="", order_link_id="", open_only=True) == []
    d.check_wallet_identity()


def test_funding_settlement_of_the_real_market_is_paid(d: Driver) -> None:
    qty = d.inst.qty.to_int("1")
    d.place(side=Side.SELL, order_type=OrderType.MARKET, qty=qty)
    d.run(180)
    (settlement,) = d.fundings
    assert settlement.ts == FUNDING_TS
    (paid,) = d.e.executions("u", symbol=SYM, order_id="", exec_type="Funding")
    value = d.inst.price.to_decimal(settlement.mark)  # 1 BTC
    assert paid.exec_value == value and paid.fee_rate == settlement.rate
    assert paid.exec_fee == -value * settlement.rate  # a short receives a positive rate
    assert paid.side is Side.SELL and paid.exec_time == FUNDING_TS
    d.check_wallet_identity()


def test_engine_follows_the_market_deterministically() -> None:
    def run() -> list[tuple[str, int, int]]:
        d = Driver(seed=11)
        bid = d.m.book(SYM, 1).bids[0][0]
        d.place(side=Side.BUY, order_type=OrderType.LIMIT, qty=d.inst.qty.to_int("0.3"), price=bid - 2)
        d.place(side=Side.SELL, order_type=OrderType.MARKET, qty=d.inst.qty.to_int("0.1"))
        d.run(120)
        return [
            (x.exec_id, x.exec_price, x.exec_qty)
            for x in d.e.executions("u", symbol=None, order_id="", exec_type=None)
        ]

    first = run()
    assert first and first == run()
