"""Response cache keyed by model id + prompt hash, for replays and backtests (pluggable).

`MemoryCache` (bounded LRU) is the default; `FileCache` keeps one JSON file per key in a directory so a
backtest can be replayed without calling any model. Only completed calls are cached; the cache stores the
raw answer, so validation always runs again.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import msgspec


class CachedCompletion(msgspec.Struct, frozen=True, kw_only=True):
    """A model's raw answer and its token counts."""

    content: str | None
    reasoning: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0


class ResponseCache(Protocol):
    """Where raw model answers are kept."""

    async def get(self, key: str) -> CachedCompletion | None:
        """The answer stored under `key`, if any."""
        ...

    async def put(self, key: str, value: CachedCompletion) -> None:
        """Store an answer."""
        ...


def cache_key(model_id: str, prompt_digest: str) -> str:
    """Key of one (model, prompt) pair: hex SHA-256."""
    return hashlib.sha256(f"{model_id}\x00{prompt_digest}".encode()).hexdigest()


class MemoryCache:
    """In-memory LRU cache bounded to `max_entries`."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, CachedCompletion] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    async def get(self, key: str) -> CachedCompletion | None:
        """The answer stored under `key`, if any (marks it recently used)."""
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    async def put(self, key: str, value: CachedCompletion) -> None:
        """Store an answer, evicting the least recently used beyond the bound."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)


_KEY = re.compile(r"^[0-9a-f]{64}$")
_encode = msgspec.json.Encoder()
_decode = msgspec.json.Decoder(CachedCompletion)


class FileCache:
    """One JSON file per key under `directory` (written atomically); survives restarts."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError("cache keys are hex SHA-256 digests")
        return self.directory / key[:2] / f"{key}.json"

    def _read(self, key: str) -> CachedCompletion | None:
        try:
            return _decode.decode(self._path(key).read_bytes())
        except FileNotFoundError:
            return None
        except (msgspec.DecodeError, OSError):
            # A torn or foreign file is a miss, never a crash.
            return None

    def _write(self, key: str, value: CachedCompletion) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_encode.encode(value))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> CachedCompletion | None:
        """The answer stored under `key`, if any."""
        return await asyncio.to_thread(self._read, key)

    async def put(self, key: str, value: CachedCompletion) -> None:
        """Store an answer."""
        await asyncio.to_thread(self._write, key, value)
