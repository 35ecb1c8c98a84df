"""The event loop asym runs on: uvloop where it is installed (Linux, macOS), else asyncio's own.

uvloop (libuv, the loop under uvicorn) cuts the loop's and the sockets' share of every request and
message; `asym bench client` shows it beside the same clients on asyncio's loop. ASYM_LOOP=asyncio
opts out (for debugging with asyncio's debug mode, or where uvloop misbehaves).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from asym.errors import ConfigError

T = TypeVar("T")

LOOPS = ("uvloop", "asyncio")


def loop_name() -> str:
    """The loop `run` will use: ASYM_LOOP if set, else uvloop when importable, else asyncio."""
    wanted = os.environ.get("ASYM_LOOP", "").strip().lower()
    if wanted and wanted not in LOOPS:
        raise ConfigError(f"ASYM_LOOP must be one of {', '.join(LOOPS)}, not {wanted!r}")
    if wanted == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        if wanted == "uvloop":
            raise ConfigError("ASYM_LOOP=uvloop but uvloop is not installed") from None
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a fresh loop of the kind `loop_name` picks (like asyncio.run)."""
    try:
        name = loop_name()
    except ConfigError:
        main.close()  # never leave a coroutine un-awaited behind a config error
        raise
    if name == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    return asyncio.run(main)
