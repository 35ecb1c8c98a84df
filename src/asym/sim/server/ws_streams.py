"""Public WebSocket topics of `/v5/public/linear`: each topic is one shared stream, encoded once per message.

Order books publish deltas computed against the LAST PUBLISHED state of the topic (never against the
market's own history), so a price string is always identical in snapshot and delta, only published levels
are ever deleted, and a new subscriber's snapshot is exactly the state the next delta applies to. `u`
increases by one per published message of a topic (as on Bybit); a skipped delta (fault) shows as a jump.

Push intervals (Bybit's): orderbook.1 10 ms (snapshot only, re-sent unchanged every 3 s), orderbook.50
20 ms, orderbook.200 100 ms, orderbook.500 100 ms, orderbook.1000 200 ms; tickers 100 ms (snapshot then
deltas of the changed fields); publicTrade in real time (every publisher tick); kline every 1 s;
allLiquidation every 500 ms when there are any; liquidation (deprecated) at most one per second.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from asym.domain import Interval
from asym.sim.faults import FaultInjector
from asym.sim.market.book import POOL_MAX_DEPTH, PoolBooks
from asym.sim.server.envelope import encode
from asym.sim.server.wire_market import (
    RawTickerFormatter,
    TickerFormatter,
    fixed,
    qty_dec,
    ws_liquidation,
    ws_trade,
)
from asym.sim.types import LiquidationEvent, MarketModel, PriceKind, SimInstrument, TradeEvent

BOOK_INTERVAL_MS = {1: 10, 50: 20, 200: 100, 500: 100, 1000: 200}
BOOK_DEPTHS = tuple(BOOK_INTERVAL_MS)
MAX_MODEL_DEPTH = 500
DEPTH1_RESEND_MS = 3000
TICKER_INTERVAL_MS = 100
KLINE_INTERVAL_MS = 1000
ALL_LIQ_INTERVAL_MS = 500
LIQ_INTERVAL_MS = 1000
MAX_TRADES_PER_MESSAGE = 1024
_INTERVALS = {i.value: i for i in Interval}
_Q4 = Decimal("0.0001")


class Stream:
    """One public topic: its symbol, push interval and subscribers (connections)."""

    interval_ms = 0

    def __init__(self, topic: str, inst: SimInstrument, market: MarketModel) -> None:
        self.topic = topic
        self.inst = inst
        self.symbol = inst.symbol
        self.market = market
        self.subscribers: set[Any] = set()
        self.next_due = 0.0
        self.sent = 0

    def snapshot(self) -> bytes | None:
        """The message a new subscriber gets first (None: nothing until the next push)."""
        return None

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """Messages due now (already encoded JSON)."""
        return []

    def feed_trades(self, trades: list[TradeEvent]) -> None:
        """New public trades of this symbol (trade topics buffer them)."""

    def feed_liquidations(self, events: list[LiquidationEvent]) -> None:
        """New liquidations of this symbol (liquidation topics buffer them)."""


class OrderbookStream(Stream):
    """`orderbook.{depth}.{symbol}`: snapshot, then deltas against the last published state.

    The published state is a row of a `PoolBooks` (prices and sizes best first). Book topics are ticked
    in groups (`tick_books`): one market call builds the books of every due topic of a depth and one
    vectorised comparison finds the changed levels, so only those are formatted."""

    def __init__(
        self,
        topic: str,
        inst: SimInstrument,
        market: MarketModel,
        depth: int,
        faults: FaultInjector | None,
        frozen_until: dict[str, float],
    ) -> None:
        super().__init__(topic, inst, market)
        self.depth = depth
        self.model_depth = min(depth, MAX_MODEL_DEPTH)
        self.interval_ms = BOOK_INTERVAL_MS[depth]
        self.faults = faults
        self.frozen_until = frozen_until
        self.u = 0
        self.seq = 0
        self.ts = 0
        self.cts = 0
        self.model_update_id = -1
        self.last_sent_mono = 0.0
        self._snapshot: bytes | None = None
        book = self.market.book(self.symbol, self.model_depth)
        self.model_update_id = book.update_id
        state = PoolBooks.empty(1, self.model_depth)
        state.put(0, book.bids[: self.model_depth], book.asks[: self.model_depth])
        self.state, self.row = state, 0
        """The last published levels: row `row` of `state`."""
        self.u = max(1, book.update_id)
        self.seq, self.ts, self.cts = book.seq, book.ts, book.cts

    def _side(self, px: np.ndarray, sz: np.ndarray, n: np.ndarray) -> list[tuple[int, int]]:
        k = int(n[self.row])
        return list(zip(px[self.row, :k].tolist(), sz[self.row, :k].tolist(), strict=True))

    @property
    def bids(self) -> dict[int, int]:
        """Published bids, price -> size (ticks, steps)."""
        st = self.state
        return dict(self._side(st.bid_px, st.bid_sz, st.bid_n))

    @property
    def asks(self) -> dict[int, int]:
        """Published asks, price -> size."""
        st = self.state
        return dict(self._side(st.ask_px, st.ask_sz, st.ask_n))

    def _levels(self, bids: bool) -> list[list[str]]:
        st = self.state
        levels = (
            self._side(st.bid_px, st.bid_sz, st.bid_n) if bids else self._side(st.ask_px, st.ask_sz, st.ask_n)
        )
        ps = self.inst.price.to_str
        qs = self.inst.qty.to_str
        return [[ps(px), qs(sz)] for px, sz in levels]

    def snapshot(self) -> bytes:
        """The last published state as a snapshot (what the next delta applies to)."""
        if self._snapshot is None:
            self._snapshot = encode(
                {
                    "topic": self.topic,
                    "type": "snapshot",
                    "ts": self.ts,
                    "data": {
                        "s": self.symbol,
                        "b": self._levels(True),
                        "a": self._levels(False),
                        "u": self.u,
                        "seq": self.seq,
                    },
                    "cts": self.cts,
                }
            )
        return self._snapshot

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """A delta (or, for depth 1, a snapshot) when the published levels changed."""
        out = tick_books([self], now_mono_ms)
        return out[0][1] if out else []

    def _resend(self, now_mono_ms: float) -> list[bytes]:
        # Level-1 streams re-send the unchanged snapshot (same u) after 3 s of silence.
        if self.depth == 1 and now_mono_ms - self.last_sent_mono >= DEPTH1_RESEND_MS:
            self.last_sent_mono = now_mono_ms
            return [self.snapshot()]
        return []

    def _delta(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> bytes:
        return encode(
            {
                "topic": self.topic,
                "type": "delta",
                "ts": self.ts,
                "data": {"s": self.symbol, "b": bids, "a": asks, "u": self.u, "seq": self.seq},
                "cts": self.cts,
            }
        )


_KEY_SPAN = 1 << 42
"""Prices (ticks) stay far below this: (row, price) pairs become one sortable integer key."""


def _changes(
    old_px: np.ndarray,
    old_sz: np.ndarray,
    old_n: np.ndarray,
    new_px: np.ndarray,
    new_sz: np.ndarray,
    new_n: np.ndarray,
    descending: bool,
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Changed levels between two sets of book sides (row i = one topic, best level first): every level
    whose size changed or that is new with its size, every level that is gone with size 0; grouped by row,
    best price first (bids descending, asks ascending), as Bybit orders a delta. Returns (rows with
    changes, where each row's levels start (one more: the end), prices, sizes)."""
    rows, depth = new_px.shape
    cols = np.arange(depth)
    base = (np.arange(rows, dtype=np.int64) * _KEY_SPAN)[:, None]
    top = _KEY_SPAN - 1
    old_ok = cols < old_n[:, None]
    new_ok = cols < new_n[:, None]
    # Keys ascend along each row (best first: bids by descending price), padding sorts last.
    if descending:
        ok = (base + np.where(old_ok, top - 1 - old_px, top)).ravel()
        nk = (base + np.where(new_ok, top - 1 - new_px, top)).ravel()
    else:
        ok = (base + np.where(old_ok, old_px, top)).ravel()
        nk = (base + np.where(new_ok, new_px, top)).ravel()
    last = ok.size - 1
    at = np.minimum(np.searchsorted(ok, nk), last)
    same = (ok[at] == nk) & (old_sz.ravel()[at] == new_sz.ravel())
    fresh = (new_ok.ravel() & ~same).nonzero()[0]
    back = np.minimum(np.searchsorted(nk, ok), last)
    gone = (old_ok.ravel() & (nk[back] != ok)).nonzero()[0]
    if fresh.size == 0 and gone.size == 0:
        return [], [0], [], []
    keys = np.concatenate((nk[fresh], ok[gone]))
    px = np.concatenate((new_px.ravel()[fresh], old_px.ravel()[gone]))
    sz = np.concatenate((new_sz.ravel()[fresh], np.zeros(gone.size, dtype=np.int64)))
    order = np.argsort(keys, kind="stable")
    row = keys[order] // _KEY_SPAN
    starts = np.concatenate(([0], (row[1:] != row[:-1]).nonzero()[0] + 1, [row.size]))
    return row[starts[:-1]].tolist(), starts.tolist(), px[order].tolist(), sz[order].tolist()


def _grouped(
    changes: tuple[list[int], list[int], list[int], list[int]], streams: list[OrderbookStream]
) -> dict[int, list[tuple[str, str]]]:
    """Changed levels as Bybit's [price, size] strings per row (size "0": the level is gone)."""
    rows, starts, px, sz = changes
    out: dict[int, list[tuple[str, str]]] = {}
    for k, r in enumerate(rows):
        a, b = starts[k], starts[k + 1]
        inst = streams[r].inst
        # Tuples encode as JSON arrays like lists do, for less work per level.
        out[r] = list(zip(inst.price.strs(px[a:b]), inst.qty.fresh_strs(sz[a:b]), strict=True))
    return out


def _published(streams: list[OrderbookStream], depth: int) -> PoolBooks:
    """The published states of `streams` as one PoolBooks (no copy when they are one batch's rows)."""
    first = streams[0].state
    if all(s.state is first and s.row == i for i, s in enumerate(streams)) and first.bid_px.shape[0] == len(
        streams
    ):
        return first
    out = PoolBooks.empty(len(streams), depth)
    for i, s in enumerate(streams):
        src, r = s.state, s.row
        for name in ("bid_px", "bid_sz", "ask_px", "ask_sz"):
            getattr(out, name)[i] = getattr(src, name)[r]
        out.bid_n[i] = src.bid_n[r]
        out.ask_n[i] = src.ask_n[r]
    return out


def _current(
    market: MarketModel, streams: list[OrderbookStream], depth: int
) -> tuple[PoolBooks, list[int], list[int], int, int]:
    """The books of `streams` now: one batch when the market offers it, else book by book."""
    symbols = [s.symbol for s in streams]
    batch_fn = getattr(market, "books", None)
    if batch_fn is not None and depth <= POOL_MAX_DEPTH:
        batch = batch_fn(symbols, depth)
        return batch.books, batch.update_id, batch.seq, batch.ts, batch.cts
    books = PoolBooks.empty(len(streams), depth)
    ids: list[int] = []
    seqs: list[int] = []
    ts = cts = 0
    for i, sym in enumerate(symbols):
        b = market.book(sym, depth)
        books.put(i, b.bids, b.asks)
        ids.append(b.update_id)
        seqs.append(b.seq)
        ts, cts = b.ts, b.cts
    return books, ids, seqs, ts, cts


def tick_books(streams: list[OrderbookStream], now_mono_ms: float) -> list[tuple[Stream, list[bytes]]]:
    """Tick order-book topics together: the messages each one publishes now (deltas, or snapshots for
    depth 1). Topics whose book did not move since their last tick publish nothing (depth 1 re-sends)."""
    out: list[tuple[Stream, list[bytes]]] = []
    if not streams:
        return out
    market = streams[0].market
    due: dict[int, list[OrderbookStream]] = {}
    for s in streams:
        if s.frozen_until.get(s.symbol, 0.0) > now_mono_ms:
            again = s._resend(now_mono_ms)
            if again:
                out.append((s, again))
            continue
        due.setdefault(s.model_depth, []).append(s)
    for depth, group in due.items():
        new, ids, seqs, ts, cts = _current(market, group, depth)
        moved = [s.model_update_id != ids[i] for i, s in enumerate(group)]
        old = _published(group, depth)
        bids = _grouped(
            _changes(old.bid_px, old.bid_sz, old.bid_n, new.bid_px, new.bid_sz, new.bid_n, True), group
        )
        asks = _grouped(
            _changes(old.ask_px, old.ask_sz, old.ask_n, new.ask_px, new.ask_sz, new.ask_n, False), group
        )
        for i, s in enumerate(group):
            if not moved[i]:
                again = s._resend(now_mono_ms)
                if again:
                    out.append((s, again))
                continue
            s.model_update_id = ids[i]
            if i not in bids and i not in asks:
                s.state, s.row = new, i  # same levels: keep the batch's row (cheap next comparison)
                again = s._resend(now_mono_ms)
                if again:
                    out.append((s, again))
                continue
            faults = s.faults
            if faults is not None and faults.stale_book():
                s.frozen_until[s.symbol] = now_mono_ms + faults.spec.stale_book_s * 1000
                continue
            s.state, s.row = new, i
            s.u += 1
            s.seq, s.ts, s.cts = seqs[i], ts, cts
            s._snapshot = None
            s.last_sent_mono = now_mono_ms
            if s.depth == 1:
                out.append((s, [s.snapshot()]))
            elif faults is None or not faults.seq_gap():
                out.append((s, [s._delta(bids.get(i, []), asks.get(i, []))]))
    return out


class TickerStream(Stream):
    """`tickers.{symbol}`: a full snapshot, then every 100 ms a delta with the changed fields + symbol.

    With a market offering integer tickers (`ticker_raw`) only the values that moved are formatted."""

    interval_ms = TICKER_INTERVAL_MS

    def __init__(self, topic: str, inst: SimInstrument, market: MarketModel) -> None:
        super().__init__(topic, inst, market)
        raw = getattr(market, "ticker_raw", None)
        self._get: Any = raw if raw is not None else market.ticker
        self.fmt: Any = RawTickerFormatter(inst) if raw is not None else TickerFormatter(inst)
        t = self._get(self.symbol)
        self.view = t
        """The ticker the published data was formatted from."""
        self.data: dict[str, str] = self.fmt.ws(t)
        self.cs = t.cs
        self.ts = t.ts

    def snapshot(self) -> bytes:
        """The full ticker as last published."""
        return encode(
            {"topic": self.topic, "type": "snapshot", "data": self.data, "cs": self.cs, "ts": self.ts}
        )

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """A delta with only the fields that changed since the last push."""
        t = self._get(self.symbol)
        prev = self.view
        if t is prev or (t.ts == prev.ts and t.cs == prev.cs):
            return []
        self.view = t
        changed = self.fmt.ws_update(prev, t, self.data)
        if not changed:
            return []
        # Published state (data, cs, ts) moves only with a message: a new subscriber's snapshot always
        # carries the cs of the last delta the others received.
        self.cs, self.ts = t.cs, t.ts
        changed["symbol"] = self.symbol
        return [encode({"topic": self.topic, "type": "delta", "data": changed, "cs": self.cs, "ts": self.ts})]


class TradeStream(Stream):
    """`publicTrade.{symbol}`: trades as they happen, in match order, up to 1024 per message."""

    def __init__(self, topic: str, inst: SimInstrument, market: MarketModel) -> None:
        super().__init__(topic, inst, market)
        self.pending: list[TradeEvent] = []

    def feed_trades(self, trades: list[TradeEvent]) -> None:
        """Buffer trades until the next tick."""
        self.pending.extend(trades)

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """Every buffered trade, oldest first."""
        if not self.pending:
            return []
        pending, self.pending = self.pending, []
        out = []
        for i in range(0, len(pending), MAX_TRADES_PER_MESSAGE):
            chunk = pending[i : i + MAX_TRADES_PER_MESSAGE]
            out.append(
                encode(
                    {
                        "topic": self.topic,
                        "type": "snapshot",
                        "ts": chunk[-1].ts,
                        "data": [ws_trade(self.inst, t) for t in chunk],
                    }
                )
            )
        return out


class KlineStream(Stream):
    """`kline.{interval}.{symbol}`: the open candle every second; a closed candle once with confirm=true."""

    interval_ms = KLINE_INTERVAL_MS

    def __init__(self, topic: str, inst: SimInstrument, market: MarketModel, interval: Interval) -> None:
        super().__init__(topic, inst, market)
        self.interval = interval
        self.last_start: int | None = None

    def _item(self, row: Any, confirm: bool, now_ms: int) -> dict[str, Any]:
        p = self.inst.price.to_str
        return {
            "start": row.start,
            "end": row.start + self.interval.ms - 1,
            "interval": self.interval.value,
            "open": p(row.open),
            "close": p(row.close),
            "high": p(row.high),
            "low": p(row.low),
            "volume": qty_dec(self.inst, row.volume),
            "turnover": fixed(row.turnover, _Q4),
            "confirm": confirm,
            "timestamp": now_ms,
        }

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """The closed candle (if one closed since the last push) and the open one."""
        rows = self.market.klines(self.symbol, self.interval, None, None, 2, PriceKind.TRADE)
        if not rows:
            return []
        now_ms = self.market.now_ms()
        newest = rows[0]
        data: list[dict[str, Any]] = []
        if self.last_start is not None and newest.start > self.last_start:
            closed = [r for r in rows[1:] if r.start == self.last_start]
            if not closed:
                closed = list(
                    self.market.klines(
                        self.symbol, self.interval, self.last_start, self.last_start, 1, PriceKind.TRADE
                    )
                )
            data.extend(self._item(r, True, now_ms) for r in closed[:1])
        self.last_start = newest.start
        data.append(self._item(newest, False, now_ms))
        return [encode({"topic": self.topic, "data": data, "ts": now_ms, "type": "snapshot"})]


class AllLiquidationStream(Stream):
    """`allLiquidation.{symbol}`: every 500 ms, the liquidations since the last push (when any)."""

    interval_ms = ALL_LIQ_INTERVAL_MS

    def __init__(self, topic: str, inst: SimInstrument, market: MarketModel) -> None:
        super().__init__(topic, inst, market)
        self.pending: list[LiquidationEvent] = []

    def feed_liquidations(self, events: list[LiquidationEvent]) -> None:
        """Buffer liquidations until the next push."""
        self.pending.extend(events)

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """One message with every buffered liquidation."""
        if not self.pending:
            return []
        pending, self.pending = self.pending, []
        return [
            encode(
                {
                    "topic": self.topic,
                    "type": "snapshot",
                    "ts": pending[-1].ts,
                    "data": [ws_liquidation(self.inst, e) for e in pending],
                }
            )
        ]


class LiquidationStream(AllLiquidationStream):
    """`liquidation.{symbol}` (deprecated by Bybit): at most one liquidation per second, data an object."""

    interval_ms = LIQ_INTERVAL_MS

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """The latest buffered liquidation."""
        if not self.pending:
            return []
        e = self.pending[-1]
        self.pending = []
        data = {
            "updatedTime": e.ts,
            "symbol": e.symbol,
            "side": str(e.side),
            "size": self.inst.qty.to_str(e.size),
            "price": self.inst.price.to_str(e.price),
        }
        return [encode({"topic": self.topic, "type": "snapshot", "ts": e.ts, "data": data})]


def make_stream(
    topic: str,
    lookup: Any,
    market: MarketModel,
    faults: FaultInjector | None,
    frozen_until: dict[str, float],
) -> Stream | None:
    """The stream for a linear public topic, or None when the topic or its symbol is unknown."""
    parts = topic.split(".")
    kind = parts[0]
    if kind == "orderbook" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) in BOOK_INTERVAL_MS:
        inst = lookup(parts[2])
        return (
            None
            if inst is None
            else OrderbookStream(topic, inst, market, int(parts[1]), faults, frozen_until)
        )
    if kind == "kline" and len(parts) == 3 and parts[1] in _INTERVALS:
        inst = lookup(parts[2])
        return None if inst is None else KlineStream(topic, inst, market, _INTERVALS[parts[1]])
    if len(parts) != 2:
        return None
    inst = lookup(parts[1])
    if inst is None:
        return None
    if kind == "tickers":
        return TickerStream(topic, inst, market)
    if kind == "publicTrade":
        return TradeStream(topic, inst, market)
    if kind == "allLiquidation":
        return AllLiquidationStream(topic, inst, market)
    if kind == "liquidation":
        return LiquidationStream(topic, inst, market)
    return None
