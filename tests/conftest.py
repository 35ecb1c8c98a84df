"""Fixtures shared by the whole suite."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
PROTOCOL_EXAMPLES = SHARED / "protocol" / "bybit-v5" / "examples"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data set beside the repository), which is absent here")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test with the reason when it is absent."""
    return _need(SHARED_DATA)


@pytest.fixture(scope="session")
def protocol_examples() -> Path:
    """../shared/protocol/bybit-v5/examples, or skip when absent."""
    return _need(PROTOCOL_EXAMPLES)


@pytest.fixture(autouse=True)
def _isolate_logging() -> Iterator[None]:
    """Logging is process-wide state (structlog config, root handlers and their filters): a test that
    configures it must not change what the next test sees."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {h: list(h.filters) for h in handlers}
    config = structlog.get_config()
    yield
    structlog.configure(**config)
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    for h, fs in filters.items():
        h.filters[:] = fs
    root.setLevel(level)
