"""A symbol's simulated order book at many times at once (the backtester's venue at every step).

The same draws as `BookGrid.side` (asym.sim.market.book), vectorised over (time, tick) instead of kept
as incremental state: the per-tick occupancy and size hashes of the book model, evaluated for whole arrays
of times. Kept beside book.py because it must follow that model's constants and hashes exactly (the
backtest's server-parity tests check that both give the same books).
"""

from __future__ import annotations

import math

import numpy as np

from asym.sim.market.book import (
    _GROWTH,
    _K1,
    _K2,
    _K3,
    _MAX_K,
    _OCC,
    _VOL_FACTOR,
    _WALL,
    _WALL_P,
    BookParams,
    side_span,
)
from asym.sim.market.seeding import mix64, unit_hash

PROBE_TICKS = 32
"""Ticks from the touch searched first for a calm book's levels (25 lie within ~30), more when volatile."""


def _occupancy(ticks: np.ndarray, t: np.ndarray, p: BookParams) -> tuple[np.ndarray, np.ndarray]:
    """(occupancy draw u, epoch hash) of `ticks` (rows) at times `t` (one per row): the book model's
    per-tick hashes (asym.sim.market.book.BookGrid) for many ticks and times at once."""
    key = np.uint64(p.key)
    tk = ticks.astype(np.uint64)
    base1 = mix64(tk * _K1 ^ key)
    life = (p.life_min_ms * np.exp(unit_hash(base1) * math.log(p.life_max_ms / p.life_min_ms))).astype(
        np.int64
    )
    phase = (base1 >> np.uint64(20)).astype(np.int64) % life
    base = mix64(tk * _K2 ^ key)
    h = mix64(base ^ ((t[:, None] + phase) // life).astype(np.uint64) * _K3)
    return unit_hash(h), h


def _noise(h: np.ndarray) -> np.ndarray:
    """Size noise (log-uniform, rare walls) of ticks with epoch hash h (BookGrid's draws)."""
    h2 = mix64(h ^ _K1)
    wall = np.where(unit_hash(mix64(h2)) < _WALL_P, _WALL, 1.0)
    return np.exp(2.2 * (unit_hash(h2) - 0.5)) * wall


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
    occ = _OCC
    span = np.array([side_span(count, lv) for lv in range(len(occ))])[level]  # BookGrid.side's first span
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
            present = (u < occ[lv][k0:k1]) & (k < limit[todo, None])
            rank = found[todo, None] + np.cumsum(present, axis=1)
            rows, cols = np.nonzero(present & (rank <= count))
            dst = todo[rows]
            kk = k[cols]
            size = p.level_size * _GROWTH[kk] * _noise(h[rows, cols]) / _VOL_FACTOR[lv]
            px[dst, rank[rows, cols] - 1] = touch[dst] + direction * kk
            sz[dst, rank[rows, cols] - 1] = np.maximum(p.min_size, np.rint(size)).astype(np.int64)
            found[todo] = np.minimum(rank[:, -1], count)
            todo = todo[(found[todo] < count) & (limit[todo] > k1)]
            k0, k1 = k1, k1 * 2
    done = (found >= count) | ((direction < 0) & (limit >= touch)) | (span >= _MAX_K)
    return px, sz, found, done
