"""`Store`: the asyncio face of the database (typed writes and reads; nothing blocks the event loop).

    store = await Store.open(StoreConfig(path="data/asym.duckdb"))
    await store.write_candles(candles)            # returns once committed (idempotent by primary key)
    store.submit_tickers(tickers)                 # fire-and-forget, batched by the writer thread
    await store.write_all(orders=[o], decisions=[d], intents=[i])   # several tables, one transaction
    rows = await store.candles("BTCUSDT", Interval.M1, start=t0, end=t1)
    await store.close()                           # flushes what is pending

Writes go to the writer thread (`asym.store.writer`); reads run in a worker thread on their own cursor
and see every committed write (a submitted row is visible after the next flush: `await store.flush()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from asym.domain import (
    Candle,
    Category,
    Execution,
    FundingRate,
    Interval,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    Order,
    OrderBook,
    Position,
    Ticker,
    WalletBalance,
)
from asym.errors import DataError
from asym.store import queries as q
from asym.store import tables as tb
from asym.store.config import StoreConfig
from asym.store.db import Database, WriteItem, WriteResult
from asym.store.records import DecisionRecord, EquityPoint, OrderIntent, SignalRecord
from asym.store.schema import MIGRATIONS, Migration
from asym.store.writer import Writer, WriterStats

if TYPE_CHECKING:
    from asym.analytics.types import EnhancedData
    from asym.market.quality import QualityEvent

R = TypeVar("R")

_KEYWORD_TABLES = {
    "candles": tb.CANDLES,
    "books": tb.BOOKS,
    "tickers": tb.TICKERS,
    "funding": tb.FUNDING,
    "open_interest": tb.OPEN_INTEREST,
    "long_short": tb.LONG_SHORT,
    "liquidations": tb.LIQUIDATIONS,
    "enhanced": tb.ENHANCED,
    "quality_events": tb.QUALITY,
    "intents": tb.INTENTS,
    "orders": tb.ORDERS,
    "executions": tb.EXECUTIONS,
    "positions": tb.POSITIONS,
    "equity": tb.EQUITY,
    "decisions": tb.DECISIONS,
    "signals": tb.SIGNALS,
}
"""`write_all` / `submit_all` keyword -> table."""


class Store:
    """Market data and trading state in one transactional DuckDB store."""

    def __init__(self, db: Database, config: StoreConfig) -> None:
        self.config = config
        self._db = db
        # readers get their cursors from this root, never from the writer's connection (used by its thread)
        self._reader_root = db.cursor()
        self._reader_lock = threading.Lock()
        self._writer = Writer(db, config)

    @classmethod
    async def open(
        cls, config: StoreConfig | None = None, *, migrations: Sequence[Migration] = MIGRATIONS
    ) -> Store:
        """Open (creating and migrating if needed) the database in a worker thread."""
        cfg = config or StoreConfig()
        db = await asyncio.to_thread(Database, cfg, migrations=migrations)
        return cls(db, cfg)

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def stats(self) -> WriterStats:
        """Writer counters: batches, rows changed, pending, dead-lettered, failures."""
        return self._writer.stats

    @property
    def path(self) -> Path | None:
        """The database file (None in memory)."""
        return None if self.config.in_memory else Path(self.config.path)

    # ------------------------------------------------------------------ writes

    def _items(self, tables: dict[str, Sequence[Any]], venue: str, account: str) -> list[WriteItem]:
        items = []
        for key, objs in tables.items():
            spec = _KEYWORD_TABLES.get(key)
            if spec is None:
                raise DataError(f"unknown table keyword {key!r}; known: {sorted(_KEYWORD_TABLES)}")
            if spec is tb.EQUITY:
                objs = [
                    o if isinstance(o, EquityPoint) else EquityPoint(account=account, balance=o) for o in objs
                ]
            items.append(WriteItem(spec, objs, {"venue": venue, "depth": self.config.book_depth}))
            if spec is tb.POSITIONS:  # every state also goes to the history, in the same transaction
                items.append(WriteItem(tb.POSITION_HISTORY, objs, {}))
        return items

    async def write_all(
        self, *, venue: str = "bybit", account: str = "main", **tables: Sequence[Any]
    ) -> WriteResult:
        """Write several tables in ONE transaction (keywords: candles, books, tickers, funding, open_interest,
        long_short, liquidations, enhanced, quality_events, intents, orders, executions, positions, equity,
        decisions, signals). Returns once committed; DataError (nothing written) if any row is not exact."""
        return await self._writer.write(self._items(tables, venue, account))

    def submit_all(self, *, venue: str = "bybit", account: str = "main", **tables: Sequence[Any]) -> None:
        """Fire-and-forget `write_all`: batched, committed within `flush_interval_s`."""
        self._writer.submit(self._items(tables, venue, account))

    async def write_candles(self, candles: Sequence[Candle], *, venue: str = "bybit") -> int:
        """Upsert candles (a confirmed candle is never replaced by an open one); rows changed."""
        return (await self.write_all(candles=candles, venue=venue)).total

    async def write_books(self, books: Sequence[OrderBook], *, venue: str = "bybit") -> int:
        """Insert order-book snapshots (top `book_depth` levels per side)."""
        return (await self.write_all(books=books, venue=venue)).total

    async def write_tickers(self, tickers: Sequence[Ticker], *, venue: str = "bybit") -> int:
        """Insert ticker snapshots."""
        return (await self.write_all(tickers=tickers, venue=venue)).total

    async def write_funding(self, rates: Sequence[FundingRate], *, venue: str = "bybit") -> int:
        """Insert settled funding rates."""
        return (await self.write_all(funding=rates, venue=venue)).total

    async def write_open_interest(self, values: Sequence[OpenInterest], *, venue: str = "bybit") -> int:
        """Insert open-interest values."""
        return (await self.write_all(open_interest=values, venue=venue)).total

    async def write_long_short(self, values: Sequence[LongShortRatio], *, venue: str = "bybit") -> int:
        """Insert long/short ratios."""
        return (await self.write_all(long_short=values, venue=venue)).total

    async def write_liquidations(self, liqs: Sequence[Liquidation], *, venue: str = "bybit") -> int:
        """Insert public liquidations."""
        return (await self.write_all(liquidations=liqs, venue=venue)).total

    async def write_enhanced(self, snapshots: Sequence[EnhancedData]) -> int:
        """Upsert enhanced-data snapshots (a recomputation replaces the stored one)."""
        return (await self.write_all(enhanced=snapshots)).total

    async def write_quality_events(self, events: Sequence[QualityEvent]) -> int:
        """Insert quality events."""
        return (await self.write_all(quality_events=events)).total

    async def write_intents(self, intents: Sequence[OrderIntent]) -> int:
        """Record order intents BEFORE sending them (an intent is never changed)."""
        return (await self.write_all(intents=intents)).total

    async def write_orders(self, orders: Sequence[Order]) -> int:
        """Upsert orders; an update older than the stored state (updated_time) is ignored."""
        return (await self.write_all(orders=orders)).total

    async def write_executions(self, execs: Sequence[Execution]) -> int:
        """Insert executions (idempotent by exec_id)."""
        return (await self.write_all(executions=execs)).total

    async def write_positions(self, positions: Sequence[Position]) -> int:
        """Upsert current positions (newer updated_time wins) and append them to the position history."""
        return (await self.write_all(positions=positions)).total

    async def write_equity(self, balances: Sequence[WalletBalance], *, account: str = "main") -> int:
        """Append wallet balances to an account's equity history."""
        return (await self.write_all(equity=balances, account=account)).total

    async def write_decisions(self, decisions: Sequence[DecisionRecord]) -> int:
        """Insert trading decisions with their reasons."""
        return (await self.write_all(decisions=decisions)).total

    async def write_signals(self, signals: Sequence[SignalRecord]) -> int:
        """Insert signals and rejections."""
        return (await self.write_all(signals=signals)).total

    def submit_candles(self, candles: Sequence[Candle], *, venue: str = "bybit") -> None:
        """Fire-and-forget `write_candles`."""
        self.submit_all(candles=candles, venue=venue)

    def submit_books(self, books: Sequence[OrderBook], *, venue: str = "bybit") -> None:
        """Fire-and-forget `write_books`."""
        self.submit_all(books=books, venue=venue)

    def submit_tickers(self, tickers: Sequence[Ticker], *, venue: str = "bybit") -> None:
        """Fire-and-forget `write_tickers`."""
        self.submit_all(tickers=tickers, venue=venue)

    def submit_liquidations(self, liqs: Sequence[Liquidation], *, venue: str = "bybit") -> None:
        """Fire-and-forget `write_liquidations`."""
        self.submit_all(liquidations=liqs, venue=venue)

    def submit_quality_events(self, events: Sequence[QualityEvent]) -> None:
        """Fire-and-forget `write_quality_events`."""
        self.submit_all(quality_events=events)

    async def flush(self) -> None:
        """Return once everything submitted so far is committed (or dead-lettered)."""
        await self._writer.call(lambda db: None)

    async def export_parquet(
        self, table: str, dest: str | Path, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> int:
        """COPY a table's rows in [start_ms, end_ms) to a Parquet file (after a flush); rows written."""
        return await self._writer.call(
            lambda db: db.export_parquet(table, dest, start_ms=start_ms, end_ms=end_ms)
        )

    async def apply_retention(
        self, now_ms: int | None = None, days: dict[str, int] | None = None
    ) -> dict[str, int]:
        """Delete rows older than the configured days per table; rows deleted per table."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        return await self._writer.call(lambda db: db.apply_retention(now, days))

    async def checkpoint(self) -> None:
        """Fold the write-ahead log into the file."""
        await self._writer.call(lambda db: db.checkpoint())

    async def close(self) -> None:
        """Flush, checkpoint and close. Idempotent."""
        with self._reader_lock, contextlib.suppress(duckdb.Error):
            self._reader_root.close()
        await self._writer.close()

    # ------------------------------------------------------------------ reads

    async def query(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run any `asym.store.queries` function (or your own `fn(conn, ...)`) on a fresh cursor."""

        def run() -> R:
            with self._reader_lock:
                cur = self._reader_root.cursor()
            try:
                return fn(cur, *args, **kwargs)
            finally:
                cur.close()

        return await asyncio.to_thread(run)

    async def candles(
        self,
        symbol: str,
        interval: Interval,
        *,
        start: int | None = None,
        end: int | None = None,
        venue: str = "bybit",
        category: Category = Category.LINEAR,
    ) -> list[Candle]:
        """Candles of one series in [start, end), oldest first."""
        return await self.query(
            q.candles, symbol, interval, start=start, end=end, venue=venue, category=category
        )

    async def candle_starts(
        self,
        symbol: str,
        interval: Interval,
        *,
        start: int | None = None,
        end: int | None = None,
        venue: str = "bybit",
    ) -> list[int]:
        """Confirmed candle starts present in [start, end) (feed to `find_candle_gaps` to plan a backfill)."""
        return await self.query(q.candle_starts, symbol, interval, start=start, end=end, venue=venue)

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still open (New, PartiallyFilled, Untriggered)."""
        return await self.query(q.orders, symbol=symbol, open_only=True)

    async def pending_intents(self) -> list[OrderIntent]:
        """Intents with no order recorded: reconcile these by orderLinkId after a restart."""
        return await self.query(q.pending_intents)

    async def positions(self, *, open_only: bool = False) -> list[Position]:
        """Current positions."""
        return await self.query(q.positions, open_only=open_only)

    async def row_counts(self) -> dict[str, int]:
        """Rows per table."""
        return await self.query(q.row_counts)


__all__ = ["Store"]
