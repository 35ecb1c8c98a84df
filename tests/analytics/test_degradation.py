"""compute_enhanced on complete inputs, and with each input missing or bad: None + flag, the rest computed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np
import pytest

from asym.analytics import AssetInputs, CandleArrays, EnhancedData, compute_enhanced
from asym.domain import Candle, Interval, LiquidationRisk

from .conftest import NOW, some

OPTIONAL = (
    "mark_price",
    "index_price",
    "bid_price",
    "ask_price",
    "volume_24h",
    "turnover_24h",
    "funding_rate",
    "next_funding_time",
    "open_interest",
    "liquidity_score",
    "liquidation_risk",
    "funding_sentiment",
    "oi_sentiment",
    "market_risk_score",
    "spread_pct",
    "nearby_liquidations",
    "technical_indicators",
)
TECH = (
    "rsi_14",
    "atr_14",
    "atr_pct",
    "realized_vol_1h",
    "realized_vol_24h",
    "ema_fast",
    "ema_slow",
    "ema_trend",
    "bb_width",
)


def _none_fields(d: EnhancedData) -> set[str]:
    out = {f for f in OPTIONAL if getattr(d, f) is None}
    if d.technical_indicators is not None:
        out |= {f"ti.{f}" for f in TECH if getattr(d.technical_indicators, f) is None}
    if d.funding_sentiment is not None and d.funding_sentiment.zscore is None:
        out.add("funding.zscore")
    return out


def test_complete_inputs_give_every_key_and_no_flag(clean_inputs: AssetInputs) -> None:
    d = compute_enhanced(clean_inputs)
    assert d.quality_flags == ()
    assert not d.is_degraded
    assert _none_fields(d) == set()
    assert d.order_book_depth == 25
    assert d.symbol == "TESTUSDT" and d.timestamp == NOW
    book = some(clean_inputs.book)
    assert d.last_price == some(clean_inputs.ticker).last_price
    assert d.bid_price == book.bids[0][0] and d.ask_price == book.asks[0][0]
    assert 0 <= some(d.liquidity_score) <= 1 and 0 <= some(d.market_risk_score) <= 1
    assert isinstance(d.liquidation_risk, LiquidationRisk)
    ti = some(d.technical_indicators)
    assert 0 <= some(ti.rsi_14) <= 100 and some(ti.atr_14) > 0
    assert some(ti.realized_vol_1h) > 0 and some(ti.realized_vol_24h) > 0


def _ticker(inputs: AssetInputs, **changes: Any) -> AssetInputs:
    return dataclasses.replace(inputs, ticker=msgspec.structs.replace(some(inputs.ticker), **changes))


def _arrays(inputs: AssetInputs, iv: str) -> CandleArrays:
    a = inputs.candles[iv]
    assert isinstance(a, CandleArrays)
    return a


def _without_candles(inputs: AssetInputs, iv: str) -> AssetInputs:
    return dataclasses.replace(inputs, candles={k: v for k, v in inputs.candles.items() if k != iv})


def _bad_candle(inputs: AssetInputs, iv: str, row: int) -> AssetInputs:
    a = _arrays(inputs, iv)
    close = a.close.copy()
    close[row] = np.nan
    bad = CandleArrays(start=a.start, open=a.open, high=a.high, low=a.low, close=close, volume=a.volume)
    return dataclasses.replace(inputs, candles={**inputs.candles, iv: bad})


# (name, change, flags that must appear, fields that must be None); everything else must still be computed
CASES = [
    (
        "book missing",
        lambda i: dataclasses.replace(i, book=None),
        {"book_missing"},
        {"liquidity_score"},
    ),
    (
        "book stale",
        lambda i: dataclasses.replace(i, book=msgspec.structs.replace(i.book, ts=NOW - 10_001)),
        {"book_stale"},
        {"liquidity_score"},
    ),
    (
        "book far from price",
        lambda i: _ticker(i, last_price=i.ticker.last_price / Decimal("1.06")),
        {"book_mismatch"},
        {"liquidity_score"},
    ),
    (
        "ticker missing",
        lambda i: dataclasses.replace(i, ticker=None),
        {"ticker_missing", "price_fallback:book_mid"},
        {
            "mark_price",
            "index_price",
            "volume_24h",
            "turnover_24h",
            "funding_rate",
            "next_funding_time",
            "open_interest",
            "liquidity_score",
            "liquidation_risk",
            "funding_sentiment",
        },
    ),
    (
        "1h candles missing",
        lambda i: _without_candles(i, "60"),
        {"candles_missing:60"},
        {
            "ti.rsi_14",
            "ti.atr_14",
            "ti.atr_pct",
            "ti.ema_fast",
            "ti.ema_slow",
            "ti.ema_trend",
            "ti.bb_width",
            "ti.realized_vol_24h",
        },
    ),
    (
        "5m candles missing",
        lambda i: _without_candles(i, "5"),
        {"candles_missing:5"},
        {"ti.realized_vol_1h"},
    ),
    (
        "1h candles short",
        lambda i: dataclasses.replace(i, candles={**i.candles, "60": i.candles["60"].take(slice(-30, None))}),
        {"candles_short:60"},
        {"ti.ema_slow", "ti.ema_trend"},
    ),
    (
        "NaN close in the last 1h candle",
        lambda i: _bad_candle(i, "60", -1),
        {"candles_invalid:60", "candles_short:60"},
        {
            "ti.rsi_14",
            "ti.atr_14",
            "ti.atr_pct",
            "ti.ema_fast",
            "ti.ema_slow",
            "ti.ema_trend",
            "ti.bb_width",
            "ti.realized_vol_24h",
        },
    ),
    (
        "1h candles stale",
        lambda i: dataclasses.replace(i, now_ms=NOW + 3 * 3_600_000, book=None),
        {"candles_stale:60", "candles_stale:5", "ticker_stale", "book_missing", "oi_history_stale"},
        {"technical_indicators", "liquidity_score", "liquidation_risk", "oi_sentiment"},
    ),
    (
        "funding history missing",
        lambda i: dataclasses.replace(i, funding_history=None),
        {"funding_history_missing"},
        {"funding.zscore"},
    ),
    (
        "funding history short",
        lambda i: dataclasses.replace(i, funding_history=i.funding_history[-5:]),
        {"funding_history_short"},
        {"funding.zscore"},
    ),
    (
        "funding rate missing",
        lambda i: _ticker(i, funding_rate=None),
        {"funding_rate_missing"},
        {"funding_rate", "funding_sentiment"},
    ),
    (
        "funding rate NaN",
        lambda i: _ticker(i, funding_rate=Decimal("NaN")),
        {"bad_value:funding_rate"},
        {"funding_rate", "funding_sentiment"},
    ),
    (
        "open interest history missing",
        lambda i: dataclasses.replace(i, open_interest_history=None),
        {"oi_history_missing"},
        {"oi_sentiment"},
    ),
    (
        "long/short ratio missing",
        lambda i: dataclasses.replace(i, long_short_history=None),
        {"ls_ratio_missing"},
        set(),
    ),
    (
        "liquidations missing",
        lambda i: dataclasses.replace(i, liquidations=None),
        {"liquidations_missing"},
        {"nearby_liquidations", "liquidation_risk"},
    ),
    (
        "turnover missing",
        lambda i: _ticker(i, turnover_24h=None),
        {"turnover_missing"},
        {"turnover_24h", "liquidity_score", "liquidation_risk"},
    ),
    (
        "turnover negative",
        lambda i: _ticker(i, turnover_24h=Decimal("-1")),
        {"bad_value:turnover_24h"},
        {"turnover_24h", "liquidity_score", "liquidation_risk"},
    ),
    (
        "last price NaN: mark price used",
        lambda i: _ticker(i, last_price=Decimal("NaN")),
        {"bad_price:last_price", "price_fallback:mark_price"},
        set(),
    ),
    (
        "mark price zero",
        lambda i: _ticker(i, mark_price=Decimal("0")),
        {"bad_price:mark_price"},
        {"mark_price"},
    ),
    (
        "book missing and ticker bid/ask bad",
        lambda i: dataclasses.replace(_ticker(i, bid1_price=Decimal("-1")), book=None),
        {"book_missing", "bad_price:bid1_price", "bid_ask_missing"},
        {"bid_price", "liquidity_score", "spread_pct"},
    ),
    (
        "book missing and ticker crossed",
        lambda i: dataclasses.replace(_ticker(i, bid1_price=i.ticker.ask1_price), book=None),
        {"book_missing", "ticker_crossed", "bid_ask_missing"},
        {"bid_price", "ask_price", "liquidity_score", "spread_pct"},
    ),
    (
        "unknown candle interval",
        lambda i: dataclasses.replace(i, candles={**i.candles, "7": i.candles["5"]}),
        {"candles_interval_unknown:7"},
        set(),
    ),
]


@pytest.mark.parametrize(("change", "flags", "none"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_missing_input_gives_none_and_a_flag(
    clean_inputs: AssetInputs, change: Callable[[AssetInputs], AssetInputs], flags: set[str], none: set[str]
) -> None:
    complete = compute_enhanced(clean_inputs)
    d = compute_enhanced(change(clean_inputs))
    assert flags <= set(d.quality_flags), d.quality_flags
    assert _none_fields(d) == none
    # missing or bad data never makes an asset look safer
    assert some(d.market_risk_score) >= some(complete.market_risk_score)
    # no silent zeros: the price is a real one, and every float is finite
    assert d.last_price > 0
    assert all(np.isfinite(v) for v in _floats(d))


def _floats(d: EnhancedData) -> list[float]:
    out: list[float] = []

    def walk(v: object) -> None:
        if isinstance(v, float):
            out.append(v)
        elif isinstance(v, msgspec.Struct):
            for f in v.__struct_fields__:
                walk(getattr(v, f))

    walk(d)
    return out


def test_upstream_flags_come_first_in_order(clean_inputs: AssetInputs) -> None:
    d = compute_enhanced(
        dataclasses.replace(clean_inputs, quality_flags=("ws_gap", "book_resync"), book=None)
    )
    assert d.quality_flags[:3] == ("ws_gap", "book_resync", "book_missing")


def test_nothing_at_all_still_returns_a_flagged_snapshot() -> None:
    d = compute_enhanced(AssetInputs(symbol="NONEUSDT", now_ms=NOW, ticker=None))
    assert d.symbol == "NONEUSDT"
    assert "no_valid_price" in d.quality_flags and "ticker_missing" in d.quality_flags
    assert d.last_price == 0  # the contract's one non-optional price; 'no_valid_price' says it is not real
    assert d.market_risk_score == pytest.approx(1.0)
    assert d.technical_indicators is None and d.nearby_liquidations is None and d.liquidity_score is None


def test_price_falls_back_to_candle_close(clean_inputs: AssetInputs) -> None:
    d = compute_enhanced(
        dataclasses.replace(
            _ticker(clean_inputs, last_price=Decimal("-3"), mark_price=None, ask1_price=None), book=None
        )
    )
    assert "price_fallback:candle_close" in d.quality_flags
    assert float(d.last_price) == _arrays(clean_inputs, "5").close[-1]


def test_mismatched_symbols_are_not_mixed(clean_inputs: AssetInputs) -> None:
    d = compute_enhanced(dataclasses.replace(clean_inputs, symbol="OTHERUSDT"))
    for flag in (
        "ticker_symbol_mismatch",
        "book_symbol_mismatch",
        "funding_history_invalid",
        "oi_history_invalid",
    ):
        assert flag in d.quality_flags
    assert d.liquidity_score is None and d.funding_sentiment is None and d.oi_sentiment is None


def test_domain_candles_and_arrays_give_the_same_indicators(clean_inputs: AssetInputs) -> None:
    def to_domain(iv: str, a: CandleArrays) -> list[Candle]:
        return [
            Candle(
                symbol=clean_inputs.symbol,
                interval=Interval(iv),
                start=int(a.start[k]),
                open=Decimal(repr(float(a.open[k]))),
                high=Decimal(repr(float(a.high[k]))),
                low=Decimal(repr(float(a.low[k]))),
                close=Decimal(repr(float(a.close[k]))),
                volume=Decimal(repr(float(a.volume[k]))),
                turnover=Decimal("0"),
            )
            for k in range(len(a))
        ]

    domain: dict[str, Sequence[Candle] | CandleArrays] = {
        iv: to_domain(iv, _arrays(clean_inputs, iv)) for iv in clean_inputs.candles
    }
    a = compute_enhanced(clean_inputs)
    b = compute_enhanced(dataclasses.replace(clean_inputs, candles=domain))
    assert a.technical_indicators == b.technical_indicators
    assert b.quality_flags == ()


def test_funding_rate_bound_boundary(clean_inputs: AssetInputs) -> None:
    ok = compute_enhanced(_ticker(clean_inputs, funding_rate=Decimal("-0.1")))
    assert ok.funding_sentiment is not None and ok.funding_sentiment.pressure == "EXTREME"
    bad = compute_enhanced(_ticker(clean_inputs, funding_rate=Decimal("0.1000001")))
    assert bad.funding_sentiment is None and "bad_value:funding_rate" in bad.quality_flags


def test_ticker_age_boundary(clean_inputs: AssetInputs) -> None:
    t = some(clean_inputs.ticker)
    fresh = compute_enhanced(dataclasses.replace(clean_inputs, now_ms=t.ts + 60_000, book=None))
    stale = compute_enhanced(dataclasses.replace(clean_inputs, now_ms=t.ts + 60_001, book=None))
    assert "ticker_stale" not in fresh.quality_flags
    assert "ticker_stale" in stale.quality_flags


def test_book_mismatch_boundary(clean_inputs: AssetInputs) -> None:
    book = some(clean_inputs.book)
    mid = (book.bids[0][0] + book.asks[0][0]) / 2
    near = compute_enhanced(_ticker(clean_inputs, last_price=mid / Decimal("1.0499")))
    far = compute_enhanced(_ticker(clean_inputs, last_price=mid / Decimal("1.0501")))
    assert "book_mismatch" not in near.quality_flags and near.liquidity_score is not None
    assert "book_mismatch" in far.quality_flags and far.liquidity_score is None


def test_price_falls_back_to_ticker_mid_before_candles(clean_inputs: AssetInputs) -> None:
    t = some(clean_inputs.ticker)
    d = compute_enhanced(
        dataclasses.replace(_ticker(clean_inputs, last_price=Decimal("NaN"), mark_price=None), book=None)
    )
    assert "price_fallback:ticker_mid" in d.quality_flags
    assert d.last_price == (some(t.bid1_price) + some(t.ask1_price)) / 2
    assert d.spread_pct is not None  # the same valid pair gives the spread


def test_no_valid_price_means_no_price_dependent_values(clean_inputs: AssetInputs) -> None:
    bad = _ticker(clean_inputs, last_price=Decimal("NaN"), mark_price=None, bid1_price=None)
    d = compute_enhanced(dataclasses.replace(bad, book=None, candles={}))
    assert "no_valid_price" in d.quality_flags and d.last_price == 0
    assert d.spread_pct is None and d.nearby_liquidations is None and d.liquidity_score is None
