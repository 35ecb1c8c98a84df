"""Fixtures of the store tests: a real DuckDB file in a temporary directory, sync and async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from asym.store import Database, Store, StoreConfig


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "asym.duckdb"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database(StoreConfig(path=str(db_path)))
    yield database
    database.close()


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(StoreConfig(path=str(db_path), flush_interval_s=0.05))
    yield s
    await s.close()
