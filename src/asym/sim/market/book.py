"""The L2 order book: a pure function of (symbol, reference price, last move, volatility level, time).

Levels live on the absolute tick grid. Whether a tick holds a level, and its size, are hashes of
(symbol, tick, epoch) where each tick has its own lifetime (1-30 s, log-uniform) and phase; so between two
samples a few hundred ms apart only the ticks whose epoch rolled over (a few %) change, plus the touch when
the price moves. Sizes grow away from the touch by distance *buckets* (log-spaced), so a one-tick move of
the touch changes only the few levels at bucket edges. Spread widens and depth thins with the volatility
level (quantised, so calm minutes keep an identical shape).

Never crossed (asks start above bids), never empty (the touch level always exists).

`BookGrid` memoises the per-tick hashes in a window around the price (recomputing only ticks whose epoch
rolled over), which makes a 50-level book a few dozen microseconds; results equal `build_book`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asym.sim.market.seeding import mix64, unit_hash

MAX_DEPTH = 500
VOL_LEVELS = 9
"""Volatility levels 0..8: factor 2**(level/2) (1x .. 16x the calm figure)."""

_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)
_WALL = 8.0
_WALL_P = 0.02


@dataclass(frozen=True, slots=True)
class BookParams:
    """Shape of one symbol's book."""

    key: int
    """Hash key of the symbol (seeded)."""
    spread_ticks: int
    """Calm spread in ticks (>= 1)."""
    level_size: float
    """Mean calm level size near the touch, in qty steps."""
    min_size: int = 1
    life_min_ms: int = 1_000
    life_max_ms: int = 30_000


def vol_factor(level: int) -> float:
    """Multiplier of spread (and divisor of depth) for a volatility level."""
    return 2.0 ** (level / 2.0)


def vol_level(ratio: float) -> int:
    """Quantise current/typical volatility into 0..VOL_LEVELS-1: round(2 log2 ratio), so up to 1.19x
    typical is calm (level 0), 1.41x is 1, 2x is 2, 16x and more is 8."""
    if ratio <= 1.19:
        return 0
    return min(VOL_LEVELS - 1, math.floor(2.0 * math.log2(ratio) + 0.5))


def touch_prices(p: BookParams, ref: int, up: bool, level: int) -> tuple[int, int]:
    """(best bid, best ask): the last trade price `ref` sits on the side the last move hit (ask after an
    up-move, bid after a down-move); the spread widens with the volatility level."""
    spread = max(1, round(p.spread_ticks * vol_factor(level)))
    if up:
        ask = ref
        bid = ref - spread
    else:
        bid = ref
        ask = ref + spread
    if bid < 1:
        bid, ask = 1, 1 + spread
    return bid, ask


_MAX_K = 40_000
_K = np.arange(_MAX_K, dtype=np.int64)
_BUCKET = np.floor(np.log2(1.0 + _K / 8.0))
# Sizes are flat over the first ~24 levels (so a moving touch does not resize them) and grow beyond.
_GROWTH = 1.0 + 0.6 * np.maximum(_BUCKET - 1.0, 0.0)
_OCC = [np.clip(0.92 - 0.09 * _BUCKET, 0.3, 0.92) / math.sqrt(vol_factor(lv)) for lv in range(VOL_LEVELS)]
for _occ in _OCC:
    _occ[0] = 2.0  # the touch always exists


class BookGrid:
    """Per-symbol memo of the tick grid's hashes around the current price."""

    def __init__(self, p: BookParams) -> None:
        self.p = p
        self.w0 = 0
        self.size = 0
        self.life = np.zeros(0, dtype=np.int64)
        self.phase = np.zeros(0, dtype=np.int64)
        self.base = np.zeros(0, dtype=np.uint64)
        self.epoch = np.zeros(0, dtype=np.int64)
        self.u = np.zeros(0)
        self.noise = np.zeros(0)

    def _window(self, lo: int, hi: int) -> None:
        """Make the window cover ticks [lo, hi)."""
        if self.size and self.w0 <= lo and hi <= self.w0 + self.size:
            return
        width = max(1024, 2 * (hi - lo))
        self.w0 = max(1, (lo + hi) // 2 - width // 2)
        self.size = width
        ticks = np.arange(self.w0, self.w0 + width, dtype=np.int64).astype(np.uint64)
        p = self.p
        base = mix64(ticks * _K1 ^ np.uint64(p.key))
        u = unit_hash(base)
        life = (p.life_min_ms * np.exp(u * math.log(p.life_max_ms / p.life_min_ms))).astype(np.int64)
        self.life = life
        self.phase = (base >> np.uint64(20)).astype(np.int64) % life
        self.base = mix64(ticks * _K2 ^ np.uint64(p.key))
        self.epoch = np.full(width, -1, dtype=np.int64)
        self.u = np.zeros(width)
        self.noise = np.zeros(width)

    def _refresh(self, a: int, b: int, t_ms: int) -> None:
        """Bring window slots [a, b) to the epochs of time t_ms."""
        ep = (t_ms + self.phase[a:b]) // self.life[a:b]
        changed = np.flatnonzero(ep != self.epoch[a:b])
        if changed.size == 0:
            return
        idx = changed + a
        e = ep[changed]
        h = mix64(self.base[idx] ^ e.astype(np.uint64) * _K3)
        self.u[idx] = unit_hash(h)
        h2 = mix64(h ^ _K1)
        wall = np.where(unit_hash(mix64(h2)) < _WALL_P, _WALL, 1.0)
        # Log-uniform size noise (e^-1.1 .. e^1.1) and rare walls 8x the usual size.
        self.noise[idx] = np.exp(2.2 * (unit_hash(h2) - 0.5)) * wall
        self.epoch[idx] = e

    def side(self, touch: int, direction: int, count: int, level: int, t_ms: int) -> list[tuple[int, int]]:
        """`count` levels from `touch` away by `direction` (-1 bids, +1 asks), best first."""
        p = self.p
        factor = vol_factor(level)
        occ = _OCC[level]
        span = min(_MAX_K, int(count / float(occ[-1]) * 1.3) + 64)
        while True:
            if direction < 0:
                span = min(span, touch)  # never below tick 1
                lo, hi = touch - span + 1, touch + 1
            else:
                lo, hi = touch, touch + span
            self._window(lo, hi)
            a, b = lo - self.w0, hi - self.w0
            self._refresh(a, b, t_ms)
            u = self.u[a:b]
            noise = self.noise[a:b]
            if direction < 0:
                u = u[::-1]
                noise = noise[::-1]
            n = u.size
            present = np.flatnonzero(u < occ[:n])[:count]
            if present.size >= count or span >= _MAX_K or (direction < 0 and span >= touch):
                break
            span = min(_MAX_K, span * 2)
        sizes = np.maximum(p.min_size, np.rint(p.level_size * _GROWTH[present] * noise[present] / factor))
        prices = touch + direction * present
        return list(zip(prices.tolist(), sizes.astype(np.int64).tolist(), strict=True))

    def build(
        self, ref: int, up: bool, level: int, t_ms: int, depth: int
    ) -> tuple[list[tuple[int, int]], ...]:
        """(bids, asks) best first, `depth` levels each (1..500)."""
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth must be 1..{MAX_DEPTH}, got {depth}")
        bid, ask = touch_prices(self.p, ref, up, level)
        return self.side(bid, -1, depth, level, t_ms), self.side(ask, +1, depth, level, t_ms)


def build_book(
    p: BookParams, ref: int, up: bool, level: int, t_ms: int, depth: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(bids best first, asks best first), `depth` levels each (1..500); stateless (a fresh grid)."""
    bids, asks = BookGrid(p).build(ref, up, level, t_ms, depth)
    return bids, asks
