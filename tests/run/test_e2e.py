"""Full cycles end to end against the simulator over real sockets: a trade opens with its stop on the
exchange, closes by its stop or target, and the books equal the simulator's own account to the last digit."""

from __future__ import annotations

from decimal import Decimal

from asym.domain import Side
from asym.trading.config import RiskConfig
from asym.trading.ids import LegKind
from asym.trading.monitoring import FollowConfig, PositionMonitor
from asym.trading.order_states import OrderState
from asym.trading.session import SessionConfig

from .helpers import enhanced, eventually, guarded, manual_sim, session_for, signal

D = Decimal


async def test_trade_opens_with_exchange_stop_and_closes_books_equal_the_venue() -> None:
    await guarded(_trade_opens_and_closes(), 120)


async def _trade_opens_and_closes() -> None:
    async with manual_sim() as sim:
        # A small size fills the entry at one price: the venue's 8-decimal average entry is then exact and
        # its account must equal the books to the last digit.
        session = session_for(sim, SessionConfig(risk=RiskConfig(risk_per_trade=D("0.0005"))))
        await session.start()
        monitor = PositionMonitor(
            sim.client, session, FollowConfig(tick_interval_s=0.01, reconcile_interval_s=3600)
        )
        await monitor.start()
        try:
            sym = "BTCUSDT"
            now = sim.clock.now_ms()
            mark = sim.mark(sym)
            sig = signal(sym, Side.BUY, mark, stop_frac="0.003", targets=(("0.012", "0.5"), ("0.024", "0.5")))
            report = await session.on_cycle([enhanced(sym, now, mark)], [sig], now)
            assert report.decisions[0].action == "OPEN_LONG", report.decisions[0].reasons
            (link,) = report.entries
            plan = session.trades.plans[sig_key(session)]
            await eventually(lambda: session.tracker.get(link).state is OrderState.FILLED)  # type: ignore[union-attr]
            # the stop and the final target live on the exchange, on the position itself
            entry_fills = {x.price for x in await sim.client.get_executions(sym) if x.order_link_id == link}
            assert len(entry_fills) == 1, entry_fills
            (pos,) = [p for p in await sim.client.get_positions(sym) if p.size > 0]
            assert pos.stop_loss == plan.stop_loss and pos.take_profit == plan.take_profits[-1]
            assert pos.size == plan.qty
            # the nearer target is a reduce-only exit placed once the entry filled
            await eventually(lambda: session.tracker.get(plan.exits[0].order_link_id) is not None)
            tp1 = session.tracker.get(plan.exits[0].order_link_id)
            await eventually(lambda: session.tracker.get(plan.exits[0].order_link_id).state is OrderState.NEW)  # type: ignore[union-attr]
            assert tp1 is not None and tp1.reduce_only
            for _ in range(2_000):  # up to ~2.8 days of market time in 2-minute steps
                await sim.advance(120_000)
                if session.books.held(sym) == 0:
                    break
            await session.reconcile(sim.clock.now_ms())
            assert session.books.held(sym) == 0, "the trade did not close on this seed's path"
            assert not [p for p in await sim.client.get_positions(sym) if p.size > 0]
            (trade,) = session.books.ledger.closed
            # the books equal the simulator's account exactly (one fill per leg here: exact averages)
            assert session.portfolio.balance == sim.wallet_balance()
            assert trade.pnl == session.portfolio.balance - D(100_000)
            assert session.summary().pnl == trade.pnl
            # every order reached the venue exactly once, nothing is left open
            for r in session.tracker.records():
                if r.order_link_id:
                    assert sim.link_count(r.order_link_id) == 1, r.order_link_id
                assert r.state.is_final, (r.order_link_id, r.state)
            closing = [
                r for r in session.tracker.records() if r.role is None and r.state is OrderState.FILLED
            ]
            assert closing or session.tracker.get(plan.exits[0].order_link_id).state is OrderState.FILLED  # type: ignore[union-attr]
        finally:
            await monitor.stop()
            await session.close()


def sig_key(session: object) -> str:
    (key,) = session.trades.plans  # type: ignore[attr-defined]
    return key


_ = LegKind
