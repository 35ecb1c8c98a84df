"""Property test: random order/market sequences keep the engine's money invariants exactly."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.domain import ExecType, OrderType, Side, TimeInForce
from asym.sim.engine import Engine
from asym.sim.engine.types import AmendOrder, PlaceOrder
from asym.sim.types import MarketEvents, SimRejection

from .scripted import D, ScriptedMarket

DEPOSIT = D(20_000)
SYM = "BTCUSDT"

sides = st.sampled_from([Side.BUY, Side.SELL])
qtys = st.integers(1, 3000)  # 0.001 .. 3 BTC
offsets = st.integers(-300, 300)  # ticks of 0.1 around the mid
ops = st.one_of(
    st.tuples(st.just("market"), sides, qtys),
    st.tuples(st.just("limit"), sides, qtys, offsets, st.sampled_from(list(TimeInForce))),
    st.tuples(st.just("reduce"), sides, qtys, st.one_of(st.none(), offsets)),
    st.tuples(st.just("close"), sides),
    st.tuples(st.just("cond"), sides, qtys, offsets),
    st.tuples(st.just("trade"), offsets, qtys),
    st.tuples(st.just("move"), st.integers(-30_000, 30_000)),  # up to 3000 USDT: liquidations happen
    st.tuples(st.just("funding"), st.integers(-1000, 1000)),
    st.tuples(st.just("leverage"), st.sampled_from(["1", "5", "10", "25", "100"])),
    st.tuples(st.just("cancel_all"), st.sampled_from([None, "Order", "StopOrder"])),
    st.tuples(st.just("tpsl"), sides, qtys, st.integers(1, 300), st.integers(1, 300)),
    st.tuples(
        st.just("amend"), st.integers(0, 50), st.one_of(st.none(), qtys), st.one_of(st.none(), offsets)
    ),
)


class Run:
    """Applies ops to an engine over a scripted market and checks the invariants after each."""

    def __init__(self) -> None:
        self.m = ScriptedMarket()
        self.e = Engine(self.m, seed=3)
        self.e.open_account("p", DEPOSIT)
        self.now = 1_700_000_000_000
        self.mid = self.m.p(SYM, "50000")
        self.reduce_only: dict[str, bool] = {}
        self.seen_execs = 0

    def place(self, **kw: Any) -> None:
        self.now += 1
        try:
            order = self.e.place_order("p", PlaceOrder(symbol=SYM, **kw), self.now)
            self.reduce_only[order.order_id] = order.reduce_only
        except SimRejection:
            pass

    def tick(self, events: MarketEvents) -> None:
        self.now += 1000
        self.e.on_market(events, self.now)

    def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "market":
            self.place(side=op[1], order_type=OrderType.MARKET, qty=op[2])
        elif kind == "limit":
            self.place(
                side=op[1], order_type=OrderType.LIMIT, qty=op[2], price=self.mid + op[3], time_in_force=op[4]
            )
        elif kind == "reduce":
            otype = OrderType.MARKET if op[3] is None else OrderType.LIMIT
            price = None if op[3] is None else self.mid + op[3]
            self.place(side=op[1], order_type=otype, qty=op[2], price=price, reduce_only=True)
        elif kind == "close":
            self.place(
                side=op[1], order_type=OrderType.MARKET, qty=0, reduce_only=True, close_on_trigger=True
            )
        elif kind == "cond":
            trig = self.mid + op[3]
            if trig != self.mid:
                self.place(
                    side=op[1],
                    order_type=OrderType.MARKET,
                    qty=op[2],
                    trigger_price=trig,
                    trigger_direction=1 if trig > self.mid else 2,
                )
        elif kind == "trade":
            taker = Side.BUY if op[1] > 0 else Side.SELL
            price = str(self.m.instrument(SYM).price.to_decimal(self.mid + op[1]))
            trade = self.m.trade(SYM, price, str(D(op[2]) / 1000), taker, ts=self.now)
            self.tick(MarketEvents(trades=[trade]))
        elif kind == "move":
            self.mid = max(10_000, self.mid + op[1])
            self.m.quote(SYM, str(self.m.instrument(SYM).price.to_decimal(self.mid)), size="2")
            self.tick(MarketEvents())
        elif kind == "funding":
            rate = str(D(op[1]) / 1_000_000)
            mark = str(self.m.instrument(SYM).price.to_decimal(self.mid))
            self.tick(MarketEvents(fundings=[self.m.funding(SYM, rate, mark, ts=self.now)]))
        elif kind == "leverage":
            try:
                self.e.set_leverage("p", SYM, D(op[1]), self.now)
            except SimRejection:
                pass
        elif kind == "cancel_all":
            self.e.cancel_all("p", SYM, op[1], self.now)
        elif kind == "tpsl":
            sign = 1 if op[1] is Side.BUY else -1
            tp, sl = self.mid + sign * op[3], self.mid - sign * op[4]
            self.place(side=op[1], order_type=OrderType.MARKET, qty=op[2], take_profit=tp, stop_loss=sl)
        elif kind == "amend":
            live = self.e.orders("p", symbol=SYM, order_id="", order_link_id="", open_only=True)
            if live:
                target = live[op[1] % len(live)]
                price = None if op[3] is None or target.order_type is OrderType.MARKET else self.mid + op[3]
                trigger = None if op[3] is None or target.trigger_price is None else self.mid + op[3]
                try:
                    self.e.amend_order(
                        "p",
                        AmendOrder(SYM, target.order_id, qty=op[2], price=price, trigger_price=trigger),
                        self.now,
                    )
                except SimRejection:
                    pass
        self.check()

    def check(self) -> None:
        for o in self.e.drain_events("p").orders:
            self.reduce_only.setdefault(o.order_id, o.reduce_only)
        execs = list(reversed(self.e.executions("p", symbol=None, order_id="", exec_type=None)))
        pnl = fees = funding = D(0)
        for x in execs:
            if x.exec_type is ExecType.FUNDING:
                funding += x.exec_fee
                assert x.exec_pnl == 0
                continue
            assert x.exec_fee >= 0, x
            assert x.exec_fee == x.exec_value * x.fee_rate
            if self.reduce_only.get(x.order_id):
                assert x.closed_size == x.exec_qty, "a reduce-only fill increased the position"
            pnl += x.exec_pnl
            fees += x.exec_fee
        wallet = self.e.wallet("p")
        assert wallet.total_wallet_balance == DEPOSIT + pnl - fees - funding
        (pos,) = self.e.positions("p", SYM)
        assert pos.size >= 0 and (pos.side is None) == (pos.size == 0)
        assert wallet.total_equity == wallet.total_wallet_balance + pos.unrealised_pnl
        assert wallet.total_available_balance >= 0
        for o in self.e.orders("p", symbol=None, order_id="", order_link_id="", open_only=True):
            assert (o.status.is_open and 0 <= o.cum_exec_qty <= o.qty) or o.qty == 0


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=40))
def test_random_sequences_keep_money_invariants(sequence: list[tuple[Any, ...]]) -> None:
    run = Run()
    for op in sequence:
        run.apply(op)


def test_a_liquidating_sequence_keeps_the_invariants() -> None:
    # A deterministic companion of the property: 100x long, then the market collapses.
    run = Run()
    for op in [("leverage", "100"), ("market", Side.BUY, 3000), ("move", -3000), ("move", -3000)]:
        run.apply(op)
    assert run.e.executions("p", symbol=None, order_id="", exec_type="BustTrade")
