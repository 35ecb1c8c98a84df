"""Execution against the simulator: post-only entries with their timeout and market fallback, a partly
filled limit entry whose take-profit exit is resized (amended) as the entry fills, and a CLOSE signal."""

from __future__ import annotations

from decimal import Decimal

from asym.domain import OrderType, Side, TimeInForce
from asym.signals.schema import Action, EntryType
from asym.trading.config import RiskConfig
from asym.trading.executor import EntryStyle, ExecutionConfig
from asym.trading.order_states import OrderState
from asym.trading.plan import exits_for_fill
from asym.trading.session import SessionConfig

from .helpers import Sim, enhanced, manual_sim, session_for, signal

D = Decimal
SYM = "BTCUSDT"


def touch(sim: Sim) -> tuple[Decimal, Decimal]:
    book = sim.exchange.market.book(SYM, 1)
    inst = sim.exchange.instrument(SYM)
    return inst.price.to_decimal(book.bids[0][0]), inst.price.to_decimal(book.asks[0][0])


async def test_post_only_entry_times_out_and_the_rest_goes_at_market() -> None:
    async with manual_sim() as sim:
        cfg = SessionConfig(
            risk=RiskConfig(risk_per_trade=D("0.001")),
            execution=ExecutionConfig(entry_style=EntryStyle.POST_ONLY, post_only_timeout_ms=60_000),
        )
        session = session_for(sim, cfg)
        await session.start()
        bid, ask = touch(sim)
        now = sim.clock.now_ms()
        sig = signal(SYM, Side.BUY, sim.mark(SYM), targets=(("0.02", "1"),))
        report = await session.on_cycle(
            [enhanced(SYM, now, sim.mark(SYM), bid=bid - 50, ask=ask)], [sig], now
        )
        (link,) = report.entries
        rec = session.tracker.get(link)
        assert rec is not None and rec.order_type is OrderType.LIMIT and rec.price == bid - 50
        (resting,) = [o for o in await sim.client.get_open_orders(SYM) if o.order_link_id == link]
        assert resting.time_in_force is TimeInForce.POST_ONLY and resting.stop_loss is not None
        await sim.advance(30_000)
        await session.on_tick(sim.clock.now_ms())
        assert session.tracker.get(link).state is OrderState.NEW  # type: ignore[union-attr]  # not yet
        await sim.advance(31_000)
        await session.on_tick(sim.clock.now_ms())  # timed out: cancelled, the rest at market
        await session.reconcile(sim.clock.now_ms())
        (plan,) = session.trades.plans.values()
        entries = session.trades.entries(plan.intent_key)
        assert len(entries) == 2 and entries[0].state is OrderState.CANCELLED
        fallback = entries[1]
        assert fallback.order_type is OrderType.MARKET and fallback.state is OrderState.FILLED
        assert session.trades.filled(plan.intent_key) == plan.qty == session.books.held(SYM)
        (pos,) = [p for p in await sim.client.get_positions(SYM) if p.size > 0]
        assert pos.stop_loss == plan.stop_loss
        await session.close()


async def test_post_only_that_would_take_liquidity_falls_back_at_once() -> None:
    async with manual_sim() as sim:
        cfg = SessionConfig(
            risk=RiskConfig(risk_per_trade=D("0.001")),
            execution=ExecutionConfig(entry_style=EntryStyle.POST_ONLY, post_only_timeout_ms=3_600_000),
        )
        session = session_for(sim, cfg)
        await session.start()
        _, ask = touch(sim)
        now = sim.clock.now_ms()
        sig = signal(SYM, Side.BUY, sim.mark(SYM), targets=(("0.02", "1"),))
        # a stale touch above the real ask: the PostOnly buy would cross, the venue cancels it
        await session.on_cycle([enhanced(SYM, now, sim.mark(SYM), bid=ask + 20, ask=ask + 30)], [sig], now)
        await session.reconcile(sim.clock.now_ms())  # learns the cancel, sends the fallback
        await session.reconcile(sim.clock.now_ms())  # books the fallback's fill
        (plan,) = session.trades.plans.values()
        first, *rest = session.trades.entries(plan.intent_key)
        assert first.state is OrderState.CANCELLED and first.filled_qty == 0
        assert len(rest) == 1 and rest[0].state is OrderState.FILLED
        assert session.books.held(SYM) == plan.qty
        await session.close()


async def test_partly_filled_limit_entry_resizes_its_exit() -> None:
    async with manual_sim() as sim:
        session = session_for(sim, SessionConfig())
        await session.start()
        _, ask = touch(sim)
        now = sim.clock.now_ms()
        sig = signal(
            SYM,
            Side.BUY,
            sim.mark(SYM),
            entry_type=EntryType.LIMIT,
            entry=ask,
            stop_frac="0.003",
            targets=(("0.012", "0.5"), ("0.024", "0.5")),
        )
        report = await session.on_cycle([enhanced(SYM, now, sim.mark(SYM))], [sig], now)
        (link,) = report.entries
        await session.reconcile(sim.clock.now_ms())
        (plan,) = session.trades.plans.values()
        inst = session.instruments[SYM]
        entry = session.tracker.get(link)
        assert entry is not None and entry.state is OrderState.PARTIALLY_FILLED, entry
        first = entry.filled_qty
        tp1 = plan.exits[0].order_link_id
        assert session.tracker.get(tp1).qty == exits_for_fill(plan, first, inst, session.config.risk)[0].qty  # type: ignore[union-attr]
        for _ in range(600):  # until the rest of the entry fills (the price comes back to the limit)
            await sim.advance(10_000)
            await session.reconcile(sim.clock.now_ms())
            if session.tracker.get(link).state is OrderState.FILLED:  # type: ignore[union-attr]
                break
        assert session.tracker.get(link).state is OrderState.FILLED  # type: ignore[union-attr]
        want = exits_for_fill(plan, plan.qty, inst, session.config.risk)[0].qty
        assert want > exits_for_fill(plan, first, inst, session.config.risk)[0].qty
        (venue_tp1,) = [o for o in await sim.client.get_open_orders(SYM) if o.order_link_id == tp1]
        assert venue_tp1.qty == want and session.tracker.get(tp1).qty == want  # type: ignore[union-attr]
        assert sim.link_count(tp1) == 1  # amended, not placed again
        await session.close()


async def test_close_signal_flattens_and_cancels_the_trades_exits() -> None:
    async with manual_sim() as sim:
        session = session_for(sim, SessionConfig(risk=RiskConfig(risk_per_trade=D("0.001"))))
        await session.start()
        now = sim.clock.now_ms()
        mark = sim.mark(SYM)
        opening = signal(SYM, Side.SELL, mark, targets=(("0.02", "0.5"), ("0.04", "0.5")))
        await session.on_cycle([enhanced(SYM, now, mark)], [opening], now)
        await session.reconcile(sim.clock.now_ms())
        (plan,) = session.trades.plans.values()
        assert session.books.held(SYM) == -plan.qty
        await sim.advance(60_000)
        now = sim.clock.now_ms()
        closing = signal(SYM, Side.SELL, sim.mark(SYM), action=Action.CLOSE, data_ts=now)
        report = await session.on_cycle([enhanced(SYM, now, sim.mark(SYM))], [closing], now)
        assert report.closes == (SYM,) and report.decisions[0].action == "CLOSE"
        await session.reconcile(sim.clock.now_ms())
        assert session.books.held(SYM) == 0
        assert not [p for p in await sim.client.get_positions(SYM) if p.size > 0]
        assert not await sim.client.get_open_orders(SYM)
        assert session.tracker.get(plan.exits[0].order_link_id).state is OrderState.CANCELLED  # type: ignore[union-attr]
        assert len(session.books.ledger.closed) == 1
        await session.close()
