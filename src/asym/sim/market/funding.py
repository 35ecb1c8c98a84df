"""Funding: Bybit's rate formula over the premium index, settlement times, and price factors of mark/index.

F = P + clamp(I - P, -0.05 %, +0.05 %), bounded by the symbol's caps, where P is the time-weighted
average of the minute premium over the funding interval (later minutes weigh more: weight 1..N) and
I = 0.01 % per 8 h is the interest component. Settlements every 8 h at 00:00, 08:00, 16:00 UTC.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

INTERVAL_MINUTES = 480
INTERVAL_MS = INTERVAL_MINUTES * 60_000
INTEREST = 0.0001
CLAMP = 0.0005
RATE_QUANTUM = Decimal("0.00000001")


def next_settlement(t_ms: int) -> int:
    """The first settlement time strictly after t_ms."""
    return (t_ms // INTERVAL_MS + 1) * INTERVAL_MS


def settlements_between(after_ms: int, upto_ms: int) -> list[int]:
    """Settlement times T with after_ms < T <= upto_ms, oldest first."""
    first = next_settlement(after_ms)
    return list(range(first, upto_ms + 1, INTERVAL_MS)) if first <= upto_ms else []


def funding_rate(premiums: np.ndarray, cap: float) -> Decimal:
    """The funding rate from the minute premiums of one interval (oldest first); the interest rate when
    there are none yet. Exact 8-decimal Decimal."""
    if premiums.size == 0:
        f = INTEREST
    else:
        w = np.arange(1, premiums.size + 1, dtype=np.float64)
        p = float(np.dot(w, premiums) / w.sum())
        f = p + min(CLAMP, max(-CLAMP, INTEREST - p))
    f = min(cap, max(-cap, f))
    return Decimal(repr(f)).quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN)


def mark_factor(premium: float, index_noise: float) -> float:
    """mark / last, from last = index * (1 + b + e) and mark = index * (1 + b)."""
    return (1.0 + premium) / (1.0 + premium + index_noise)


def index_factor(premium: float, index_noise: float) -> float:
    """index / last."""
    return 1.0 / (1.0 + premium + index_noise)
