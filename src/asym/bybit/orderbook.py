"""The order-book state machine (pure, no I/O): snapshot, then contiguous deltas, else STALE until resync.

States: EMPTY (no snapshot yet) -> SYNCED (snapshot applied, every delta contiguous) -> STALE (a gap, a
crossed book, or a delete of a level we never had). A STALE or EMPTY book cannot be read: `view()` returns
None and `top()` raises. The next snapshot makes it SYNCED again.

Continuity (verified on the real dump xrpusdt-ob500: 1 snapshot + 49 deltas, u strictly +1 each): a delta
must carry u == previous u + 1. A delta with u <= previous u is a duplicate and is ignored; a snapshot
resets (including u == 1 after a venue restart). `seq` (cross sequence) is recorded, not checked.

Speed: prices are kept as scaled integers (exact: the wire string's digits, never a float; parsed once per
distinct price string) in a dict of key -> (price string, size string) per side, bids negated so the
smallest key is the best on both sides. A delta costs a few dict operations per level; the best level is
tracked incrementally (for the crossed-book check) and the sorted order is only built when a consumer
reads. Decimal objects are built only on reads, which streams conflate to the latest state.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import Enum

from asym.bybit.convert.common import dec
from asym.domain import Category, OrderBook
from asym.errors import DataError


class BookState(Enum):
    """Sync state of a book."""

    EMPTY = "empty"
    SYNCED = "synced"
    STALE = "stale"


class Apply(Enum):
    """Outcome of applying one message."""

    OK = "ok"
    IGNORED = "ignored"
    """duplicate delta (u not newer), or a delta while no snapshot is held: nothing changed."""
    RESYNC = "resync"
    """the book became STALE: resubscribe to get a fresh snapshot."""


class StaleBookError(DataError):
    """Raised when reading a book that is not in sync."""


_POW10 = [10**i for i in range(19)]
_INF = 1 << 200
"""Sentinel best key of an empty side."""
_KEY_CACHE_PER_LEVEL = 4
"""A side's price-string cache may hold this many entries per level of depth (at least 64) before it is
pruned to the prices still in the book: a few hundred entries, not the whole history of a drifting price
(with a fixed 50,000 cap, tracemalloc found ~40 MB of dead price strings, their keys and dict slots
in 500 books streamed for an hour of market time)."""


def _is_zero(size: str) -> bool:
    # "0", "0.000", "0.0": every character a zero digit or the point.
    return size == "0" or not size.strip("0.")


class _Side:
    """One side: key -> size string; keys are scaled prices, negated for bids so that the smallest key
    is always the best level. `best` is kept incrementally; the sorted order is built lazily (only when a
    consumer reads) and cached until the set of levels changes."""

    __slots__ = ("best", "cache", "levels", "neg", "order")

    def __init__(self, neg: bool) -> None:
        self.neg = neg
        self.levels: dict[int, str] = {}
        self.best = _INF
        self.order: list[int] | None = []
        self.cache: dict[str, int] = {}
        """price string -> signed key (prices repeat: parsing once per distinct string)."""

    def sorted_keys(self) -> list[int]:
        order = self.order
        if order is None:
            order = self.order = sorted(self.levels)
        return order


class OrderBookMachine:
    """The state machine of one `orderbook.{depth}.{symbol}` stream."""

    __slots__ = (
        "_asks",
        "_bids",
        "_cache_max",
        "_decimals",
        "category",
        "cts",
        "depth",
        "last_reason",
        "resyncs",
        "seq",
        "state",
        "symbol",
        "ts",
        "u",
    )

    def __init__(self, symbol: str, depth: int, category: Category = Category.LINEAR) -> None:
        self.symbol = symbol
        self.depth = depth
        self.category = category
        self.state = BookState.EMPTY
        self.u = 0
        self.seq = 0
        self.ts = 0
        self.cts = 0
        self.resyncs = 0
        self.last_reason = ""
        self._bids = _Side(True)
        self._asks = _Side(False)
        self._decimals = 0
        self._cache_max = max(64, _KEY_CACHE_PER_LEVEL * depth)

    # ------------------------------------------------------------ parsing

    def _new_key(self, side: _Side, p: str) -> int:
        """Exact scaled integer of a price string (its digits: no float ever touches a price)."""
        whole, dot, frac = p.partition(".")
        if not whole.isdigit() or (dot and not frac.isdigit()):
            raise DataError(f"{self.symbol}: malformed price {p!r}")
        nd = len(frac)
        dp = self._decimals
        if nd > dp:
            # More decimals than seen so far (e.g. "42548" then "42548.25"): rescale everything held.
            if nd > 18:
                raise DataError(f"{self.symbol}: price {p!r} has too many decimals")
            self._rescale(nd)
            dp = nd
        k = int(whole + frac) * _POW10[dp - nd]
        if side.neg:
            k = -k
        cache = side.cache
        if len(cache) >= self._cache_max:
            # Keep what is still live (the next deltas update or delete those); drop the dead prices.
            # A side deeper than half the cap (a stream that never deletes) is not worth keeping: pruning
            # would then run on every new price.
            levels = side.levels
            live = {q: j for q, j in cache.items() if j in levels} if 2 * len(levels) <= len(cache) else {}
            cache.clear()
            cache.update(live)
        cache[p] = k
        return k

    def _rescale(self, decimals: int) -> None:
        f = _POW10[decimals - self._decimals]
        for side in (self._bids, self._asks):
            # In place: apply_delta holds references to these containers while it loops.
            scaled = {k * f: v for k, v in side.levels.items()}
            side.levels.clear()
            side.levels.update(scaled)
            side.cache.clear()
            side.order = None
            if side.best != _INF:
                side.best *= f
        self._decimals = decimals

    @staticmethod
    def _decimals_of(levels: Sequence[Sequence[str]]) -> int:
        best = 0
        for lv in levels:
            p = lv[0]
            i = p.find(".")
            if i >= 0 and len(p) - i - 1 > best:
                best = len(p) - i - 1
        return min(best, 18)

    # ------------------------------------------------------------ applying

    def apply(
        self,
        msg_type: str,
        bids: Sequence[Sequence[str]],
        asks: Sequence[Sequence[str]],
        u: int,
        seq: int = 0,
        ts: int = 0,
        cts: int = 0,
    ) -> Apply:
        """Apply a `snapshot` or `delta` message's data."""
        if msg_type == "delta":
            return self.apply_delta(bids, asks, u, seq, ts, cts)
        if msg_type == "snapshot":
            return self.apply_snapshot(bids, asks, u, seq, ts, cts)
        raise DataError(f"{self.symbol}: unknown order-book message type {msg_type!r}")

    def apply_snapshot(
        self,
        bids: Sequence[Sequence[str]],
        asks: Sequence[Sequence[str]],
        u: int,
        seq: int = 0,
        ts: int = 0,
        cts: int = 0,
    ) -> Apply:
        """Replace the whole book; SYNCED unless the snapshot itself is crossed or malformed."""
        decimals = max(self._decimals_of(bids), self._decimals_of(asks))
        if decimals != self._decimals:
            self._bids.cache.clear()
            self._asks.cache.clear()
            self._decimals = decimals
        self.u, self.seq, self.ts, self.cts = u, seq, ts, cts
        try:
            for side, levels in ((self._bids, bids), (self._asks, asks)):
                d: dict[int, str] = {}
                cache = side.cache
                for p, s in levels:
                    if s == "0" or (s[0] == "0" and not s.strip("0.")):
                        continue
                    k = cache.get(p)
                    if k is None:
                        k = self._new_key(side, p)
                    d[k] = s
                side.levels = d
                side.order = None
                side.best = min(d) if d else _INF
        except (ValueError, TypeError, IndexError, DataError):
            return self._stale("malformed snapshot")
        if -self._bids.best >= self._asks.best:
            return self._stale("crossed snapshot")
        self.state = BookState.SYNCED
        self.last_reason = ""
        return Apply.OK

    def apply_delta(
        self,
        bids: Sequence[Sequence[str]],
        asks: Sequence[Sequence[str]],
        u: int,
        seq: int = 0,
        ts: int = 0,
        cts: int = 0,
    ) -> Apply:
        """Apply changed levels; a gap in u, a crossed result or an unknown delete makes the book STALE."""
        if self.state is not BookState.SYNCED:
            return Apply.IGNORED
        if u != self.u + 1:
            if u <= self.u:
                return Apply.IGNORED
            return self._stale(f"gap: u {self.u} -> {u}")
        try:
            for side, levels in ((self._bids, bids), (self._asks, asks)):
                if not levels:
                    continue
                d = side.levels
                n0 = len(d)
                cache = side.cache
                best = side.best
                deleted = False
                rebest = False
                for p, s in levels:
                    k = cache.get(p)
                    if k is None:
                        dp = self._decimals
                        k = self._new_key(side, p)
                        if self._decimals != dp and best != _INF:
                            best *= _POW10[self._decimals - dp]  # held keys were rescaled too
                    if s == "0" or (s[0] == "0" and not s.strip("0.")):
                        if d.pop(k, None) is None:
                            return self._stale(f"delete of unknown level {p}")
                        deleted = True
                        if k == best:
                            rebest = True
                    else:
                        d[k] = s
                        if k < best:
                            best = k
                if rebest:
                    best = min(d) if d else _INF
                side.best = best
                if deleted or len(d) != n0:
                    side.order = None
        except (ValueError, TypeError, IndexError, DataError):
            return self._stale("malformed delta")
        self.u, self.seq, self.ts, self.cts = u, seq, ts, cts
        if -self._bids.best >= self._asks.best:
            return self._stale("crossed book")
        return Apply.OK

    def mark_stale(self, reason: str) -> None:
        """Force STALE (e.g. the connection dropped: deltas may have been missed)."""
        if self.state is BookState.SYNCED:
            self._stale(reason)

    def _stale(self, reason: str) -> Apply:
        if self.state is not BookState.STALE:
            self.resyncs += 1
        self.state = BookState.STALE
        self.last_reason = reason
        return Apply.RESYNC

    # ------------------------------------------------------------ reading

    @property
    def synced(self) -> bool:
        """True when the book may be read."""
        return self.state is BookState.SYNCED

    def _price(self, k: int) -> Decimal:
        return Decimal(-k if k < 0 else k).scaleb(-self._decimals)

    def view(self, depth: int | None = None) -> OrderBook | None:
        """The book as a domain OrderBook (best first, up to `depth` levels), or None when not SYNCED."""
        if self.state is not BookState.SYNCED:
            return None
        n = self.depth if depth is None else depth
        price = self._price
        bl, al = self._bids.levels, self._asks.levels
        bids = tuple((price(k), dec(bl[k], "size")) for k in self._bids.sorted_keys()[:n])
        asks = tuple((price(k), dec(al[k], "size")) for k in self._asks.sorted_keys()[:n])
        return OrderBook(
            symbol=self.symbol,
            bids=bids,
            asks=asks,
            ts=self.ts,
            update_id=self.u,
            seq=self.seq,
            category=self.category,
        )

    def top(self) -> tuple[Decimal, Decimal] | None:
        """(best bid, best ask) prices; StaleBookError when not SYNCED, None when a side is empty."""
        if self.state is not BookState.SYNCED:
            raise StaleBookError(f"order book {self.symbol} is {self.state.value}: {self.last_reason}")
        if not self._bids.levels or not self._asks.levels:
            return None
        return self._price(self._bids.best), self._price(self._asks.best)

    def levels(self) -> tuple[list[tuple[Decimal, str]], list[tuple[Decimal, str]]]:
        """Every held level as (price, size string), best first; StaleBookError when not SYNCED."""
        if self.state is not BookState.SYNCED:
            raise StaleBookError(f"order book {self.symbol} is {self.state.value}: {self.last_reason}")
        bl, al = self._bids.levels, self._asks.levels
        price = self._price
        return (
            [(price(k), bl[k]) for k in self._bids.sorted_keys()],
            [(price(k), al[k]) for k in self._asks.sorted_keys()],
        )

    def __len__(self) -> int:
        return len(self._bids.levels) + len(self._asks.levels)
