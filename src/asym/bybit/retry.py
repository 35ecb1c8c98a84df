"""Retry policy: exponential backoff with full jitter, bounded attempts and a total deadline (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from asym.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_attempts` tries, at most `deadline_s` seconds overall; delay i is U(0, min(cap, base * 2^i))."""

    max_attempts: int = 5
    base_s: float = 0.1
    cap_s: float = 5.0
    deadline_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_s < 0 or self.cap_s < 0 or self.deadline_s <= 0:
            raise ConfigError("retry policy: max_attempts >= 1, delays >= 0, deadline > 0")

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay before retry number `attempt` (0-based)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 30)))
        return self.rng.uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """WebSocket reconnect delays: full jitter between `base_s` and `cap_s`, never giving up."""

    base_s: float = 0.25
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int) -> float:
        """Delay before reconnect attempt `attempt` (0 = first after a drop): small but never zero."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 30)))
        return self.rng.uniform(ceiling / 2, ceiling)
