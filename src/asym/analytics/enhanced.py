"""compute_enhanced: AssetInputs -> EnhancedData (pure; never raises on missing or bad inputs).

Each metric lives in its own module; this one validates the inputs, wires the metrics together and
records a quality flag for every input that was missing or unusable (docs/enhanced-data.md lists them).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple, Protocol

import numpy as np

from asym.analytics.candles import CandleArrays, candles_to_arrays, interval_ms, prepare_candles
from asym.analytics.components import (
    crowding,
    funding_component,
    liquidation_activity,
    ls_skew_component,
    oi_buildup_component,
    volatility_component,
)
from asym.analytics.config import DEFAULT_CONFIG, AnalyticsConfig
from asym.analytics.funding import clean_history, funding_sentiment, rate_per_8h
from asym.analytics.inputs import AssetInputs
from asym.analytics.liquidation_risk import liquidation_risk
from asym.analytics.liquidations import nearby_liquidations
from asym.analytics.liquidity import BookView, check_book, depth_within_band, liquidity_score, spread_pct
from asym.analytics.long_short import latest_long_share
from asym.analytics.market_fields import MarketFields, market_fields
from asym.analytics.market_risk import market_risk_score
from asym.analytics.open_interest import oi_sentiment
from asym.analytics.quality import Flags, as_float, positive
from asym.analytics.technical import technical_indicators
from asym.analytics.types import EnhancedData, FundingSentiment, TechnicalIndicators
from asym.domain import Liquidation, LongShortRatio, OpenInterest, Ticker


def _usable_candles(
    inputs: AssetInputs, config: AnalyticsConfig, flags: Flags
) -> dict[str, tuple[CandleArrays, int]]:
    """{interval: (validated arrays, interval ms)} of the candle sets fit for use; flags the rest."""
    out: dict[str, tuple[CandleArrays, int]] = {}
    for iv, raw in inputs.candles.items():
        step = interval_ms(iv)
        if step is None:
            flags.add(f"candles_interval_unknown:{iv}")
            continue
        if isinstance(raw, CandleArrays):
            arrays = raw
        else:
            if any(c.symbol != inputs.symbol for c in raw):
                flags.add(f"candles_symbol_mismatch:{iv}")
                continue
            arrays = candles_to_arrays(raw)
        prepared = prepare_candles(
            arrays, step, inputs.now_ms, config.candle_stale_intervals, config.candle_max_range_ratio
        )
        for problem in prepared.problems:
            flags.add(f"candles_{problem}:{iv}")
        if "stale" not in prepared.problems:
            out[iv] = (prepared.arrays, step)
    for iv in (config.indicator_interval, config.vol_short_interval, config.vol_long_interval):
        if iv not in inputs.candles:
            flags.add(f"candles_missing:{iv}")
    return out


def _ticker(inputs: AssetInputs, config: AnalyticsConfig, flags: Flags) -> Ticker | None:
    t = inputs.ticker
    if t is None:
        flags.add("ticker_missing")
        return None
    if t.symbol != inputs.symbol:
        flags.add("ticker_symbol_mismatch")
        return None
    if inputs.now_ms - t.ts > config.ticker_max_age_ms:
        flags.add("ticker_stale")  # still used: nothing fresher exists; the flag makes it visible
    return t


def _book(inputs: AssetInputs, config: AnalyticsConfig, flags: Flags) -> BookView | None:
    if inputs.book is None:
        flags.add("book_missing")
        return None
    view = check_book(inputs.book, inputs.symbol, inputs.now_ms, config)
    if isinstance(view, str):
        flags.add(view)
        return None
    return view


def _bid_ask(
    view: BookView | None, ticker: Ticker | None, flags: Flags
) -> tuple[Decimal | None, Decimal | None]:
    """Best bid/ask from the book, else from the ticker (validated, not crossed)."""
    if view is not None:
        return view.best_bid, view.best_ask
    if ticker is None:
        return None, None
    bid, ask = ticker.bid1_price, ticker.ask1_price
    if bid is not None and not positive(bid):
        flags.add("bad_price:bid1_price")
        bid = None
    if ask is not None and not positive(ask):
        flags.add("bad_price:ask1_price")
        ask = None
    if bid is not None and ask is not None and bid >= ask:
        flags.add("ticker_crossed")
        return None, None
    return bid, ask


def compute_enhanced(inputs: AssetInputs, config: AnalyticsConfig = DEFAULT_CONFIG) -> EnhancedData:
    """The enhanced data of one asset; what cannot be computed is None and its cause is flagged."""
    flags = Flags(tuple(inputs.quality_flags))
    ticker = _ticker(inputs, config, flags)
    candles = _usable_candles(inputs, config, flags)
    view = _book(inputs, config, flags)
    nonempty = [v for v in candles.values() if len(v[0])]
    finest = min(nonempty, key=lambda v: v[1])[0] if nonempty else None
    fields = market_fields(ticker, view, finest, flags, config.funding_rate_max_abs)
    price = fields.last_price
    # A book far from the traded price belongs to another moment or market: do not mix the two.
    if (
        view is not None
        and price is not None
        and fields.price_source != "book_mid"
        and abs(view.mid / float(price) - 1.0) * 100.0 > config.book_max_mid_deviation_pct
    ):
        flags.add("book_mismatch")
        view = None

    bid, ask = _bid_ask(view, ticker, flags)
    depth = depth_within_band(view, config.depth_band_pct) if view is not None else None
    return finish_enhanced(
        Recorded(
            inputs.symbol,
            inputs.now_ms,
            inputs.open_interest_history,
            inputs.long_short_history,
            inputs.liquidations,
        ),
        config,
        flags,
        ticker,
        fields,
        bid,
        ask,
        depth,
        view.levels if view is not None else 0,
        _StepParts(inputs, candles, config),
    )


class Recorded(NamedTuple):
    """Symbol, snapshot time and the recorded histories `finish_enhanced` reads."""

    symbol: str
    now_ms: int
    open_interest_history: Sequence[OpenInterest] | None
    long_short_history: Sequence[LongShortRatio] | None
    liquidations: Sequence[Liquidation] | None


class EnhancedParts(Protocol):
    """The parts of an enhanced snapshot that a time-series batch computes ahead (`asym.analytics.series`);
    `compute_enhanced` computes them from its inputs. Each adds the flags its computation raises."""

    def technical(self, flags: Flags) -> TechnicalIndicators | None:
        """The technical indicators (flags: candles_short:<interval>)."""
        ...

    def funding_history(self, flags: Flags) -> np.ndarray | None:
        """Settled rates as floats, oldest first (flags: funding_history_missing/_invalid)."""
        ...

    def funding(self, rate: Decimal, interval_hours: float, history: np.ndarray | None) -> FundingSentiment:
        """The funding sentiment of the current rate against `history`."""
        ...

    def price_sets(self) -> list[tuple[CandleArrays, int]]:
        """Usable candle sets with their interval in ms, finest first (prices the OI window)."""
        ...


class _StepParts:
    """The parts computed from one snapshot's inputs (the live path)."""

    __slots__ = ("candles", "config", "inputs")

    def __init__(
        self, inputs: AssetInputs, candles: dict[str, tuple[CandleArrays, int]], config: AnalyticsConfig
    ) -> None:
        self.inputs = inputs
        self.candles = candles
        self.config = config

    def technical(self, flags: Flags) -> TechnicalIndicators | None:
        return technical_indicators(self.candles, self.config, flags)

    def funding_history(self, flags: Flags) -> np.ndarray | None:
        i = self.inputs
        return clean_history(i.funding_history, i.symbol, i.now_ms, flags, self.config.funding_rate_max_abs)

    def funding(self, rate: Decimal, interval_hours: float, history: np.ndarray | None) -> FundingSentiment:
        return funding_sentiment(rate, interval_hours, history, self.config)

    def price_sets(self) -> list[tuple[CandleArrays, int]]:
        return sorted(self.candles.values(), key=lambda v: v[1])


def finish_enhanced(
    inputs: Recorded,
    config: AnalyticsConfig,
    flags: Flags,
    ticker: Ticker | None,
    fields: MarketFields,
    bid: Decimal | None,
    ask: Decimal | None,
    depth: float | None,
    book_levels: int,
    parts: EnhancedParts,
) -> EnhancedData:
    """Everything after the price, book and bid/ask are resolved: liquidity, indicators, funding, open
    interest, long/short, liquidations, risk; the one composition both the per-snapshot and the series
    path use."""
    price = fields.last_price
    spread = spread_pct(bid, ask) if bid is not None and ask is not None else None
    if spread is None:
        flags.add("bid_ask_missing")
    turnover = as_float(fields.turnover_24h)
    if turnover is None and ticker is not None and "bad_value:turnover_24h" not in flags:
        flags.add("turnover_missing")
    liq_score = (
        liquidity_score(depth, spread, turnover, config)
        if depth is not None and spread is not None and turnover is not None
        else None
    )

    tech = parts.technical(flags)

    interval_h = fields.funding_interval_hours or config.funding_default_interval_hours
    history = parts.funding_history(flags)
    funding = None
    if fields.funding_rate is None:
        if ticker is not None and "bad_value:funding_rate" not in flags:
            flags.add("funding_rate_missing")
    else:
        funding = parts.funding(fields.funding_rate, interval_h, history)
        if funding.zscore is None and history is not None:
            flags.add("funding_history_short")

    oi_history = inputs.open_interest_history
    # oi_sentiment reads prices only for a non-empty history: the series path builds them only then.
    price_sets = parts.price_sets() if oi_history else []
    oi = oi_sentiment(oi_history, inputs.symbol, inputs.now_ms, price_sets, config, flags)
    long_share = latest_long_share(inputs.long_short_history, inputs.symbol, inputs.now_ms, config, flags)
    nearby = (
        nearby_liquidations(inputs.liquidations, inputs.symbol, price, inputs.now_ms, config, flags)
        if price is not None
        else None
    )

    vol_c = volatility_component(tech.realized_vol_1h, tech.realized_vol_24h, config) if tech else None
    activity = (
        liquidation_activity(float(nearby.notional), turnover, config.liquidation_window_s, config)
        if nearby is not None and turnover is not None
        else None
    )
    fund_c = (
        None if funding is None else funding_component(rate_per_8h(float(funding.rate), interval_h), config)
    )
    crowd = crowding(
        fund_c,
        None if oi is None else oi_buildup_component(oi.oi_change_pct, config),
        None if long_share is None else ls_skew_component(long_share, config),
    )
    liq_risk = liquidation_risk(activity, crowd, vol_c, config)
    # Last: every flag of this snapshot is known, so the data-quality term sees all of them.
    risk = market_risk_score(
        volatility=vol_c,
        liq_activity=activity,
        funding=fund_c,
        liquidity_score=liq_score,
        n_flags=len(flags),
        config=config,
    )
    return EnhancedData(
        symbol=inputs.symbol,
        timestamp=inputs.now_ms,
        # The contract's last_price is not optional: with no valid price at all it is 0 AND the
        # snapshot carries 'no_valid_price' (consumers must not trade a degraded snapshot).
        last_price=price if price is not None else Decimal(0),
        mark_price=fields.mark_price,
        index_price=fields.index_price,
        bid_price=bid,
        ask_price=ask,
        volume_24h=fields.volume_24h,
        turnover_24h=fields.turnover_24h,
        funding_rate=fields.funding_rate,
        next_funding_time=fields.next_funding_time,
        open_interest=fields.open_interest,
        liquidity_score=liq_score,
        liquidation_risk=liq_risk,
        funding_sentiment=funding,
        oi_sentiment=oi,
        market_risk_score=risk,
        spread_pct=spread,
        nearby_liquidations=nearby,
        order_book_depth=book_levels,
        technical_indicators=tech,
        quality_flags=flags.as_tuple(),
    )


def compute_enhanced_batch(
    inputs: Sequence[AssetInputs], config: AnalyticsConfig = DEFAULT_CONFIG
) -> list[EnhancedData]:
    """compute_enhanced for many assets, in order (each asset is independent; no candle-level loops)."""
    return [compute_enhanced(i, config) for i in inputs]
