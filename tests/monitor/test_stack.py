"""The whole monitor started as `asym run` will start it, the control client, and the configuration rules."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from asym.errors import ConfigError
from asym.monitor import (
    ControlClient,
    ControlError,
    MemoryController,
    MonitorConfig,
    StaticSystemView,
    WebhookSink,
    is_loopback,
    load_token,
    parse_http_address,
    start_monitoring,
)
from asym.monitor.alerts import EmergencyModeRule
from asym.monitor.config import TOKEN_ENV
from asym.monitor.view import ModeState
from asym.trading.modes import Mode

from .conftest import TOKEN


async def test_start_monitoring_runs_every_part(view: StaticSystemView) -> None:
    hooks: list[dict[str, object]] = []

    async def hook(request: web.Request) -> web.Response:
        hooks.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", hook)
    receiver = TestServer(app, host="127.0.0.1", port=0)
    await receiver.start_server()
    ctl = MemoryController(view)
    mon = await start_monitoring(
        view,
        ctl,
        MonitorConfig(port=0, token=TOKEN),
        sinks=[WebhookSink(str(receiver.make_url("/hook")))],
        rules=[EmergencyModeRule()],
        alert_interval_s=0.05,
    )
    try:
        client = ControlClient(mon.url, TOKEN)
        assert (await client.halt("maintenance"))["mode"] == "HALTED"
        for _ in range(100):  # the alert loop picks the new mode up on its own
            if hooks:
                break
            await asyncio.sleep(0.02)
        assert (
            hooks and hooks[0]["key"] == "mode:HALTED" and hooks[0]["summary"] == "mode HALTED: maintenance"
        )
        status = await client.status()
        assert status["mode"]["mode"] == "HALTED" and status["alerts_active"] == 1
        assert status["health"]["ready"] is False
        async with aiohttp.ClientSession() as s, s.get(mon.url + "/metrics") as r:
            text = await r.text()
        assert "asym_event_loop_lag_seconds_count" in text and 'asym_trading_mode{mode="HALTED"} 1.0' in text
        assert 'asym_alerts_firing{rule="mode"} 1.0' in text
        assert 'asym_alert_deliveries_total{channel="webhook",outcome="sent"} 1.0' in text
        names = {c.name for c in (await mon.health.report()).checks}
        assert names == {"mode", "freshness", "data_quality", "event_loop"}
        ctl.blockers = ["drawdown not cleared"]
        refused = await client.resume()
        assert refused["ok"] is False and refused["reasons"] == ["drawdown not cleared"]
        ctl.blockers = []
        assert (await client.resume())["mode"] == "NORMAL"
        assert (await client.set_mode("EMERGENCY", "test"))["mode"] == "EMERGENCY"
    finally:
        await mon.stop()
        await receiver.close()
    with pytest.raises(ControlError, match="unreachable"):
        await ControlClient(mon.url, TOKEN, timeout_s=2).status()


async def test_control_client_errors_say_why_without_the_token(
    view: StaticSystemView, monitor_server: object
) -> None:
    async with monitor_server(view, token=TOKEN) as (running, _):  # type: ignore[operator]
        with pytest.raises(ControlError, match="HTTP 401 unauthorized") as err:
            await ControlClient(running.url, "wrong-token-but-long-enough").halt("x")
        assert "wrong-token" not in str(err.value)
        with pytest.raises(ControlError, match="HTTP 400"):
            await ControlClient(running.url, TOKEN).halt("   ")
        with pytest.raises(ConfigError, match="unknown mode"):
            await ControlClient(running.url, TOKEN).set_mode("PANIC")
    assert view.mode().mode is Mode.NORMAL
    assert "token=set" in repr(ControlClient("http://127.0.0.1:1", TOKEN))


def test_parse_http_address() -> None:
    assert parse_http_address("127.0.0.1:8077") == ("127.0.0.1", 8077)
    assert parse_http_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_http_address("[::1]:8077") == ("::1", 8077)
    assert parse_http_address(":8080") == ("127.0.0.1", 8080)
    assert parse_http_address("8080") == ("127.0.0.1", 8080)
    for bad in ("", "host", "host:port", "1.2.3.4:70000", "[::1]8077", "::1:80"):
        with pytest.raises(ConfigError):
            parse_http_address(bad)


def test_loopback_and_token_rules() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(
        is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.com", "127.0.0.1.example.com")
    )
    with pytest.raises(ConfigError, match="at least 16"):
        MonitorConfig(token="short")
    with pytest.raises(ConfigError):
        MonitorConfig(token="has spaces in the middle of it")
    cfg = MonitorConfig(host="0.0.0.0", token=TOKEN)
    assert cfg.exposed and TOKEN not in repr(cfg) and TOKEN not in str(cfg)
    cfg.validate_for_serving()
    with pytest.raises(ConfigError, match="needs a token"):
        MonitorConfig(host="0.0.0.0").validate_for_serving()
    MonitorConfig().validate_for_serving()  # loopback without a token: allowed (writes are disabled)


def test_load_token_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    f = tmp_path / "state" / "monitor.token"
    assert load_token(f) is None
    made = load_token(f, create=True)
    assert made and len(made) >= 32 and stat.S_IMODE(f.stat().st_mode) == 0o600
    assert load_token(f) == made  # the CLI's `asym halt` reads the same file
    os.chmod(f, 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_token(f)
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment-123")
    assert load_token(f) == "from-the-environment-123"


async def test_memory_controller_modes(view: StaticSystemView) -> None:
    ctl = MemoryController(view)
    assert (await ctl.resume()).detail == "already NORMAL"
    assert (await ctl.set_mode(Mode.EMERGENCY, "x")).mode is Mode.EMERGENCY
    assert (await ctl.halt("")).detail == "halt by hand"
    refused = await ctl.set_mode(Mode.EMERGENCY, "y")
    assert not refused.ok and view.mode().mode is Mode.HALTED


def test_mode_state_accepts_plain_strings() -> None:
    assert ModeState(mode="HALTED").mode is Mode.HALTED  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ModeState(mode="PANIC")  # type: ignore[arg-type]


def test_signal_record_from_signal_and_rejection() -> None:
    from decimal import Decimal

    from asym.monitor.adapters import signal_record
    from asym.signals.schema import Action, EntryType, Rejection, RejectionCode, Signal, Usage

    sig = Signal(
        symbol="BTCUSDT",
        action=Action.LONG,
        entry_type=EntryType.MARKET,
        entry_price=Decimal("62000"),
        mark_price=Decimal("62000"),
        stop_loss=Decimal("61000"),
        take_profits=(),
        confidence=0.7,
        leverage=Decimal("3"),
        horizon_hours=12.0,
        reward_risk=Decimal("2.5"),
        stop_atr=1.5,
        rationale="trend and funding agree",
        model_id="rules-v1",
        prompt_version="p1",
        latency_ms=3.0,
        usage=Usage(),
        data_timestamp=1000,
    )
    rec = signal_record(sig)
    assert (rec.ts, rec.symbol, rec.action, rec.outcome, rec.reward_risk) == (
        1000,
        "BTCUSDT",
        "LONG",
        "accepted",
        Decimal("2.5"),
    )
    assert rec.rationale == "trend and funding agree" and rec.reason == ""
    rej = Rejection(
        symbol="ETHUSDT",
        model_id="llm",
        code=RejectionCode.STOP_TOO_TIGHT,
        detail="stop 0.2 ATR",
        data_timestamp=2000,
    )
    rec = signal_record(rej, ts=5)
    assert (rec.ts, rec.outcome, rec.reason, rec.action) == (
        5,
        "rejected",
        "stop_too_tight: stop 0.2 ATR",
        "",
    )
