"""Risk gates: every refusal names its checks with the numbers; every gate is evaluated."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from asym.domain import Side
from asym.errors import ConfigError, DataError
from asym.signals.schema import EntryType
from asym.trading import (
    Exposure,
    LegKind,
    MarketView,
    Mode,
    OrderTracker,
    Portfolio,
    RiskConfig,
    RiskDecision,
    account_view,
    evaluate,
)

from .builders import NOW, account, btc, fill, intent, market

D = Decimal
CFG = RiskConfig()


def failed(d: RiskDecision) -> set[str]:
    return {c.name for c in d.failed}


def test_accepted_decision_lists_every_check_passed() -> None:
    d = evaluate(intent(), btc(), account(), market(), CFG, NOW)
    assert d.accepted and not d.failed and d.reasons == ()
    names = [c.name for c in d.checks]
    for name in (
        "mode",
        "data_freshness",
        "data_quality",
        "market_risk",
        "existing_position",
        "stop_side",
        "liquidation_distance",
        "size_risk",
        "size_margin",
        "reward_risk",
        "risk_budget",
    ):
        assert name in names
    # A decision is recordable as JSON exactly as made.
    assert msgspec.json.decode(msgspec.json.encode(d), type=RiskDecision) == d


@pytest.mark.parametrize("mode", [Mode.EMERGENCY, Mode.HALTED])
def test_no_new_position_outside_normal_mode(mode: Mode) -> None:
    d = evaluate(intent(), btc(), account(mode=mode), market(), CFG, NOW)
    assert not d.accepted and failed(d) == {"mode"}
    assert d.reasons == (f"mode: mode is {mode.value}",)


def test_market_risk_above_threshold_refuses() -> None:
    d = evaluate(intent(), btc(), account(), market(score=0.76), CFG, NOW)
    assert failed(d) == {"market_risk"}
    assert d.check("market_risk").figures == {"score": "0.76", "max_score": "0.75"}  # type: ignore[union-attr]
    assert evaluate(intent(), btc(), account(), market(score=0.75), CFG, NOW).accepted


def test_unknown_market_risk_refuses_unless_allowed() -> None:
    assert failed(evaluate(intent(), btc(), account(), market(score=None), CFG, NOW)) == {"market_risk"}
    lenient = RiskConfig(refuse_unknown_market_risk=False)
    assert evaluate(intent(), btc(), account(), market(score=None), lenient, NOW).accepted


def test_stale_and_future_data_refuse() -> None:
    assert failed(evaluate(intent(), btc(), account(), market(ts=NOW - 120_001), CFG, NOW)) == {
        "data_freshness"
    }
    assert evaluate(intent(), btc(), account(), market(ts=NOW - 120_000), CFG, NOW).accepted
    assert failed(evaluate(intent(), btc(), account(), market(ts=NOW + 5_001), CFG, NOW)) == {
        "data_freshness"
    }


def test_missing_or_foreign_data_refuses() -> None:
    d = evaluate(intent(), btc(), account(), MarketView(data=None), CFG, NOW)
    assert failed(d) == {"market_data"}
    d = evaluate(intent(), btc(), account(), market(symbol="ETHUSDT"), CFG, NOW)
    assert failed(d) == {"market_data"}


def test_blocking_quality_flags() -> None:
    d = evaluate(intent(), btc(), account(), market(flags=("book_stale", "funding_history_short")), CFG, NOW)
    assert failed(d) == {"data_quality"}
    assert "book_stale" in d.check("data_quality").detail  # type: ignore[union-attr]
    assert "funding_history_short" not in d.check("data_quality").detail  # type: ignore[union-attr]
    # secondary-input flags alone do not block, unless any flag blocks by configuration
    benign = market(flags=("funding_history_short", "ls_ratio_missing"))
    assert evaluate(intent(), btc(), account(), benign, CFG, NOW).accepted
    strict = RiskConfig(block_on_any_quality_flag=True)
    assert failed(evaluate(intent(), btc(), account(), benign, strict, NOW)) == {"data_quality"}


def test_every_gate_is_reported_at_once() -> None:
    held = tuple(Exposure(symbol=f"S{i}USDT", side=Side.BUY, notional=D(100)) for i in range(5))
    d = evaluate(
        intent(), btc(), account(mode=Mode.EMERGENCY, exposures=held), market(score=0.9, ts=0), CFG, NOW
    )
    assert {"mode", "market_risk", "data_freshness", "concurrent_positions"} <= failed(d)
    assert len(d.reasons) >= 4


def test_one_position_per_symbol() -> None:
    held = (Exposure(symbol="BTCUSDT", side=Side.BUY, notional=D(1000), pending=True),)
    d = evaluate(intent(), btc(), account(exposures=held), market(), CFG, NOW)
    assert "existing_position" in failed(d)


def test_max_concurrent_positions_counts_symbols() -> None:
    four = tuple(Exposure(symbol=f"S{i}USDT", side=Side.BUY, notional=D(100)) for i in range(4))
    assert evaluate(intent(), btc(), account(exposures=four), market(), CFG, NOW).accepted
    five = (*four, Exposure(symbol="S4USDT", side=Side.SELL, notional=D(100)))
    assert failed(evaluate(intent(), btc(), account(exposures=five), market(), CFG, NOW)) == {
        "concurrent_positions"
    }


def test_stop_on_the_wrong_side_is_refused() -> None:
    d = evaluate(intent(stop="50100"), btc(), account(), market(), CFG, NOW)
    assert "stop_side" in failed(d) and d.plan is None
    d = evaluate(
        intent(side=Side.SELL, stop="49900", targets=(("48000", "1"),)), btc(), account(), market(), CFG, NOW
    )
    assert "stop_side" in failed(d)


def test_market_entry_stop_inside_slippage_is_refused() -> None:
    # mark 50000, stop 50010: above the mark for a long -> wrong side
    it = intent(entry_type=EntryType.MARKET, entry="50000", stop="50010")
    assert "stop_side" in failed(evaluate(it, btc(), account(), market(), CFG, NOW))


def test_target_rounded_onto_the_entry_is_refused() -> None:
    d = evaluate(intent(entry="50000", targets=(("50000.05", "1"),)), btc(), account(), market(), CFG, NOW)
    assert "target_side" in failed(d)


def test_reward_risk_recomputed_on_the_rounded_plan() -> None:
    # target 51500: reward 1500 - 27.5 - 28.325 = 1444.175 over 579.4613875 = 2.49 < 2.5
    d = evaluate(intent(targets=(("51500", "1"),)), btc(), account(), market(), CFG, NOW)
    assert failed(d) == {"reward_risk"}
    # the signal's own R:R below the minimum refuses too
    assert failed(evaluate(intent(rr="2.4"), btc(), account(), market(), CFG, NOW)) == {"reward_risk"}


def test_stop_beyond_liquidation_is_refused() -> None:
    # 20x: liquidation room (1/20 - 0.005) x 0.8 = 3.6 %; a 4 % stop is beyond it
    cfg = RiskConfig(max_leverage=D(20))
    it = intent(entry="50000", stop="48000", targets=(("60000", "1"),), leverage="20")
    assert "liquidation_distance" in failed(evaluate(it, btc(), account(), market(), cfg, NOW))


def test_instrument_not_trading_is_refused() -> None:
    d = evaluate(intent(), btc(status="Settling"), account(), market(), CFG, NOW)
    assert "instrument" in failed(d) and d.plan is None
    d = evaluate(intent(symbol="ETHUSDT"), btc(), account(), market(symbol="ETHUSDT"), CFG, NOW)
    assert "instrument" in failed(d)


def test_bad_account_is_refused_not_crashed() -> None:
    assert "account" in failed(evaluate(intent(), btc(), account("0"), market(), CFG, NOW))
    assert "account" in failed(evaluate(intent(), btc(), account("NaN"), market(), CFG, NOW))


def test_the_same_intent_gives_the_same_ids() -> None:
    a = evaluate(intent(), btc(), account(), market(), CFG, NOW).plan
    b = evaluate(intent(), btc(), account("12000"), market(), CFG, NOW + 1000).plan
    assert a is not None and b is not None
    assert a.entry.order_link_id == b.entry.order_link_id
    c = evaluate(intent(key="sig-2"), btc(), account(), market(), CFG, NOW).plan
    assert c is not None and c.entry.order_link_id != a.entry.order_link_id


def test_account_view_counts_positions_and_live_entries() -> None:
    pf = Portfolio(D(10000), NOW)
    pf.apply_execution(fill("e1", "1", "2000", symbol="ETHUSDT"))
    pf.update_mark("ETHUSDT", D(2100), NOW)
    tr = OrderTracker()
    plan = evaluate(intent(), btc(), account(), market(), CFG, NOW).plan
    assert plan is not None
    tr.track(plan.entry, NOW, role=LegKind.ENTRY, intent_key=plan.intent_key)
    view = account_view(pf, tr, Mode.NORMAL, D(9000))
    assert view.equity == pf.equity
    assert {(e.symbol, e.notional, e.pending) for e in view.exposures} == {
        ("ETHUSDT", D(2100), False),
        ("BTCUSDT", D("0.172") * D("50000.0"), True),
    }
    assert "existing_position" in failed(evaluate(intent(key="again"), btc(), view, market(), CFG, NOW))


def test_account_view_refuses_an_unvalued_entry() -> None:
    tr = OrderTracker()
    plan = evaluate(
        intent(entry_type=EntryType.MARKET, entry="50000", stop="49500"), btc(), account(), market(), CFG, NOW
    ).plan
    assert plan is not None
    tr.track(plan.entry, NOW, role=LegKind.ENTRY)  # a market order has no price and none was given
    with pytest.raises(DataError, match="no reference price"):
        account_view(Portfolio(D(1000), NOW), tr, Mode.NORMAL, D(1000))


@pytest.mark.parametrize(
    "kw",
    [
        {"risk_per_trade": D(0)},
        {"risk_per_trade": D("0.5")},
        {"max_leverage": D(-1)},
        {"max_concurrent_positions": 0},
        {"max_market_risk_score": 1.5},
        {"daily_loss_limit": D("NaN")},
        {"taker_fee_rate": D("-0.001")},
        {"margin_buffer": D("1.2")},
        {"max_data_age_ms": 0},
    ],
)
def test_bad_config_is_a_config_error(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RiskConfig(**kw)  # type: ignore[arg-type]


def test_config_decodes_and_validates_from_toml_like_data() -> None:
    cfg = msgspec.convert({"risk_per_trade": "0.005", "max_leverage": "3"}, RiskConfig, strict=False)
    assert cfg.risk_per_trade == D("0.005") and cfg.max_leverage == D(3)
    with pytest.raises(ConfigError):
        msgspec.convert({"risk_per_trade": "2"}, RiskConfig, strict=False)


def test_unusable_exposure_is_refused_not_crashed() -> None:
    held = (Exposure(symbol="ETHUSDT", side=Side.BUY, notional=D("NaN")),)
    d = evaluate(intent(), btc(), account(exposures=held), market(), CFG, NOW)
    assert not d.accepted and "account" in failed(d)
    assert "ETHUSDT" in d.check("account").detail  # type: ignore[union-attr]
