"""Fixtures of the signal-layer tests: a live local OpenAI-compatible server and the default config."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from asym.signals import SignalConfig
from asym.signals.testing import OpenAITestServer


@pytest.fixture
async def server() -> AsyncIterator[OpenAITestServer]:
    """A running test server on 127.0.0.1 (nothing scripted yet)."""
    async with OpenAITestServer() as srv:
        yield srv


@pytest.fixture
def config() -> SignalConfig:
    """Default signal configuration."""
    return SignalConfig()
