"""Bad input never crashes compute_enhanced: random corruptions give flags, finite numbers and valid JSON."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.analytics import AssetInputs, CandleArrays, compute_enhanced, to_json_dict
from asym.analytics.bench import synthetic_inputs
from asym.domain import FundingRate, Liquidation, LongShortRatio, OpenInterest, Side

from .conftest import NOW

Change = Callable[[AssetInputs], AssetInputs]
BAD_DECIMALS = [
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("-1"),
    Decimal("0"),
    Decimal("Infinity"),
    Decimal("1E+400"),
]


def _ticker(field: str, value: object) -> Change:
    def f(i: AssetInputs) -> AssetInputs:
        if i.ticker is None:
            return i
        return dataclasses.replace(i, ticker=msgspec.structs.replace(i.ticker, **{field: value}))

    return f


def _book(**changes: object) -> Change:
    def f(i: AssetInputs) -> AssetInputs:
        return (
            i if i.book is None else dataclasses.replace(i, book=msgspec.structs.replace(i.book, **changes))
        )

    return f


def _candle_col(iv: str, col: str, value: float, row: int) -> Change:
    def f(i: AssetInputs) -> AssetInputs:
        if iv not in i.candles:
            return i
        a = i.candles[iv]
        assert isinstance(a, CandleArrays)
        cols = {n: getattr(a, n).copy() for n in ("start", "open", "high", "low", "close", "volume")}
        if len(a):
            cols[col][row % len(a)] = value
        return dataclasses.replace(i, candles={**i.candles, iv: CandleArrays(**cols)})

    return f


def _candles(iv: str, fn: Callable[[CandleArrays], CandleArrays]) -> Change:
    def f(i: AssetInputs) -> AssetInputs:
        if iv not in i.candles:
            return i
        return dataclasses.replace(i, candles={**i.candles, iv: fn(i.candles[iv])})  # type: ignore[arg-type]

    return f


def _field(name: str, value: Any) -> Change:
    def f(i: AssetInputs) -> AssetInputs:
        changes: dict[str, Any] = {name: value}
        return dataclasses.replace(i, **changes)

    return f


def _oi(value: str, hours: int = 1) -> list[OpenInterest]:
    return [
        OpenInterest(symbol="TESTUSDT", open_interest=Decimal(value), ts=NOW - h * 3_600_000)
        for h in range(hours)
    ]


def _ls(buy: str, sell: str) -> list[LongShortRatio]:
    return [LongShortRatio(symbol="TESTUSDT", buy_ratio=Decimal(buy), sell_ratio=Decimal(sell), ts=NOW)]


def _liq(price: str, size: str) -> list[Liquidation]:
    return [Liquidation(symbol="TESTUSDT", side=Side.SELL, price=Decimal(price), size=Decimal(size), ts=NOW)]


PRICE_FIELDS = ("last_price", "mark_price", "index_price", "bid1_price", "ask1_price")
AMOUNT_FIELDS = ("turnover_24h", "volume_24h", "open_interest")
NAMED: dict[str, Change] = {
    **{f"ticker.{f}={v}": _ticker(f, v) for f in PRICE_FIELDS + AMOUNT_FIELDS for v in BAD_DECIMALS},
    **{f"ticker.funding_rate={v}": _ticker("funding_rate", v) for v in [*BAD_DECIMALS, Decimal("5")]},
    "ticker.funding_interval_hours=0": _ticker("funding_interval_hours", 0),
    "ticker.ts=0": _ticker("ts", 0),
    "ticker.symbol=OTHER": _ticker("symbol", "OTHER"),
    "ticker=None": _field("ticker", None),
    "book=None": _field("book", None),
    "book.bids=()": _book(bids=()),
    "book crossed": _book(asks=((Decimal("0.000001"), Decimal("1")),)),
    "book NaN bid": _book(bids=((Decimal("NaN"), Decimal("1")),)),
    "book ask 1E+400": _book(asks=((Decimal("1E+400"), Decimal("1")),)),
    "book negative size, ascending bids": _book(
        bids=((Decimal("1"), Decimal("-1")), (Decimal("2"), Decimal("1")))
    ),
    "book.ts=0": _book(ts=0),
    "book.symbol=OTHER": _book(symbol="OTHER"),
    **{
        f"candles[{iv}].{c}[{r}]={v}": _candle_col(iv, c, v, r)
        for iv in ("5", "60")
        for c in ("close", "high", "volume")
        for v in (np.nan, -1.0, 0.0, np.inf, 1e308)
        for r in (0, -1, 100)
    },
    "candles[60] 3 bars": _candles("60", lambda a: a.take(slice(-3, None))),
    "candles[60] empty": _candles("60", lambda a: a.take(slice(0, 0))),
    "candles[5] newest first": _candles("5", lambda a: a.take(np.arange(len(a))[::-1])),
    "candles[5] every bar twice": _candles(
        "5", lambda a: a.take(np.r_[np.arange(len(a)), np.arange(len(a))])
    ),
    "candles={}": _field("candles", {}),
    "candles unknown interval": _field(
        "candles",
        {"abc": CandleArrays.from_columns(start=[0], open=[1], high=[1], low=[1], close=[1], volume=[1])},
    ),
    "funding_history=[]": _field("funding_history", []),
    "funding_history NaN": _field(
        "funding_history", [FundingRate(symbol="TESTUSDT", rate=Decimal("NaN"), ts=NOW - 1)] * 20
    ),
    "funding_history future": _field(
        "funding_history", [FundingRate(symbol="TESTUSDT", rate=Decimal("0.05"), ts=NOW + 1)]
    ),
    "oi_history=[]": _field("open_interest_history", []),
    "oi_history zero": _field("open_interest_history", _oi("0")),
    "oi_history 1E+400": _field("open_interest_history", _oi("1E+400", 8)),
    "ls 0/0": _field("long_short_history", _ls("0", "0")),
    "ls NaN": _field("long_short_history", _ls("NaN", "1")),
    "liquidations=[]": _field("liquidations", []),
    "liquidation NaN price": _field("liquidations", _liq("NaN", "1")),
    "liquidation huge": _field("liquidations", _liq("250", "1E+300")),
    "now_ms=0": _field("now_ms", 0),
    "now_ms +10 days": _field("now_ms", NOW + 10 * 86_400_000),
}
CHANGES = list(NAMED.values())
VALID_AS_IS = {
    # real values that need no flag: a dead market, an empty position book, no liquidation, zero funding,
    # and an absurd but well-formed liquidation (it simply maxes the liquidation terms)
    "ticker.turnover_24h=0",
    "ticker.volume_24h=0",
    "ticker.open_interest=0",
    "ticker.funding_rate=0",
    "liquidations=[]",
    "liquidation huge",
}


def _floats(v: object, out: list[float]) -> list[float]:
    if isinstance(v, float):
        out.append(v)
    elif isinstance(v, msgspec.Struct):
        for f in v.__struct_fields__:
            _floats(getattr(v, f), out)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.sampled_from(CHANGES), min_size=1, max_size=6))
def test_random_corruptions_never_crash(clean_inputs: AssetInputs, changes: list[Change]) -> None:
    inputs = clean_inputs
    for change in changes:
        inputs = change(inputs)
    d = compute_enhanced(inputs)
    assert all(math.isfinite(x) for x in _floats(d, []))
    assert d.market_risk_score is not None and 0.0 <= d.market_risk_score <= 1.0
    assert d.liquidity_score is None or 0.0 <= d.liquidity_score <= 1.0
    assert d.last_price > 0 or "no_valid_price" in d.quality_flags
    json.dumps(to_json_dict(d), allow_nan=False)


def test_every_single_corruption_is_flagged() -> None:
    """Each corruption alone shows up in the quality flags, unless it is a real (if extreme) value."""
    base = synthetic_inputs("TESTUSDT", NOW, np.random.default_rng(42), price=250.0)
    clean = compute_enhanced(base)
    assert clean.quality_flags == ()
    silent = set()
    for name, change in NAMED.items():
        d = compute_enhanced(change(base))
        if not d.quality_flags and d != clean:
            silent.add(name)
    assert silent == VALID_AS_IS
