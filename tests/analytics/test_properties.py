"""Monotonicity (hypothesis): making any input riskier never lowers market_risk_score or liquidation risk."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.analytics import DEFAULT_CONFIG as CFG
from asym.analytics import AssetInputs, compute_enhanced
from asym.analytics.bench import synthetic_inputs
from asym.analytics.components import (
    funding_component,
    liquidation_activity,
    ls_skew_component,
    oi_buildup_component,
    volatility_component,
)
from asym.analytics.liquidation_risk import liquidation_risk_bucket, liquidation_risk_score
from asym.analytics.liquidity import liquidity_score
from asym.analytics.market_risk import market_risk_score
from asym.domain import Liquidation, LiquidationRisk, Side

from .conftest import NOW, some

FAST = settings(max_examples=200, deadline=None)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

unit = st.floats(0.0, 1.0)
maybe_unit = st.none() | unit
vol = st.floats(0.0, 5.0)
pos = st.floats(1.0, 1e12)
rate = st.floats(-0.01, 0.01)
ORDER = list(LiquidationRisk)


def _raw_score(raw: dict[str, Any]) -> float:
    """market_risk_score from raw inputs, through the same component functions compute_enhanced uses."""
    liq = liquidity_score(raw["depth"], raw["spread"], raw["turnover"], CFG)
    return market_risk_score(
        volatility=volatility_component(raw["vol_1h"], raw["vol_24h"], CFG),
        liq_activity=liquidation_activity(raw["liq_notional"], raw["turnover"], 3600, CFG),
        funding=funding_component(raw["rate"], CFG),
        liquidity_score=liq,
        n_flags=raw["n_flags"],
        config=CFG,
    )


raw_inputs = st.fixed_dictionaries(
    {
        "vol_1h": vol,
        "vol_24h": vol,
        "liq_notional": st.floats(0.0, 1e9),
        "turnover": pos,
        "rate": rate,
        "depth": st.floats(0.0, 1e9),
        "spread": st.floats(0.0, 5.0),
        "n_flags": st.integers(0, 10),
    }
)


@FAST
@given(raw=raw_inputs, k=st.floats(1.0, 100.0), which=st.sampled_from(list(range(8))))
def test_worsening_any_raw_input_never_lowers_market_risk(raw: dict[str, Any], k: float, which: int) -> None:
    worse = dict(raw)
    if which == 0:
        worse["vol_1h"] = raw["vol_1h"] * k
    elif which == 1:
        worse["vol_24h"] = raw["vol_24h"] * k
    elif which == 2:
        worse["liq_notional"] = raw["liq_notional"] * k
    elif which == 3:
        worse["turnover"] = raw["turnover"] / k  # less trading: thinner and liquidations weigh more
    elif which == 4:
        worse["rate"] = raw["rate"] * k  # further from zero, same sign
    elif which == 5:
        worse["depth"] = raw["depth"] / k
    elif which == 6:
        worse["spread"] = raw["spread"] * k
    else:
        worse["n_flags"] = raw["n_flags"] + int(k)
    assert _raw_score(worse) >= _raw_score(raw) - 1e-12


@FAST
@given(
    v=maybe_unit,
    a=maybe_unit,
    f=maybe_unit,
    liq=maybe_unit,
    n=st.integers(0, 10),
    which=st.sampled_from(["v", "a", "f", "liq"]),
    delta=unit,
)
def test_market_risk_monotone_in_components_and_missing_is_worst(
    v: float | None, a: float | None, f: float | None, liq: float | None, n: int, which: str, delta: float
) -> None:
    base: dict[str, float | None] = {"volatility": v, "liq_activity": a, "funding": f, "liquidity_score": liq}
    s = market_risk_score(**base, n_flags=n, config=CFG)
    assert 0.0 <= s <= 1.0
    key = {"v": "volatility", "a": "liq_activity", "f": "funding", "liq": "liquidity_score"}[which]
    cur = base[key]
    if cur is not None:
        riskier = max(0.0, cur - delta) if key == "liquidity_score" else min(1.0, cur + delta)
        assert market_risk_score(**{**base, key: riskier}, n_flags=n, config=CFG) >= s - 1e-12
    assert market_risk_score(**{**base, key: None}, n_flags=n, config=CFG) >= s - 1e-12
    assert market_risk_score(**base, n_flags=n + 1, config=CFG) >= s


@FAST
@given(
    a=unit,
    c=unit,
    v=unit,
    delta=unit,
    which=st.sampled_from([0, 1, 2]),
)
def test_liquidation_risk_bucket_monotone(a: float, c: float, v: float, delta: float, which: int) -> None:
    parts = [a, c, v]
    worse = list(parts)
    worse[which] = min(1.0, worse[which] + delta)
    b0 = liquidation_risk_bucket(liquidation_risk_score(parts[0], parts[1], parts[2], CFG), CFG)
    b1 = liquidation_risk_bucket(liquidation_risk_score(worse[0], worse[1], worse[2], CFG), CFG)
    assert ORDER.index(b1) >= ORDER.index(b0)


@FAST
@given(x=st.floats(-1e3, 1e3), d=st.floats(0.0, 1e3))
def test_crowding_components_monotone(x: float, d: float) -> None:
    assert oi_buildup_component(x + d, CFG) >= oi_buildup_component(x, CFG)
    assert funding_component(abs(x) / 1e4 + d / 1e4, CFG) >= funding_component(abs(x) / 1e4, CFG)
    share = 0.5 + min(abs(x), 500) / 1000  # 0.5..1.0
    assert ls_skew_component(min(1.0, share + d / 1e4), CFG) >= ls_skew_component(share, CFG)


# --- the same property through compute_enhanced itself -------------------------------------------------


@SLOW
@given(
    seed=st.integers(0, 2**16),
    widen=st.integers(1, 24),
    extra_liq=st.floats(1.0, 1e7),
    funding_mult=st.floats(1.0, 50.0),
    turnover_div=st.floats(1.0, 1e4),
)
def test_compute_enhanced_risk_never_drops_when_the_market_worsens(
    seed: int, widen: int, extra_liq: float, funding_mult: float, turnover_div: float
) -> None:
    base = synthetic_inputs("PROPUSDT", NOW, np.random.default_rng(seed), price=50.0)
    r0 = compute_enhanced(base)
    assert r0.quality_flags == ()
    book, t, liqs = some(base.book), some(base.ticker), list(some(base.liquidations))

    def check(worse: AssetInputs) -> None:
        r1 = compute_enhanced(worse)
        assert some(r1.market_risk_score) >= some(r0.market_risk_score) - 1e-12
        if r1.liquidation_risk is not None:
            assert ORDER.index(r1.liquidation_risk) >= ORDER.index(some(r0.liquidation_risk))

    # thinner, wider book: the best `widen` ask levels are gone (spread up, depth down)
    asks = book.asks[widen:]
    check(dataclasses.replace(base, book=msgspec.structs.replace(book, asks=asks)))
    # one more liquidation right at the price
    last = t.last_price
    liq = Liquidation(
        symbol="PROPUSDT", side=Side.BUY, price=last, size=Decimal(repr(extra_liq)) / last, ts=NOW
    )
    check(dataclasses.replace(base, liquidations=[*liqs, liq]))
    # a more extreme funding rate (same sign)
    check(
        dataclasses.replace(
            base,
            ticker=msgspec.structs.replace(
                t, funding_rate=some(t.funding_rate) * Decimal(repr(funding_mult))
            ),
        )
    )
    # less turnover
    check(
        dataclasses.replace(
            base,
            ticker=msgspec.structs.replace(
                t, turnover_24h=some(t.turnover_24h) / Decimal(repr(turnover_div))
            ),
        )
    )
    # an input disappears
    check(dataclasses.replace(base, book=None))
    check(dataclasses.replace(base, liquidations=None))
