"""Fixtures for the server tests: a real simulator over real sockets and a small signed REST client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from asym.sim.server.testing import RunningSimulator, auth_headers, running_simulator


class Api:
    """A minimal Bybit V5 REST client for tests: raw status, headers and parsed JSON."""

    def __init__(self, session: aiohttp.ClientSession, sim: RunningSimulator) -> None:
        self.session = session
        self.sim = sim

    async def get(
        self, path: str, query: str = "", *, signed: bool = False, **kw: Any
    ) -> tuple[int, Any, Any]:
        """GET path?query; returns (status, headers, json-or-text)."""
        headers = auth_headers(self.sim.api_key, self.sim.api_secret, query, **kw) if signed else {}
        url = self.sim.rest_url + path + (f"?{query}" if query else "")
        async with self.session.get(url, headers=headers) as r:
            return r.status, r.headers, await _body(r)

    async def post(
        self, path: str, body: Any, *, signed: bool = True, raw: str | None = None, **kw: Any
    ) -> tuple[int, Any, Any]:
        """POST a JSON body (compact, like ccxt) or `raw` text; returns (status, headers, json-or-text)."""
        text = raw if raw is not None else json.dumps(body, separators=(",", ":"))
        headers = auth_headers(self.sim.api_key, self.sim.api_secret, text, **kw) if signed else {}
        headers["Content-Type"] = "application/json"
        async with self.session.post(self.sim.rest_url + path, data=text.encode(), headers=headers) as r:
            return r.status, r.headers, await _body(r)

    async def ok(self, path: str, query: str = "", *, signed: bool = False) -> Any:
        """GET that must succeed; returns `result`."""
        status, _, body = await self.get(path, query, signed=signed)
        assert status == 200, body
        assert body["retCode"] == 0, body
        return body["result"]

    async def ok_post(self, path: str, body: Any) -> Any:
        """POST that must succeed; returns `result`."""
        status, _, out = await self.post(path, body)
        assert status == 200, out
        assert out["retCode"] == 0, out
        return out["result"]


async def _body(r: aiohttp.ClientResponse) -> Any:
    text = await r.text()
    if r.content_type == "application/json":
        return json.loads(text)
    return text


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    """A 5-symbol simulator without rate limits."""
    async with running_simulator(symbols=5, rate_limits=False) as s:
        yield s


@pytest.fixture
async def api(sim: RunningSimulator) -> AsyncIterator[Api]:
    """A REST client bound to `sim`."""
    async with aiohttp.ClientSession() as session:
        yield Api(session, sim)
