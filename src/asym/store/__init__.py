"""The embedded store: market data and trading state in one transactional DuckDB file.

`Store` (async, writes on a writer thread) is what the rest of asym uses; `Database` is the synchronous
core for tools and tests; `queries` holds the typed reads. See docs/store.md.
"""

from asym.store.config import StoreConfig, StoreError
from asym.store.db import Database, WriteItem, WriteResult
from asym.store.records import DecisionRecord, EquityPoint, OrderIntent, SignalRecord
from asym.store.schema import MIGRATIONS, Migration, apply_migrations, current_version
from asym.store.store import Store
from asym.store.tables import ALL_TABLES
from asym.store.writer import WriterStats

__all__ = [
    "ALL_TABLES",
    "MIGRATIONS",
    "Database",
    "DecisionRecord",
    "EquityPoint",
    "Migration",
    "OrderIntent",
    "SignalRecord",
    "Store",
    "StoreConfig",
    "StoreError",
    "WriteItem",
    "WriteResult",
    "WriterStats",
    "apply_migrations",
    "current_version",
]
