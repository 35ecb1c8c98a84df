"""Formatted-JSON caches for the hot public endpoints (tickers, order books, instruments).

A ticker or a book is formatted and encoded once per change of the underlying state (keyed by its
timestamps and sequence numbers) and embedded as raw JSON in every answer that sees the same state: no
Decimal arithmetic and no re-encoding per request. A kline list is encoded once per query and market
time: identical queries within one market step (many clients polling the same candles) share it.
Book levels keep their strings from one book to the next (most levels do not change between 100 ms
steps), so a new book formats only its new levels.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import msgspec

from asym.sim.server.envelope import encode
from asym.sim.server.wire_market import RawTickerFormatter, TickerFormatter, instrument_item
from asym.sim.types import MarketModel, SimInstrument

BUILD_SLICE_S = 0.01
"""Longest stretch of symbol building between two pauses."""
BUILD_PAUSE_S = 0.002
"""A pause lets the event loop run every pending request step (a request takes several loop turns)."""
KLINE_CACHE_SIZE = 1024
"""Distinct kline queries kept per market step (the whole cache empties when the market moves on)."""

KlineQuery = tuple[str, str, int | None, int | None, int, str]
"""(symbol, interval, start, end, limit, kind) of a kline request."""


class _Levels:
    """One symbol's book levels as encoded JSON arrays, reusing the [price, size] strings of levels that
    were in the previous book."""

    __slots__ = ("inst", "memo")

    def __init__(self, inst: SimInstrument) -> None:
        self.inst = inst
        self.memo: dict[tuple[int, int], list[str]] = {}

    def encode(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> tuple[bytes, bytes]:
        """(bids JSON, asks JSON) as Bybit's [["price", "size"], ...]."""
        old = self.memo
        memo: dict[tuple[int, int], list[str]] = {}
        ps = self.inst.price.to_str
        qs = self.inst.qty.to_str
        out = []
        for levels in (bids, asks):
            items = []
            for level in levels:
                pair = old.get(level)
                if pair is None:
                    pair = [ps(level[0]), qs(level[1])]
                memo[level] = pair
                items.append(pair)
            out.append(encode(items))
        self.memo = memo
        return out[0], out[1]


class Caches:
    """Per-server caches of formatted market objects."""

    def __init__(self, market: MarketModel) -> None:
        self.market = market
        self.instruments: list[SimInstrument] = market.instruments()
        self.instrument_items: list[dict[str, Any]] = [
            instrument_item(inst, i + 1) for i, inst in enumerate(self.instruments)
        ]
        self._tickers: dict[str, tuple[tuple[int, int], msgspec.Raw]] = {}
        self._formatters: dict[str, Any] = {}
        raw = getattr(market, "ticker_raw", None)
        self._ticker_fn: Any = raw if raw is not None else market.ticker
        self._formatter: Any = RawTickerFormatter if raw is not None else TickerFormatter
        self._books: dict[tuple[str, int], tuple[int, msgspec.Raw, msgspec.Raw]] = {}
        self._levels: dict[str, _Levels] = {}
        self._klines: dict[KlineQuery, msgspec.Raw] = {}
        self._klines_at = -1
        self._builder: asyncio.Task[None] | None = None

    def ticker(self, inst: SimInstrument) -> msgspec.Raw:
        """The REST ticker item of `inst` now, as encoded JSON (formatted once per ticker state)."""
        t = self._ticker_fn(inst.symbol)
        key = (t.ts, t.cs)
        hit = self._tickers.get(inst.symbol)
        if hit is not None and hit[0] == key:
            return hit[1]
        fmt = self._formatters.get(inst.symbol)
        if fmt is None:
            fmt = self._formatters[inst.symbol] = self._formatter(inst)
        item = msgspec.Raw(encode(fmt.fields(t)))
        self._tickers[inst.symbol] = (key, item)
        return item

    async def build_all(self) -> None:
        """Build every symbol not built yet (a cold 500-symbol market takes seconds). One builder runs at
        a time, in slices of BUILD_SLICE_S with short pauses between them so that other requests are
        answered meanwhile; every caller waits for the same builder."""
        built = getattr(self.market, "built", None)
        if built is None or all(built(inst.symbol) for inst in self.instruments):
            return
        if self._builder is None or self._builder.done():
            self._builder = asyncio.create_task(self._build(built), name="sim-build-symbols")
        await asyncio.shield(self._builder)

    async def _build(self, built: Any) -> None:
        deadline = time.perf_counter() + BUILD_SLICE_S
        for inst in self.instruments:
            if built(inst.symbol):
                continue
            self.market.ticker(inst.symbol)
            if time.perf_counter() >= deadline:
                await asyncio.sleep(BUILD_PAUSE_S)
                deadline = time.perf_counter() + BUILD_SLICE_S

    async def close(self) -> None:
        """Stop a running builder."""
        task, self._builder = self._builder, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def tickers(self) -> list[msgspec.Raw]:
        """Every listed ticker now (their tops of book built in one batch when the market can)."""
        prime = getattr(self.market, "prime_tops", None)
        if prime is not None:
            prime([inst.symbol for inst in self.instruments])
        return [self.ticker(inst) for inst in self.instruments]

    def kline_list(self, query: KlineQuery, build: Callable[[], list[list[str]]]) -> msgspec.Raw:
        """The encoded kline list answering `query` now; `build` formats it when this market step has not
        answered the same query yet (candles only change when the market advances)."""
        now = self.market.now_ms()
        if now != self._klines_at or len(self._klines) >= KLINE_CACHE_SIZE:
            self._klines.clear()
            self._klines_at = now
        hit = self._klines.get(query)
        if hit is None:
            hit = self._klines[query] = msgspec.Raw(encode(build()))
        return hit

    def book(self, inst: SimInstrument, depth: int) -> dict[str, Any]:
        """The REST order-book result of `inst` at `depth` (levels encoded once per book update)."""
        b = self.market.book(inst.symbol, depth)
        key = (inst.symbol, depth)
        hit = self._books.get(key)
        if hit is not None and hit[0] == b.update_id:
            bids, asks = hit[1], hit[2]
        else:
            levels = self._levels.get(inst.symbol)
            if levels is None:
                levels = self._levels[inst.symbol] = _Levels(inst)
            raw_b, raw_a = levels.encode(b.bids, b.asks)
            bids, asks = msgspec.Raw(raw_b), msgspec.Raw(raw_a)
            self._books[key] = (b.update_id, bids, asks)
        return {"s": b.symbol, "b": bids, "a": asks, "ts": b.ts, "u": b.update_id, "seq": b.seq, "cts": b.cts}
