"""Sizing with exact Decimal expectations, every number hand-computed in the comments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asym.domain import Side
from asym.errors import DataError
from asym.signals.schema import EntryType
from asym.trading import Exposure, RiskConfig, evaluate
from asym.trading.sizing import (
    ceil_to_step,
    floor_to_step,
    loss_per_unit,
    qty_for_margin,
    round_entry,
    round_stop,
    round_target,
    split_legs,
)

from .builders import NOW, account, btc, doge, intent, market

D = Decimal
CFG = RiskConfig()


def test_rounding_to_grids() -> None:
    assert floor_to_step(D("0.1729"), D("0.001")) == D("0.172")
    assert ceil_to_step(D("0.1721"), D("0.001")) == D("0.173")
    assert floor_to_step(D("12.7"), D("0.5")) == D("12.5")
    assert ceil_to_step(D("12.2"), D("0.5")) == D("12.5")
    assert floor_to_step(D("105"), D("5")) == D("105")
    with pytest.raises(DataError):
        floor_to_step(D(1), D(0))


def test_prices_round_to_the_safe_side() -> None:
    tick = D("0.1")
    # A buy limit never pays more, a sell limit never receives less.
    assert round_entry(D("50000.05"), Side.BUY, tick) == D("50000.0")
    assert round_entry(D("50000.05"), Side.SELL, tick) == D("50000.1")
    # Stops move towards the entry: long stop up, short stop down (risk never grows).
    assert round_stop(D("49499.95"), Side.BUY, tick) == D("49500.0")
    assert round_stop(D("50500.05"), Side.SELL, tick) == D("50500.0")
    # Targets move towards the entry (reward never overstated).
    assert round_target(D("52000.07"), Side.BUY, tick) == D("52000.0")
    assert round_target(D("47999.93"), Side.SELL, tick) == D("48000.0")


def test_loss_per_unit_includes_fees_and_stop_slippage() -> None:
    # long 50000 -> stop 49500 filled at 49500 x (1 - 0.0005) = 49475.25
    # 524.75 + 0.00055 x 50000 (27.5) + 0.00055 x 49475.25 (27.2113875) = 579.4613875
    assert loss_per_unit(D(50000), D(49500), Side.BUY, D("0.00055"), D("0.0005")) == D("579.4613875")
    # short 50000 -> stop 50500 filled at 50525.25: 525.25 + 27.5 + 27.7888875 = 580.5388875
    assert loss_per_unit(D(50000), D(50500), Side.SELL, D("0.00055"), D("0.0005")) == D("580.5388875")


def test_worked_example_limit_long() -> None:
    """docs/trading.md's worked example."""
    d = evaluate(intent(), btc(), account("10000"), market(), CFG, NOW)
    assert d.accepted, d.reasons
    p = d.plan
    assert p is not None
    assert p.entry_price == D("50000.0") and p.stop_loss == D("49500.0") and p.take_profits == (D("52000.0"),)
    # budget 10000 x 1 % = 100; 100 / 579.4613875 = 0.17257... -> 0.172 (step 0.001, rounded down)
    assert p.qty == D("0.172")
    assert p.risk_amount == D("0.172") * D("579.4613875") == D("99.66735865")
    assert p.notional == D("8600.000") and p.margin == D("1720")
    # reward per unit 2000 - 27.5 - 28.6 = 1943.9; R:R = 1943.9 / 579.4613875
    assert p.reward_risk == D("1943.9") / D("579.4613875")
    assert d.check("min_order_qty").figures["binding"] == "size_risk"  # type: ignore[union-attr]
    e = p.entry
    assert (e.price, e.qty, e.stop_loss, e.take_profit, e.reduce_only) == (
        D("50000.0"),
        D("0.172"),
        D("49500.0"),
        D("52000.0"),
        False,
    )
    assert e.order_link_id.startswith("asym-") and e.order_link_id.endswith("-en")


def test_market_entry_is_sized_for_the_slipped_price() -> None:
    it = intent(entry_type=EntryType.MARKET, entry="50000", stop="49500")
    d = evaluate(it, btc(), account("10000"), market(), CFG, NOW)
    assert d.accepted, d.reasons
    p = d.plan
    assert p is not None
    # worst entry 50000 x 1.0005 = 50025; per unit 50025 - 49475.25 + 27.51375 + 27.2113875 = 604.4751375
    assert p.worst_entry == D("50025.0000")
    # 100 / 604.4751375 = 0.16543... -> 0.165
    assert p.qty == D("0.165")
    assert p.entry.price is None and p.entry.order_type.value == "Market"


def test_multiple_targets_split_into_reduce_only_exits() -> None:
    it = intent(targets=(("51500", "0.5"), ("52500", "0.3"), ("53500", "0.2")), rr="3")
    d = evaluate(it, btc(), account("10000"), market(), CFG, NOW)
    assert d.accepted, d.reasons
    p = d.plan
    assert p is not None
    # qty 0.172: 0.086 at tp1, floor(0.0516) = 0.051 at tp2, the rest 0.035 by the attached TP
    assert p.tp_quantities == (D("0.086"), D("0.051"), D("0.035"))
    assert p.entry.take_profit == D("53500.0")
    assert [(x.price, x.qty, x.side, x.reduce_only) for x in p.exits] == [
        (D("51500.0"), D("0.086"), Side.SELL, True),
        (D("52500.0"), D("0.051"), Side.SELL, True),
    ]
    assert [x.order_link_id[-3:] for x in p.exits] == ["tp1", "tp2"]


def test_small_legs_merge_into_the_next() -> None:
    # qty 0.005 in thirds: floor(0.001666) = 0.001, +0.001, rest 0.003; with min qty 0.002 leg 1 merges
    assert split_legs(D("0.005"), [D(1) / 3] * 3, D("0.001"), D("0.001")) == [
        D("0.001"),
        D("0.001"),
        D("0.003"),
    ]
    assert split_legs(D("0.005"), [D(1) / 3] * 3, D("0.001"), D("0.002")) == [D(0), D("0.002"), D("0.003")]


def test_below_min_qty_is_refused() -> None:
    # equity 50: budget 0.5; 0.5 / 579.4613875 = 0.00086 -> 0.000 < min 0.001
    d = evaluate(intent(), btc(), account("50"), market(), CFG, NOW)
    assert not d.accepted
    failed = {c.name for c in d.failed}
    assert {"size_risk", "min_order_qty"} <= failed
    assert d.plan is None


def test_below_min_notional_is_refused() -> None:
    # DOGE long limit 0.1, stop 0.095 (tick 0.00001). fill at stop 0.095 x 0.9995 = 0.0949525
    # per unit = 0.0050475 + 0.000055 + 0.0000522238750 = 0.0051547238750
    # equity 20 -> budget 0.2 -> 38.8 -> 38 DOGE; value 38 x 0.1 = 3.8 < 5
    it = intent(symbol="DOGEUSDT", entry="0.1", stop="0.095", targets=(("0.12", "1"),))
    d = evaluate(it, doge(), account("20"), market(symbol="DOGEUSDT", mark=D("0.1")), CFG, NOW)
    assert not d.accepted
    assert d.check("min_order_qty").passed  # type: ignore[union-attr]
    mn = d.check("min_notional")
    assert mn is not None and not mn.passed and mn.figures["notional"] == "3.8"
    # equity 30 -> budget 0.3 -> 58.2 -> 58 DOGE worth 5.8: accepted
    ok = evaluate(it, doge(), account("30"), market(symbol="DOGEUSDT", mark=D("0.1")), CFG, NOW)
    assert ok.accepted and ok.plan is not None and ok.plan.qty == D(58)


def test_margin_caps_the_size_by_leverage() -> None:
    # available 500 -> usable 475 at 5x: qty <= 2375 / (50000 x (1 + 0.00055 x 5)) = 0.04737 -> 0.047
    # check 0.047: 2350 + 0.00055 x 2350 x 5 = 2356.4625 <= 2375; 0.048: 2406.6 > 2375
    d = evaluate(intent(), btc(), account("10000", available="500"), market(), CFG, NOW)
    assert d.accepted, d.reasons
    assert d.plan is not None and d.plan.qty == D("0.047")
    assert d.check("min_order_qty").figures["binding"] == "size_margin"  # type: ignore[union-attr]
    assert qty_for_margin(D(475), D(5), D(50000), D("0.00055"), D("0.001")) == D("0.047")


def test_leverage_is_capped_by_config_and_instrument() -> None:
    d = evaluate(intent(leverage="25"), btc(), account(), market(), CFG, NOW)
    assert d.plan is not None and d.plan.leverage == D(5)
    d = evaluate(intent(leverage="25"), btc(max_leverage=D(3)), account(), market(), CFG, NOW)
    assert d.plan is not None and d.plan.leverage == D(3)


def test_total_exposure_cap() -> None:
    # 28000 of ETH short held: total room 3 x 10000 - 28000 = 2000 -> 2000 / 50000 = 0.04
    held = (Exposure(symbol="ETHUSDT", side=Side.SELL, notional=D(28000)),)
    d = evaluate(intent(), btc(), account(exposures=held), market(), CFG, NOW)
    assert d.accepted, d.reasons
    assert d.plan is not None and d.plan.qty == D("0.04")
    assert d.check("min_order_qty").figures["binding"] == "size_total_exposure"  # type: ignore[union-attr]


def test_correlated_exposure_cap_is_same_direction_only() -> None:
    # 19000 ETH long: correlated room 20000 - 19000 = 1000 -> 0.02 BTC
    held = (Exposure(symbol="ETHUSDT", side=Side.BUY, notional=D(19000)),)
    d = evaluate(intent(), btc(), account(exposures=held), market(), CFG, NOW)
    assert d.plan is not None and d.plan.qty == D("0.02")
    # the same exposure short does not count against a long
    held_short = (Exposure(symbol="ETHUSDT", side=Side.SELL, notional=D(19000)),)
    d = evaluate(intent(), btc(), account(exposures=held_short), market(), CFG, NOW)
    assert d.plan is not None and d.plan.qty == D("0.172")
    # an exempted symbol is not capped by it
    cfg = RiskConfig(uncorrelated_symbols=frozenset({"BTCUSDT"}))
    d = evaluate(intent(), btc(), account(exposures=held), market(), cfg, NOW)
    assert d.plan is not None and d.plan.qty == D("0.172") and d.check("size_correlated_exposure") is None


def test_full_correlated_book_refuses() -> None:
    held = (Exposure(symbol="ETHUSDT", side=Side.BUY, notional=D(21000)),)
    d = evaluate(intent(), btc(), account(exposures=held), market(), CFG, NOW)
    assert not d.accepted
    c = d.check("size_correlated_exposure")
    assert c is not None and not c.passed and c.figures["qty"] == "0"


def test_symbol_exposure_cap() -> None:
    # tight stop 49950: per unit 49.975 + ... -> risk qty ~1.0; symbol cap 1.5 x 10000 / 50000 = 0.3
    d = evaluate(intent(stop="49950", targets=(("50500", "1"),)), btc(), account(), market(), CFG, NOW)
    assert d.plan is not None and d.plan.qty == D("0.3")
    assert d.check("min_order_qty").figures["binding"] == "size_symbol_exposure"  # type: ignore[union-attr]


def test_venue_max_market_qty_caps_the_size() -> None:
    d = evaluate(
        intent(entry_type=EntryType.MARKET, entry="50000", stop="49500"),
        btc(max_mkt_order_qty=D("0.1")),
        account(),
        market(),
        CFG,
        NOW,
    )
    assert d.plan is not None and d.plan.qty == D("0.1")
    assert d.check("min_order_qty").figures["binding"] == "size_venue_max"  # type: ignore[union-attr]
