"""Fixtures of the market-model tests: small, seeded markets at a fixed start (no wall clock)."""

from __future__ import annotations

import pytest

from asym.sim.config import SimConfig
from asym.sim.market import Market

START_MS = 1_750_000_000_000
"""2025-06-15 15:06:40 UTC: a fixed market start (mid-minute on purpose)."""


def make_market(**overrides: object) -> Market:
    """A generated market with test-friendly defaults."""
    cfg: dict[str, object] = {"symbols": 20, "seed": 7, "history_days": 3}
    cfg.update(overrides)
    return Market(SimConfig.model_validate(cfg), START_MS)


@pytest.fixture
def market() -> Market:
    """A fresh 20-symbol generated market with 3 days of history."""
    return make_market()
