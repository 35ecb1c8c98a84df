"""Store configuration and the store's own error (a subclass of asym's one exception tree)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from asym.errors import AsymError


class StoreError(AsymError):
    """The database could not be opened, migrated or written (I/O, lock held by another process, ...)."""


def _default_retention() -> dict[str, int]:
    # High-volume snapshots are pruned; candles, funding, OI and all trading state are kept forever.
    return {
        "book_snapshots": 7,
        "tickers": 30,
        "liquidations": 90,
        "enhanced_snapshots": 90,
        "quality_events": 30,
    }


class StoreConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where the database lives and how the writer batches; see docs/store.md."""

    path: str = "data/asym.duckdb"
    """The DuckDB file (its directory is created); ':memory:' for a throw-away store."""
    batch_rows: int = 5_000
    """Fire-and-forget rows are committed once this many are pending ..."""
    flush_interval_s: float = 0.5
    """... or when the oldest pending row is this old."""
    book_depth: int = 25
    """Levels per side kept of each order-book snapshot."""
    retention_days: dict[str, int] = msgspec.field(default_factory=_default_retention)
    """Table -> days to keep; tables not listed are never pruned."""
    max_flush_retries: int = 5
    """A fire-and-forget batch that fails this many times in a row goes to the dead-letter file."""
    deadletter_path: str | None = None
    """Where rows that could not be written go (JSON lines); default `<path>.deadletter.jsonl`."""
    duckdb_threads: int | None = None
    memory_limit: str | None = None

    @property
    def in_memory(self) -> bool:
        """True for ':memory:'."""
        return self.path == ":memory:"

    def deadletter(self) -> Path | None:
        """The dead-letter file, or None for an in-memory store without one configured."""
        if self.deadletter_path:
            return Path(self.deadletter_path)
        return None if self.in_memory else Path(self.path + ".deadletter.jsonl")


__all__ = ["StoreConfig", "StoreError"]
