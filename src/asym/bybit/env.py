"""Where the client connects: Bybit's environments as an enum, or a custom base URL (a running simulator)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from asym.errors import ConfigError


class Environment(StrEnum):
    """A Bybit environment; CUSTOM means an explicit base URL (e.g. the local simulator)."""

    MAINNET = "mainnet"
    TESTNET = "testnet"
    DEMO = "demo"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The three base URLs of one environment."""

    environment: Environment
    rest_url: str
    ws_public_url: str
    ws_private_url: str


_KNOWN: dict[Environment, Endpoints] = {
    Environment.MAINNET: Endpoints(
        Environment.MAINNET,
        "https://api.bybit.com",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream.bybit.com/v5/private",
    ),
    Environment.TESTNET: Endpoints(
        Environment.TESTNET,
        "https://api-testnet.bybit.com",
        "wss://stream-testnet.bybit.com/v5/public/linear",
        "wss://stream-testnet.bybit.com/v5/private",
    ),
    # Demo trading: REST and private WS on the demo hosts; public market data is mainnet's.
    Environment.DEMO: Endpoints(
        Environment.DEMO,
        "https://api-demo.bybit.com",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream-demo.bybit.com/v5/private",
    ),
}


def custom_endpoints(base_url: str) -> Endpoints:
    """Endpoints of a custom base URL: http://h:p -> ws://h:p/v5/public/linear and ws://h:p/v5/private."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"venue base URL must look like http://host:port, got {base_url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"venue base URL must not carry a path or query, got {base_url!r}")
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    rest = f"{parts.scheme}://{parts.netloc}"
    ws = f"{ws_scheme}://{parts.netloc}"
    return Endpoints(Environment.CUSTOM, rest, f"{ws}/v5/public/linear", f"{ws}/v5/private")


def resolve_endpoints(venue: str | Environment) -> Endpoints:
    """Endpoints for `mainnet` / `testnet` / `demo` or a base URL `http(s)://host:port`."""
    if isinstance(venue, Environment):
        if venue is Environment.CUSTOM:
            raise ConfigError("Environment.CUSTOM needs a base URL: pass the URL itself")
        return _KNOWN[venue]
    name = venue.strip().lower()
    for env, eps in _KNOWN.items():
        if name == env.value:
            return eps
    if "://" in name:
        return custom_endpoints(venue)
    raise ConfigError(f"unknown venue {venue!r}: use mainnet, testnet, demo or http://host:port")
