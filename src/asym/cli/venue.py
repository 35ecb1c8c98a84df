"""Opening a venue from `--venue`: `sim` (an embedded simulator, spoken to over the real protocol),
`mainnet`, `testnet`, `demo`, or a base URL `http://host:port` of a running simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient, data_only_config
from asym.errors import ConfigError

LIVE_VENUES = ("mainnet", "testnet", "demo")


@dataclass
class OpenVenue:
    """A connected client, and the embedded simulator behind it when `--venue sim`."""

    client: BybitClient
    name: str
    simulator: Any | None = None


def venue_name(spec: str) -> str:
    """Normalise and check a `--venue` value."""
    s = spec.strip()
    if s.lower() in ("sim", *LIVE_VENUES):
        return s.lower()
    if s.startswith(("http://", "https://")):
        return s
    raise ConfigError(f"--venue must be sim, mainnet, testnet, demo or http://host:port, not {spec!r}")


def venue_label(spec: str) -> str:
    """The venue name stored with market data: sim, bybit (mainnet), bybit-testnet, bybit-demo or custom."""
    name = venue_name(spec)
    return {"sim": "sim", "mainnet": "bybit", "testnet": "bybit-testnet", "demo": "bybit"}.get(name, "custom")


@asynccontextmanager
async def open_venue(spec: str, **sim_overrides: Any) -> AsyncIterator[OpenVenue]:
    """Connect to the venue named by `spec`; for `sim`, start an embedded simulator first.

    `sim_overrides` are simulator settings (symbols, speed, seed, faults, ...) used only for `sim`.
    Keys for live venues come from BYBIT_API_KEY / BYBIT_API_SECRET (or BYBIT_KEY_FILE), never argv.
    The commands that use this never trade, so the client is data-only (`data_only_config`); trading
    commands open their venue through `asym.app.venues.open_trading_venue`.
    """
    name = venue_name(spec)
    if name == "sim":
        from asym.sim.server.testing import running_simulator

        async with running_simulator(**sim_overrides) as sim:
            creds = Credentials(sim.api_key, sim.api_secret)
            async with BybitClient(sim.rest_url, creds, data_only_config()) as client:
                yield OpenVenue(client, name, sim)
        return
    async with BybitClient.from_env(name, data_only_config()) as client:
        yield OpenVenue(client, name)
