"""The inputs of `compute_enhanced_series`: one symbol's history and its venue snapshots per step.

`SeriesInputs` holds the full candle series per interval, the settled funding, the recorded open
interest / long-short / liquidations, and per step the venue's ticker (`TickerSeries`) and book
(`BookSeries`). `window_inputs(series, i)` is the definition of step i: the `AssetInputs` a per-step
caller collects at that time (the last `lookback` closed candles of each interval, the last
`funding_limit` settlements, the last `history_limit` OI / long-short points and the liquidations of
the window, all at or before t).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from asym.analytics.candles import CandleArrays, interval_ms
from asym.analytics.enhanced import Recorded
from asym.analytics.inputs import AssetInputs
from asym.analytics.series_book import BookSeries
from asym.analytics.series_candles import check_series
from asym.domain import FundingRate, Liquidation, LongShortRatio, OpenInterest, Ticker
from asym.errors import DataError

I64 = npt.NDArray[np.int64]
DEFAULT_LOOKBACK = 200
"""Candles kept per interval when `lookbacks` does not name it (the collector's 1h default)."""

TICKER_FIELDS = (
    "last_price",
    "mark_price",
    "index_price",
    "bid1_price",
    "ask1_price",
    "volume_24h",
    "turnover_24h",
    "open_interest",
    "funding_rate",
    "next_funding_time",
    "funding_interval_hours",
)
"""The ticker fields the enhanced data reads (the others never change it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TickerSeries:
    """The venue's ticker of one symbol at each step, by column (one entry per step; a step without a
    ticker has present=False). Only the fields the enhanced data reads are kept."""

    symbol: str
    ts: Sequence[int]
    present: Sequence[bool]
    last_price: Sequence[Decimal | None]
    mark_price: Sequence[Decimal | None]
    index_price: Sequence[Decimal | None]
    bid1_price: Sequence[Decimal | None]
    ask1_price: Sequence[Decimal | None]
    volume_24h: Sequence[Decimal | None]
    turnover_24h: Sequence[Decimal | None]
    open_interest: Sequence[Decimal | None]
    funding_rate: Sequence[Decimal | None]
    next_funding_time: Sequence[int | None]
    funding_interval_hours: Sequence[int | None]

    def __post_init__(self) -> None:
        n = len(self.ts)
        if any(len(getattr(self, f)) != n for f in ("present", *TICKER_FIELDS)):
            raise DataError(f"TickerSeries {self.symbol}: every column needs one entry per step ({n})")

    def __len__(self) -> int:
        return len(self.ts)

    def ticker(self, i: int) -> Ticker | None:
        """The domain Ticker of step i (None where there was none)."""
        if not self.present[i]:
            return None
        last = self.last_price[i]
        if last is None:
            raise DataError(f"TickerSeries {self.symbol}: step {i} has a ticker without a last price")
        return Ticker(
            symbol=self.symbol,
            ts=int(self.ts[i]),
            last_price=last,
            mark_price=self.mark_price[i],
            index_price=self.index_price[i],
            bid1_price=self.bid1_price[i],
            ask1_price=self.ask1_price[i],
            volume_24h=self.volume_24h[i],
            turnover_24h=self.turnover_24h[i],
            open_interest=self.open_interest[i],
            funding_rate=self.funding_rate[i],
            next_funding_time=self.next_funding_time[i],
            funding_interval_hours=self.funding_interval_hours[i],
        )

    @classmethod
    def from_tickers(cls, symbol: str, tickers: Sequence[Ticker | None]) -> TickerSeries:
        """Columns of domain tickers (None: no ticker at that step); DataError for another symbol's."""
        for t in tickers:
            if t is not None and t.symbol != symbol:
                raise DataError(f"TickerSeries {symbol}: a ticker of {t.symbol}")
        cols: dict[str, Any] = {
            f: [getattr(t, f) if t is not None else None for t in tickers] for f in TICKER_FIELDS
        }
        return cls(
            symbol=symbol,
            ts=[t.ts if t is not None else 0 for t in tickers],
            present=[t is not None for t in tickers],
            **cols,
        )


def _by_ts(xs: Sequence[Any] | None) -> tuple[tuple[Any, ...] | None, list[int]]:
    if xs is None:
        return None, []
    out = tuple(sorted(xs, key=lambda x: x.ts))
    return out, [x.ts for x in out]


class _Histories(NamedTuple):
    funding: tuple[tuple[FundingRate, ...] | None, list[int]]
    oi: tuple[tuple[OpenInterest, ...] | None, list[int]]
    ls: tuple[tuple[LongShortRatio, ...] | None, list[int]]
    liq: tuple[tuple[Liquidation, ...] | None, list[int]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesInputs:
    """One symbol's history and its venue snapshots at each step (see the module docstring).

    `candles` are the full series per Bybit interval (strictly increasing starts); the histories may be
    None (not recorded); `tickers` and `books` hold one snapshot per step of `times`.
    """

    symbol: str
    times: Sequence[int] | I64
    """The steps' times (UTC ms), non-decreasing."""
    tickers: TickerSeries
    books: BookSeries | None = None
    """None: no book at any step."""
    candles: Mapping[str, CandleArrays] = field(default_factory=dict)
    lookbacks: Mapping[str, int] = field(default_factory=dict)
    """Candles kept per interval at a step (DEFAULT_LOOKBACK for the others)."""
    funding_history: Sequence[FundingRate] | None = None
    funding_limit: int = 100
    open_interest_history: Sequence[OpenInterest] | None = None
    long_short_history: Sequence[LongShortRatio] | None = None
    history_limit: int = 48
    """Open-interest and long/short points kept at a step."""
    liquidations: Sequence[Liquidation] | None = None
    liquidation_window_ms: int = 3_600_000
    quality_flags: tuple[str, ...] = ()
    """Flags raised upstream, passed through first at every step."""
    t: I64 = field(init=False, repr=False, compare=False)
    """`times` as an int64 array."""
    hist: _Histories = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=np.int64).reshape(-1)
        if len(t) > 1 and np.any(np.diff(t) < 0):
            raise DataError(f"{self.symbol}: series times must not go backwards")
        if self.tickers.symbol != self.symbol or len(self.tickers) != len(t):
            raise DataError(f"{self.symbol}: the tickers must be this symbol's, one per step ({len(t)})")
        if self.books is not None and len(self.books) != len(t):
            raise DataError(f"{self.symbol}: {len(self.books)} books for {len(t)} steps")
        if min(self.funding_limit, self.history_limit, self.liquidation_window_ms) < 0:
            raise DataError(f"{self.symbol}: history limits must be >= 0")
        if any(v < 0 for v in self.lookbacks.values()):
            raise DataError(f"{self.symbol}: lookbacks must be >= 0")
        for iv, arr in self.candles.items():
            if interval_ms(iv) is not None:
                check_series(arr, f"{self.symbol} {iv}")
        object.__setattr__(self, "t", t)
        hist = _Histories(
            _by_ts(self.funding_history),
            _by_ts(self.open_interest_history),
            _by_ts(self.long_short_history),
            _by_ts(self.liquidations),
        )
        object.__setattr__(self, "hist", hist)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def records_market_state(self) -> bool:
        """True when open interest, long/short ratio or liquidations were recorded."""
        return any(h[0] is not None for h in (self.hist.oi, self.hist.ls, self.hist.liq))

    def lookback(self, interval: str) -> int:
        """Candles of `interval` kept at a step."""
        return self.lookbacks.get(interval, DEFAULT_LOOKBACK)

    def recorded(self, i: int) -> Recorded:
        """Step i's open interest and long/short (the last `history_limit` points at or before t) and
        liquidations (those in (t - liquidation_window_ms, t]); None for what was not recorded."""
        t = int(self.t[i])

        def last(h: tuple[tuple[Any, ...] | None, list[int]]) -> list[Any] | None:
            xs, ts = h
            if xs is None:
                return None
            k = bisect_right(ts, t)
            return list(xs[max(0, k - self.history_limit) : k])

        liq = None
        xs, ts = self.hist.liq
        if xs is not None:
            liq = list(xs[bisect_right(ts, t - self.liquidation_window_ms) : bisect_right(ts, t)])
        return Recorded(self.symbol, t, last(self.hist.oi), last(self.hist.ls), liq)

    def funding_ends(self) -> I64:
        """Per step: how many settlements (sorted by time) happened at or before it."""
        return np.searchsorted(np.asarray(self.hist.funding[1], dtype=np.int64), self.t, side="right")

    def funding_window(self, k: int) -> list[FundingRate] | None:
        """The last `funding_limit` settlements of the first k (None when funding was not recorded)."""
        xs = self.hist.funding[0]
        return None if xs is None else list(xs[max(0, k - self.funding_limit) : k])


def window_inputs(series: SeriesInputs, i: int) -> AssetInputs:
    """The AssetInputs of step i: what a per-step caller would collect at that time (the contract)."""
    t = int(series.t[i])
    candles: dict[str, CandleArrays] = {}
    for iv, arr in series.candles.items():
        step = interval_ms(iv)
        if step is None:
            candles[iv] = arr  # compute_enhanced flags an unknown interval and never reads it
            continue
        k = int(np.searchsorted(arr.start, t - step, side="right"))
        candles[iv] = arr.take(slice(max(0, k - series.lookback(iv)), k))
    rec = series.recorded(i)
    k = bisect_right(series.hist.funding[1], t)
    return AssetInputs(
        symbol=series.symbol,
        now_ms=t,
        ticker=series.tickers.ticker(i),
        book=series.books.book(i) if series.books is not None else None,
        candles=candles,
        funding_history=series.funding_window(k),
        open_interest_history=rec.open_interest_history,
        long_short_history=rec.long_short_history,
        liquidations=rec.liquidations,
        quality_flags=series.quality_flags,
    )


__all__ = ["DEFAULT_LOOKBACK", "TICKER_FIELDS", "SeriesInputs", "TickerSeries", "window_inputs"]
