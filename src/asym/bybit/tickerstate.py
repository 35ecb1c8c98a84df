"""Ticker stream state (pure): a `snapshot` replaces the fields, a `delta` merges only the changed ones."""

from __future__ import annotations

from typing import Any

from asym.bybit.convert.market import ticker_from_fields
from asym.domain import Category, Ticker
from asym.errors import DataError


class TickerState:
    """Merged fields of one `tickers.{symbol}` stream; unreadable until the first snapshot."""

    __slots__ = ("_fields", "category", "cs", "symbol", "ts")

    def __init__(self, symbol: str, category: Category = Category.LINEAR) -> None:
        self.symbol = symbol
        self.category = category
        self._fields: dict[str, Any] | None = None
        self.ts = 0
        self.cs = 0

    def apply(self, msg_type: str, data: dict[str, Any], ts: int, cs: int = 0) -> bool:
        """Apply one message; False when it cannot be applied (a delta before any snapshot)."""
        sym = data.get("symbol")
        if sym is not None and sym != self.symbol:
            raise DataError(f"ticker stream {self.symbol} got data for {sym!r}")
        if msg_type == "snapshot":
            self._fields = dict(data)
        elif msg_type == "delta":
            if self._fields is None:
                return False
            self._fields.update(data)
        else:
            raise DataError(f"ticker {self.symbol}: unknown message type {msg_type!r}")
        self._fields["symbol"] = self.symbol
        self.ts = ts
        self.cs = cs
        return True

    def reset(self) -> None:
        """Forget everything (after a reconnect the venue sends a fresh snapshot)."""
        self._fields = None

    @property
    def ready(self) -> bool:
        """True once a snapshot was applied."""
        return self._fields is not None

    @property
    def complete(self) -> bool:
        """True when `view` returns a ticker (a snapshot was applied and it has a last price)."""
        return self._fields is not None and bool(self._fields.get("lastPrice"))

    def view(self) -> Ticker | None:
        """The merged ticker, or None before the first snapshot (or without a last price yet)."""
        fields = self._fields
        if fields is None or not fields.get("lastPrice"):
            return None
        return ticker_from_fields(fields, self.ts, self.category)
