"""The basic market fields of a snapshot, validated: prices, 24h volume/turnover, funding, open interest.

A field the venue did not send stays None without a flag; a field that was sent but is not a valid
number (NaN, infinite, zero or negative price, negative volume, |funding rate| > funding_rate_max_abs)
becomes None with a flag `bad_price:<field>` or `bad_value:<field>`. Never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from asym.analytics.candles import CandleArrays
from asym.analytics.liquidity import BookView
from asym.analytics.quality import Flags, finite, non_negative, positive
from asym.domain import Ticker


@dataclass(frozen=True, slots=True)
class MarketFields:
    """Validated ticker fields plus the resolved current price and where it came from."""

    last_price: Decimal | None
    price_source: str | None
    """'last_price', 'mark_price', 'book_mid', 'ticker_mid' or 'candle_close'; None when no valid price."""
    mark_price: Decimal | None
    index_price: Decimal | None
    volume_24h: Decimal | None
    turnover_24h: Decimal | None
    funding_rate: Decimal | None
    next_funding_time: int | None
    funding_interval_hours: int | None
    open_interest: Decimal | None


def _price(ticker: Ticker, name: str, flags: Flags) -> Decimal | None:
    value: Decimal | None = getattr(ticker, name)
    if value is None:
        return None
    if not positive(value):
        flags.add(f"bad_price:{name}")
        return None
    return value


def _amount(ticker: Ticker, name: str, flags: Flags) -> Decimal | None:
    value: Decimal | None = getattr(ticker, name)
    if value is None:
        return None
    if not non_negative(value):
        flags.add(f"bad_value:{name}")
        return None
    return value


def market_fields(
    ticker: Ticker | None,
    book: BookView | None,
    finest_candles: CandleArrays | None,
    flags: Flags,
    funding_rate_max_abs: float = 0.1,
) -> MarketFields:
    """Validate the ticker and resolve the current price: last, else mark, else book mid, else the
    ticker's bid1/ask1 mid, else the last close.

    A fallback adds `price_fallback:<source>`; no valid price at all adds `no_valid_price`.
    """
    last = mark = index = volume = turnover = rate = oi = None
    next_funding = interval_h = None
    if ticker is not None:
        last = _price(ticker, "last_price", flags)
        mark = _price(ticker, "mark_price", flags)
        index = _price(ticker, "index_price", flags)
        volume = _amount(ticker, "volume_24h", flags)
        turnover = _amount(ticker, "turnover_24h", flags)
        oi = _amount(ticker, "open_interest", flags)
        if ticker.funding_rate is not None:
            # Bybit caps funding at a few % per interval: anything far beyond is a bad value
            if finite(ticker.funding_rate) and abs(ticker.funding_rate) <= funding_rate_max_abs:
                rate = ticker.funding_rate
            else:
                flags.add("bad_value:funding_rate")
        if ticker.next_funding_time is not None and ticker.next_funding_time > 0:
            next_funding = ticker.next_funding_time
        if ticker.funding_interval_hours is not None:
            if ticker.funding_interval_hours > 0:
                interval_h = ticker.funding_interval_hours
            else:
                flags.add("bad_value:funding_interval_hours")
    source: str | None = "last_price"
    price = last
    if price is None and mark is not None:
        price, source = mark, "mark_price"
    if price is None and book is not None:
        price, source = (book.best_bid + book.best_ask) / 2, "book_mid"
    if price is None and ticker is not None:
        bid, ask = ticker.bid1_price, ticker.ask1_price
        if bid is not None and ask is not None and positive(bid) and positive(ask) and bid < ask:
            price, source = (bid + ask) / 2, "ticker_mid"
    if price is None and finest_candles is not None and len(finest_candles):
        close = float(finest_candles.close[-1])
        if np.isfinite(close) and close > 0:
            price, source = Decimal(repr(close)), "candle_close"
    if price is None:
        source = None
        flags.add("no_valid_price")
    elif source != "last_price":
        flags.add(f"price_fallback:{source}")
    return MarketFields(
        last_price=price,
        price_source=source,
        mark_price=mark,
        index_price=index,
        volume_24h=volume,
        turnover_24h=turnover,
        funding_rate=rate,
        next_funding_time=next_funding,
        funding_interval_hours=interval_h,
        open_interest=oi,
    )
