"""Restart from the store against the same venue: the books and orders come back, a stop removed while
asym was down is put back, a position opened by hand is adopted and protected, the mode stays HALTED, and
the same signal replayed is not traded twice."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from asym.domain import OrderRequest, OrderType, Side
from asym.domain.venue import TradingStopRequest
from asym.store import Store, StoreConfig
from asym.trading.config import RiskConfig
from asym.trading.modes import Mode
from asym.trading.order_states import OrderState
from asym.trading.persist import IntentJournal, JournalEntry, TradingStore, restore
from asym.trading.session import SessionConfig

from .helpers import enhanced, file_size, manual_sim, session_for, signal

D = Decimal
CFG = SessionConfig(risk=RiskConfig(risk_per_trade=D("0.002")))


async def test_restart_restores_books_stop_mode_and_does_not_trade_twice(tmp_path: Path) -> None:
    db = str(tmp_path / "asym.duckdb")
    async with manual_sim() as sim:
        store = await Store.open(StoreConfig(path=db))
        s1 = session_for(sim, CFG, store=store)
        await s1.start()
        now = sim.clock.now_ms()
        mark = sim.mark("BTCUSDT")
        sig = signal("BTCUSDT", Side.BUY, mark, targets=(("0.02", "0.5"), ("0.04", "0.5")))
        report = await s1.on_cycle([enhanced("BTCUSDT", now, mark)], [sig], now)
        (entry,) = report.entries
        await s1.reconcile(sim.clock.now_ms())  # books the fill and places the first target's exit
        assert s1.tracker.get(entry).state is OrderState.FILLED  # type: ignore[union-attr]
        (plan,) = s1.trades.plans.values()
        tp1 = plan.exits[0].order_link_id
        assert s1.tracker.get(tp1).state is OrderState.NEW  # type: ignore[union-attr]
        await s1.halt("operator: going down for maintenance")
        balance, fees = s1.portfolio.balance, s1.portfolio.total_fees
        await store.close()  # the process dies here: no clean session close (the journal stays)
        assert file_size(db + ".journal") > 0

        # while asym is down: the BTC stop is removed by hand, and an ETH position is opened by hand
        await sim.client.set_trading_stop(TradingStopRequest(symbol="BTCUSDT", stop_loss=D(0)))
        manual = OrderRequest(
            symbol="ETHUSDT",
            side=Side.SELL,
            order_type=OrderType.MARKET,
            qty=D("0.5"),
            order_link_id="by-hand-1",
        )
        await sim.client.place_order(manual)
        await sim.advance(5_000)

        store2 = await Store.open(StoreConfig(path=db))
        s2 = session_for(sim, CFG, store=store2)
        restart = await s2.start()
        kinds = [a.split('"kind":"')[1].split('"')[0] for a, _ in restart.actions]
        assert kinds[0] == "sync_executions" and "adopt_position" in kinds and "set_stop_loss" in kinds
        assert all(ok for _, ok in restart.actions)
        # the books and orders are back
        assert s2.trades.plans.keys() == s1.trades.plans.keys()
        assert s2.tracker.get(entry).state is OrderState.FILLED  # type: ignore[union-attr]
        assert s2.tracker.get(tp1).state is OrderState.NEW  # type: ignore[union-attr]
        assert s2.books.held("BTCUSDT") == plan.qty and s2.books.held("ETHUSDT") == D("-0.5")
        assert s2.portfolio.total_fees > fees and s2.portfolio.balance < balance  # + the manual trade's fee
        # HALTED survives the restart (a person resumes)
        assert s2.mode is Mode.HALTED
        # every position has a stop again: the trade's own for BTC, a fallback beyond the mark for ETH
        stops = {p.symbol: p.stop_loss for p in await sim.client.get_positions() if p.size > 0}
        assert stops["BTCUSDT"] == plan.stop_loss
        assert stops["ETHUSDT"] is not None and stops["ETHUSDT"] > sim.mark("ETHUSDT")
        # the same signal replayed after a resume is not traded twice
        assert (await s2.resume()).ok
        now = sim.clock.now_ms()
        again = await s2.on_cycle([enhanced("BTCUSDT", now, sim.mark("BTCUSDT"))], [sig], now)
        assert again.decisions[0].action == "SKIP" and again.entries == ()
        assert sim.link_count(entry) == 1
        await s2.close()
        assert store.stats.rows_deadlettered == 0 and store2.stats.rows_deadlettered == 0  # every row stored
        await store2.close()
        assert file_size(db + ".journal") == 0  # a clean close empties the journal


def tear(path: Path) -> None:
    with open(path, "ab") as f:
        f.write(b'{"request": {"symbol": "ETH')


async def test_journal_alone_restores_an_intent_the_store_never_saw(tmp_path: Path) -> None:
    """A crash right after the intent was journaled: the table never got it, the journal has it (and the
    plan), so the order is looked up, never sent blindly again."""
    path = tmp_path / "x.duckdb.journal"
    j = IntentJournal(path)
    req = OrderRequest(
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=D("0.010"),
        order_link_id="asym-x-en",
    )
    j.append([JournalEntry(request=req, ts=5, decision_id="d1")])
    tear(path)  # a torn last line: its order was never sent
    entries = j.read()
    assert [e.request for e in entries] == [req]
    state = restore([], [], [], [])
    assert len(state.tracker) == 0
    store = await Store.open(StoreConfig(path=str(tmp_path / "x.duckdb")))
    ts = TradingStore(store, "sim", journal=j)
    loaded = await ts.load()
    rec = loaded.tracker.get("asym-x-en")
    assert rec is not None and rec.state is OrderState.SENT  # possibly sent: to be looked up
    assert loaded.requests["asym-x-en"] == req
    await ts.close()
    await store.close()
