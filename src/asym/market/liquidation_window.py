"""Public liquidations kept per symbol for a time window (pure)."""

from __future__ import annotations

from collections import deque

from asym.domain import Liquidation


class LiquidationWindow:
    """The liquidations of the last `window_ms`, per symbol, oldest first."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._by_symbol: dict[str, deque[Liquidation]] = {}
        self._since: dict[str, int] = {}

    def watching(self, symbol: str, since_ms: int) -> None:
        """Note that the liquidation stream of `symbol` is up since `since_ms` (reset on reconnect)."""
        self._since[symbol] = since_ms

    def add(self, liq: Liquidation) -> None:
        """Keep one liquidation."""
        self._by_symbol.setdefault(liq.symbol, deque()).append(liq)

    def recent(self, symbol: str, now_ms: int) -> list[Liquidation] | None:
        """Liquidations inside the window, or None when the stream has not been watched at all."""
        if symbol not in self._since:
            return None
        q = self._by_symbol.get(symbol)
        if q is None:
            return []
        cutoff = now_ms - self.window_ms
        while q and q[0].ts < cutoff:
            q.popleft()
        return list(q)

    def covers_window(self, symbol: str, now_ms: int) -> bool:
        """True when the stream has been up for the whole window (else the count is a lower bound)."""
        since = self._since.get(symbol)
        return since is not None and now_ms - since >= self.window_ms
