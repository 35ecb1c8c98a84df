"""The synchronous database: open + migrate, transactional batch writes, Parquet export, retention.

One `Database` owns one DuckDB connection. It is not thread-safe: the store's writer thread is its only
writer; readers take their own `cursor()` (a separate connection to the same database, safe in another
thread, and it sees every committed transaction). Tools and tests can use it directly, without asyncio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from asym.errors import DataError
from asym.store.codec import Ctx, TableSpec, bad_rows, dedupe, to_arrow
from asym.store.config import StoreConfig, StoreError
from asym.store.schema import MIGRATIONS, Migration, apply_migrations
from asym.store.tables import ALL_TABLES

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class WriteItem:
    """Objects for one table, with the context their rows need (venue, book depth, ...)."""

    spec: TableSpec
    objs: Sequence[Any]
    ctx: Ctx = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row the lenient (fire-and-forget) path could not store, and why."""

    table: str
    row: tuple[Any, ...] | None
    obj: Any
    reason: str


@dataclass(slots=True)
class WriteResult:
    """Rows inserted or updated per table (a duplicate that changed nothing counts 0), and rejects."""

    changed: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def total(self) -> int:
        """All rows inserted or updated."""
        return sum(self.changed.values())


class Database:
    """One DuckDB database, migrated to the newest schema when opened read-write."""

    def __init__(
        self, config: StoreConfig | None = None, *, migrations: Sequence[Migration] = MIGRATIONS
    ) -> None:
        self.config = config or StoreConfig()
        path = self.config.path
        opts: dict[str, Any] = {}
        if self.config.duckdb_threads:
            opts["threads"] = self.config.duckdb_threads
        if self.config.memory_limit:
            opts["memory_limit"] = self.config.memory_limit
        try:
            if not self.config.in_memory:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = duckdb.connect(path, config=opts)
        except (duckdb.Error, OSError) as e:
            raise StoreError(f"cannot open the store at {path}: {e}") from e
        try:
            self.applied = apply_migrations(self._conn, migrations)
        except BaseException:
            self._conn.close()
            raise
        self._seq = 0

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The writer's connection (use only from the thread that writes)."""
        return self._conn

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the same database, for reading from another thread."""
        return self._conn.cursor()

    def _rows(self, item: WriteItem, result: WriteResult | None) -> list[tuple[Any, ...]]:
        rows = []
        for obj in item.objs:
            try:
                rows.append(item.spec.encode(obj, item.ctx))
            except (AttributeError, TypeError, ValueError, KeyError) as e:
                if result is None:
                    raise DataError(f"{item.spec.name}: cannot encode {type(obj).__name__}: {e}") from e
                result.rejected.append(Rejected(item.spec.name, None, obj, f"cannot encode: {e}"))
        return rows

    def encode(
        self, items: Sequence[WriteItem], *, lenient: bool = False
    ) -> tuple[dict[str, pa.Table], WriteResult]:
        """Arrow tables per table (deduplicated by key); strict: DataError on a bad row, lenient: rejects."""
        result = WriteResult()
        grouped: dict[str, tuple[TableSpec, list[tuple[Any, ...]]]] = {}
        for item in items:
            spec, rows = grouped.setdefault(item.spec.name, (item.spec, []))
            rows.extend(self._rows(item, result if lenient else None))
        tables: dict[str, pa.Table] = {}
        for name, (spec, rows) in grouped.items():
            rows = dedupe(spec, rows)
            if not rows:
                continue
            if lenient:
                try:
                    tables[name] = to_arrow(spec, rows)
                    continue
                except DataError:
                    bad = dict(bad_rows(spec, rows))  # the slow per-row scan runs only when needed
                result.rejected += [Rejected(name, rows[i], None, why) for i, why in bad.items()]
                rows = [r for i, r in enumerate(rows) if i not in bad]
            if rows:
                tables[name] = to_arrow(spec, rows)
        return tables, result

    def write(self, items: Sequence[WriteItem], *, lenient: bool = False) -> WriteResult:
        """Write every item in ONE transaction: all rows are committed, or none (the error says why)."""
        tables, result = self.encode(items, lenient=lenient)
        if tables:
            result.changed = self.insert(tables)
        return result

    def insert(self, tables: Mapping[str, pa.Table]) -> dict[str, int]:
        """Insert encoded tables in one transaction (each per its conflict policy); rows changed per table."""
        changed: dict[str, int] = {}
        conn = self._conn
        try:
            conn.execute("BEGIN TRANSACTION")
            for name, table in tables.items():
                self._seq += 1
                view = f"__batch_{self._seq}"
                conn.register(view, table)
                try:
                    row = conn.execute(ALL_TABLES[name].insert_sql(view)).fetchone()
                finally:
                    conn.unregister(view)
                changed[name] = int(row[0]) if row else 0
            conn.execute("COMMIT")
        except duckdb.Error as e:
            try:
                conn.execute("ROLLBACK")
            except duckdb.Error:
                pass  # the transaction is already gone; the original error is what matters
            raise StoreError(f"write failed and was rolled back: {e}") from e
        return changed

    def export_parquet(
        self, table: str, dest: str | Path, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> int:
        """COPY one table (rows with start_ms <= time < end_ms) to a Parquet file; returns the row count."""
        spec = _spec(table)
        where = _range_sql(spec.time_col, start_ms, end_ms)
        out = Path(dest)
        out.parent.mkdir(parents=True, exist_ok=True)
        target = str(out).replace("'", "''")
        sql = (
            f"COPY (SELECT * FROM {spec.name}{where} ORDER BY {', '.join(spec.key)}) "
            f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
        )
        row = self.cursor().execute(sql).fetchone()
        return int(row[0]) if row else 0

    def apply_retention(self, now_ms: int, days: Mapping[str, int] | None = None) -> dict[str, int]:
        """Delete rows older than N days per table (one transaction); rows deleted per table."""
        policy = self.config.retention_days if days is None else days
        deleted: dict[str, int] = {}
        conn = self._conn
        conn.execute("BEGIN TRANSACTION")
        try:
            for table, n in policy.items():
                spec = _spec(table)
                if n <= 0:
                    raise DataError(f"retention for {table} must be at least 1 day, got {n}")
                row = conn.execute(
                    f"DELETE FROM {spec.name} WHERE {spec.time_col} < ?", [now_ms - n * _DAY_MS]
                )
                deleted[table] = int((row.fetchone() or (0,))[0])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return deleted

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file."""
        self._conn.execute("CHECKPOINT")

    def close(self) -> None:
        """Checkpoint and close (safe to call twice)."""
        try:
            self._conn.execute("CHECKPOINT")
        except duckdb.Error:
            pass  # closed already, or read-only: closing is still right
        self._conn.close()


def _spec(table: str) -> TableSpec:
    spec = ALL_TABLES.get(table)
    if spec is None:
        raise DataError(f"unknown table {table!r}; known: {sorted(ALL_TABLES)}")
    return spec


def _range_sql(col: str, start_ms: int | None, end_ms: int | None) -> str:
    parts = []
    if start_ms is not None:
        parts.append(f"{col} >= {int(start_ms)}")
    if end_ms is not None:
        parts.append(f"{col} < {int(end_ms)}")
    return " WHERE " + " AND ".join(parts) if parts else ""


__all__ = ["Database", "Rejected", "WriteItem", "WriteResult"]
