"""Schema versioning: ordered migrations, applied once, refused when the database is newer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from asym.errors import ConfigError
from asym.store import ALL_TABLES, MIGRATIONS, Database, Migration, StoreConfig, StoreError, current_version
from asym.store.schema import apply_migrations

LATEST = MIGRATIONS[-1].version


def test_new_database_is_at_the_latest_version(db: Database) -> None:
    assert db.applied == [m.version for m in MIGRATIONS]
    assert current_version(db.conn) == LATEST
    rows = db.conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert rows == [(m.version, m.name) for m in MIGRATIONS]


def test_table_specs_match_the_migrated_schema(db: Database) -> None:
    for name, spec in ALL_TABLES.items():
        cols = db.conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [name],
        ).fetchall()
        assert tuple(c for c, _ in cols) == spec.names, name
        for (col, kind), (_, sql_type) in zip(spec.cols, cols, strict=True):
            if kind == "dec":
                assert sql_type == "DECIMAL(38,18)", (name, col)
            if kind in ("int",):
                assert sql_type == "BIGINT", (name, col)


def test_reopening_applies_nothing(db_path: Path) -> None:
    Database(StoreConfig(path=str(db_path))).close()
    again = Database(StoreConfig(path=str(db_path)))
    assert again.applied == []
    again.close()


def test_a_new_migration_is_applied_once_on_an_existing_database(db_path: Path) -> None:
    Database(StoreConfig(path=str(db_path))).close()
    v2 = Migration(LATEST + 1, "add notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text VARCHAR);")
    db = Database(StoreConfig(path=str(db_path)), migrations=(*MIGRATIONS, v2))
    assert db.applied == [LATEST + 1] and current_version(db.conn) == LATEST + 1
    db.close()
    # an older asym (without v2) refuses to run against the newer database
    with pytest.raises(StoreError, match="newer than this asym knows"):
        Database(StoreConfig(path=str(db_path)))


def test_a_failing_migration_rolls_back_completely(db_path: Path) -> None:
    Database(StoreConfig(path=str(db_path))).close()
    bad = Migration(LATEST + 1, "broken", "CREATE TABLE half (id INTEGER); CREATE TABLE oops (;")
    with pytest.raises(StoreError, match="migration v2"):
        Database(StoreConfig(path=str(db_path)), migrations=(*MIGRATIONS, bad))
    conn = duckdb.connect(str(db_path))
    try:
        assert current_version(conn) == LATEST
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "half" not in tables
    finally:
        conn.close()


def test_migrations_must_be_ordered() -> None:
    conn = duckdb.connect()
    with pytest.raises(ConfigError):
        apply_migrations(conn, (Migration(2, "b", "SELECT 1"), Migration(1, "a", "SELECT 1")))
    with pytest.raises(ConfigError):
        apply_migrations(conn, (Migration(1, "a", "SELECT 1"), Migration(1, "a again", "SELECT 1")))


def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open the store"):
        Database(StoreConfig(path=str(blocker / "asym.duckdb")))
