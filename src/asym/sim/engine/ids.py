"""Deterministic ids: uuid-shaped strings (like Bybit linear orderId/execId) from a seed and a counter."""

from __future__ import annotations

import hashlib
import uuid


class IdGen:
    """Uuid4-shaped ids that depend only on (seed, kind, n): the same run gives the same ids."""

    __slots__ = ("_counters", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counters: dict[str, int] = {}

    def next(self, kind: str) -> str:
        """The next id of `kind` (e.g. 'order', 'exec')."""
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        digest = hashlib.blake2b(f"{self._seed}:{kind}:{n}".encode(), digest_size=16).digest()
        return str(uuid.UUID(bytes=digest, version=4))
