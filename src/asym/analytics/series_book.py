"""`BookSeries`: a symbol's order book at every step of a series, as integer arrays on its price grid.

A backtest holds one book per symbol and step (a year of 1h steps: 8,760 books of 25 levels a side);
as domain `OrderBook`s that is 440,000 Decimals to build and to convert back to floats. Here levels are
integer multiples of the instrument's tick and qty step (as every venue book is), so the checks of
`check_book`, the best prices, the mid and the depth within the band are array operations, and
`book(i)` still gives the exact `OrderBook` of a step (Decimals as `Scale.to_decimal` writes them).

Floats equal `float(Decimal)` exactly: a level price is n * coef / 10**d with integer n * coef (the
tick is coef * 10**-d) and an exactly representable 10**d, and IEEE division rounds correctly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from asym.analytics.config import AnalyticsConfig
from asym.domain import OrderBook
from asym.errors import DataError

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


def _grid(step: Decimal) -> tuple[int, int]:
    """(coef, decimals) with step == coef * 10**-decimals exactly."""
    if not step.is_finite() or step <= 0:
        raise DataError(f"a grid step must be a positive number, got {step}")
    norm = step.normalize()
    decimals = max(0, -int(norm.as_tuple().exponent))
    if decimals > 22:
        raise DataError(f"grid step {step} has more than 22 decimals")
    return int(norm.scaleb(decimals)), decimals


def grid_decimals(step: Decimal) -> Callable[[int], Decimal]:
    """n -> Decimal value of n steps, written with the step's decimals (as `Scale.to_decimal`), memoised."""
    _, decimals = _grid(step)
    quantum = Decimal(1).scaleb(-decimals)
    memo: dict[int, Decimal] = {}

    def conv(n: int) -> Decimal:
        d = memo.get(n)
        if d is None:
            d = (step * n).quantize(quantum)
            if len(memo) < 100_000:
                memo[n] = d
        return d

    return conv


def grid_floats(values: npt.ArrayLike, step: Decimal) -> F64:
    """Integer grid counts as floats equal to float(Decimal value)."""
    coef, decimals = _grid(step)
    arr = np.asarray(values, dtype=np.int64)
    return (arr * coef).astype(np.float64) / float(10**decimals)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSeries:
    """Books of one symbol per step, best level first; rows padded with 0 beyond their level counts."""

    symbol: str
    ts: I64
    """Snapshot time of each step's book."""
    price_step: Decimal
    size_step: Decimal
    bid_px: I64
    """(steps, depth) prices in price steps."""
    bid_sz: I64
    """(steps, depth) sizes in size steps."""
    ask_px: I64
    ask_sz: I64
    bid_n: I64
    """Bid levels present per step."""
    ask_n: I64
    present: B
    """False where there was no book at that step (`book_missing`)."""
    _px: Callable[[int], Decimal] = field(init=False, repr=False, compare=False)
    _sz: Callable[[int], Decimal] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.ts)
        shapes = {a.shape for a in (self.bid_px, self.bid_sz, self.ask_px, self.ask_sz)}
        if len(shapes) != 1 or next(iter(shapes))[0] != n or len(self.bid_n) != n or len(self.ask_n) != n:
            raise DataError(f"BookSeries {self.symbol}: arrays disagree on the number of steps ({n})")
        if len(self.present) != n:
            raise DataError(f"BookSeries {self.symbol}: `present` needs one flag per step")
        object.__setattr__(self, "_px", grid_decimals(self.price_step))
        object.__setattr__(self, "_sz", grid_decimals(self.size_step))

    def __len__(self) -> int:
        return len(self.ts)

    def price(self, n: int) -> Decimal:
        """The exact price of n price steps."""
        return self._px(n)

    def prices(self, ticks: npt.ArrayLike) -> list[Decimal]:
        """`price` of each tick count (each distinct value converted once)."""
        arr = np.asarray(ticks, dtype=np.int64)
        if arr.size == 0:
            return []
        uniq, inv = np.unique(arr, return_inverse=True)
        conv = self._px
        values = [conv(x) for x in uniq.tolist()]
        return [values[j] for j in inv.tolist()]

    def book(self, i: int) -> OrderBook | None:
        """The domain OrderBook of step i (None where there was none)."""
        if not self.present[i]:
            return None
        px, sz = self._px, self._sz
        nb, na = int(self.bid_n[i]), int(self.ask_n[i])
        bp, bq = self.bid_px[i, :nb].tolist(), self.bid_sz[i, :nb].tolist()
        ap, aq = self.ask_px[i, :na].tolist(), self.ask_sz[i, :na].tolist()
        bids = tuple((px(p), sz(s)) for p, s in zip(bp, bq, strict=True))
        asks = tuple((px(p), sz(s)) for p, s in zip(ap, aq, strict=True))
        return OrderBook(symbol=self.symbol, bids=bids, asks=asks, ts=int(self.ts[i]))

    @classmethod
    def from_books(
        cls, symbol: str, books: Sequence[OrderBook | None], price_step: Decimal, size_step: Decimal
    ) -> BookSeries:
        """Domain books (None: no book at that step) on the given grid; DataError for an off-grid level."""
        n = len(books)
        depth = max((max(len(b.bids), len(b.asks)) for b in books if b is not None), default=0)
        out = {k: np.zeros((n, max(depth, 1)), dtype=np.int64) for k in ("bp", "bs", "ap", "as")}
        bid_n = np.zeros(n, dtype=np.int64)
        ask_n = np.zeros(n, dtype=np.int64)
        present = np.zeros(n, dtype=bool)
        ts = np.zeros(n, dtype=np.int64)

        def count(v: Decimal, step: Decimal) -> int:
            q, r = divmod(v, step)
            if r != 0:
                raise DataError(f"{symbol}: book value {v} is not a multiple of {step}")
            return int(q)

        for i, b in enumerate(books):
            if b is None:
                continue
            if b.symbol != symbol:
                raise DataError(f"BookSeries {symbol}: a book of {b.symbol}")
            present[i] = True
            ts[i] = b.ts
            for levels, pk, sk, ns in ((b.bids, "bp", "bs", bid_n), (b.asks, "ap", "as", ask_n)):
                ns[i] = len(levels)
                for j, (p, s) in enumerate(levels):
                    out[pk][i, j] = count(p, price_step)
                    out[sk][i, j] = count(s, size_step)
        return cls(
            symbol=symbol,
            ts=ts,
            price_step=price_step,
            size_step=size_step,
            bid_px=out["bp"],
            bid_sz=out["bs"],
            ask_px=out["ap"],
            ask_sz=out["as"],
            bid_n=bid_n,
            ask_n=ask_n,
            present=present,
        )


@dataclass(frozen=True, slots=True)
class BookColumns:
    """Per step: `check_book`'s verdict (None = usable, else its flag or 'book_missing'), and for usable
    books the mid, the level count and what the depth computation needs."""

    status: list[str | None]
    mid: F64
    levels: I64
    bid_f: F64
    """(steps, book_levels) level prices as floats."""
    bid_szf: F64
    ask_f: F64
    ask_szf: F64
    bid_in: I64
    """Bid levels within the depth band (a prefix: bids fall)."""
    ask_in: I64

    @property
    def usable(self) -> B:
        """Per step: the book passed `check_book`."""
        return np.array([st is None for st in self.status], dtype=bool)

    def depths(self, rows: I64) -> F64:
        """`depth` of each of `rows`, vectorised: `matmul` of (1 x n) by (n x 1) stacks computes each row's
        dot product as np.dot does (the same BLAS call), so rows are grouped by their in-band level count."""
        sides = []
        for px, sz, cnt in ((self.bid_f, self.bid_szf, self.bid_in), (self.ask_f, self.ask_szf, self.ask_in)):
            side = np.zeros(rows.size)
            counts = cnt[rows]
            for c in np.unique(counts).tolist():
                if c > 0:
                    g = np.flatnonzero(counts == c)
                    r = rows[g]
                    side[g] = np.matmul(px[r, None, :c], sz[r, :c, None])[:, 0, 0]
            sides.append(side)
        return sides[0] + sides[1]

    def depth(self, i: int) -> float:
        """`depth_within_band` of step i's book (the same dot products over the same values)."""
        nb, na = int(self.bid_in[i]), int(self.ask_in[i])
        bids = np.dot(self.bid_f[i, :nb], self.bid_szf[i, :nb])
        return float(bids + np.dot(self.ask_f[i, :na], self.ask_szf[i, :na]))


def book_columns(bs: BookSeries, symbol: str, times: I64, config: AnalyticsConfig) -> BookColumns:
    """`check_book` of every step at once, and the values the enhanced data reads from usable books."""
    n = len(bs)
    lv = config.book_levels
    bp, bsz = bs.bid_px[:, :lv], bs.bid_sz[:, :lv]
    ap, asz = bs.ask_px[:, :lv], bs.ask_sz[:, :lv]
    nb = np.minimum(bs.bid_n, bp.shape[1])
    na = np.minimum(bs.ask_n, ap.shape[1])
    cols = np.arange(bp.shape[1])
    in_b = cols[None, :] < nb[:, None]
    in_a = cols[None, :] < na[:, None]
    # Invalid: a non-positive price or size among the used levels, or sides not strictly ordered.
    bad = np.any(in_b & ((bp <= 0) | (bsz <= 0)), axis=1) | np.any(in_a & ((ap <= 0) | (asz <= 0)), axis=1)
    if bp.shape[1] > 1:
        bad |= np.any(in_b[:, 1:] & (np.diff(bp, axis=1) >= 0), axis=1)
        bad |= np.any(in_a[:, 1:] & (np.diff(ap, axis=1) <= 0), axis=1)
    status: list[str | None] = [None] * n
    crossed = bp[:, 0] >= ap[:, 0]
    stale = times - bs.ts > config.book_max_age_ms
    empty = (bs.bid_n == 0) | (bs.ask_n == 0)
    for i in np.flatnonzero(~bs.present | stale | empty | bad | crossed).tolist():
        if not bs.present[i]:
            status[i] = "book_missing"
        elif bs.symbol != symbol:
            status[i] = "book_symbol_mismatch"
        elif stale[i]:
            status[i] = "book_stale"
        elif empty[i]:
            status[i] = "book_side_empty"
        elif bad[i]:
            status[i] = "book_invalid"
        else:
            status[i] = "book_crossed"
    if bs.symbol != symbol:
        status = [s if s == "book_missing" else "book_symbol_mismatch" for s in status]
    bid_f = grid_floats(bp, bs.price_step)
    ask_f = grid_floats(ap, bs.price_step)
    mid = (bid_f[:, 0] + ask_f[:, 0]) / 2
    band = config.depth_band_pct
    lo, hi = mid * (1 - band / 100), mid * (1 + band / 100)
    bid_in = np.sum(in_b & (bid_f >= lo[:, None]), axis=1)
    ask_in = np.sum(in_a & (ask_f <= hi[:, None]), axis=1)
    return BookColumns(
        status=status,
        mid=mid,
        levels=np.minimum(nb, na),
        bid_f=np.ascontiguousarray(bid_f),
        bid_szf=np.ascontiguousarray(grid_floats(bsz, bs.size_step)),
        ask_f=np.ascontiguousarray(ask_f),
        ask_szf=np.ascontiguousarray(grid_floats(asz, bs.size_step)),
        bid_in=bid_in.astype(np.int64),
        ask_in=ask_in.astype(np.int64),
    )


__all__ = ["BookColumns", "BookSeries", "book_columns", "grid_decimals", "grid_floats"]
