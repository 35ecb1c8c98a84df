"""Fault injection for the simulator's server: a parsed spec and seeded decisions (pure, no I/O).

Spec: comma-separated `key=value`, every key optional, e.g.
`error_rate=0.1,latency_ms=20-50,hang_rate=0.01,reset_rate=0.01,ws_drop_every_s=30,seq_gap_rate=0.01,
malformed_rate=0.01,stale_book_rate=0.001`.

REST (rates per request, drawn in this order: reset, hang, error; at most one per request):
* `error_rate`  answer with an error instead of the result, spread evenly over retCode 10006 (with the
  rate-limit headers), retCode 10016 and HTTP 5xx (500/502/503);
* `hang_rate`   hold the request `hang_s` seconds (default 60), then drop the connection;
* `reset_rate`  drop the TCP connection without an answer;
* `latency_ms`  added delay, a single value `20` or a uniform range `20-50`.
For WRITES (order create/amend/cancel/cancel-all/batch), a fault happens AFTER the write was applied with
probability `write_after_share` (default 0.5) and before it otherwise: "after" means the order exists (or
was amended/cancelled) but the client sees the failure, which is what makes an outcome unknown.

WebSocket (rates per published message):
* `ws_drop_every_s` close every WebSocket connection on this period;
* `seq_gap_rate`    skip an order-book delta (the next one's `u` jumps by 2);
* `malformed_rate`  send truncated, invalid JSON instead of the message;
* `stale_book_rate` freeze a symbol's published book for `stale_book_s` seconds (default 10).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from asym.errors import ConfigError

_RATE_KEYS = (
    "error_rate",
    "hang_rate",
    "reset_rate",
    "seq_gap_rate",
    "malformed_rate",
    "stale_book_rate",
    "write_after_share",
)
_FLOAT_KEYS = ("ws_drop_every_s", "hang_s", "stale_book_s")
KNOWN_KEYS = (*_RATE_KEYS, *_FLOAT_KEYS, "latency_ms")


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A parsed fault spec (all off by default)."""

    error_rate: float = 0.0
    hang_rate: float = 0.0
    reset_rate: float = 0.0
    latency_ms: tuple[float, float] = (0.0, 0.0)
    ws_drop_every_s: float = 0.0
    seq_gap_rate: float = 0.0
    malformed_rate: float = 0.0
    stale_book_rate: float = 0.0
    write_after_share: float = 0.5
    hang_s: float = 60.0
    stale_book_s: float = 10.0

    @property
    def any_rest(self) -> bool:
        """True when any REST fault is configured."""
        return bool(self.error_rate or self.hang_rate or self.reset_rate or self.latency_ms[1])

    @property
    def any_ws(self) -> bool:
        """True when any WebSocket fault is configured."""
        return bool(self.ws_drop_every_s or self.seq_gap_rate or self.malformed_rate or self.stale_book_rate)


def parse_faults(spec: str) -> FaultSpec:
    """Parse `key=value,...`; ConfigError naming the key on anything unknown or out of range."""
    values: dict[str, object] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        value = value.strip()
        if not sep or not value:
            raise ConfigError(f"fault spec item {item!r} is not key=value")
        if key not in KNOWN_KEYS:
            raise ConfigError(f"unknown fault key {key!r}; known keys: {', '.join(KNOWN_KEYS)}")
        if key in values:
            raise ConfigError(f"fault key {key!r} given twice")
        if key == "latency_ms":
            values[key] = _parse_range(value)
            continue
        try:
            number = float(value)
        except ValueError as exc:
            raise ConfigError(f"fault key {key!r}: {value!r} is not a number") from exc
        if number != number or number < 0:
            raise ConfigError(f"fault key {key!r}: {value!r} must be a non-negative number")
        if key in _RATE_KEYS and number > 1:
            raise ConfigError(f"fault key {key!r}: {value!r} is a probability and must be in [0, 1]")
        values[key] = number
    spec_obj = FaultSpec(**values)  # type: ignore[arg-type]
    if spec_obj.error_rate + spec_obj.hang_rate + spec_obj.reset_rate > 1:
        raise ConfigError("fault spec: error_rate + hang_rate + reset_rate must not exceed 1")
    return spec_obj


def _parse_range(value: str) -> tuple[float, float]:
    lo_s, sep, hi_s = value.partition("-")
    try:
        lo = float(lo_s)
        hi = float(hi_s) if sep else lo
    except ValueError as exc:
        raise ConfigError(f"fault key 'latency_ms': {value!r} is not a number or a range like 20-50") from exc
    if lo < 0 or hi < lo:
        raise ConfigError(f"fault key 'latency_ms': {value!r} must be 'ms' or 'lo-hi' with 0 <= lo <= hi")
    return (lo, hi)


class RestFaultKind(Enum):
    """What goes wrong with a REST request."""

    ERROR_10006 = "10006"
    ERROR_10016 = "10016"
    HTTP_5XX = "5xx"
    HANG = "hang"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class RestFault:
    """A decided fault: its kind, whether it strikes after the write was applied, and the 5xx status."""

    kind: RestFaultKind
    after_write: bool = False
    http_status: int = 503


class FaultInjector:
    """Seeded fault decisions (separate random streams for REST and WebSocket)."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rest = random.Random(f"rest-{seed}")
        self._ws = random.Random(f"ws-{seed}")
        self.counts: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def latency_s(self) -> float:
        """Added latency for one request, in seconds (0 when none configured)."""
        lo, hi = self.spec.latency_ms
        if hi <= 0:
            return 0.0
        return (lo if lo == hi else self._rest.uniform(lo, hi)) / 1000.0

    def rest_fault(self, is_write: bool) -> RestFault | None:
        """Decide whether this request fails, and how."""
        s = self.spec
        if not (s.error_rate or s.hang_rate or s.reset_rate):
            return None
        r = self._rest.random()
        if r < s.reset_rate:
            kind = RestFaultKind.RESET
        elif r < s.reset_rate + s.hang_rate:
            kind = RestFaultKind.HANG
        elif r < s.reset_rate + s.hang_rate + s.error_rate:
            kind = self._rest.choice(
                (RestFaultKind.ERROR_10006, RestFaultKind.ERROR_10016, RestFaultKind.HTTP_5XX)
            )
        else:
            return None
        after = is_write and self._rest.random() < s.write_after_share
        status = self._rest.choice((500, 502, 503)) if kind is RestFaultKind.HTTP_5XX else 503
        self._count(f"rest_{kind.value}_{'after' if after else 'before'}")
        return RestFault(kind=kind, after_write=after, http_status=status)

    def malformed(self) -> bool:
        """Whether this published message goes out truncated."""
        if self.spec.malformed_rate and self._ws.random() < self.spec.malformed_rate:
            self._count("ws_malformed")
            return True
        return False

    def seq_gap(self) -> bool:
        """Whether this order-book delta is skipped."""
        if self.spec.seq_gap_rate and self._ws.random() < self.spec.seq_gap_rate:
            self._count("ws_seq_gap")
            return True
        return False

    def stale_book(self) -> bool:
        """Whether this symbol's published book freezes now (for spec.stale_book_s)."""
        if self.spec.stale_book_rate and self._ws.random() < self.spec.stale_book_rate:
            self._count("ws_stale_book")
            return True
        return False
