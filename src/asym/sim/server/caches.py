"""Formatted-JSON caches for the hot public endpoints (tickers, order books, instruments).

A ticker or a book is formatted once per change of the underlying state (keyed by its timestamps and
sequence numbers) and reused by every request that sees the same state: no Decimal arithmetic per request.
"""

from __future__ import annotations

from typing import Any

from asym.sim.server.wire_market import book_result, instrument_item, ticker_item
from asym.sim.types import MarketModel, SimInstrument


class Caches:
    """Per-server caches of formatted market objects."""

    def __init__(self, market: MarketModel) -> None:
        self.market = market
        self.instruments: list[SimInstrument] = market.instruments()
        self.instrument_items: list[dict[str, Any]] = [
            instrument_item(inst, i + 1) for i, inst in enumerate(self.instruments)
        ]
        self._tickers: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._books: dict[tuple[str, int], tuple[int, dict[str, Any]]] = {}

    def ticker(self, inst: SimInstrument) -> dict[str, Any]:
        """The REST ticker item of `inst` now (formatted once per ticker state)."""
        t = self.market.ticker(inst.symbol)
        key = (t.ts, t.cs)
        hit = self._tickers.get(inst.symbol)
        if hit is not None and hit[0] == key:
            return hit[1]
        item = ticker_item(inst, t)
        self._tickers[inst.symbol] = (key, item)
        return item

    def book(self, inst: SimInstrument, depth: int) -> dict[str, Any]:
        """The REST order-book result of `inst` at `depth` (formatted once per book update)."""
        b = self.market.book(inst.symbol, depth)
        key = (inst.symbol, depth)
        hit = self._books.get(key)
        if hit is not None and hit[0] == b.update_id:
            cached = hit[1]
            if cached["ts"] == b.ts:
                return cached
            # Same levels, newer generation time: reuse the formatted levels.
            result = {**cached, "ts": b.ts, "seq": b.seq, "cts": b.cts}
        else:
            result = book_result(inst, b)
        self._books[key] = (b.update_id, result)
        return result
