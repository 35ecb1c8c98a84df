"""Shared fixtures of the conformance suite: unmodified pybit and ccxt against a running simulator."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from asym.sim.server.testing import RunningSimulator, simulator_in_thread

TAKER_FEE = Decimal("0.00055")


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    """A simulator in a background thread (the clients here are synchronous), no rate limits."""
    with simulator_in_thread(symbols=5, rate_limits=False) as s:
        yield s


def ccxt_urls(rest_url: str) -> dict[str, Any]:
    """The ccxt `urls['api']` entries that point every REST group and WS stream at the simulator."""
    ws = rest_url.replace("http://", "ws://")
    return {
        **{k: rest_url for k in ("spot", "futures", "v2", "public", "private")},
        "ws": {
            "public": {t: f"{ws}/v5/public/{t}" for t in ("spot", "linear", "inverse", "option")},
            "private": {
                "spot": {"unified": f"{ws}/v5/private", "nonUnified": f"{ws}/spot/private/v3"},
                "contract": f"{ws}/v5/private",
                "usdc": f"{ws}/trade/option/usdc/private/v1",
                "trade": f"{ws}/v5/trade",
            },
        },
    }


def ccxt_config(sim: RunningSimulator) -> dict[str, Any]:
    """ccxt constructor options for the simulator (linear markets only: the others are empty anyway)."""
    return {
        "apiKey": sim.api_key,
        "secret": sim.api_secret,
        "enableRateLimit": False,
        "options": {"fetchMarkets": {"types": ["linear"]}},
    }
