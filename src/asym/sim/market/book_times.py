"""A symbol's simulated order book at many times at once (the backtester's venue at every step).

The same draws as `BookGrid.side` (asym.sim.market.book), vectorised over (time, tick) instead of kept
as incremental state: the book model's own per-tick hash functions, evaluated for whole arrays of
times. Kept beside book.py because it must follow that model's constants and hashes exactly (the
backtest's server-parity tests check that both give the same books).
"""

from __future__ import annotations

import numpy as np

from asym.sim.market.book import (
    _GROWTH,
    _MAX_K,
    _OCC,
    _VOL_FACTOR,
    BookParams,
    _epoch_hash,
    _size_noise,
    _static_hashes,
    side_span,
)
from asym.sim.market.seeding import unit_hash

PROBE_TICKS = 32
"""Ticks from the touch searched first for a calm book's levels (25 lie within ~30), more when volatile."""


def _occupancy(ticks: np.ndarray, t: np.ndarray, p: BookParams) -> tuple[np.ndarray, np.ndarray]:
    """(occupancy draw u, epoch hash) of `ticks` (rows) at times `t` (one per row): the book model's own
    per-tick hashes (asym.sim.market.book.BookGrid) for many ticks and times at once."""
    life, phase, base = _static_hashes(ticks.astype(np.uint64), p)
    h = _epoch_hash(base, (t[:, None] + phase) // life)
    return unit_hash(h), h


def book_sides(
    p: BookParams,
    touch: np.ndarray,
    level: np.ndarray,
    t: np.ndarray,
    direction: int,
    count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`count` levels of one side of each row's book (BookGrid.side): (prices, sizes, levels found, row
    done). Ticks are drawn outward from the touch in widening slices, only for the rows still short of
    `count` levels. A row is not done when its span held fewer levels and BookGrid would search a wider
    one (the caller rebuilds it)."""
    n = touch.size
    span = np.array([side_span(count, lv) for lv in range(len(_OCC))])[level]  # BookGrid.side's first span
    limit = np.minimum(span, touch) if direction < 0 else span
    px = np.zeros((n, count), dtype=np.int64)
    sz = np.zeros((n, count), dtype=np.int64)
    found = np.zeros(n, dtype=np.int64)
    for lv in np.unique(level).tolist():
        todo = np.flatnonzero(level == lv)
        k0, k1 = 0, int(PROBE_TICKS * 2 ** (lv / 4))  # a calm side holds its levels near the touch
        while todo.size:
            k1 = min(k1, int(limit[todo].max()))
            k = np.arange(k0, k1)
            u, h = _occupancy(np.maximum(touch[todo, None] + direction * k, 1), t[todo], p)
            present = (u < _OCC[lv][k0:k1]) & (k < limit[todo, None])
            rank = found[todo, None] + np.cumsum(present, axis=1)
            rows, cols = np.nonzero(present & (rank <= count))
            dst = todo[rows]
            kk = k[cols]
            size = p.level_size * _GROWTH[kk] * _size_noise(h[rows, cols]) / _VOL_FACTOR[lv]
            px[dst, rank[rows, cols] - 1] = touch[dst] + direction * kk
            sz[dst, rank[rows, cols] - 1] = np.maximum(p.min_size, np.rint(size)).astype(np.int64)
            found[todo] = np.minimum(rank[:, -1], count)
            todo = todo[(found[todo] < count) & (limit[todo] > k1)]
            k0, k1 = k1, k1 * 2
    done = (found >= count) | ((direction < 0) & (limit >= touch)) | (span >= _MAX_K)
    return px, sz, found, done
