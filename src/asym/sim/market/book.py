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
_OCC_MIN = [float(o[-1]) for o in _OCC]
_OCC_MIN_ARR = np.array(_OCC_MIN)
_STALE = -(1 << 62)
"""A next-epoch time that is always due (the tick's draws are unknown)."""
_VOL_FACTOR = np.array([vol_factor(lv) for lv in range(VOL_LEVELS)])


def side_span(count: int, level: int) -> int:
    """Ticks searched from the touch for `count` levels at a volatility level (doubled when too few)."""
    return min(_MAX_K, int(count / _OCC_MIN[level] * 1.3) + 64)


def _mix_inplace(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser applied in place to a fresh uint64 array (see seeding.mix64)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _static_hashes(ticks: np.ndarray, p: BookParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lifetime ms, phase ms, base hash) of each tick: what never changes for a tick of a symbol."""
    key = np.uint64(p.key)
    base1 = _mix_inplace(ticks * _K1 ^ key)
    u = unit_hash(base1)
    life = (p.life_min_ms * np.exp(u * math.log(p.life_max_ms / p.life_min_ms))).astype(np.int64)
    phase = (base1 >> np.uint64(20)).astype(np.int64) % life
    return life, phase, _mix_inplace(ticks * _K2 ^ key)


def _epoch_hash(base: np.ndarray, epoch: np.ndarray) -> np.ndarray:
    """The hash of ticks (their base hash) at their epochs: the occupancy draw is `unit_hash` of it."""
    return _mix_inplace(base ^ epoch.astype(np.uint64) * _K3)


def _size_noise(h: np.ndarray) -> np.ndarray:
    """Size noise of ticks with epoch hash `h`: log-uniform (e^-1.1 .. e^1.1), rare walls 8x the size."""
    h2 = _mix_inplace(h ^ _K1)
    wall = np.where(unit_hash(mix64(h2)) < _WALL_P, _WALL, 1.0)
    return np.exp(2.2 * (unit_hash(h2) - 0.5)) * wall


def _epoch_values(base: np.ndarray, epoch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(occupancy draw, size noise) of ticks at their epochs: pure hashes of (tick, epoch)."""
    h = _epoch_hash(base, epoch)
    return unit_hash(h), _size_noise(h)


class BookGrid:
    """Per-symbol memo of the tick grid's hashes around the current price.

    Each tick keeps its draws for the current epoch and the time its next epoch starts, so a refresh
    rehashes only the ticks whose epoch rolled over (a few % per 100 ms)."""

    def __init__(self, p: BookParams) -> None:
        self.p = p
        self.w0 = 0
        self.size = 0
        self.life = np.zeros(0, dtype=np.int64)
        self.phase = np.zeros(0, dtype=np.int64)
        self.base = np.zeros(0, dtype=np.uint64)
        self.next_ms = np.zeros(0, dtype=np.int64)
        self.u = np.zeros(0)
        self.noise = np.zeros(0)
        self.last_t = _STALE

    def _window(self, lo: int, hi: int) -> None:
        """Make the window cover ticks [lo, hi)."""
        if self.size and self.w0 <= lo and hi <= self.w0 + self.size:
            return
        width = max(1024, 2 * (hi - lo))
        self.w0 = max(1, (lo + hi) // 2 - width // 2)
        self.size = width
        ticks = np.arange(self.w0, self.w0 + width, dtype=np.int64).astype(np.uint64)
        self.life, self.phase, self.base = _static_hashes(ticks, self.p)
        self.next_ms = np.full(width, _STALE, dtype=np.int64)  # every epoch unknown
        self.u = np.zeros(width)
        self.noise = np.zeros(width)

    def _refresh(self, a: int, b: int, t_ms: int) -> None:
        """Bring window slots [a, b) to the epochs of time t_ms."""
        if t_ms < self.last_t:  # time went backwards (callers outside the market): recompute epochs
            self.next_ms.fill(_STALE)
        self.last_t = t_ms
        changed = (self.next_ms[a:b] <= t_ms).nonzero()[0]
        if changed.size == 0:
            return
        idx = changed + a
        phase = self.phase[idx]
        life = self.life[idx]
        e = (t_ms + phase) // life
        self.next_ms[idx] = (e + 1) * life - phase
        self.u[idx], self.noise[idx] = _epoch_values(self.base[idx], e)

    def side(self, touch: int, direction: int, count: int, level: int, t_ms: int) -> list[tuple[int, int]]:
        """`count` levels from `touch` away by `direction` (-1 bids, +1 asks), best first."""
        p = self.p
        occ = _OCC[level]
        span = side_span(count, level)
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
            present = (u < occ[: u.size]).nonzero()[0][:count]
            if present.size >= count or span >= _MAX_K or (direction < 0 and span >= touch):
                break
            span = min(_MAX_K, span * 2)
        sizes = np.maximum(
            p.min_size, np.rint(p.level_size * _GROWTH[present] * noise[present] / vol_factor(level))
        )
        prices = touch + direction * present
        return list(zip(prices.tolist(), sizes.astype(np.int64).tolist(), strict=True))

    def build(
        self, ref: int, up: bool, level: int, t_ms: int, depth: int
    ) -> tuple[list[tuple[int, int]], ...]:
        """(bids, asks) best first, `depth` levels each (1..500)."""
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth must be 1..{MAX_DEPTH}, got {depth}")
        bid, ask = touch_prices(self.p, ref, up, level)
        # One window and one refresh for both sides (the sides find their ticks fresh).
        span = side_span(depth, level)
        lo = bid - min(span, bid) + 1
        self._window(lo, ask + span)
        self._refresh(lo - self.w0, ask + span - self.w0, t_ms)
        return self.side(bid, -1, depth, level, t_ms), self.side(ask, +1, depth, level, t_ms)


POOL_WIDTH = 1024
"""Ticks per symbol in a BookPool row: both sides of a 50-level book in calm and moderately volatile
minutes (wider books fall back to the symbol's own BookGrid)."""
POOL_MAX_DEPTH = 50
PROBE_TICKS = 128
"""Ticks probed first from each touch: a calm 50-level side lies within ~70-100 ticks."""


@dataclass(slots=True)
class PoolBooks:
    """Books of several symbols as arrays: row i holds symbol i's levels best first in its first
    `*_n[i]` columns (zero after). `ok[i]` False: not built here (use the symbol's BookGrid)."""

    bid_px: np.ndarray
    bid_sz: np.ndarray
    bid_n: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray
    ask_n: np.ndarray
    ok: np.ndarray
    tops: tuple[list[int], list[int], list[int], list[int]] | None = None
    """(bid1, bid1 size, ask1, ask1 size) of every row as lists, when the caller asked for them."""

    @classmethod
    def empty(cls, n: int, depth: int) -> PoolBooks:
        """n rows of `depth` columns, nothing built."""
        z = np.zeros
        return cls(
            z((n, depth), np.int64),
            z((n, depth), np.int64),
            z(n, np.int64),
            z((n, depth), np.int64),
            z((n, depth), np.int64),
            z(n, np.int64),
            z(n, bool),
        )

    def lists(self, i: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Row i as (bids, asks) lists of (price, size)."""
        nb, na = int(self.bid_n[i]), int(self.ask_n[i])
        return (
            list(zip(self.bid_px[i, :nb].tolist(), self.bid_sz[i, :nb].tolist(), strict=True)),
            list(zip(self.ask_px[i, :na].tolist(), self.ask_sz[i, :na].tolist(), strict=True)),
        )

    def put(self, i: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        """Store a book built elsewhere (a BookGrid) in row i (levels beyond the width are cut)."""
        d = self.bid_px.shape[1]
        for px, sz, n, levels in (
            (self.bid_px, self.bid_sz, self.bid_n, bids[:d]),
            (self.ask_px, self.ask_sz, self.ask_n, asks[:d]),
        ):
            n[i] = len(levels)
            px[i] = 0
            sz[i] = 0
            if levels:
                px[i, : len(levels)], sz[i, : len(levels)] = zip(*levels, strict=True)
        self.ok[i] = True


class BookPool:
    """The book hashes of many symbols in shared 2-D arrays (one row of POOL_WIDTH ticks per symbol), so
    that a whole market's books (up to 50 levels) are refreshed and selected in one vectorised pass per
    100 ms step instead of a few dozen small numpy calls per symbol. Results equal `BookGrid.build`."""

    def __init__(self, capacity: int = 64) -> None:
        self.params: list[BookParams] = []
        self.cap = 0
        w = POOL_WIDTH
        self.life = np.ones((0, w), dtype=np.int64)
        self.phase = np.zeros((0, w), dtype=np.int64)
        self.base = np.zeros((0, w), dtype=np.uint64)
        self.next_ms = np.zeros((0, w), dtype=np.int64)
        self.u = np.zeros((0, w))
        self.noise = np.zeros((0, w))
        self.w0 = np.zeros(0, dtype=np.int64)
        self.last_t = np.zeros(0, dtype=np.int64)
        self.spread = np.zeros(0, dtype=np.int64)
        self.level_size = np.zeros(0)
        self.min_size = np.zeros(0, dtype=np.int64)
        self._grow(capacity)

    def _grow(self, cap: int) -> None:
        """Room for `cap` rows (existing rows keep their state)."""
        n = len(self.params)

        def grown(arr: np.ndarray, fill: float) -> np.ndarray:
            out = np.full((cap, *arr.shape[1:]), fill, dtype=arr.dtype)
            out[:n] = arr[:n]
            return out

        self.life = grown(self.life, 1)
        self.phase = grown(self.phase, 0)
        self.base = grown(self.base, 0)
        self.next_ms = grown(self.next_ms, _STALE)
        self.u = grown(self.u, 0.0)
        self.noise = grown(self.noise, 0.0)
        self.w0 = grown(self.w0, -1)
        self.last_t = grown(self.last_t, _STALE)
        self.spread = grown(self.spread, 0)
        self.level_size = grown(self.level_size, 0.0)
        self.min_size = grown(self.min_size, 0)
        self.cap = cap

    def add(self, p: BookParams) -> int:
        """Register a symbol's book; returns its row."""
        row = len(self.params)
        if row == self.cap:
            self._grow(self.cap * 2)
        self.params.append(p)
        self.spread[row] = p.spread_ticks
        self.level_size[row] = p.level_size
        self.min_size[row] = p.min_size
        return row

    def _recenter(self, row: int, lo: int, hi: int) -> None:
        w = POOL_WIDTH
        w0 = max(1, (lo + hi) // 2 - w // 2)
        ticks = np.arange(w0, w0 + w, dtype=np.int64).astype(np.uint64)
        self.life[row], self.phase[row], self.base[row] = _static_hashes(ticks, self.params[row])
        self.next_ms[row] = _STALE
        self.w0[row] = w0

    def build(
        self, rows: list[int], refs: list[int], ups: list[bool], levels: list[int], t_ms: int, depth: int
    ) -> PoolBooks:
        """Books of `depth` (1..50) levels for the given rows at t_ms, in one pass. A row whose book does
        not fit the pool (too wide, or too few levels in its span) has ok=False: build it with a BookGrid."""
        if not 1 <= depth <= POOL_MAX_DEPTH:
            raise ValueError(f"pool depth must be 1..{POOL_MAX_DEPTH}, got {depth}")
        n = len(rows)
        out = PoolBooks.empty(n, depth)
        if n == 0:
            return out
        w = POOL_WIDTH
        r = np.asarray(rows, dtype=np.int64)
        ref = np.asarray(refs, dtype=np.int64)
        lv = np.asarray(levels, dtype=np.int64)
        up = np.asarray(ups, dtype=bool)
        spread = np.maximum(1, np.rint(self.spread[r] * _VOL_FACTOR[lv]).astype(np.int64))
        bid = np.where(up, ref - spread, ref)
        ask = np.where(up, ref, ref + spread)
        floor = bid < 1
        if floor.any():
            bid[floor] = 1
            ask[floor] = 1 + spread[floor]
        span = np.minimum(_MAX_K, (depth / _OCC_MIN_ARR[lv] * 1.3).astype(np.int64) + 64)
        sb = np.minimum(span, bid)
        lo = bid - sb + 1
        hi = ask + span
        fits = (hi - lo) <= w
        w0 = self.w0[r]
        move = fits & ((w0 < 0) | (lo < w0) | (hi > w0 + w))
        if move.any():
            for i in move.nonzero()[0].tolist():
                self._recenter(rows[i], int(lo[i]), int(hi[i]))
            w0 = self.w0[r]
        idx = fits.nonzero()[0]
        if idx.size == 0:
            return out
        rr = r[idx]
        self._rewind(rr, t_ms)
        bid_i, ask_i, sb_i, span_i, lv_i = bid[idx], ask[idx], sb[idx], span[idx], lv[idx]
        bslot, aslot = bid_i - w0[idx], ask_i - w0[idx]
        for level in np.unique(lv_i).tolist():
            g = (lv_i == level).nonzero()[0]
            at = idx[g]
            bdone = self._side(
                rr[g],
                bid_i[g],
                bslot[g],
                sb_i[g],
                depth,
                level,
                -1,
                at,
                out.bid_px,
                out.bid_sz,
                out.bid_n,
                t_ms,
            )
            adone = self._side(
                rr[g],
                ask_i[g],
                aslot[g],
                span_i[g],
                depth,
                level,
                +1,
                at,
                out.ask_px,
                out.ask_sz,
                out.ask_n,
                t_ms,
            )
            # A bid side that stopped at tick 1 is complete with fewer levels (as in BookGrid).
            out.ok[at] = (bdone | (sb_i[g] >= bid_i[g])) & adone
        return out

    def _side(
        self,
        rows: np.ndarray,
        touch: np.ndarray,
        slot: np.ndarray,
        lim: np.ndarray,
        depth: int,
        level: int,
        direction: int,
        at: np.ndarray,
        px_out: np.ndarray,
        sz_out: np.ndarray,
        n_out: np.ndarray,
        t_ms: int,
    ) -> np.ndarray:
        """The first `depth` levels within `lim` ticks of each row's touch (away by `direction`), written
        to rows `at` of the output arrays; returns whether `depth` levels were found. Probes PROBE_TICKS
        ticks first (enough for calm books) and searches the whole span only for the rows that need it."""
        w = POOL_WIDTH
        occ = _OCC[level]
        u_flat = self.u.reshape(-1)
        start = rows * w + slot
        todo = np.arange(rows.size)
        gis: list[np.ndarray] = []
        kss: list[np.ndarray] = []
        cnt = np.zeros(rows.size, dtype=np.int64)
        k_n = min(PROBE_TICKS, int(lim.max()))
        while True:
            ks = _K[:k_n]
            flat = start[todo][:, None] + direction * ks
            lims = lim[todo]
            short = int(lims.min()) < k_n  # some row's span ends inside the probe (price floor)
            if short:
                np.maximum(flat, 0, out=flat)
            self._refresh_slots(flat, t_ms)
            pres = u_flat[flat] < occ[:k_n]
            if short:
                pres &= ks < lims[:, None]
            rank = pres.cumsum(axis=1, dtype=np.int16)
            gi, k = (pres & (rank <= depth)).nonzero()
            found = np.minimum(rank[:, -1], depth)
            final = (found >= depth) | (lim[todo] <= k_n)
            if final.all():
                gis.append(todo[gi])
                kss.append(k)
                cnt[todo] = found
                break
            keep = final[gi]
            gis.append(todo[gi[keep]])
            kss.append(k[keep])
            cnt[todo[final]] = found[final]
            todo = todo[~final]
            k_n = int(lim[todo].max())
        gi = np.concatenate(gis)
        k = np.concatenate(kss)
        if len(gis) > 1:
            order = np.argsort(gi, kind="stable")
            gi, k = gi[order], k[order]
        sel = rows[gi]
        noise = self.noise.reshape(-1)[start[gi] + direction * k]
        sizes = np.maximum(
            self.min_size[sel], np.rint(self.level_size[sel] * _GROWTH[k] * noise / vol_factor(level))
        ).astype(np.int64)
        # Position of each level in its row: its rank among the row's levels (they come row by row).
        first = np.cumsum(cnt) - cnt
        pos = np.arange(gi.size) - first[gi]
        dst = at[gi]
        px_out[dst, pos] = touch[gi] + direction * k
        sz_out[dst, pos] = sizes
        n_out[at] = cnt
        return cnt >= depth

    def _rewind(self, rows: np.ndarray, t_ms: int) -> None:
        """Rows last refreshed at a later time than t_ms get every epoch recomputed (time went back)."""
        back = self.last_t[rows] > t_ms
        if back.any():
            self.next_ms[rows[back]] = _STALE
        self.last_t[rows] = t_ms

    def _refresh_slots(self, flat: np.ndarray, t_ms: int) -> None:
        """Bring the slots at flat indices (any shape, repeats allowed) to their epochs of t_ms: only the
        slots a book reads are refreshed, never the whole window."""
        nxt = self.next_ms.reshape(-1)
        due = flat[nxt[flat] <= t_ms]
        if due.size == 0:
            return
        phase = self.phase.reshape(-1)[due]
        life = self.life.reshape(-1)[due]
        e = (t_ms + phase) // life
        nxt[due] = (e + 1) * life - phase
        u, noise = _epoch_values(self.base.reshape(-1)[due], e)
        self.u.reshape(-1)[due] = u
        self.noise.reshape(-1)[due] = noise


def build_book(
    p: BookParams, ref: int, up: bool, level: int, t_ms: int, depth: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(bids best first, asks best first), `depth` levels each (1..500); stateless (a fresh grid)."""
    bids, asks = BookGrid(p).build(ref, up, level, t_ms, depth)
    return bids, asks
