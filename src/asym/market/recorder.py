"""Recording live public data into the store, and exporting recorded klines in a layout the simulator
replays (`asym sim serve --replay DIR`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from asym.domain import Candle, Interval, OrderBook, Ticker
from asym.domain.venue import MarketStream, Venue
from asym.logging import get_logger
from asym.store import Store

log = get_logger("recorder")


@dataclass
class RecordStats:
    """What a recording wrote."""

    candles: int = 0
    books: int = 0
    tickers: int = 0
    liquidations: int = 0
    seconds: float = 0.0
    symbols: list[str] = field(default_factory=list)


class Recorder:
    """Streams 1m klines, books (sampled), tickers (sampled) and liquidations of `symbols` into the store."""

    def __init__(
        self,
        venue: Venue,
        store: Store,
        symbols: Sequence[str],
        *,
        venue_label: str = "bybit",
        sample_every_s: float = 1.0,
        backfill_every_s: float = 10.0,
        progress: Callable[[RecordStats], None] | None = None,
    ) -> None:
        self.venue = venue
        self.store = store
        self.symbols = list(symbols)
        self.label = venue_label
        self.sample_every_s = sample_every_s
        self.backfill_every_s = backfill_every_s
        self.progress = progress
        self.stats = RecordStats(symbols=self.symbols)
        self._first_start: dict[str, int] = {}
        self._backfilled_to: dict[str, int] = {}

    async def run(self, seconds: float | None) -> RecordStats:
        """Record for `seconds` (None: until cancelled); everything written is flushed before returning."""
        streams: list[Any] = []
        tasks: list[asyncio.Task[None]] = []
        books: dict[str, MarketStream[OrderBook]] = {}
        tickers: dict[str, MarketStream[Ticker]] = {}
        t0 = time.monotonic()
        try:
            for s in self.symbols:
                klines = await self.venue.stream_klines(s, Interval.M1)
                liqs = await self.venue.stream_liquidations(s)
                books[s] = await self.venue.stream_orderbook(s, 50)
                tickers[s] = await self.venue.stream_ticker(s)
                streams += [klines, liqs, books[s], tickers[s]]
                tasks.append(asyncio.create_task(self._candles(klines)))
                tasks.append(asyncio.create_task(self._liquidations(liqs)))
            deadline = None if seconds is None else t0 + seconds
            next_backfill = t0 + self.backfill_every_s
            while deadline is None or time.monotonic() < deadline:
                await asyncio.sleep(self.sample_every_s)
                self._sample(books, tickers)
                if time.monotonic() >= next_backfill:
                    await self._backfill()
                    next_backfill = time.monotonic() + self.backfill_every_s
                self.stats.seconds = time.monotonic() - t0
                if self.progress is not None:
                    self.progress(self.stats)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            for st in streams:
                with contextlib.suppress(Exception):
                    await st.aclose()
            with contextlib.suppress(Exception):
                await self._backfill()
            await self.store.flush()
            self.stats.seconds = time.monotonic() - t0
        return self.stats

    def _sample(
        self, books: dict[str, MarketStream[OrderBook]], tickers: dict[str, MarketStream[Ticker]]
    ) -> None:
        bs = [b for b in (s.latest() for s in books.values()) if b is not None]
        ts = [t for t in (s.latest() for s in tickers.values()) if t is not None]
        if bs:
            self.store.submit_books(bs, venue=self.label)
            self.stats.books += len(bs)
        if ts:
            self.store.submit_tickers(ts, venue=self.label)
            self.stats.tickers += len(ts)

    async def _candles(self, stream: Any) -> None:
        async for c in stream:
            self._first_start.setdefault(c.symbol, c.start)
            self.store.submit_candles([c], venue=self.label)
            self.stats.candles += 1

    async def _backfill(self) -> None:
        """Closed 1m candles over REST since the recording began: the stream may skip a candle (a push
        interval longer than a minute at accelerated time, a reconnect), the recording must not."""
        for symbol, first in list(self._first_start.items()):
            since = self._backfilled_to.get(symbol, first)
            got = await self.venue.get_klines(symbol, Interval.M1, start=since, limit=1000)
            closed = [c for c in got if c.confirmed]
            if closed:
                self.store.submit_candles(closed, venue=self.label)
                self.stats.candles += len(closed)
                self._backfilled_to[symbol] = closed[-1].start

    async def _liquidations(self, stream: Any) -> None:
        async for liq in stream:
            self.store.submit_liquidations([liq], venue=self.label)
            self.stats.liquidations += 1


def _plain(d: object) -> str:
    """A Decimal as a plain string without trailing zeros (the replay infers the tick from the digits)."""
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def write_replay_file(candles: Sequence[Candle], path: Path) -> int:
    """Write closed 1m candles as Parquet in Bybit kline column order; returns the rows written."""
    closed = sorted((c for c in candles if c.confirmed), key=lambda c: c.start)
    table = pa.table(
        {
            "timestamp": pa.array([c.start for c in closed], pa.int64()),
            "open": [_plain(c.open) for c in closed],
            "high": [_plain(c.high) for c in closed],
            "low": [_plain(c.low) for c in closed],
            "close": [_plain(c.close) for c in closed],
            "volume": [_plain(c.volume) for c in closed],
            "turnover": [_plain(c.turnover) for c in closed],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return len(closed)


async def export_replay(store: Store, out_dir: Path, symbols: Sequence[str], *, venue: str) -> dict[str, int]:
    """Export recorded 1m candles to `out_dir/SYMBOL_1m.parquet` (for `asym sim serve --replay`)."""
    written = {}
    for s in symbols:
        candles = await store.candles(s, Interval.M1, venue=venue)
        if candles:
            written[s] = write_replay_file(candles, out_dir / f"{s}_1m.parquet")
    return written
