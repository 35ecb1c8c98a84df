"""Fixtures for the client's integration tests: a real simulator over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from asym.bybit import BybitClient, ClientConfig, CountingObserver, Credentials


def _sim_module() -> Any:
    try:
        from asym.sim.server import testing
    except ImportError as exc:  # the simulator is another part of asym; skip with the reason when absent
        pytest.skip(f"simulator not importable: {exc}")
    return testing


@pytest.fixture
def simulator() -> Callable[..., AbstractAsyncContextManager[Any]]:
    """`async with simulator(**SimConfig overrides) as sim:` -- a running simulator in this event loop."""
    testing = _sim_module()

    @asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[Any]:
        overrides.setdefault("symbols", 3)
        overrides.setdefault("history_days", 2)
        async with testing.running_simulator(**overrides) as sim:
            yield sim

    return run


@asynccontextmanager
async def client_for(
    sim: Any, config: ClientConfig | None = None, observer: CountingObserver | None = None, keys: bool = True
) -> AsyncIterator[BybitClient]:
    """A started client pointed at `sim`."""
    creds = Credentials(sim.api_key, sim.api_secret) if keys else None
    async with BybitClient(sim.rest_url, creds, config, observer) as client:
        yield client
