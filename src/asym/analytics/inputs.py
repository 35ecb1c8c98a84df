"""AssetInputs: everything collected about one asset at one instant, the input of compute_enhanced."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from asym.analytics.candles import CandleArrays
from asym.domain import Candle, FundingRate, Liquidation, LongShortRatio, OpenInterest, OrderBook, Ticker


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetInputs:
    """Collected market data of one symbol; a field that was not collected is None (not empty).

    An empty `liquidations` list means "collected, none happened"; None means "not collected".
    `candles` maps a Bybit kline interval ('5', '60', ...) to domain candles (still-open ones are
    ignored) or to CandleArrays (the fast path: no per-candle Python work).
    """

    symbol: str
    now_ms: int
    ticker: Ticker | None
    book: OrderBook | None = None
    candles: Mapping[str, Sequence[Candle] | CandleArrays] = field(default_factory=dict)
    funding_history: Sequence[FundingRate] | None = None
    open_interest_history: Sequence[OpenInterest] | None = None
    long_short_history: Sequence[LongShortRatio] | None = None
    liquidations: Sequence[Liquidation] | None = None
    quality_flags: tuple[str, ...] = ()
    """Flags raised upstream (collector validation); passed through first, in order."""
