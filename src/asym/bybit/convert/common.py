"""Shared parsing helpers of the conversion layer: wire strings to exact Decimal / int, enums."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from asym.domain import Category, Side
from asym.errors import DataError

ZERO = Decimal(0)

# Bounded intern table: the same price/size strings come back request after request (book levels,
# unchanged candles), and Decimal is immutable, so sharing instances is safe and saves the parse.
DEC_CACHE: dict[str, Decimal] = {}
DEC_CACHE_MAX = 50_000
"""About 10 MB when full (key, Decimal and slot about 200 bytes)."""


def dec(s: str, field: str = "value") -> Decimal:
    """Exact Decimal of a wire string; DataError when it is empty or not a finite number."""
    d = DEC_CACHE.get(s)
    if d is not None:
        return d
    try:
        d = Decimal(s)
    except (InvalidOperation, TypeError, ValueError):
        raise DataError(f"{field}: not a number: {s!r}") from None
    if not d.is_finite():
        raise DataError(f"{field}: not a finite number: {s!r}")
    if len(DEC_CACHE) >= DEC_CACHE_MAX:
        DEC_CACHE.clear()
    DEC_CACHE[s] = d
    return d


def dec0(s: str, field: str = "value") -> Decimal:
    """Decimal, with "" meaning zero (balances, fees, filled quantities)."""
    return dec(s, field) if s else ZERO


def opt_dec(s: str, field: str = "value") -> Decimal | None:
    """Decimal, with "" meaning None (not provided)."""
    return dec(s, field) if s else None


def opt_price(s: str, field: str = "price") -> Decimal | None:
    """An optional price where "", "0" and "0.00" all mean "none set" (TP, SL, trigger, liq price)."""
    if not s:
        return None
    d = dec(s, field)
    return d if d != 0 else None


def ms(s: str | int, field: str = "timestamp") -> int:
    """Milliseconds from a wire string or number; DataError when malformed."""
    if isinstance(s, int):
        return s
    if s.isdigit():
        return int(s)
    if s == "":
        return 0
    raise DataError(f"{field}: not an integer timestamp: {s!r}")


def opt_ms(s: str) -> int | None:
    """Milliseconds, "" -> None."""
    return int(s) if s.isdigit() else None


def parse_side(s: str, field: str = "side") -> Side:
    if s == "Buy":
        return Side.BUY
    if s == "Sell":
        return Side.SELL
    raise DataError(f"{field}: expected Buy or Sell, got {s!r}")


def parse_category(s: str, default: Category = Category.LINEAR) -> Category:
    if not s:
        return default
    try:
        return Category(s)
    except ValueError:
        raise DataError(f"category: unknown {s!r}") from None
