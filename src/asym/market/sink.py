"""Collector and recorder output into the store: each cycle in one transaction, history written once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from asym.domain import FundingRate, Liquidation, LongShortRatio, OpenInterest
from asym.market.collector import CycleResult
from asym.store import Store

T = TypeVar("T")


class StoreSink:
    """Writes every collection cycle to the store (idempotent: a cycle written twice adds nothing).

    Series the collector keeps across cycles (funding, open interest, long/short ratio, liquidations) are
    written from where the previous cycle stopped, so each row is sent once.
    """

    def __init__(self, store: Store, venue: str = "bybit") -> None:
        self.store = store
        self.venue = venue
        self._written: dict[tuple[str, str], int] = {}

    def _new(self, kind: str, symbol: str, items: Sequence[T] | None, ts: Callable[[T], int]) -> list[T]:
        if not items:
            return []
        last = self._written.get((kind, symbol), -1)
        fresh = [i for i in items if ts(i) >= last]  # >=: a row at the same ms may arrive later
        if fresh:
            self._written[(kind, symbol)] = max(ts(i) for i in fresh)
        return fresh

    async def write_cycle(self, result: CycleResult) -> None:
        """Persist one cycle: candles, books, tickers, history, liquidations, enhanced data, quality."""
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
        await self.store.write_all(
            venue=self.venue,
            candles=[c for r in result.results for c in r.new_candles],
            books=[r.inputs.book for r in result.results if r.inputs.book is not None],
            tickers=[r.inputs.ticker for r in result.results if r.inputs.ticker is not None],
            funding=funding,
            open_interest=oi,
            long_short=ls,
            liquidations=liqs,
            enhanced=[r.enhanced for r in result.results],
            quality_events=[e for r in result.results for e in r.events],
        )
