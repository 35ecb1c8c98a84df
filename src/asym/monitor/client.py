"""A small client of the control API, for `asym halt` / `asym resume` / `asym status` style commands."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec

from asym.errors import AsymError, ConfigError
from asym.logging import register_secret
from asym.trading.modes import Mode


class ControlError(AsymError):
    """The control API could not be reached or answered with an error (message has no token)."""


class ControlClient:
    """Talks to a running monitor at `base_url` (e.g. http://127.0.0.1:8077) with the bearer token."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError("monitor URL must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self._token = token
        if token:
            register_secret(token)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    def __repr__(self) -> str:
        return f"ControlClient({self.base_url!r}, token={'set' if self._token else 'none'})"

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as s,
                s.request(method, self.base_url + path, json=body, headers=headers) as resp,
            ):
                raw = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ControlError(f"monitor at {self.base_url} unreachable: {type(exc).__name__}") from None
        try:
            data = msgspec.json.decode(raw) if raw else None
        except msgspec.DecodeError:
            raise ControlError(f"monitor answered HTTP {status} with a body that is not JSON") from None
        if status >= 400 and status != 409:
            err = data.get("error", {}) if isinstance(data, dict) else {}
            raise ControlError(f"HTTP {status} {err.get('code', '')}: {err.get('message', '')}".strip())
        return status, data

    async def status(self) -> dict[str, Any]:
        """GET /api/status."""
        return (await self._call("GET", "/api/status"))[1]

    async def halt(self, reason: str) -> dict[str, Any]:
        """POST /api/halt; the ControlResult as a dict."""
        return (await self._call("POST", "/api/halt", {"reason": reason}))[1]

    async def resume(self, reason: str = "") -> dict[str, Any]:
        """POST /api/resume; `ok` False with `reasons` when refused."""
        return (await self._call("POST", "/api/resume", {"reason": reason}))[1]

    async def set_mode(self, mode: Mode | str, reason: str = "") -> dict[str, Any]:
        """POST /api/mode."""
        try:
            value = Mode(mode).value
        except ValueError:
            raise ConfigError(f"unknown mode {mode!r}: NORMAL, EMERGENCY or HALTED") from None
        body = {"mode": value, "reason": reason}
        return (await self._call("POST", "/api/mode", body))[1]
