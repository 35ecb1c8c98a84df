"""Intra-candle price paths: a path of integer ticks that starts at the open, touches the high and the low
exactly, and ends at the close, in a plausible order, as a Brownian bridge through the extremes.

Used for every live minute (generated or replayed) and for expanding coarser replay candles into 1m.
"""

from __future__ import annotations

import numpy as np

_ARANGE = np.arange(4096, dtype=np.float64)


def extreme_order(o: int, h: int, lo: int, c: int, rng: np.random.Generator) -> bool:
    """True when the high comes before the low. A close nearer the low suggests the high came first
    (up, then down into the close); that order is taken 75 % of the time, the other 25 %."""
    high_first_likely = (c - lo) < (h - c) or (c - lo == h - c and o >= c)
    return bool(rng.random() < 0.75) == high_first_likely


def anchors(o: int, h: int, lo: int, c: int, n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(index, price) points the path must pass through: open at 0, close at n-1, and the extremes that
    are not already the open or the close, at random inner indices in the chosen order."""
    pts: list[tuple[int, int]] = [(0, o)]
    need_high = h > max(o, c)
    need_low = lo < min(o, c)
    inner: list[int] = []
    if n > 2 and (need_high or need_low):
        k = min(int(need_high) + int(need_low), n - 2)
        while len(inner) < k:
            x = int(rng.integers(1, n - 1))
            if x not in inner:
                inner.append(x)
        inner.sort()
    if need_high and need_low and len(inner) == 2:
        first, second = (h, lo) if extreme_order(o, h, lo, c, rng) else (lo, h)
        pts += [(inner[0], first), (inner[1], second)]
    elif need_high and inner:
        pts.append((inner[0], h))
    elif need_low and inner:
        pts.append((inner[0], lo))
    pts.append((n - 1, c))
    return pts


def candle_path(
    o: int, h: int, lo: int, c: int, n: int, step_sd: float, rng: np.random.Generator, hold: float = 0.0
) -> np.ndarray:
    """`n` tick prices from o to c whose max is exactly h and min exactly lo (when n >= 4).

    Between anchors the path is a Brownian bridge with per-step sd `step_sd` (ticks), clipped into
    [lo, h]; the anchors themselves are exact, so OHLC of the path equals the candle's. With `hold` > 0
    each non-anchor step keeps the previous price with that probability (prices are sticky: the same
    variance arrives in fewer, larger moves, as on a real book)."""
    if n <= 0:
        raise ValueError("a path needs at least one point")
    if not (lo <= min(o, c) and h >= max(o, c)):
        raise ValueError(f"inconsistent candle o={o} h={h} l={lo} c={c}")
    if n == 1:
        return np.array([c], dtype=np.int64)
    pts = anchors(o, h, lo, c, n, rng)
    k = np.array([i for i, _ in pts], dtype=np.int64)
    v = np.array([p for _, p in pts], dtype=np.float64)
    # One Brownian motion for the whole path, bridged piecewise between consecutive anchors.
    w = np.empty(n)
    w[0] = 0.0
    np.cumsum(rng.standard_normal(n - 1) * step_sd, out=w[1:])
    x = _ARANGE[:n] if n <= _ARANGE.size else np.arange(n, dtype=np.float64)
    # Piecewise: the straight line between anchors plus the motion minus its own line between anchors
    # (a Brownian bridge on every segment).
    out = np.interp(x, k, v) + w - np.interp(x, k, w[k])
    np.maximum(out, lo, out=out)
    np.minimum(out, h, out=out)
    path = np.rint(out).astype(np.int64)
    path[k] = v.astype(np.int64)
    if hold > 0.0:
        moves = rng.random(n) >= hold
        moves[k] = True
        last = np.where(moves, np.arange(n), 0)
        np.maximum.accumulate(last, out=last)
        path = path[last]
    return path
