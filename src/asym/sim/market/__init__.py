"""The simulator's market model: instruments, generated or replayed prices, books, trades, tickers, history,
funding, open interest, long/short ratio and crowd liquidations (`Market`, a MarketModel)."""

from asym.sim.market.market import Market, default_start_ms

__all__ = ["Market", "default_start_ms"]
