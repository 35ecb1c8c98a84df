"""Deterministic seeding: every random stream of the market is a numpy Generator derived from
(config.seed, symbol, purpose, index), and cheap integer hashing for the order book's per-level noise."""

from __future__ import annotations

import functools
import hashlib

import numpy as np

_MASK64 = (1 << 64) - 1


@functools.lru_cache(maxsize=8192)
def symbol_key(symbol: str) -> int:
    """A stable 63-bit integer for a symbol (Python's hash() is salted per process, so never use it)."""
    digest = hashlib.blake2b(symbol.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def tag_key(tag: str) -> int:
    """A stable integer for a purpose tag such as 'daily' or 'live'."""
    return symbol_key("#" + tag)


def rng_for(seed: int, symbol: str, tag: str, *index: int) -> np.random.Generator:
    """A Generator for one purpose of one symbol (index: e.g. a day number), independent of call order."""
    words = [seed & _MASK64, symbol_key(symbol), tag_key(tag), *[(i & _MASK64) for i in index]]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over a uint64 array: a fast, well-mixed hash (wraps modulo 2**64)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def unit_hash(x: np.ndarray) -> np.ndarray:
    """Map a uint64 hash array to floats uniform in [0, 1)."""
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
