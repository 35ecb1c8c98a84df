"""Quality flags (ordered, without repeats) and validation of the numbers that enter the analytics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt


class Flags:
    """An ordered set of quality-flag strings, e.g. 'book_missing' or 'candles_short:60'."""

    __slots__ = ("_items",)

    def __init__(self, initial: tuple[str, ...] = ()) -> None:
        self._items: dict[str, None] = dict.fromkeys(initial)

    def add(self, flag: str) -> None:
        """Record `flag` (a second add of the same flag is a no-op)."""
        self._items.setdefault(flag, None)

    def __contains__(self, flag: object) -> bool:
        return flag in self._items

    def __len__(self) -> int:
        return len(self._items)

    def as_tuple(self) -> tuple[str, ...]:
        """The flags in the order they were first added."""
        return tuple(self._items)


def as_float(value: Decimal | None) -> float | None:
    """A Decimal as a finite float, or None (None, NaN, sNaN, infinities, values beyond float range)."""
    if value is None or not value.is_finite():
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def floats(values: Sequence[Decimal]) -> npt.NDArray[np.float64]:
    """Decimals as a float64 array in one pass; NaN where a value is NaN, sNaN or beyond float range.

    Callers then validate with NumPy (np.isfinite, > 0) instead of one Python check per value.
    """
    try:
        # float() of a Decimal NaN is nan, of a huge one inf: both caught by np.isfinite later
        return np.fromiter((float(v) for v in values), dtype=np.float64, count=len(values))
    except (TypeError, ValueError):  # a signalling NaN (or not a number) somewhere: value by value
        out = [as_float(v) if isinstance(v, Decimal) else None for v in values]
        return np.array([np.nan if f is None else f for f in out], dtype=np.float64)


def positive(value: Decimal | None) -> bool:
    """True for a finite Decimal > 0 within float range."""
    f = as_float(value)
    return f is not None and f > 0


def finite(value: Decimal | None) -> bool:
    """True for a finite Decimal within float range (any sign)."""
    return as_float(value) is not None


def non_negative(value: Decimal | None) -> bool:
    """True for a finite Decimal >= 0 within float range."""
    f = as_float(value)
    return f is not None and f >= 0


def clip01(x: float) -> float:
    """x clipped to [0, 1]."""
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def linear_score(x: float, low: float, high: float) -> float:
    """0 at `low`, 1 at `high`, linear in between, clipped to [0, 1]."""
    return clip01((x - low) / (high - low))


def log_score(x: float, low: float, high: float) -> float:
    """0 at `low` (and below, including x <= 0), 1 at `high`, linear in log10(x) in between."""
    if x <= low:
        return 0.0
    return clip01(math.log10(x / low) / math.log10(high / low))
