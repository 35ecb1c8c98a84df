"""The pure parts of the trading shell: round trips, drawdown, the books' incremental marks, clocks, venue
specs, entry requests, and rebuilding the order tracker from stored rows."""

from __future__ import annotations

import time
from decimal import Decimal

import msgspec
import pytest

from asym.app.clock import DataClock, SteppedClock
from asym.app.venues import parse_venue
from asym.domain import ExecType, Execution, Order, OrderStatus, OrderType, Side, TimeInForce
from asym.errors import ConfigError
from asym.signals.schema import EntryType
from asym.store import DecisionRecord, OrderIntent
from asym.trading.config import RiskConfig
from asym.trading.executor import EntryStyle, ExecutionConfig, entry_request, fallback_request
from asym.trading.ids import LegKind, order_link_id
from asym.trading.intents import TargetLeg, TradeIntent
from asym.trading.modes import Mode
from asym.trading.monitoring import Books, DrawdownTracker, TradeLedger, percentile_ms
from asym.trading.order_states import OrderState
from asym.trading.persist import Kind, SessionStart, open_decision_id, plan_to_json, restore
from asym.trading.plan import OrderPlan
from asym.trading.risk import evaluate
from asym.trading.views import AccountView, MarketView

from .helpers import btc_instrument, enhanced

D = Decimal


def fill(
    i: int, symbol: str, side: Side, qty: str, price: str, fee: str = "0", ts: int = 10, **kw: object
) -> Execution:
    q, p = D(qty), D(price)
    fields: dict[str, object] = {
        "exec_id": f"x{i}",
        "order_id": f"o{i}",
        "order_link_id": "",
        "symbol": symbol,
        "side": side,
        "price": p,
        "qty": q,
        "value": q * p,
        "fee": D(fee),
        "fee_rate": D("0.00055"),
        "is_maker": False,
        "exec_type": ExecType.TRADE,
        "ts": ts,
    }
    fields.update(kw)
    return Execution(**fields)  # type: ignore[arg-type]


def books() -> Books:
    b = Books()
    b.open(SessionStart(ts=5, venue="t", balance=D(10_000)))
    return b


def test_ledger_counts_a_round_trip_net_of_fees_and_funding() -> None:
    b = books()
    b.book(fill(1, "BTCUSDT", Side.BUY, "0.1", "50000", fee="2.75"))
    b.book(fill(2, "BTCUSDT", Side.BUY, "0.1", "49000", exec_type=ExecType.FUNDING, fee="0.5", ts=11))
    assert b.ledger.closed == []
    b.book(fill(3, "BTCUSDT", Side.SELL, "0.1", "51000", fee="2.80", ts=12))
    (t,) = b.ledger.closed
    assert t.pnl == D(100) - D("2.75") - D("2.80") - D("0.5") and t.side is Side.BUY
    assert t.fees == D("5.55") and t.funding == D("0.5") and t.opened_ms == 10 and t.closed_ms == 12
    assert b.ledger.stats() == (1, 1, 0)
    assert b.portfolio.balance == D(10_000) + t.pnl


def test_ledger_flip_closes_one_trade_and_opens_the_next() -> None:
    led = TradeLedger()
    b = books()
    b.ledger = led
    b.book(fill(1, "ETHUSDT", Side.SELL, "1", "2000"))
    b.book(fill(2, "ETHUSDT", Side.BUY, "3", "1900", ts=11))  # closes the short (+100), opens 2 long
    assert [t.pnl for t in led.closed] == [D(100)] and led.open_symbols == ["ETHUSDT"]
    b.book(fill(3, "ETHUSDT", Side.SELL, "2", "1850", ts=12))
    assert [t.pnl for t in led.closed] == [D(100), D(-100)] and led.stats() == (2, 1, 1)


def test_books_ignore_fills_from_before_the_session() -> None:
    b = books()
    assert not b.book(fill(1, "BTCUSDT", Side.BUY, "1", "100", ts=4))
    assert b.held("BTCUSDT") == 0


def test_incremental_marks_equal_the_portfolio_and_skip_repeats() -> None:
    b = books()
    b.book(fill(1, "BTCUSDT", Side.BUY, "0.2", "50000"))
    b.book(fill(2, "ETHUSDT", Side.SELL, "3", "2500"))
    assert not b.mark("SOLUSDT", D(150), 20)  # not held
    assert b.mark("BTCUSDT", D(51000), 20) and not b.mark("BTCUSDT", D(51000), 21)
    assert b.mark("ETHUSDT", D(2600), 22)
    assert b.booked_mark("ETHUSDT") == D(2600)
    expected_unreal = D("0.2") * 1000 - 3 * 100
    assert b._unreal_total == expected_unreal
    assert b.portfolio.unrealised_pnl == expected_unreal  # pending marks applied on read
    assert b.portfolio.equity == D(10_000) + expected_unreal
    assert b.drawdown.max_drawdown == (D(10_200) - (D(10_000) + expected_unreal)) / D(10_200)


def test_drawdown_and_percentiles() -> None:
    dd = DrawdownTracker()
    for e in (100, 120, 90, 130, 117):
        dd.observe(D(e))
    assert dd.peak == 130 and dd.max_drawdown == D(30) / D(120)
    assert percentile_ms([], 50) is None
    assert percentile_ms([0.001, 0.002, 0.003, 0.004], 50) == 2.0
    assert percentile_ms([0.001 * i for i in range(1, 101)], 99) == pytest.approx(99.0)


def test_stepped_clock_stands_still_until_run() -> None:
    c = SteppedClock(1_000, speed=1000)
    time.sleep(0.01)
    assert c.now_ms() == 1_000 and not c.running
    c.run()
    time.sleep(0.02)
    moved = c.now_ms()
    assert moved >= 1_000 + 15_000  # 20 ms of wall at x1000
    c.pause()
    frozen = c.now_ms()
    time.sleep(0.01)
    assert c.now_ms() == frozen and c.advance(500) == frozen + 500
    frozen += 500
    c.run(until_ms=frozen + 600)
    time.sleep(0.01)  # 10 ms of wall at x1000 would be 10 s: it stops at the target
    assert c.now_ms() == frozen + 600
    c.pause()
    assert c.now_ms() == frozen + 600
    with pytest.raises(ValueError):
        c.advance(-1)
    with pytest.raises(ValueError):
        SteppedClock(0, speed=0)


def test_data_clock_follows_market_time_forward_only() -> None:
    c = DataClock(1.0, start_ms=1_000)
    c.observe(50_000)
    assert c.now_ms() >= 50_000
    c.observe(10_000)  # older data never moves it back
    assert c.now_ms() >= 50_000


def test_venue_specs() -> None:
    assert parse_venue("sim") == ("sim", "")
    assert parse_venue(" Mainnet ") == ("live", "mainnet")
    assert parse_venue("http://127.0.0.1:8080/") == ("remote", "http://127.0.0.1:8080")
    assert parse_venue("paper") == ("paper", "mainnet")
    for bad in ("binance", "paper:kraken", "ftp://x"):
        with pytest.raises(ConfigError):
            parse_venue(bad)


def _plan(entry_type: EntryType = EntryType.MARKET) -> OrderPlan:
    intent = TradeIntent(
        symbol="BTCUSDT",
        side=Side.BUY,
        entry_type=entry_type,
        entry_price=D(50_000),
        stop_loss=D(49_500),
        take_profits=(
            TargetLeg(price=D(52_000), fraction=D("0.5")),
            TargetLeg(price=D(53_000), fraction=D("0.5")),
        ),
        leverage=D(5),
        signal_id="sig-1",
        model_id="t",
        reward_risk=D(3),
    )
    account = AccountView(equity=D(10_000), available_balance=D(10_000), mode=Mode.NORMAL)
    d = evaluate(
        intent, btc_instrument(), account, MarketView(data=enhanced("BTCUSDT", 0, D(50_000))), RiskConfig(), 1
    )
    assert d.plan is not None, d.reasons
    return d.plan


def test_entry_requests_for_each_style() -> None:
    plan = _plan()
    assert entry_request(plan, EntryStyle.MARKET, D(49_999), D(50_001)) == plan.entry
    po = entry_request(plan, EntryStyle.POST_ONLY, D("49999.9"), D(50_000))
    assert po.order_type is OrderType.LIMIT and po.time_in_force is TimeInForce.POST_ONLY
    assert po.price == D("49999.9") and po.order_link_id == plan.entry.order_link_id
    assert (po.stop_loss, po.take_profit) == (plan.stop_loss, plan.take_profits[-1])
    assert entry_request(plan, EntryStyle.POST_ONLY, None, None) == plan.entry  # no touch: as planned
    fb = fallback_request(plan, D("0.1"), 1)
    assert fb.order_type is OrderType.MARKET and fb.qty == D("0.1") and fb.price is None
    assert (
        fb.order_link_id
        == order_link_id(plan.intent_key, LegKind.ENTRY, attempt=1)
        != plan.entry.order_link_id
    )
    with pytest.raises(ConfigError):
        ExecutionConfig(post_only_timeout_ms=0)


def _order(link: str, status: OrderStatus, cum: str, qty: str, updated: int) -> Order:
    return Order(
        order_id=f"id-{link}",
        order_link_id=link,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        price=D(0),
        qty=D(qty),
        time_in_force=TimeInForce.IOC,
        status=status,
        cum_exec_qty=D(cum),
        cum_exec_value=D(0),
        cum_exec_fee=D(0),
        avg_price=None,
        leaves_qty=D(0),
        reduce_only=False,
        created_time=updated,
        updated_time=updated,
    )


def test_restore_rebuilds_the_tracker_from_stored_rows() -> None:
    plan = _plan()
    did = open_decision_id(plan.intent_key)
    tp1 = plan.exits[0]
    lost = msgspec.structs.replace(tp1, order_link_id="asym-000000000000000000000000-tp9")
    rejected = msgspec.structs.replace(tp1, order_link_id="asym-111111111111111111111111-tp8")
    intents = [
        OrderIntent(request=plan.entry, ts=10, decision_id=did),
        OrderIntent(request=tp1, ts=12, decision_id=did),
        OrderIntent(request=lost, ts=13, decision_id=did),
        OrderIntent(request=rejected, ts=14, decision_id=did),
    ]
    decisions = [
        DecisionRecord(
            decision_id="s",
            ts=1,
            symbol="",
            action=Kind.SESSION_START.value,
            detail={"ts": 1, "venue": "sim", "balance": "10000"},
        ),
        DecisionRecord(
            decision_id=did, ts=10, symbol="BTCUSDT", action="OPEN_LONG", detail={"plan": plan_to_json(plan)}
        ),
        DecisionRecord(
            decision_id="r",
            ts=15,
            symbol="BTCUSDT",
            action=Kind.ORDER_REJECTED.value,
            reasons=("InsufficientBalanceError",),
            order_link_ids=(rejected.order_link_id,),
        ),
        DecisionRecord(
            decision_id="m",
            ts=16,
            symbol="",
            action=Kind.MODE.value,
            detail={"kind": "halt", "src": "NORMAL", "dst": "HALTED", "detail": "by hand"},
        ),
    ]
    orders = [_order(plan.entry.order_link_id, OrderStatus.FILLED, str(plan.qty), str(plan.qty), 11)]
    execs = [
        fill(
            1,
            "BTCUSDT",
            Side.BUY,
            str(plan.qty),
            "50010",
            order_link_id=plan.entry.order_link_id,
            order_id=f"id-{plan.entry.order_link_id}",
            ts=11,
        )
    ]
    state = restore(intents, orders, execs, decisions)
    assert state.start == SessionStart(ts=1, venue="sim", balance=D(10_000))
    assert state.plans == {plan.intent_key: plan} and state.mode is Mode.HALTED
    entry = state.tracker.get(plan.entry.order_link_id)
    assert entry is not None and entry.state is OrderState.FILLED and entry.intent_key == plan.intent_key
    assert entry.ref_price == plan.worst_entry and entry.exec_qty == plan.qty
    assert state.tracker.get(tp1.order_link_id).state is OrderState.SENT  # type: ignore[union-attr]
    assert state.tracker.get(lost.order_link_id).state is OrderState.SENT  # type: ignore[union-attr]
    assert state.tracker.get(rejected.order_link_id).state is OrderState.REJECTED  # type: ignore[union-attr]
    assert state.requests[tp1.order_link_id] == tp1
