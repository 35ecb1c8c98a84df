"""asym.eventloop: uvloop by default where installed, ASYM_LOOP to choose, a clear error for a bad value."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from asym import eventloop
from asym.errors import ConfigError


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_default_runs_on_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvloop")
    monkeypatch.delenv("ASYM_LOOP", raising=False)
    assert eventloop.loop_name() == "uvloop"
    assert eventloop.run(_loop_module()).startswith("uvloop")


def test_asym_loop_asyncio_opts_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYM_LOOP", "asyncio")
    assert eventloop.run(_loop_module()).startswith("asyncio")


def test_unknown_loop_is_a_config_error_and_the_coroutine_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYM_LOOP", "trio")
    coro = _loop_module()
    with pytest.raises(ConfigError, match="ASYM_LOOP must be one of uvloop, asyncio"):
        eventloop.run(coro)
    assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"  # no "never awaited" warning
