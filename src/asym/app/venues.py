"""Opening the venue `asym run` trades on, with the market clock that goes with it.

* `sim` (default): an embedded simulator in this process, spoken to over the real protocol; market time is
  a `SteppedClock` (accelerated by `--speed`, standing still while asym decides).
* `http://host:port`: a running simulator (`asym sim serve`); a `DataClock(--speed)` anchored on its data.
* `paper`, `paper:<source>`: live public data of `<source>` (default mainnet) and fills from a local
  matching engine fed by that data; wall time.
* `testnet`, `demo`: Bybit with keys from BYBIT_API_KEY / BYBIT_API_SECRET (or BYBIT_KEY_FILE); wall time.
* `mainnet`: real money, refused unless `live=True` (`--live`).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from asym.app.clock import DataClock, SteppedClock
from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient
from asym.bybit.metrics import ClientObserver
from asym.domain.venue import Venue
from asym.errors import ConfigError

LIVE_VENUES = ("mainnet", "testnet", "demo")
DEFAULT_SIM_START_MS = 1_750_000_000_000
"""Where the embedded simulator's market starts (2025-06-15): a fixed start makes a seeded run repeatable."""


@dataclass
class SimOptions:
    """Settings of the embedded simulator (`--venue sim`)."""

    symbols: int = 12
    seed: int = 7
    start_ms: int = DEFAULT_SIM_START_MS
    history_days: int = 3
    balance: Decimal = Decimal(100_000)
    rate_limits: bool = True
    faults: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TradingVenue:
    """An open venue: the client the session trades through and the market clock of the run."""

    client: Venue
    name: str
    """What the store records as the venue (a store belongs to one venue)."""
    kind: str
    """sim, remote, paper or live."""
    clock: Callable[[], int]
    stepped: SteppedClock | None = None
    data_clock: DataClock | None = None
    simulator: Any | None = None
    """The embedded simulator's server (sim) or the paper engine's server (paper)."""
    close_hooks: list[Callable[[], Any]] = field(default_factory=list)

    def observe_market_time(self, ts: int) -> None:
        """A market timestamp seen in the data (re-anchors a `DataClock`)."""
        if self.data_clock is not None:
            self.data_clock.observe(ts)


def _loopback(host: str) -> bool:
    h = host.strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def parse_venue(spec: str) -> tuple[str, str]:
    """(kind, target) of `--venue`: ('sim', ''), ('remote', url), ('paper', source) or ('live', name)."""
    s = spec.strip()
    low = s.lower()
    if low == "sim":
        return "sim", ""
    if low in LIVE_VENUES:
        return "live", low
    if low == "paper":
        return "paper", "mainnet"
    if low.startswith("paper:"):
        source = s[len("paper:") :]
        if source.lower() in LIVE_VENUES:
            return "paper", source.lower()
        if source.startswith(("http://", "https://")):
            return "paper", source
        raise ConfigError(
            f"--venue paper:<source>: source must be mainnet, testnet, demo or a URL, not {source!r}"
        )
    if low.startswith(("http://", "https://")):
        return "remote", s.rstrip("/")
    raise ConfigError(
        f"--venue must be sim, paper[:source], mainnet, testnet, demo or http://host:port, not {spec!r}"
    )


def remote_credentials(url: str) -> Credentials:
    """Keys for a running simulator: BYBIT_API_KEY/SECRET, else ASYM_SIM_API_KEY/SECRET, else (loopback
    only) the simulator's defaults."""
    creds = Credentials.from_env()
    if creds is not None:
        return creds
    key, secret = os.environ.get("ASYM_SIM_API_KEY", ""), os.environ.get("ASYM_SIM_API_SECRET", "")
    if key and secret:
        return Credentials(key, secret)
    host = urlparse(url).hostname or ""
    if _loopback(host):
        from asym.sim.config import SimConfig

        defaults = SimConfig()
        return Credentials(defaults.api_key, defaults.api_secret)
    raise ConfigError(f"no keys for {url}: set BYBIT_API_KEY and BYBIT_API_SECRET (or BYBIT_KEY_FILE)")


@asynccontextmanager
async def open_trading_venue(
    spec: str,
    *,
    live: bool = False,
    speed: float = 1.0,
    sim: SimOptions | None = None,
    observer: ClientObserver | None = None,
) -> AsyncIterator[TradingVenue]:
    """Open the venue named by `spec` (see the module docstring); everything is closed on exit."""
    kind, target = parse_venue(spec)
    if kind == "sim":
        async with _embedded(sim or SimOptions(), speed, observer) as v:
            yield v
        return
    if kind == "remote":
        async with BybitClient(target, remote_credentials(target), observer=observer) as client:
            clock = DataClock(speed)
            tickers = await client.get_tickers()
            if tickers:
                clock.observe(max(t.ts for t in tickers))
            yield TradingVenue(client, f"sim:{target}", kind, clock.now_ms, data_clock=clock)
        return
    if kind == "paper":
        from asym.app.paper import open_paper

        async with open_paper(target, sim or SimOptions(), observer) as v:
            yield v
        return
    if target == "mainnet" and not live:
        raise ConfigError("--venue mainnet trades real money: add --live to confirm")
    creds = Credentials.from_env()
    if creds is None:
        raise ConfigError(
            f"--venue {target} needs keys: set BYBIT_API_KEY and BYBIT_API_SECRET (or BYBIT_KEY_FILE)"
        )
    async with BybitClient(target, creds, observer=observer) as client:
        clock = DataClock(1.0)
        yield TradingVenue(client, target, kind, clock.now_ms, data_clock=clock)


@asynccontextmanager
async def _embedded(
    opts: SimOptions, speed: float, observer: ClientObserver | None
) -> AsyncIterator[TradingVenue]:
    from asym.sim.config import SimConfig
    from asym.sim.server.app import SimServer

    config = SimConfig(
        symbols=opts.symbols,
        seed=opts.seed,
        start_ms=opts.start_ms,
        history_days=opts.history_days,
        balance_usdt=opts.balance,
        rate_limits=opts.rate_limits,
        faults=opts.faults,
        **opts.extra,
    )
    clock = SteppedClock(opts.start_ms, speed)
    server = SimServer(config, clock=clock)
    await server.start("127.0.0.1", 0)
    try:
        creds = Credentials(config.api_key, config.api_secret)
        async with BybitClient(server.rest_url, creds, observer=observer) as client:
            yield TradingVenue(client, "sim", "sim", clock.now_ms, stepped=clock, simulator=server)
    finally:
        await server.stop()


__all__ = ["SimOptions", "TradingVenue", "open_trading_venue", "parse_venue", "remote_credentials"]
