"""Order-book checks, spread_pct, depth within a band of mid, and the 0..1 liquidity score.

spread_pct      = (ask - bid) / mid * 100,  mid = (ask + bid) / 2
depth_quote     = sum(price * size) of bid levels with price >= mid * (1 - band/100)
                + sum(price * size) of ask levels with price <= mid * (1 + band/100)
depth_score     = log-scale of depth_quote between depth_ref_low (0) and depth_ref_high (1)
spread_score    = 1 - log-scale of spread_pct between spread_ref_best (0) and spread_ref_worst (1)
turnover_score  = log-scale of turnover_24h between turnover_ref_low (0) and turnover_ref_high (1)
liquidity_score = w_depth * depth_score + w_spread * spread_score + w_turnover * turnover_score
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from asym.analytics.config import AnalyticsConfig
from asym.analytics.quality import floats, log_score
from asym.domain import Level, OrderBook

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BookView:
    """A validated book: best prices exact, levels as float arrays (statistics), levels per side used."""

    best_bid: Decimal
    best_ask: Decimal
    mid: float
    bid_px: F64
    bid_sz: F64
    ask_px: F64
    ask_sz: F64
    levels: int


def _side(levels: tuple[Level, ...], n: int) -> tuple[F64, F64] | None:
    used = levels[:n]
    px = floats([p for p, _ in used])
    sz = floats([s for _, s in used])
    with np.errstate(invalid="ignore"):
        if not (np.all(np.isfinite(px)) and np.all(np.isfinite(sz)) and np.all(px > 0) and np.all(sz > 0)):
            return None
    return px, sz


def check_book(book: OrderBook, symbol: str, now_ms: int, config: AnalyticsConfig) -> BookView | str:
    """A BookView of the first `book_levels` levels, or the quality flag saying why the book is unusable.

    Flags: book_symbol_mismatch, book_stale (older than book_max_age_ms), book_side_empty,
    book_invalid (non-finite or non-positive price/size, sides not strictly ordered), book_crossed.
    """
    if book.symbol != symbol:
        return "book_symbol_mismatch"
    if now_ms - book.ts > config.book_max_age_ms:
        return "book_stale"
    if not book.bids or not book.asks:
        return "book_side_empty"
    bids = _side(book.bids, config.book_levels)
    asks = _side(book.asks, config.book_levels)
    if bids is None or asks is None:
        return "book_invalid"
    (bid_px, bid_sz), (ask_px, ask_sz) = bids, asks
    if np.any(np.diff(bid_px) >= 0) or np.any(np.diff(ask_px) <= 0):
        return "book_invalid"
    best_bid, best_ask = book.bids[0][0], book.asks[0][0]
    if best_bid >= best_ask:
        return "book_crossed"
    return BookView(
        best_bid=best_bid,
        best_ask=best_ask,
        mid=(float(bid_px[0]) + float(ask_px[0])) / 2,
        bid_px=bid_px,
        bid_sz=bid_sz,
        ask_px=ask_px,
        ask_sz=ask_sz,
        levels=min(len(bid_px), len(ask_px)),
    )


def spread_pct(bid: Decimal, ask: Decimal) -> float:
    """(ask - bid) / mid * 100 with mid = (ask + bid) / 2, exact in Decimal, then as float."""
    mid = (ask + bid) / 2
    return float((ask - bid) / mid * 100)


def depth_within_band(view: BookView, band_pct: float) -> float:
    """Quote notional of both sides within +-band_pct % of mid (levels beyond the band are left out)."""
    lo, hi = view.mid * (1 - band_pct / 100), view.mid * (1 + band_pct / 100)
    bid_in = view.bid_px >= lo
    ask_in = view.ask_px <= hi
    return float(
        np.dot(view.bid_px[bid_in], view.bid_sz[bid_in]) + np.dot(view.ask_px[ask_in], view.ask_sz[ask_in])
    )


def depth_score(depth_quote: float, config: AnalyticsConfig) -> float:
    """0 at depth_ref_low_quote or less, 1 at depth_ref_high_quote or more, log10-linear in between."""
    return log_score(depth_quote, config.depth_ref_low_quote, config.depth_ref_high_quote)


def spread_score(spread: float, config: AnalyticsConfig) -> float:
    """1 at spread_ref_best_pct or tighter, 0 at spread_ref_worst_pct or wider, log10-linear in between."""
    return 1.0 - log_score(spread, config.spread_ref_best_pct, config.spread_ref_worst_pct)


def turnover_score(turnover_24h: float, config: AnalyticsConfig) -> float:
    """0 at turnover_ref_low_quote or less, 1 at turnover_ref_high_quote or more, log10-linear in between."""
    return log_score(turnover_24h, config.turnover_ref_low_quote, config.turnover_ref_high_quote)


def liquidity_score(depth_quote: float, spread: float, turnover_24h: float, config: AnalyticsConfig) -> float:
    """Weighted sum of the depth, spread and turnover scores (weights in config, summing to 1): 0..1."""
    s = (
        config.liquidity_weight_depth * depth_score(depth_quote, config)
        + config.liquidity_weight_spread * spread_score(spread, config)
        + config.liquidity_weight_turnover * turnover_score(turnover_24h, config)
    )
    return min(1.0, max(0.0, s))
