"""The `rules` model: deterministic setups, gates, and validity of every signal it emits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.domain import LiquidationRisk, Side
from asym.signals import (
    Action,
    Rejection,
    RiskState,
    RulesModel,
    Signal,
    SignalConfig,
    SignalInput,
    ValidationConfig,
    build_prompt,
    generate_signals,
)
from asym.signals.rules import interval_hours, rule_reply
from asym.signals.testing import make_enhanced

from .helpers import make_input, position

MODEL = RulesModel()
CFG = SignalConfig()


def signal(inp: SignalInput, cfg: SignalConfig = CFG) -> Signal:
    out = MODEL.generate_sync(inp, cfg)
    assert isinstance(out, Signal), f"rules produced a rejection: {out}"
    return out


LONG_SETUP: dict[str, Any] = {"trend": "UP", "oi_label": "LONG_BUILDUP"}
SHORT_SETUP: dict[str, Any] = {"trend": "DOWN", "oi_label": "SHORT_BUILDUP"}


def test_trend_with_oi_build_up_goes_long_with_asymmetric_targets() -> None:
    s = signal(make_input(**LONG_SETUP))
    assert s.action is Action.LONG and s.entry_type == "market" and s.entry_price == Decimal(100)
    assert s.stop_loss == Decimal("98.5") and s.stop_atr == 1.5
    risk = s.entry_price - s.stop_loss
    assert all(t.price - s.entry_price >= 3 * risk for t in s.take_profits)  # targets at >= 3R gross
    assert s.reward_risk is not None and s.reward_risk >= Decimal("2.5")
    assert s.leverage is not None and 1 <= s.leverage <= 5
    assert s.horizon_hours == 24.0  # 24 one-hour candles
    assert "trend UP" in s.rationale


def test_downtrend_with_short_build_up_goes_short() -> None:
    s = signal(make_input(**SHORT_SETUP))
    assert s.action is Action.SHORT and s.stop_loss == Decimal("101.5")
    assert all(t.price < Decimal(100) for t in s.take_profits)


def test_long_liquidation_flush_is_faded_with_a_wider_stop() -> None:
    inp = make_input(
        trend="FLAT", rsi=28, liq_count=20, liq_long_notional="900000", liq_short_notional="10000"
    )
    s = signal(inp)
    assert s.action is Action.LONG and "fade long-liquidation flush" in s.rationale
    assert s.stop_atr == 2.0  # 1.5 ATR + 0.5 ATR beyond the cluster


def test_short_squeeze_is_faded() -> None:
    inp = make_input(
        trend="FLAT", rsi=75, liq_count=20, liq_short_notional="900000", liq_long_notional="1000"
    )
    s = signal(inp)
    assert s.action is Action.SHORT and "fade short squeeze" in s.rationale


def test_liquidation_cascade_is_ridden_with_the_trend() -> None:
    inp = make_input(trend="DOWN", rsi=45, liq_count=20, liq_long_notional="900000", liq_short_notional="0")
    s = signal(inp)
    assert s.action is Action.SHORT and "ride long-liquidation cascade" in s.rationale


def test_crowded_funding_counts_against_the_crowd() -> None:
    # Trend up (+2) alone is no trade; shorts paying strongly (+1) completes a long setup.
    assert signal(make_input(trend="UP")).action is Action.HOLD
    inp = make_input(
        trend="UP", funding_rate="-0.0005", funding_direction="SHORTS_PAY", funding_pressure="STRONG"
    )
    assert signal(inp).action is Action.LONG


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"market_risk": 0.8}, "market risk"),
        ({"liquidity": 0.1}, "liquidity"),
        ({"spread_pct": 0.5}, "spread"),
        ({"liquidation_risk": LiquidationRisk.EXTREME}, "EXTREME"),
        ({"atr_frac": None}, "ATR unavailable"),
        ({"atr_frac": 0.0001}, "ATR"),
        ({"atr_frac": 0.2}, "ATR"),
        ({"price": "0"}, "no usable price"),
    ],
)
def test_gates_force_hold(kw: dict[str, Any], reason: str) -> None:
    s = signal(make_input(**{**LONG_SETUP, **kw}))
    assert s.action is Action.HOLD and reason in s.rationale


@pytest.mark.parametrize(
    ("risk", "reason"),
    [
        (RiskState(equity=Decimal(1000), mode="halted"), "halted"),
        (RiskState(equity=Decimal(0)), "no equity"),
        (RiskState(equity=Decimal(1000), daily_pnl=Decimal(-60)), "daily loss"),
    ],
)
def test_account_gates_force_hold(risk: RiskState, reason: str) -> None:
    s = signal(make_input(risk=risk, **LONG_SETUP))
    assert s.action is Action.HOLD and reason in s.rationale


def test_open_positions_are_held_or_closed() -> None:
    assert signal(make_input(position=position(Side.BUY), **LONG_SETUP)).action is Action.HOLD
    assert signal(make_input(position=position(Side.BUY), **SHORT_SETUP)).action is Action.CLOSE
    assert signal(make_input(position=position(Side.SELL), **SHORT_SETUP)).action is Action.HOLD
    risky = make_input(position=position(Side.SELL), market_risk=0.95)
    s = signal(risky)
    assert s.action is Action.CLOSE and "risk exit" in s.rationale


def test_costly_funding_pushes_targets_out_or_holds() -> None:
    cheap = signal(make_input(**LONG_SETUP))
    pricey = signal(make_input(funding_rate="0.002", **LONG_SETUP))
    assert pricey.action is Action.LONG and cheap.take_profits[0].price < pricey.take_profits[0].price
    # Costs so high that the needed target is beyond 12 ATR: no trade.
    hold = signal(make_input(funding_rate="0.01", **LONG_SETUP))
    assert hold.action is Action.HOLD and "costs too high" in hold.rationale


def test_wide_stops_get_low_leverage() -> None:
    s = signal(make_input(atr_frac=0.05, **LONG_SETUP))  # stop 7.5 % away
    assert s.action is Action.LONG and s.leverage is not None and s.leverage <= 5
    frac = (s.entry_price - s.stop_loss) / s.entry_price  # type: ignore[operator]
    assert Decimal(1) / s.leverage - Decimal("0.005") >= 2 * frac  # liquidation >= 2 stop distances away


def test_deterministic() -> None:
    inp = make_input(**LONG_SETUP)
    assert rule_reply(inp, CFG.validation, CFG.rules) == rule_reply(inp, CFG.validation, CFG.rules)
    a, b = signal(inp), signal(inp)
    assert msgspec.structs.replace(a, latency_ms=0) == msgspec.structs.replace(b, latency_ms=0)


@pytest.mark.parametrize(
    ("interval", "hours"),
    [
        ("60", 1.0),
        ("5", 5 / 60),
        ("240", 4.0),
        ("D", 24.0),
        ("15m", 0.25),
        ("4h", 4.0),
        ("1d", 24.0),
        ("?", 1.0),
    ],
)
def test_interval_hours(interval: str, hours: float) -> None:
    assert interval_hours(interval) == pytest.approx(hours)


# --- property: every rule output passes validation -------------------------------------------------

TRENDS = st.sampled_from(["UP", "DOWN", "FLAT", None])
OI = st.sampled_from(["LONG_BUILDUP", "SHORT_BUILDUP", "LONG_UNWINDING", "SHORT_COVERING", "NEUTRAL"])


def mostly(normal: st.SearchStrategy[Any], *edges: Any) -> st.SearchStrategy[Any]:
    """`normal` about seven times out of eight, else one of the edge values."""
    return st.one_of(*[normal] * 7, st.sampled_from(edges))


def scaled(lo: int, hi: int, places: int) -> st.SearchStrategy[Decimal]:
    """Decimals lo..hi (in units of 10**-places), cheaper to draw than st.decimals."""
    return st.integers(min_value=lo, max_value=hi).map(lambda n: Decimal(n).scaleb(-places))


# Strategies are built once at import: drawing is the only per-example cost.
ENHANCED_KW = st.fixed_dictionaries(
    {
        "price": scaled(1, 2_000_000_000, 4),
        "atr_frac": mostly(st.floats(min_value=0.0005, max_value=0.09), None, 1e-6, 0.0002, 0.1, 0.5),
        "rsi": mostly(st.floats(min_value=0, max_value=100), None),
        "trend": st.sampled_from(["UP", "DOWN", "UP", "DOWN", "FLAT", None]),
        "funding_rate": mostly(scaled(-1000, 1000, 6), Decimal("0.03"), Decimal("-0.03")),
        "funding_direction": st.sampled_from(["LONGS_PAY", "SHORTS_PAY", "NEUTRAL"]),
        "funding_pressure": st.sampled_from(["NONE", "MILD", "STRONG", "EXTREME"]),
        "oi_label": st.sampled_from(
            ["LONG_BUILDUP", "SHORT_BUILDUP", "LONG_UNWINDING", "SHORT_COVERING", "NEUTRAL"]
        ),
        "liq_count": st.integers(min_value=0, max_value=50),
        "liq_long_notional": scaled(0, 10**9, 2),
        "liq_short_notional": scaled(0, 10**9, 2),
        "market_risk": mostly(st.floats(min_value=0, max_value=0.8), None, 1.0),
        "liquidity": mostly(st.floats(min_value=0.15, max_value=1), None, 0.0),
        "spread_pct": mostly(st.floats(min_value=0, max_value=0.2), None, 1.0),
        "liquidation_risk": st.sampled_from([None, *LiquidationRisk]),
        "interval": st.sampled_from(["1", "5", "15", "60", "240", "D", "W", "bogus"]),
        "next_funding_time": st.one_of(
            st.none(), st.integers(min_value=1_718_990_000_000, max_value=1_719_030_000_000)
        ),
    }
)
RISKS = st.builds(
    RiskState,
    equity=mostly(scaled(1000, 100_000, 0), Decimal(0), Decimal(-5)),
    daily_pnl=scaled(-100, 10_000, 0),
    mode=st.sampled_from(["paper"] * 6 + ["halted"]),
)


def _enhanced_input(
    kw: dict[str, Any], missing: str | None, side: Side | None, risk: RiskState
) -> SignalInput:
    data = make_enhanced(**kw)
    if missing == "mark":
        data = msgspec.structs.replace(data, mark_price=None)
    elif missing == "funding":
        data = msgspec.structs.replace(data, funding_sentiment=None, funding_rate=None)
    elif missing == "indicators":
        data = msgspec.structs.replace(
            data, technical_indicators=None, oi_sentiment=None, nearby_liquidations=None
        )
    return SignalInput(data=data, position=position(side) if side else None, risk=risk)


# Varied enhanced data (incl. missing parts, extreme values) with or without a position.
ENHANCED_INPUTS = st.builds(
    _enhanced_input,
    ENHANCED_KW,
    st.sampled_from([None] * 6 + ["mark", "funding", "indicators"]),
    st.sampled_from([None] * 6 + [Side.BUY, Side.SELL]),
    RISKS,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENHANCED_INPUTS)
def test_every_rule_output_passes_validation(inp: SignalInput) -> None:
    out = MODEL.generate_sync(inp, CFG)
    assert isinstance(out, Signal), f"rules produced a rejection: {out}"
    if out.action in (Action.LONG, Action.SHORT):
        assert out.reward_risk is not None and out.reward_risk >= CFG.validation.min_reward_risk
        assert inp.position is None


def _tradeable(kw: dict[str, Any], flush: bool) -> SignalInput:
    kw = {
        **kw,
        "liq_long_notional": "800000" if flush else "0",
        "liq_short_notional": "0" if flush else "800000",
    }
    return SignalInput(data=make_enhanced(**kw), risk=RiskState(equity=Decimal(50_000)))


# Inputs past every gate with a directional setup: the rule model mostly trades on these.
TRADEABLE_INPUTS = st.builds(
    _tradeable,
    st.fixed_dictionaries(
        {
            "price": scaled(1, 150_000_000, 3),
            "atr_frac": st.floats(min_value=0.0003, max_value=0.1),
            "rsi": st.floats(min_value=0, max_value=100),
            "trend": st.sampled_from(["UP", "DOWN"]),
            "oi_label": st.sampled_from(["LONG_BUILDUP", "SHORT_BUILDUP", "NEUTRAL"]),
            "funding_rate": scaled(-3000, 3000, 6),
            "funding_direction": st.sampled_from(["LONGS_PAY", "SHORTS_PAY"]),
            "funding_pressure": st.sampled_from(["MILD", "STRONG", "EXTREME"]),
            "liq_count": st.integers(min_value=0, max_value=40),
            "market_risk": st.floats(min_value=0, max_value=0.74),
            "interval": st.sampled_from(["5", "15", "60", "240", "D"]),
            "next_funding_time": st.integers(min_value=1_718_990_000_000, max_value=1_719_030_000_000),
        }
    ),
    st.booleans(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TRADEABLE_INPUTS)
def test_every_rule_trade_passes_validation(inp: SignalInput) -> None:
    out = MODEL.generate_sync(inp, CFG)
    assert isinstance(out, Signal), f"rules produced a rejection: {out}"
    if out.action is not Action.HOLD:
        assert out.action in (Action.LONG, Action.SHORT)
        assert out.stop_atr is not None and 1.0 <= out.stop_atr <= 4.0
        assert out.reward_risk is not None and out.reward_risk >= CFG.validation.min_reward_risk


STRICT = SignalConfig(
    validation=ValidationConfig(
        min_reward_risk=Decimal(4),
        max_stop_atr=Decimal(2),
        max_leverage=Decimal(3),
        liquidation_safety=Decimal("0.3"),
        entry_fee_rate=Decimal("0.001"),
        exit_fee_rate=Decimal("0.001"),
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ENHANCED_INPUTS, TRADEABLE_INPUTS))
def test_rule_output_passes_a_stricter_validator_too(inp: SignalInput) -> None:
    out = MODEL.generate_sync(inp, STRICT)
    assert isinstance(out, Signal), f"rules produced a rejection: {out}"


def test_plenty_of_trades_on_varied_data() -> None:
    # Not only HOLD: a grid of setups yields both directions, all valid.
    inputs = [
        make_input(symbol=f"S{i}USDT", trend=t, oi_label=o, rsi=r)
        for i, (t, o, r) in enumerate(
            (t, o, r)
            for t in ("UP", "DOWN", "FLAT")
            for o in ("LONG_BUILDUP", "SHORT_BUILDUP")
            for r in (25, 50, 75)
        )
    ]
    outs = [MODEL.generate_sync(i, CFG) for i in inputs]
    assert not any(isinstance(o, Rejection) for o in outs)
    actions = {o.action for o in outs if isinstance(o, Signal)}
    assert {Action.LONG, Action.SHORT, Action.HOLD} <= actions


async def test_rules_through_generate_signals(config: SignalConfig) -> None:
    inputs = [make_input(symbol=f"A{i}USDT", **(LONG_SETUP if i % 2 else SHORT_SETUP)) for i in range(50)]
    outs = await generate_signals(inputs, RulesModel(), config)
    assert [o.symbol for o in outs] == [i.data.symbol for i in inputs]
    assert [o.action for o in outs if isinstance(o, Signal)] == [Action.SHORT, Action.LONG] * 25


def test_poisoned_data_never_crashes_and_holds() -> None:
    nan = Decimal("NaN")
    base = make_enhanced(trend="UP", oi_label="LONG_BUILDUP", liq_count=10, liq_long_notional="5")
    assert base.nearby_liquidations is not None and base.technical_indicators is not None
    data = msgspec.structs.replace(
        base,
        mark_price=nan,
        last_price=Decimal("Infinity"),
        funding_rate=nan,
        market_risk_score=float("nan"),
        nearby_liquidations=msgspec.structs.replace(base.nearby_liquidations, long_notional=nan),
        technical_indicators=msgspec.structs.replace(base.technical_indicators, atr_14=float("inf")),
    )
    inp = SignalInput(data=data, risk=RiskState(equity=nan, daily_pnl=nan))
    s = signal(inp)
    assert s.action is Action.HOLD
    assert "mark=na" in build_prompt(inp, CFG).user
