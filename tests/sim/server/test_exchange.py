"""SimExchange (market + engine under a clock), driven by a manual clock: no sockets, exact times."""

from __future__ import annotations

from decimal import Decimal

from asym.domain import OrderType, Side
from asym.sim.clock import AcceleratedClock, ManualClock
from asym.sim.config import SimConfig
from asym.sim.engine.types import PlaceOrder
from asym.sim.exchange import SimExchange, SyncResult

START = 1_750_000_000_000


def make(**overrides: object) -> tuple[SimExchange, ManualClock, list[SyncResult]]:
    clock = ManualClock(START)
    ex = SimExchange(SimConfig.model_validate({"symbols": 3, **overrides}), clock)
    seen: list[SyncResult] = []
    ex.add_listener(seen.append)
    return ex, clock, seen


def test_sync_follows_the_clock_and_reports_trades_of_active_symbols() -> None:
    ex, clock, seen = make()
    assert ex.now_ms() == START and ex.min_sync_interval_s == 0.0
    assert ex.active_symbols() == []
    ex.subscribe("BTCUSDT")
    clock.advance(60_000)
    result = ex.sync()
    assert result.now_ms == START + 60_000 == ex.now_ms() == ex.market.now_ms()
    assert seen[-1] is result
    assert result.market.trades, "a minute of a BTC-like market trades"
    assert {t.symbol for t in result.market.trades} == {"BTCUSDT"}, "only active symbols' events"
    assert all(START < t.ts <= START + 60_000 for t in result.market.trades)
    again = ex.sync()
    assert again.now_ms == result.now_ms and not again.market.trades, "nothing new without the clock moving"


def test_a_symbol_joining_late_brings_no_stale_backlog() -> None:
    ex, clock, _ = make()
    clock.advance(120_000)
    ex.sync()
    ex.subscribe("ETHUSDT")  # idle for two minutes of market time: its backlog is dropped, not published
    clock.advance(1_000)
    trades = ex.sync().market.trades
    assert all(t.ts > START + 120_000 for t in trades)
    book = ex.market.book("SOLUSDT", 5)
    assert book.ts == ex.now_ms(), "reads are at market time even for symbols nobody collects"


def test_subscriptions_are_reference_counted() -> None:
    ex, _, _ = make()
    ex.subscribe("ETHUSDT")
    ex.subscribe("ETHUSDT")
    ex.unsubscribe("ETHUSDT")
    assert ex.active_symbols() == ["ETHUSDT"]
    ex.unsubscribe("ETHUSDT")
    assert ex.active_symbols() == []


def test_writes_flush_private_events_and_keep_the_symbol_active() -> None:
    ex, clock, seen = make(balance_usdt=Decimal("5000"))
    clock.advance(1000)
    ex.sync()
    order = ex.engine.place_order(
        ex.uid, PlaceOrder(symbol="SOLUSDT", side=Side.BUY, order_type=OrderType.MARKET, qty=10), ex.now_ms()
    )
    flushed = ex.flush()
    assert seen[-1] is flushed
    assert [o.order_id for o in flushed.account.orders][-1] == order.order_id
    assert flushed.account.executions and flushed.account.wallet is not None
    own = [t for t in flushed.market.trades if t.symbol == "SOLUSDT"]
    assert sum(t.size for t in own) == 10, "the account's taker fill printed on the tape"
    assert "SOLUSDT" in ex.active_symbols(), "an open position keeps its symbol advanced"
    assert ex.engine.wallet(ex.uid).total_wallet_balance < Decimal("5000")


def test_unknown_symbol_touch_is_harmless_and_instrument_lookup() -> None:
    ex, _, _ = make()
    assert ex.instrument("NOPE") is None
    btc = ex.instrument("BTCUSDT")
    assert btc is not None and btc.symbol == "BTCUSDT"
    assert [i.symbol for i in ex.instruments()] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def test_real_time_clock_coalesces_bursts() -> None:
    assert (
        SimExchange(
            SimConfig.model_validate({"symbols": 1}), AcceleratedClock(1.0, START)
        ).min_sync_interval_s
        > 0
    )
    ex = SimExchange(
        SimConfig.model_validate({"symbols": 1}), AcceleratedClock(1.0, START), min_sync_interval_s=3600
    )
    ex.subscribe("BTCUSDT")
    first = ex.sync()
    second = ex.sync()
    assert second.now_ms == first.now_ms and not second.market.trades, "within the interval: no advance"
