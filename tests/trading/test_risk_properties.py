"""Property tests: whatever the inputs, no planned order exceeds a cap and every stop is on the right side."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from asym.domain import Instrument, Side
from asym.signals.schema import EntryType
from asym.trading import AccountView, Exposure, Mode, RiskConfig, TargetLeg, TradeIntent, evaluate

from .builders import NOW, btc, market

D = Decimal
GRIDS = [  # (tick, qty step)
    (D("0.1"), D("0.001")),
    (D("0.01"), D("0.01")),
    (D("0.00001"), D(1)),
    (D("0.5"), D("0.1")),
    (D(1), D("0.001")),
]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    tick, step = draw(st.sampled_from(GRIDS))
    price_ticks = draw(st.integers(1_000, 1_000_000))
    ref = tick * price_ticks
    inst = btc(
        tick_size=tick,
        min_price=tick,
        max_price=tick * 100_000_000,
        qty_step=step,
        min_order_qty=step * draw(st.integers(1, 20)),
        max_order_qty=step * draw(st.integers(1_000, 10_000_000)),
        max_mkt_order_qty=step * draw(st.integers(100, 1_000_000)),
        min_notional=D(draw(st.sampled_from([0, 1, 5, 100]))),
        max_leverage=D(draw(st.sampled_from([5, 25, 100]))),
    )
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    entry_type = draw(st.sampled_from([EntryType.MARKET, EntryType.LIMIT]))
    sign = side.sign
    # Unrounded prices: random extra digits below the tick.
    entry = ref + D(draw(st.integers(0, 999))) * tick / 1000
    stop_frac = D(draw(st.integers(5, 1500))) / 10_000  # 0.05 % .. 15 %
    stop = entry * (1 - sign * stop_frac)
    n = draw(st.integers(1, 3))
    weights = [D(draw(st.integers(1, 10))) for _ in range(n)]
    total = sum(weights)
    targets = tuple(
        TargetLeg(
            price=entry * (1 + sign * stop_frac * D(draw(st.integers(20, 80))) / 10), fraction=w / total
        )
        for w in weights
    )
    equity = D(draw(st.integers(50_000, 100_000_000))) / 100
    available = equity * D(draw(st.integers(5, 100))) / 100
    exposures = tuple(
        Exposure(
            symbol=f"X{i}USDT",
            side=draw(st.sampled_from([Side.BUY, Side.SELL])),
            notional=equity * D(draw(st.integers(0, 150))) / 100,
            pending=draw(st.booleans()),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    cfg = RiskConfig(
        risk_per_trade=D(draw(st.integers(1, 50))) / 1000,
        max_leverage=D(draw(st.integers(1, 20))),
        uncorrelated_symbols=frozenset(draw(st.sets(st.sampled_from(["X0USDT", "X1USDT", "BTCUSDT"])))),
    )
    it = TradeIntent(
        symbol="BTCUSDT",
        side=side,
        entry_type=entry_type,
        entry_price=entry,
        stop_loss=stop,
        take_profits=targets,
        leverage=D(draw(st.integers(1, 50))),
        signal_id="prop",
        model_id="m",
        reward_risk=D("3"),
    )
    acct = AccountView(equity=equity, available_balance=available, mode=Mode.NORMAL, exposures=exposures)
    return {"intent": it, "inst": inst, "account": acct, "cfg": cfg}


def _decide(s: dict[str, Any]) -> Any:
    return evaluate(s["intent"], s["inst"], s["account"], market(), s["cfg"], NOW)


def _on_grid(x: Decimal, step: Decimal) -> bool:
    return x % step == 0


def _correlated(sym: str, cfg: RiskConfig) -> bool:
    return sym not in cfg.uncorrelated_symbols


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_no_planned_order_exceeds_a_cap(s: dict[str, Any]) -> None:
    d = _decide(s)
    it: TradeIntent = s["intent"]
    inst: Instrument = s["inst"]
    acct: AccountView = s["account"]
    cfg: RiskConfig = s["cfg"]
    if not d.accepted:
        assert d.plan is None and d.reasons
        return
    p = d.plan
    assert p is not None
    side, sign = it.side, it.side.sign
    qty, worst = p.qty, p.worst_entry
    # grids and venue limits
    assert qty > 0 and _on_grid(qty, inst.qty_step)
    assert inst.min_order_qty <= qty
    assert qty <= (inst.max_mkt_order_qty if it.entry_type is EntryType.MARKET else inst.max_order_qty)
    assert qty * p.entry_price >= inst.min_notional
    for price in (p.stop_loss, *p.take_profits):
        assert _on_grid(price, inst.tick_size)
    if it.entry_type is EntryType.LIMIT:
        assert _on_grid(p.entry_price, inst.tick_size) and p.entry.price == p.entry_price
        assert (p.entry_price <= it.entry_price) if side is Side.BUY else (p.entry_price >= it.entry_price)
    # the stop: right side of the entry, never wider than asked
    assert sign * (p.entry_price - p.stop_loss) > 0 and sign * (worst - p.stop_loss) > 0
    assert sign * (p.stop_loss - it.stop_loss) >= 0
    assert all(sign * (t - worst) > 0 for t in p.take_profits)
    # risk per trade, recomputed independently of sizing.py
    budget = acct.equity * cfg.risk_per_trade
    slip = cfg.stop_slippage_rate
    fill = p.stop_loss * (1 - slip) if side is Side.BUY else p.stop_loss * (1 + slip)
    loss = qty * (abs(worst - fill) + cfg.taker_fee_rate * (worst + fill))
    assert loss <= budget and p.risk_amount <= budget
    # leverage and margin
    assert (
        p.leverage <= cfg.max_leverage and p.leverage <= inst.max_leverage and p.leverage >= inst.min_leverage
    )
    notional = qty * worst
    assert notional / p.leverage + cfg.taker_fee_rate * notional <= acct.available_balance * cfg.margin_buffer
    # exposure caps (positions and pending entries count alike)
    assert notional <= cfg.max_symbol_exposure * acct.equity
    assert sum(e.notional for e in acct.exposures) + notional <= cfg.max_total_exposure * acct.equity
    if _correlated(it.symbol, cfg):
        same = sum(e.notional for e in acct.exposures if e.side is side and _correlated(e.symbol, cfg))
        assert same + notional <= cfg.max_correlated_exposure * acct.equity
    assert len({e.symbol for e in acct.exposures} | {it.symbol}) <= cfg.max_concurrent_positions
    # the orders themselves
    e = p.entry
    assert (e.qty, e.side, e.stop_loss, e.take_profit, e.reduce_only) == (
        qty,
        side,
        p.stop_loss,
        p.take_profits[-1],
        False,
    )
    assert sum(p.tp_quantities) == qty and all(q >= 0 for q in p.tp_quantities)
    for x in p.exits:
        assert x.reduce_only and x.side is side.opposite and x.qty >= inst.min_order_qty
        assert _on_grid(x.qty, inst.qty_step)
    assert sum(x.qty for x in p.exits) <= qty
    links = [e.order_link_id, *(x.order_link_id for x in p.exits)]
    assert len(set(links)) == len(links) and all(len(k) <= 36 for k in links)
    assert p.reward_risk >= cfg.min_reward_risk


def test_the_scenarios_do_reach_acceptance() -> None:
    """Guards the property above against passing vacuously: accepted plans are among the scenarios."""
    found = find(
        scenarios(),
        lambda s: _decide(s).accepted and len(s["intent"].take_profits) > 1,
        settings=settings(max_examples=2000, deadline=None, database=None, phases=[Phase.generate]),
    )
    assert _decide(found).plan is not None
