"""Bybit's rate limits (pure: time is injected as wall milliseconds).

* IP limit: 600 requests per rolling 5 s across all REST; the request that breaches it gets HTTP 403 and
  the IP is banned for `ban_ms` (Bybit: 10 minutes). Every request of a banned IP gets 403.
* Per-UID, per-endpoint limits over a rolling 1 s window (§4.2 of the protocol notes): exceeding answers
  HTTP 200 with retCode 10006; every private response carries X-Bapi-Limit, X-Bapi-Limit-Status and
  X-Bapi-Limit-Reset-Timestamp. Batch endpoints count orders, not requests.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

IP_LIMIT = 600
IP_WINDOW_MS = 5000
UID_WINDOW_MS = 1000

# Default ("UTA2.0 Pro") per-second limits: path -> {category group: limit}; "*" applies to every category.
ENDPOINT_LIMITS: dict[str, dict[str, int]] = {
    "/v5/order/create": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/amend": {"linear": 10, "inverse": 10, "option": 10, "spot": 10},
    "/v5/order/cancel": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/cancel-all": {"linear": 10, "inverse": 10, "option": 1, "spot": 20},
    "/v5/order/create-batch": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/amend-batch": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/cancel-batch": {"linear": 10, "inverse": 10, "option": 10, "spot": 20},
    "/v5/order/realtime": {"*": 50},
    "/v5/order/history": {"*": 50},
    "/v5/execution/list": {"*": 50},
    "/v5/position/list": {"*": 50},
    "/v5/position/set-leverage": {"*": 10},
    "/v5/position/trading-stop": {"*": 10},
    "/v5/position/switch-mode": {"*": 10},
    "/v5/account/wallet-balance": {"*": 50},
    "/v5/account/info": {"*": 50},
    "/v5/account/fee-rate": {"*": 5},
    "/v5/user/query-api": {"*": 10},
    "/v5/asset/coin/query-info": {"*": 5},
}
DEFAULT_ENDPOINT_LIMIT = 10


def endpoint_limit(path: str, category: str, scale: float = 1.0) -> int:
    """The per-second limit of `path` for `category`, multiplied by `scale` (at least 1)."""
    table = ENDPOINT_LIMITS.get(path)
    if table is None:
        base = DEFAULT_ENDPOINT_LIMIT
    else:
        base = table.get("*") or table.get(category) or table.get("linear") or DEFAULT_ENDPOINT_LIMIT
    return max(1, int(base * scale))


class IpLimiter:
    """The 600-requests-per-5-s IP limit with a ban on breach."""

    def __init__(self, limit: int = IP_LIMIT, window_ms: int = IP_WINDOW_MS, ban_ms: int = 600_000) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self.ban_ms = ban_ms
        self._hits: dict[str, deque[int]] = {}
        self._banned_until: dict[str, int] = {}

    def allow(self, ip: str, now_ms: int) -> bool:
        """Count one request; False when the IP is (now) banned."""
        until = self._banned_until.get(ip)
        if until is not None:
            if now_ms < until:
                return False
            del self._banned_until[ip]
            self._hits.pop(ip, None)
        hits = self._hits.get(ip)
        if hits is None:
            hits = self._hits[ip] = deque()
        edge = now_ms - self.window_ms
        while hits and hits[0] <= edge:
            hits.popleft()
        hits.append(now_ms)
        if len(hits) > self.limit:
            self._banned_until[ip] = now_ms + self.ban_ms
            return False
        return True

    def banned_until(self, ip: str) -> int | None:
        """When the ban of `ip` ends (ms), or None."""
        return self._banned_until.get(ip)


@dataclass(frozen=True, slots=True)
class LimitDecision:
    """Outcome of charging a per-endpoint window: how many units were granted and the three headers."""

    granted: int
    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        """Bybit's X-Bapi-Limit* response headers."""
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(self.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class EndpointLimiter:
    """Rolling 1 s windows keyed by (uid, endpoint, category group)."""

    def __init__(self, window_ms: int = UID_WINDOW_MS) -> None:
        self.window_ms = window_ms
        self._hits: dict[tuple[str, str, str], deque[int]] = {}

    def charge(self, key: tuple[str, str, str], limit: int, now_ms: int, units: int = 1) -> LimitDecision:
        """Take up to `units` from the window (batch endpoints: as many as are left)."""
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        edge = now_ms - self.window_ms
        while hits and hits[0] <= edge:
            hits.popleft()
        available = max(0, limit - len(hits))
        granted = min(units, available)
        for _ in range(granted):
            hits.append(now_ms)
        remaining = limit - len(hits)
        reset = hits[0] + self.window_ms if remaining <= 0 or granted < units else now_ms
        return LimitDecision(granted=granted, limit=limit, remaining=max(0, remaining), reset_ms=reset)

    def peek(self, key: tuple[str, str, str], limit: int, now_ms: int) -> LimitDecision:
        """The headers of a window without charging it."""
        return self.charge(key, limit, now_ms, 0)
