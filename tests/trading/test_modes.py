"""Modes: every trigger enters EMERGENCY with cause and time, and resume is refused until it has cleared."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asym.errors import ConfigError
from asym.trading import (
    Mode,
    ModeConfig,
    ModeInputs,
    ModeMachine,
    RiskConfig,
    Trigger,
    data_quality_share,
    market_stress,
    mode_config_from,
)

from .builders import NOW, enhanced

D = Decimal


def inputs(
    equity: str = "10000",
    day_start: str = "10000",
    peak: str = "10000",
    quality: float | None = 1.0,
    stress: float | None = 0.2,
) -> ModeInputs:
    return ModeInputs(
        equity=D(equity),
        day_start_equity=D(day_start),
        peak_equity=D(peak),
        data_quality=quality,
        market_stress=stress,
    )


# (trigger, inputs that fire it, inputs still above the resume level, inputs that clear it)
CASES = [
    # daily loss 3 %: fires at -300, clears below 80 % of it (-240)
    (Trigger.DAILY_LOSS, inputs("9700"), inputs("9750"), inputs("9770")),
    # drawdown 10 % from a peak of 12000: fires at 10800, clears below 8 % (11040)
    (
        Trigger.DRAWDOWN,
        inputs("10800", "10800", "12000"),
        inputs("11000", "10800", "12000"),
        inputs("11100", "10800", "12000"),
    ),
    # data quality below 50 %: clears at 60 %
    (Trigger.DATA_QUALITY, inputs(quality=0.4), inputs(quality=0.55), inputs(quality=0.65)),
    # market stress >= 0.9: clears below 0.72
    (Trigger.VOLATILITY, inputs(stress=0.95), inputs(stress=0.8), inputs(stress=0.5)),
]


@pytest.mark.parametrize(("trigger", "fire", "hold", "clear"), CASES, ids=[c[0].value for c in CASES])
def test_each_trigger_enters_emergency_and_blocks_resume_until_cleared(
    trigger: Trigger, fire: ModeInputs, hold: ModeInputs, clear: ModeInputs
) -> None:
    m = ModeMachine()
    assert m.observe(inputs(), NOW) == [] and m.mode is Mode.NORMAL
    (ev,) = m.observe(fire, NOW + 1)
    assert (ev.kind, ev.src, ev.dst, ev.triggers, ev.ts) == (
        "enter",
        Mode.NORMAL,
        Mode.EMERGENCY,
        (trigger,),
        NOW + 1,
    )
    assert ev.detail and m.mode is Mode.EMERGENCY and not m.allows_entries
    # firing again is not a new event
    assert m.observe(fire, NOW + 2) == []
    refused = m.resume(NOW + 3, hold)
    assert not refused.ok and refused.mode is Mode.EMERGENCY
    assert refused.reasons and refused.reasons[0].startswith(trigger.value)
    assert refused.event.kind == "resume_refused" and m.events[-1] == refused.event
    ok = m.resume(NOW + 4, clear)
    assert ok.ok and m.mode is Mode.NORMAL and ok.event.triggers == (trigger,)
    assert [e.kind for e in m.events] == ["enter", "resume_refused", "resume"]


def test_api_failure_streak() -> None:
    m = ModeMachine(ModeConfig(max_api_failure_streak=3))
    assert m.record_api_failure(NOW) is None
    m.record_api_success()
    assert m.record_api_failure(NOW) is None and m.record_api_failure(NOW) is None
    ev = m.record_api_failure(NOW + 5, "10016 server error")
    assert ev is not None and ev.triggers == (Trigger.API_FAILURES,) and "10016" in ev.detail
    assert m.mode is Mode.EMERGENCY
    assert not m.resume(NOW + 6, inputs()).ok
    m.record_api_success()
    assert m.resume(NOW + 7, inputs()).ok


def test_several_triggers_all_must_clear() -> None:
    m = ModeMachine()
    m.observe(inputs("9700", stress=0.95), NOW)
    assert set(m.active) == {Trigger.DAILY_LOSS, Trigger.VOLATILITY}
    r = m.resume(NOW + 1, inputs("9900", stress=0.95))
    assert not r.ok and len(r.reasons) == 1 and r.reasons[0].startswith("volatility")
    assert m.resume(NOW + 2, inputs("9900", stress=0.3)).ok


def test_a_trigger_not_measured_since_it_fired_blocks_resume() -> None:
    m = ModeMachine()
    m.observe(inputs(quality=0.1), NOW)
    r = m.resume(NOW + 1, inputs(quality=None))
    assert not r.ok and "not measured" in r.reasons[0]


def test_manual_emergency_and_halt() -> None:
    m = ModeMachine()
    ev = m.enter_emergency(NOW, "operator: exchange incident")
    assert ev is not None and ev.triggers == (Trigger.MANUAL,) and m.mode is Mode.EMERGENCY
    halt = m.halt(NOW + 1, "stop everything")
    assert (halt.src, halt.dst) == (Mode.EMERGENCY, Mode.HALTED)
    # a trigger while halted is recorded but the mode stays HALTED
    (t,) = m.observe(inputs("9650"), NOW + 2)
    assert t.kind == "trigger" and m.mode is Mode.HALTED
    assert t.triggers == (Trigger.DAILY_LOSS,)
    assert not m.resume(NOW + 3, inputs("9650")).ok
    assert m.resume(NOW + 4, inputs("9990")).ok and m.mode is Mode.NORMAL


def test_resume_in_normal_is_a_no_op() -> None:
    m = ModeMachine()
    r = m.resume(NOW)
    assert r.ok and r.event.detail == "already NORMAL" and m.events == []


def test_market_stress_is_the_median() -> None:
    assert market_stress([0.1, 0.95, 0.2]) == 0.2
    assert market_stress([0.1, 0.3, None, 0.5, 0.7]) == 0.4
    assert market_stress([None]) is None


def test_mode_config_shares_the_risk_limits() -> None:
    cfg = mode_config_from(
        RiskConfig(daily_loss_limit=D("0.05"), max_drawdown=D("0.2")), max_api_failure_streak=9
    )
    assert (cfg.daily_loss_limit, cfg.max_drawdown, cfg.max_api_failure_streak) == (D("0.05"), D("0.2"), 9)
    with pytest.raises(ConfigError):
        ModeConfig(resume_fraction=D(0))
    with pytest.raises(ConfigError):
        ModeConfig(min_data_quality=2.0)


def test_data_quality_share_feeds_the_trigger() -> None:
    cfg = RiskConfig()
    datas = [enhanced(), enhanced(flags=("book_stale",)), enhanced(ts=NOW - 10 * 60_000), None]
    share = data_quality_share(datas, cfg, NOW)
    assert share == 0.25 and data_quality_share([], cfg, NOW) is None
    m = ModeMachine()
    (ev,) = m.observe(inputs(quality=share), NOW)
    assert ev.triggers == (Trigger.DATA_QUALITY,) and "25.0%" in ev.detail
