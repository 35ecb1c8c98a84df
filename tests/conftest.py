"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

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
