"""Semantic validation: every rule, by example, and as properties over generated replies."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from asym.domain import Side
from asym.signals import (
    Action,
    Rejection,
    RejectionCode,
    Signal,
    SignalConfig,
    SignalInput,
    ValidationConfig,
    validate_reply,
)
from asym.signals.extract import parse_reply
from asym.signals.schema import Meta
from asym.signals.testing import signal_payload

from .helpers import make_input, position

META = Meta(model_id="test", prompt_version="v1")
CFG = ValidationConfig()
HOUR = 3_600_000


def run(
    payload: dict[str, Any], inp: SignalInput | None = None, cfg: ValidationConfig = CFG
) -> Signal | Rejection:
    """Validate a reply written as JSON text, the way a model would send it."""
    return validate_reply(parse_reply(json.dumps(payload)), inp or make_input(), cfg, META)


def long(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"stop_loss": "98.5", "take_profit": ["106"], "leverage": "3", "horizon_hours": 24}
    base.update(kw)
    return signal_payload("LONG", **base)


def short(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"stop_loss": "101.5", "take_profit": ["94"], "leverage": "3", "horizon_hours": 24}
    base.update(kw)
    return signal_payload("SHORT", **base)


def code_of(outcome: Signal | Rejection) -> RejectionCode | None:
    return outcome.code if isinstance(outcome, Rejection) else None


def test_valid_long_reports_net_reward_risk_computed_by_hand() -> None:
    out = run(long())
    assert isinstance(out, Signal), out
    # mark 100, ATR 1, 3 funding settlements in 24 h (first 4 h ahead) at 0.01 %, taker 0.055 % both ways.
    risk = Decimal("1.5") + Decimal("0.055") + Decimal("0.00055") * Decimal("98.5") + Decimal("0.03")
    reward = Decimal(6) - Decimal("0.055") - Decimal("0.00055") * 106 - Decimal("0.03")
    assert out.reward_risk == (reward / risk).quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
    assert out.entry_price == Decimal(100) and out.stop_atr == 1.5
    assert out.take_profits[0].fraction == 1


def test_valid_short_and_its_funding_credit_is_not_counted() -> None:
    out = run(short())
    assert isinstance(out, Signal) and out.action is Action.SHORT
    # Shorts receive positive funding; the validator never credits it, so R:R equals the zero-funding value.
    zero = ValidationConfig(unknown_funding_rate=Decimal(0))
    same = run(short(), make_input(funding_rate="0"), zero)
    assert isinstance(same, Signal) and same.reward_risk == out.reward_risk


def test_market_entry_uses_the_mark_not_the_models_number() -> None:
    # The model claims entry 90; a stop at 89 would look fine against 90 but is 11 ATR from the real mark.
    out = run(long(entry_price="90", stop_loss="89", take_profit=["140"]))
    assert code_of(out) is RejectionCode.STOP_TOO_WIDE
    ok = run(long(entry_price="90"))
    assert isinstance(ok, Signal) and ok.entry_price == Decimal(100)


def test_hold_is_valid_and_needs_nothing_else() -> None:
    out = run({"action": "HOLD"})
    assert isinstance(out, Signal) and out.action is Action.HOLD and out.stop_loss is None
    assert isinstance(run({"action": "hold", "confidence": 0.2, "rationale": "nothing"}), Signal)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (long(stop_loss="101"), RejectionCode.STOP_WRONG_SIDE),
        (long(stop_loss="100"), RejectionCode.STOP_WRONG_SIDE),
        (short(stop_loss="98"), RejectionCode.STOP_WRONG_SIDE),
        (long(take_profit=["106", "99"]), RejectionCode.TARGET_WRONG_SIDE),
        (short(take_profit=["101"]), RejectionCode.TARGET_WRONG_SIDE),
        (long(stop_loss="99.7"), RejectionCode.STOP_TOO_TIGHT),
        (long(stop_loss="94", take_profit=["140"]), RejectionCode.STOP_TOO_WIDE),
        (long(leverage="100"), RejectionCode.LEVERAGE_OUT_OF_RANGE),
        (long(leverage="0.5"), RejectionCode.LEVERAGE_OUT_OF_RANGE),
        (long(horizon_hours=1000), RejectionCode.HORIZON_OUT_OF_RANGE),
        (long(horizon_hours=0.1), RejectionCode.HORIZON_OUT_OF_RANGE),
        (long(stop_loss="NaN"), RejectionCode.NON_FINITE_NUMBER),
        (long(stop_loss="Infinity"), RejectionCode.NON_FINITE_NUMBER),
        (long(take_profit=["-Infinity"]), RejectionCode.NON_FINITE_NUMBER),
        (long(leverage="1e40"), RejectionCode.NON_FINITE_NUMBER),
        (long(stop_loss="-98.5"), RejectionCode.NON_POSITIVE_NUMBER),
        (long(take_profit=["0"]), RejectionCode.NON_POSITIVE_NUMBER),
        (long(leverage="-3"), RejectionCode.NON_POSITIVE_NUMBER),
        (long(horizon_hours=-5), RejectionCode.NON_POSITIVE_NUMBER),
        (long(confidence=-0.1), RejectionCode.CONFIDENCE_OUT_OF_RANGE),
        (long(confidence=1.5), RejectionCode.CONFIDENCE_OUT_OF_RANGE),
        (long(confidence="NaN"), RejectionCode.NON_FINITE_NUMBER),
        ({**long(), "stop_loss": None}, RejectionCode.MISSING_FIELD),
        ({**long(), "take_profit": []}, RejectionCode.MISSING_FIELD),
        ({k: v for k, v in long().items() if k != "leverage"}, RejectionCode.MISSING_FIELD),
        ({k: v for k, v in long().items() if k != "confidence"}, RejectionCode.MISSING_FIELD),
        (long(entry_type="limit"), RejectionCode.MISSING_FIELD),
        (long(entry_type="limit", entry_price="100.5"), RejectionCode.LIMIT_THROUGH_MARK),
        (short(entry_type="limit", entry_price="99.5"), RejectionCode.LIMIT_THROUGH_MARK),
        (long(entry_type="limit", entry_price="97", stop_loss="95.5"), RejectionCode.LIMIT_TOO_FAR),
        (long(entry_type="stop"), RejectionCode.SCHEMA_VIOLATION),
        ({**long(), "action": "BUY"}, RejectionCode.SCHEMA_VIOLATION),
        (long(take_profit=["104", "105", "106", "107", "108"]), RejectionCode.TOO_MANY_TARGETS),
        (long(take_profit=["106", "107"], take_profit_fractions=["0.5"]), RejectionCode.BAD_TARGET_FRACTIONS),
        (
            long(take_profit=["106", "107"], take_profit_fractions=["0.5", "0.7"]),
            RejectionCode.BAD_TARGET_FRACTIONS,
        ),
        (long(take_profit=["100.05"]), RejectionCode.TARGET_UNPROFITABLE),
        (long(take_profit=["103.9"]), RejectionCode.REWARD_RISK_BELOW_MIN),
        (long(symbol="ETHUSDT"), RejectionCode.SYMBOL_MISMATCH),
        ({"action": "CLOSE"}, RejectionCode.NO_POSITION),
    ],
)
def test_each_rule_rejects_with_its_code(payload: dict[str, Any], code: RejectionCode) -> None:
    out = run(payload)
    assert isinstance(out, Rejection), out
    assert out.code is code, out.detail
    assert out.detail and out.symbol == "BTCUSDT" and out.model_id == "test"


def test_valid_limit_entry_is_valued_at_the_limit() -> None:
    out = run(long(entry_type="limit", entry_price="99.5", stop_loss="98", take_profit=["105.5"]))
    assert isinstance(out, Signal) and out.entry_price == Decimal("99.5") and out.entry_type == "limit"
    s = run(short(entry_type="limit", entry_price="100.5", stop_loss="102", take_profit=["94.5"]))
    assert isinstance(s, Signal) and s.entry_price == Decimal("100.5")


def test_fees_alone_can_break_the_minimum() -> None:
    # Gross 3.9/1.5 = 2.6 R passes without costs; taker fees and funding take it below 2.5.
    free = ValidationConfig(
        entry_fee_rate=Decimal(0), exit_fee_rate=Decimal(0), unknown_funding_rate=Decimal(0)
    )
    assert isinstance(run(long(take_profit=["103.9"]), make_input(funding_rate="0"), free), Signal)
    out = run(long(take_profit=["103.9"]), make_input(funding_rate="0"))
    assert code_of(out) is RejectionCode.REWARD_RISK_BELOW_MIN


def test_adverse_funding_over_the_horizon_is_a_cost() -> None:
    inp = make_input(funding_rate="0.003")  # 0.3 % per 8 h, longs pay; first settlement 4 h ahead
    assert code_of(run(long(horizon_hours=24), inp)) is RejectionCode.REWARD_RISK_BELOW_MIN
    # No settlement within 2 h: the same trade passes.
    assert isinstance(run(long(horizon_hours=2), inp), Signal)
    # A short receives that funding: no cost, passes over 24 h.
    assert isinstance(run(short(horizon_hours=24), inp), Signal)


def test_unknown_funding_is_assumed_adverse() -> None:
    big = ValidationConfig(unknown_funding_rate=Decimal("0.003"))
    assert code_of(run(long(), make_input(funding_rate=None), big)) is RejectionCode.REWARD_RISK_BELOW_MIN
    assert code_of(run(short(), make_input(funding_rate=None), big)) is RejectionCode.REWARD_RISK_BELOW_MIN


def test_stop_beyond_liquidation_is_rejected() -> None:
    inp = make_input(atr_frac=0.03)  # ATR 3: a 4 ATR stop is 12 % away; 10x liquidates ~9.5 % away
    payload = long(stop_loss="88", take_profit=["136"], leverage="10")
    assert code_of(run(payload, inp)) is RejectionCode.STOP_BEYOND_LIQUIDATION
    assert isinstance(run({**payload, "leverage": "2"}, inp), Signal)


def test_without_atr_percent_bounds_apply() -> None:
    inp = make_input(atr_frac=None)
    assert isinstance(run(long(), inp), Signal)
    assert code_of(run(long(stop_loss="99.9", take_profit=["101"]), inp)) is RejectionCode.STOP_TOO_TIGHT
    assert code_of(run(long(stop_loss="85", take_profit=["160"]), inp)) is RejectionCode.STOP_TOO_WIDE


def test_no_reference_price_is_rejected() -> None:
    inp = make_input(price="0")
    assert code_of(run(long(), inp)) is RejectionCode.NO_REFERENCE_PRICE


def test_close_needs_a_position_and_same_side_add_is_a_conflict() -> None:
    held = make_input(position=position(Side.BUY))
    assert isinstance(run({"action": "CLOSE"}, held), Signal)
    assert code_of(run(long(), held)) is RejectionCode.POSITION_CONFLICT
    assert isinstance(run(short(), held), Signal)  # a reversal is the trading layer's call
    assert isinstance(run(long(), held, ValidationConfig(allow_add_to_position=True)), Signal)
    flat = make_input(position=position(None, size="0"))
    assert code_of(run({"action": "CLOSE"}, flat)) is RejectionCode.NO_POSITION


def test_targets_are_sorted_nearest_first_with_their_fractions() -> None:
    out = run(long(take_profit=["110", "106"], take_profit_fractions=["0.25", "0.75"]))
    assert isinstance(out, Signal)
    assert [t.price for t in out.take_profits] == [Decimal(106), Decimal(110)]
    assert [t.fraction for t in out.take_profits] == [Decimal("0.75"), Decimal("0.25")]


def test_rationale_is_cleaned_and_bounded() -> None:
    out = run(long(rationale="line\nbreak\x00" + "x" * 1000))
    assert isinstance(out, Signal) and len(out.rationale) <= CFG.max_rationale_chars
    assert "\n" not in out.rationale and "\x00" not in out.rationale


def test_low_confidence_gate() -> None:
    cfg = ValidationConfig(min_confidence=Decimal("0.5"))
    assert code_of(run(long(confidence=0.3), cfg=cfg)) is RejectionCode.LOW_CONFIDENCE


# --- properties -------------------------------------------------------------------------------------


def independent_rr(
    action: Action,
    entry: Decimal,
    stop: Decimal,
    targets: list[Decimal],
    weights: list[Decimal],
    rate: Decimal,
    horizon: Decimal,
    now_ms: int,
    next_ms: int,
) -> Decimal:
    """Net weighted R:R recomputed from scratch (taker 0.055 % both ways, 8 h funding), for cross-checking."""
    fee = Decimal("0.00055")
    end = now_ms + int(horizon * HOUR)
    t, events = next_ms, 0
    while t <= now_ms:
        t += 8 * HOUR
    while t <= end:
        events += 1
        t += 8 * HOUR
    pays = rate if action is Action.LONG else -rate
    f = max(Decimal(0), pays) * events
    risk = abs(entry - stop) + fee * entry + fee * stop + f * entry
    rewards = [abs(tp - entry) - fee * entry - fee * tp - f * entry for tp in targets]
    return sum((w * r for w, r in zip(weights, rewards, strict=True)), Decimal(0)) / risk


SPECIAL = st.sampled_from(["NaN", "Infinity", "-Infinity", "-1", "0", "1e30"])


@st.composite
def market_and_reply(draw: st.DrawFn, poison: bool = False) -> tuple[SignalInput, dict[str, Any]]:
    """Arbitrary market data and a reply around its price (often invalid; with poison values if asked)."""
    price = draw(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(100_000), places=3))
    assume(price > 0)
    atr_frac = draw(st.one_of(st.none(), st.floats(min_value=0.0005, max_value=0.1)))
    rate = draw(st.decimals(min_value=Decimal("-0.005"), max_value=Decimal("0.005"), places=5))
    inp = make_input(price=price, atr_frac=atr_frac, funding_rate=rate)
    unit = price * Decimal(repr(atr_frac)) if atr_frac else price / 100

    def px(offsets: list[float]) -> str:
        # A price some ATRs from the mark (a chosen step plus jitter), or a poison value if asked.
        if poison and draw(st.booleans()):
            return draw(SPECIAL)
        step = draw(st.sampled_from(offsets)) + draw(st.floats(min_value=-0.25, max_value=0.25))
        return str(price + unit * Decimal(repr(step)))

    action = draw(st.sampled_from(["LONG", "SHORT"]))
    sign = 1 if action == "LONG" else -1
    entry_type = draw(st.sampled_from(["market", "market", "limit"]))
    n = draw(st.sampled_from([1, 1, 1, 2, 2, 3, 5]))
    stops = [sign * x for x in (-0.3, -0.7, -1, -1.5, -2, -3, -4.5, -5.5, 0.5)]
    targets = [sign * x for x in (-1, 0.2, 1.5, 3, 4, 5, 6, 8, 12, 20)]
    reply = signal_payload(
        action,
        entry_type=entry_type,
        entry_price=px([sign * x for x in (-2.5, -1, -0.3, 0.3)]) if entry_type == "limit" else None,
        stop_loss=px(stops),
        take_profit=[px(targets) for _ in range(n)],
        leverage=draw(st.sampled_from(["1", "2", "3", "5", "10"] * 3 + ["0.5", "11", "150"])),
        horizon_hours=draw(st.sampled_from([1, 8, 24, 48] * 3 + [0.1, 400])),
        confidence=draw(st.sampled_from([0, 0.5, 0.7, 1] * 4 + [-0.5, 2])),
    )
    return inp, reply


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market_and_reply(poison=True))
def test_poison_numbers_never_crash_or_pass(case: tuple[SignalInput, dict[str, Any]]) -> None:
    inp, payload = case
    out = run(payload, inp)
    assert isinstance(out, Signal | Rejection)
    if isinstance(out, Signal):
        check_signal_is_sound(out, inp)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market_and_reply())
def test_no_invalid_signal_ever_passes(case: tuple[SignalInput, dict[str, Any]]) -> None:
    inp, payload = case
    out = run(payload, inp)
    if isinstance(out, Rejection):
        assert out.code in RejectionCode and out.detail
        return
    check_signal_is_sound(out, inp)


def check_signal_is_sound(out: Signal, inp: SignalInput) -> None:
    """Every invariant a LONG/SHORT signal must satisfy, checked independently of the validator."""
    d = inp.data
    assert out.action in (Action.LONG, Action.SHORT)
    entry, stop = out.entry_price, out.stop_loss
    assert (
        entry is not None and stop is not None and out.leverage is not None and out.horizon_hours is not None
    )
    targets = [t.price for t in out.take_profits]
    for x in (entry, stop, *targets):
        assert x.is_finite() and x > 0
    if out.action is Action.LONG:
        assert stop < entry < min(targets)
    else:
        assert max(targets) < entry < stop
    if out.entry_type == "market":
        assert entry == d.mark_price
    assert Decimal(1) <= out.leverage <= Decimal(10)
    atr = d.technical_indicators.atr_14 if d.technical_indicators else None
    if atr is not None:
        assert Decimal("0.5") <= abs(entry - stop) / Decimal(repr(atr)) <= Decimal(5)
    rr = independent_rr(
        out.action,
        entry,
        stop,
        targets,
        [t.fraction for t in out.take_profits],
        d.funding_rate or Decimal(0),
        Decimal(repr(out.horizon_hours)),
        d.timestamp,
        d.next_funding_time or 0,
    )
    assert rr >= Decimal("2.5")


@st.composite
def valid_trade(draw: st.DrawFn) -> tuple[SignalInput, dict[str, Any], Decimal]:
    """A trade built to satisfy every rule, with a chosen net R:R >= 2.6 solved for exactly."""
    price = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100_000), places=2))
    assume(price > 0)
    atr_frac = draw(st.floats(min_value=0.002, max_value=0.05))
    rate = draw(st.decimals(min_value=Decimal("-0.001"), max_value=Decimal("0.001"), places=6))
    inp = make_input(price=price, atr_frac=atr_frac, funding_rate=rate)
    atr = Decimal(repr(inp.data.technical_indicators.atr_14))  # type: ignore[union-attr]
    action = draw(st.sampled_from([Action.LONG, Action.SHORT]))
    sign = 1 if action is Action.LONG else -1
    stop_atr = Decimal(repr(draw(st.floats(min_value=0.6, max_value=4.9))))
    stop = price - sign * stop_atr * atr
    horizon = Decimal(draw(st.integers(min_value=1, max_value=72)))
    want = Decimal(repr(draw(st.floats(min_value=2.6, max_value=8.0))))
    # Solve reward(D)/risk == want for one target at distance D, with the independent cost model.
    ts, nxt = inp.data.timestamp, inp.data.next_funding_time or 0
    r1 = independent_rr(action, price, stop, [price + sign * 1], [Decimal(1)], rate, horizon, ts, nxt)
    r2 = independent_rr(action, price, stop, [price + sign * 2], [Decimal(1)], rate, horizon, ts, nxt)
    d = 1 + (want - r1) / (r2 - r1)  # R:R is linear in the target distance D
    assume(d > 0 and (action is Action.LONG or d < price * Decimal("0.9")))
    # Leverage safely inside the liquidation rule.
    frac = abs(price - stop) / price
    max_lev = int(Decimal(1) / (frac / Decimal("0.8") + Decimal("0.005")))
    assume(max_lev >= 1)
    lev = draw(st.integers(min_value=1, max_value=min(10, max_lev)))
    payload = signal_payload(
        action.value,
        stop_loss=str(stop),
        take_profit=[str(price + sign * d)],
        leverage=str(lev),
        horizon_hours=float(horizon),
    )
    return inp, payload, want


@settings(max_examples=200, deadline=None)
@given(valid_trade())
def test_valid_constructed_signals_pass(case: tuple[SignalInput, dict[str, Any], Decimal]) -> None:
    inp, payload, want = case
    out = run(payload, inp)
    assert isinstance(out, Signal), (out, payload)
    assert out.reward_risk is not None and abs(out.reward_risk - want) < Decimal("0.001")


def test_signal_config_default_min_is_2_5() -> None:
    assert SignalConfig().validation.min_reward_risk == Decimal("2.5")
