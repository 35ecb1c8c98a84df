"""Collector and recorder output into the store: candles in bounded batches as they are fetched, each
cycle's other data in one transaction, history written once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

from asym.domain import Candle, FundingRate, Liquidation, LongShortRatio, OpenInterest
from asym.market.results import CycleResult
from asym.store import Store

T = TypeVar("T")

CANDLE_BATCH = 20_000
"""Candles buffered before a write: about 12 MB as domain objects, and large enough that a first cycle
over 500 symbols (about 244,000 candles) is a dozen transactions, not 500."""


class StoreSink:
    """Writes every collection cycle to the store (idempotent: a cycle written twice adds nothing).

    Candles arrive per symbol while the cycle runs and are written in batches of `candle_batch`: memory
    stays bounded however large the universe, and a slow store slows the collector (the caller awaits the
    batch's commit) instead of piling up. Whatever is still buffered goes into the cycle's transaction.
    Series the collector keeps across cycles (funding, open interest, long/short ratio, liquidations) are
    written from where the previous cycle stopped, so each row is sent once.
    """

    def __init__(self, store: Store, venue: str = "bybit", *, candle_batch: int = CANDLE_BATCH) -> None:
        self.store = store
        self.venue = venue
        self.candle_batch = candle_batch
        self._written: dict[tuple[str, str], int] = {}
        self._candles: list[Candle] = []
        self._flushing = asyncio.Lock()

    def _new(self, kind: str, symbol: str, items: Sequence[T] | None, ts: Callable[[T], int]) -> list[T]:
        if not items:
            return []
        last = self._written.get((kind, symbol), -1)
        fresh = [i for i in items if ts(i) >= last]  # >=: a row at the same ms may arrive later
        if fresh:
            self._written[(kind, symbol)] = max(ts(i) for i in fresh)
        return fresh

    async def write_candles(self, candles: Sequence[Candle]) -> None:
        """Buffer one symbol's fetched candles; write the buffer once it holds `candle_batch`."""
        self._candles += candles
        if len(self._candles) < self.candle_batch:
            return
        # One batch in flight: symbols that fill the buffer meanwhile wait here (bounded memory).
        async with self._flushing:
            if len(self._candles) >= self.candle_batch:
                batch, self._candles = self._candles, []
                await self.store.write_all(venue=self.venue, candles=batch)

    async def write_cycle(self, result: CycleResult) -> None:
        """Persist one cycle: buffered candles, books, tickers, history, liquidations, enhanced, quality."""
        funding: list[FundingRate] = []
        oi: list[OpenInterest] = []
        ls: list[LongShortRatio] = []
        liqs: list[Liquidation] = []
        for r in result.results:
            inp = r.inputs
            funding += self._new("funding", r.symbol, inp.funding_history, lambda f: f.ts)
            oi += self._new("oi", r.symbol, inp.open_interest_history, lambda o: o.ts)
            ls += self._new("ls", r.symbol, inp.long_short_history, lambda x: x.ts)
            liqs += self._new("liq", r.symbol, inp.liquidations, lambda x: x.ts)
        candles, self._candles = self._candles, []
        await self.store.write_all(
            venue=self.venue,
            candles=candles,
            books=[r.inputs.book for r in result.results if r.inputs.book is not None],
            tickers=[r.inputs.ticker for r in result.results if r.inputs.ticker is not None],
            funding=funding,
            open_interest=oi,
            long_short=ls,
            liquidations=liqs,
            enhanced=[r.enhanced for r in result.results],
            quality_events=[e for r in result.results for e in r.events],
        )
