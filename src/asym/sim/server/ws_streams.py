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

from asym.domain import Interval
from asym.sim.faults import FaultInjector
from asym.sim.server.envelope import encode
from asym.sim.server.wire_market import (
    fixed,
    qty_dec,
    ws_liquidation,
    ws_ticker_data,
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


def _diff(old: dict[int, int], new: dict[int, int], descending: bool) -> list[tuple[int, int]]:
    changes = [(px, sz) for px, sz in new.items() if old.get(px) != sz]
    changes.extend((px, 0) for px in old if px not in new)
    changes.sort(reverse=descending)
    return changes


class OrderbookStream(Stream):
    """`orderbook.{depth}.{symbol}`: snapshot, then deltas against the last published state."""

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
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.u = 0
        self.seq = 0
        self.ts = 0
        self.cts = 0
        self.model_update_id = -1
        self.last_sent_mono = 0.0
        self._snapshot: bytes | None = None
        self._start()

    def _start(self) -> None:
        book = self.market.book(self.symbol, self.model_depth)
        self.model_update_id = book.update_id
        self.bids = dict(book.bids[: self.depth])
        self.asks = dict(book.asks[: self.depth])
        self.u = max(1, book.update_id)
        self.seq, self.ts, self.cts = book.seq, book.ts, book.cts

    def _levels(self, levels: dict[int, int], descending: bool) -> list[list[str]]:
        ps = self.inst.price.to_str
        qs = self.inst.qty.to_str
        return [[ps(px), qs(sz)] for px, sz in sorted(levels.items(), reverse=descending)]

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
                        "b": self._levels(self.bids, True),
                        "a": self._levels(self.asks, False),
                        "u": self.u,
                        "seq": self.seq,
                    },
                    "cts": self.cts,
                }
            )
        return self._snapshot

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """A delta (or, for depth 1, a snapshot) when the published levels changed."""
        book = self.market.book(self.symbol, self.model_depth)
        if book.update_id == self.model_update_id or self.frozen_until.get(self.symbol, 0.0) > now_mono_ms:
            return self._resend(now_mono_ms)
        self.model_update_id = book.update_id
        new_b = dict(book.bids[: self.depth])
        new_a = dict(book.asks[: self.depth])
        if new_b == self.bids and new_a == self.asks:
            return self._resend(now_mono_ms)
        if self.faults is not None and self.faults.stale_book():
            self.frozen_until[self.symbol] = now_mono_ms + self.faults.spec.stale_book_s * 1000
            return []
        db = _diff(self.bids, new_b, True)
        da = _diff(self.asks, new_a, False)
        self.bids, self.asks = new_b, new_a
        self.u += 1
        self.seq, self.ts, self.cts = book.seq, book.ts, book.cts
        self._snapshot = None
        self.last_sent_mono = now_mono_ms
        if self.depth == 1:
            return [self.snapshot()]
        if self.faults is not None and self.faults.seq_gap():
            return []
        ps = self.inst.price.to_str
        qs = self.inst.qty.to_str
        return [
            encode(
                {
                    "topic": self.topic,
                    "type": "delta",
                    "ts": self.ts,
                    "data": {
                        "s": self.symbol,
                        "b": [[ps(px), qs(sz) if sz else "0"] for px, sz in db],
                        "a": [[ps(px), qs(sz) if sz else "0"] for px, sz in da],
                        "u": self.u,
                        "seq": self.seq,
                    },
                    "cts": self.cts,
                }
            )
        ]

    def _resend(self, now_mono_ms: float) -> list[bytes]:
        # Level-1 streams re-send the unchanged snapshot (same u) after 3 s of silence.
        if self.depth == 1 and now_mono_ms - self.last_sent_mono >= DEPTH1_RESEND_MS:
            self.last_sent_mono = now_mono_ms
            return [self.snapshot()]
        return []


class TickerStream(Stream):
    """`tickers.{symbol}`: a full snapshot, then every 100 ms a delta with the changed fields + symbol."""

    interval_ms = TICKER_INTERVAL_MS

    def __init__(self, topic: str, inst: SimInstrument, market: MarketModel) -> None:
        super().__init__(topic, inst, market)
        t = market.ticker(self.symbol)
        self.key = (t.ts, t.cs)
        self.data = ws_ticker_data(inst, t)
        self.cs = t.cs
        self.ts = t.ts

    def snapshot(self) -> bytes:
        """The full ticker as last published."""
        return encode(
            {"topic": self.topic, "type": "snapshot", "data": self.data, "cs": self.cs, "ts": self.ts}
        )

    def tick(self, now_mono_ms: float) -> list[bytes]:
        """A delta with only the fields that changed since the last push."""
        t = self.market.ticker(self.symbol)
        key = (t.ts, t.cs)
        if key == self.key:
            return []
        self.key = key
        new = ws_ticker_data(self.inst, t)
        changed = {k: v for k, v in new.items() if self.data.get(k) != v}
        if not changed:
            return []
        # Published state (data, cs, ts) moves only with a message: a new subscriber's snapshot always
        # carries the cs of the last delta the others received.
        self.data = new
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
