"""Matching against the market's book: which levels a taker order walks, and what the accounts already took.

The market model does not know the accounts' orders, so liquidity an account takes from a book snapshot is
remembered here until the market publishes a new book (its update_id changes); two orders can therefore
never take the same resting quantity twice. Pure bookkeeping, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asym.domain import Side
from asym.sim.types import BookView


@dataclass(slots=True)
class _Used:
    update_id: int
    asks: dict[int, int] = field(default_factory=dict)
    bids: dict[int, int] = field(default_factory=dict)


class LiquidityTracker:
    """Remembers per symbol how much of each level of the current book snapshot accounts consumed."""

    __slots__ = ("_used",)

    def __init__(self) -> None:
        self._used: dict[str, _Used] = {}

    def _for(self, book: BookView) -> _Used:
        used = self._used.get(book.symbol)
        if used is None or used.update_id != book.update_id:
            used = _Used(book.update_id)
            self._used[book.symbol] = used
        return used

    def levels(self, book: BookView, taker_side: Side) -> list[tuple[int, int]]:
        """Levels a `taker_side` order can hit (asks for a buy), best first, minus what was consumed."""
        used = self._for(book)
        raw, taken = (book.asks, used.asks) if taker_side is Side.BUY else (book.bids, used.bids)
        if not taken:
            return raw
        out = []
        for price, size in raw:
            left = size - taken.get(price, 0)
            if left > 0:
                out.append((price, left))
        return out

    def consume(self, book: BookView, taker_side: Side, price: int, qty: int) -> None:
        """Record that `qty` was taken at `price` from the side a `taker_side` order hits."""
        used = self._for(book)
        taken = used.asks if taker_side is Side.BUY else used.bids
        taken[price] = taken.get(price, 0) + qty


def crosses(taker_side: Side, level_price: int, limit: int) -> bool:
    """True when a level at `level_price` is inside the taker's limit price."""
    return level_price <= limit if taker_side is Side.BUY else level_price >= limit


def walk(levels: list[tuple[int, int]], taker_side: Side, limit: int, qty: int) -> list[tuple[int, int]]:
    """The (price, qty) fills of walking `levels` best first up to `limit` for at most `qty`."""
    fills: list[tuple[int, int]] = []
    remaining = qty
    for price, size in levels:
        if remaining <= 0 or not crosses(taker_side, price, limit):
            break
        take = min(size, remaining)
        fills.append((price, take))
        remaining -= take
    return fills


def protection_price(side: Side, mark: int, min_price: int, max_price: int, band_pct: int) -> int:
    """Bybit-style market-order protection price in ticks: mark +- band_pct %, inside the price filter."""
    if side is Side.BUY:
        return min(max_price, -(-mark * (100 + band_pct) // 100))
    return max(min_price, mark * (100 - band_pct) // 100)
