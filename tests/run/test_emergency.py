"""Emergency mode, by each cause, doing what it says against the simulator: no new entries, pending entries
cancelled at the venue, a stop on every position (restored when it was removed), optional flatten; and a
resume is refused until the cause has cleared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from asym.domain import Side
from asym.domain.venue import TradingStopRequest
from asym.errors import VenueError
from asym.signals.schema import EntryType
from asym.sim.faults import FaultInjector, parse_faults
from asym.trading.config import RiskConfig
from asym.trading.emergency import EmergencyPolicy
from asym.trading.modes import Mode, Trigger, mode_config_from
from asym.trading.order_states import OrderState
from asym.trading.session import SessionConfig, TradingSession

from .helpers import Sim, enhanced, eventually, manual_sim, session_for, signal

D = Decimal
SYMS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


def data(sim: Sim, *, age_ms: int = 0, score: float = 0.3) -> list:
    now = sim.clock.now_ms()
    return [enhanced(s, now - age_ms, sim.mark(s), score=score) for s in SYMS]


async def arm(sim: Sim, session: TradingSession) -> tuple[str, str]:
    """An open BTC position whose venue stop was removed, and a resting ETH limit entry."""
    await session.start()
    now = sim.clock.now_ms()
    btc, eth = sim.mark("BTCUSDT"), sim.mark("ETHUSDT")
    long_btc = signal("BTCUSDT", Side.BUY, btc, stop_frac="0.004", targets=(("0.02", "1"),))
    rest_eth = signal(
        "ETHUSDT",
        Side.BUY,
        eth,
        entry_type=EntryType.LIMIT,
        entry=eth * D("0.97"),
        stop_frac="0.01",
        targets=(("0.15", "1"),),
    )
    report = await session.on_cycle(data(sim), [long_btc, rest_eth], now)
    assert [d.action for d in report.decisions] == ["OPEN_LONG", "OPEN_LONG"], [
        d.reasons for d in report.decisions
    ]
    btc_link, eth_link = report.entries
    await session.reconcile(sim.clock.now_ms())
    await eventually(lambda: session.tracker.get(btc_link).state is OrderState.FILLED)  # type: ignore[union-attr]
    assert session.tracker.get(eth_link).state is OrderState.NEW  # type: ignore[union-attr]
    await sim.client.set_trading_stop(TradingStopRequest(symbol="BTCUSDT", stop_loss=D(0)))
    (pos,) = [p for p in await sim.client.get_positions("BTCUSDT") if p.size > 0]
    assert pos.stop_loss in (None, D(0))
    return btc_link, eth_link


async def assert_safe(sim: Sim, session: TradingSession, eth_link: str, *, flat: bool = False) -> None:
    """Entries cancelled, no new entry accepted, every position stopped (or flat)."""
    rec = session.tracker.get(eth_link)
    assert rec is not None and rec.state is OrderState.CANCELLED
    assert not [o for o in await sim.client.get_open_orders() if o.order_link_id == eth_link]
    positions = [p for p in await sim.client.get_positions() if p.size > 0]
    if flat:
        assert positions == []
    for p in positions:
        assert p.stop_loss is not None and D(0) < p.stop_loss < p.mark_price, p
    now = sim.clock.now_ms()
    sol = signal("SOLUSDT", Side.BUY, sim.mark("SOLUSDT"), data_ts=now)
    report = await session.on_cycle(data(sim), [sol], now)
    assert report.decisions[0].action == "REFUSED"
    assert any(r.startswith("mode:") for r in report.decisions[0].reasons)
    assert report.entries == ()


def cfg(**risk: object) -> SessionConfig:
    r = RiskConfig(**risk)  # type: ignore[arg-type]
    return SessionConfig(risk=r)


async def trigger_by_cycle(sim: Sim, session: TradingSession, **kw: object) -> None:
    await session.on_cycle(data(sim, **kw), [], sim.clock.now_ms())  # type: ignore[arg-type]


CASES: list[tuple[str, SessionConfig, Trigger]] = [
    ("daily_loss", cfg(daily_loss_limit=D("0.00001"), max_drawdown=D(1)), Trigger.DAILY_LOSS),
    ("drawdown", cfg(daily_loss_limit=D(1), max_drawdown=D("0.00001")), Trigger.DRAWDOWN),
]


@pytest.mark.parametrize(("name", "config", "trigger"), CASES, ids=[c[0] for c in CASES])
async def test_loss_triggers_protect_and_refuse_resume(
    name: str, config: SessionConfig, trigger: Trigger
) -> None:
    async with manual_sim() as sim:
        session = session_for(sim, config)
        _, eth_link = await arm(sim, session)
        await trigger_by_cycle(sim, session)  # fees and the spread cost the account: a loss from the start
        assert session.mode is Mode.EMERGENCY and trigger in session.modes.active
        await assert_safe(sim, session, eth_link)
        res = await session.resume()
        assert not res.ok and any(r.startswith(trigger.value) for r in res.reasons)
        assert session.mode is Mode.EMERGENCY
        await session.close()


async def test_data_quality_collapse_and_its_clearing() -> None:
    async with manual_sim() as sim:
        session = session_for(sim)
        _, eth_link = await arm(sim, session)
        await trigger_by_cycle(sim, session, age_ms=600_000)  # every asset's data 10 minutes old
        assert session.mode is Mode.EMERGENCY and Trigger.DATA_QUALITY in session.modes.active
        await assert_safe(sim, session, eth_link)
        await trigger_by_cycle(sim, session, age_ms=600_000)
        res = await session.resume()
        assert not res.ok and any(r.startswith("data_quality") for r in res.reasons)
        await trigger_by_cycle(sim, session)  # fresh data again
        assert (await session.resume()).ok and session.mode is Mode.NORMAL
        await session.close()


async def test_extreme_volatility_and_its_clearing() -> None:
    async with manual_sim() as sim:
        session = session_for(sim)
        _, eth_link = await arm(sim, session)
        await trigger_by_cycle(sim, session, score=0.95)
        assert session.mode is Mode.EMERGENCY and Trigger.VOLATILITY in session.modes.active
        await assert_safe(sim, session, eth_link)  # (its cycle brings calm data: stress clears)
        await trigger_by_cycle(sim, session, score=0.8)  # 0.8 is above the clearing level 0.72
        res = await session.resume()
        assert not res.ok and any(r.startswith("volatility") for r in res.reasons)
        await trigger_by_cycle(sim, session, score=0.3)
        assert (await session.resume()).ok
        await session.close()


async def test_api_failure_streak_enforced_once_the_venue_answers_again() -> None:
    async with manual_sim() as sim:
        risk = RiskConfig()
        config = SessionConfig(risk=risk, modes=mode_config_from(risk, max_api_failure_streak=2))
        session = session_for(sim, config)
        _, eth_link = await arm(sim, session)
        sim.server.rest.faults = FaultInjector(parse_faults("error_rate=1"), seed=3)  # every request fails
        for _ in range(2):  # two reconciliations, each failing at its first call
            with pytest.raises(VenueError):
                await session.reconcile(sim.clock.now_ms())
        assert session.mode is Mode.EMERGENCY and Trigger.API_FAILURES in session.modes.active
        res = await session.resume()
        assert not res.ok and any(r.startswith("api_failures") for r in res.reasons)
        sim.server.rest.faults = None  # the venue answers again: the next tick enforces the emergency
        await session.on_tick(sim.clock.now_ms())
        await assert_safe(sim, session, eth_link)
        assert (await session.resume()).ok  # the successes reset the streak
        await session.close()


HAND: list[tuple[str, Callable[[TradingSession], Awaitable[object]], Mode]] = [
    ("halt", lambda s: s.halt("operator: news"), Mode.HALTED),
    ("emergency", lambda s: s.enter_emergency("operator: check"), Mode.EMERGENCY),
]


@pytest.mark.parametrize(("name", "act", "mode"), HAND, ids=[h[0] for h in HAND])
async def test_by_hand_with_flatten(
    name: str, act: Callable[[TradingSession], Awaitable[object]], mode: Mode
) -> None:
    async with manual_sim() as sim:
        session = session_for(sim, SessionConfig(emergency=EmergencyPolicy(flatten=True)))
        _, eth_link = await arm(sim, session)
        await act(session)
        assert session.mode is mode
        await session.reconcile(sim.clock.now_ms())  # books the close's fill (no stream follower here)
        assert session.books.held("BTCUSDT") == 0
        await assert_safe(sim, session, eth_link, flat=True)
        assert (await session.resume()).ok and session.mode is Mode.NORMAL
        await session.close()
