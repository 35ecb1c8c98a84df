"""Control API over real HTTP: reads, halt / resume / mode, refusals, validation, and the token rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from multidict import CIMultiDictProxy

from asym.errors import ConfigError
from asym.monitor import MemoryController, Metrics, MonitorConfig, StaticSystemView, create_app, serve
from asym.monitor.adapters import ModeMachineController, mode_state
from asym.trading.modes import Mode, ModeInputs, ModeMachine

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, **kw: Any
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    async with session.request(method, url, **kw) as resp:
        ctype = resp.headers.get("Content-Type", "")
        body = await resp.json() if "json" in ctype else await resp.text()
        return resp.status, body, resp.headers


async def test_reads_are_open_on_loopback_and_show_the_view(
    view: StaticSystemView, monitor_server: Any
) -> None:
    async with monitor_server(view) as (running, _), aiohttp.ClientSession() as s:
        st, body, headers = await _call(s, "GET", running.url + "/api/status")
        assert st == 200
        assert body["mode"]["mode"] == "NORMAL"
        assert body["account"]["equity"] == "10234.56"  # money as an exact decimal string
        assert body["account"]["total_pnl"] == "234.56"
        assert body["open_positions"] == 2
        assert body["health"]["ready"] is True
        assert (
            headers["X-Frame-Options"] == "DENY"
            and "default-src 'none'" in headers["Content-Security-Policy"]
        )
        st, body, _ = await _call(s, "GET", running.url + "/api/positions")
        assert st == 200 and [p["symbol"] for p in body["positions"]] == ["BTCUSDT", "ETHUSDT"]
        assert body["positions"][0]["unrealised_pnl"] == "14.99"
        st, body, _ = await _call(s, "GET", running.url + "/api/signals?limit=1")
        assert st == 200 and len(body["signals"]) == 1 and body["signals"][0]["symbol"] == "BTCUSDT"
        for bad in ("0", "501", "x", "-1", "1.5"):
            st, body, _ = await _call(s, "GET", running.url + f"/api/signals?limit={bad}")
            assert st == 400 and body["error"]["code"] == "bad_request"
        st, body, _ = await _call(s, "GET", running.url + "/api/enhanced")
        assert [e["symbol"] for e in body["enhanced"]] == ["BTCUSDT", "ETHUSDT"]
        assert body["enhanced"][1]["quality_flags"] == ["book_stale"]


async def test_halt_resume_and_mode_change_the_system(view: StaticSystemView, monitor_server: Any) -> None:
    async with monitor_server(view, token=TOKEN) as (running, parts), aiohttp.ClientSession() as s:
        ctl: MemoryController = parts["controller"]
        st, body, _ = await _call(
            s, "POST", running.url + "/api/halt", json={"reason": "manual check"}, headers=AUTH
        )
        assert st == 200 and body["ok"] is True and body["mode"] == "HALTED"
        assert view.mode().mode is Mode.HALTED and view.mode().cause == "manual check"
        st, body, _ = await _call(s, "GET", running.url + "/health")
        assert st == 503 and any("HALTED" in r for r in body["reasons"])  # not ready while halted
        # A blocker refuses the resume with its reason, and the mode stays.
        ctl.blockers = ["drawdown 12% not below 8%"]
        st, body, _ = await _call(s, "POST", running.url + "/api/resume", headers=AUTH)
        assert st == 409 and body["ok"] is False and body["reasons"] == ["drawdown 12% not below 8%"]
        assert view.mode().mode is Mode.HALTED
        ctl.blockers = []
        st, body, _ = await _call(s, "POST", running.url + "/api/resume", json={}, headers=AUTH)
        assert st == 200 and body["mode"] == "NORMAL" and view.mode().mode is Mode.NORMAL
        st, body, _ = await _call(
            s,
            "POST",
            running.url + "/api/mode",
            json={"mode": "EMERGENCY", "reason": "venue flaky"},
            headers=AUTH,
        )
        assert st == 200 and body["mode"] == "EMERGENCY"
        st, body, _ = await _call(s, "GET", running.url + "/api/mode")
        assert body == {"mode": "EMERGENCY", "cause": "venue flaky", "since_ms": view.mode().since_ms}
        assert [m for _, m, _ in ctl.history] == [Mode.HALTED, Mode.NORMAL, Mode.EMERGENCY]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/halt", None, 400),  # reason required
        ("/api/halt", {"reason": ""}, 400),
        ("/api/halt", {"reason": "   "}, 400),
        ("/api/halt", {"reason": "\u0085"}, 400),  # blank to Python's regex only
        ("/api/halt", {"reason": "\ufeff"}, 400),  # blank to JSON Schema's (ECMA) regex only
        ("/api/halt", {"reason": "x" * 501}, 400),
        ("/api/halt", {"reason": "ok", "extra": 1}, 400),  # unknown field
        ("/api/halt", [1, 2], 400),
        ("/api/mode", {"mode": "PANIC"}, 400),
        ("/api/mode", {"reason": "no mode"}, 400),
        ("/api/resume", {"reason": 5}, 400),
        ("/api/halt", b"{not json", 400),
        ("/api/halt", b"\xff\xfe", 400),
    ],
)
async def test_bad_bodies_are_400_and_change_nothing(
    view: StaticSystemView, monitor_server: Any, path: str, body: Any, status: int
) -> None:
    async with monitor_server(view, token=TOKEN) as (running, parts), aiohttp.ClientSession() as s:
        kw: dict[str, Any] = {"headers": {**AUTH, "Content-Type": "application/json"}}
        if isinstance(body, bytes):
            kw["data"] = body
        elif body is not None:
            kw["json"] = body
        st, answer, _ = await _call(s, "POST", running.url + path, **kw)
        assert st == status, answer
        assert answer["error"]["message"]
        assert view.mode().mode is Mode.NORMAL and parts["controller"].history == []


async def test_oversized_and_wrong_type_bodies(view: StaticSystemView, monitor_server: Any) -> None:
    async with monitor_server(view, token=TOKEN) as (running, _), aiohttp.ClientSession() as s:
        st, body, _ = await _call(s, "POST", running.url + "/api/halt", data=b"x" * 100_000, headers=AUTH)
        assert st == 413 and body["error"]["code"]
        headers = {**AUTH, "Content-Type": "text/plain"}
        st, body, _ = await _call(
            s, "POST", running.url + "/api/halt", data=b'{"reason":"a"}', headers=headers
        )
        assert st == 415
        st, body, headers_ = await _call(
            s, "PUT", running.url + "/api/halt", json={"reason": "a"}, headers=AUTH
        )
        assert st == 405 and "POST" in headers_["Allow"]
        assert view.mode().mode is Mode.NORMAL


async def test_writes_always_need_the_token(view: StaticSystemView, monitor_server: Any) -> None:
    async with monitor_server(view, token=TOKEN) as (running, _), aiohttp.ClientSession() as s:
        for headers in ({}, {"Authorization": "Bearer wrong-token-xxxxxxxxxx"}, {"Authorization": TOKEN}):
            for path, body in (
                ("/api/halt", {"reason": "x"}),
                ("/api/resume", {}),
                ("/api/mode", {"mode": "HALTED"}),
            ):
                st, answer, h = await _call(s, "POST", running.url + path, json=body, headers=headers)
                assert st == 401 and answer["error"]["code"] == "unauthorized"
                assert h["WWW-Authenticate"].startswith("Bearer")
        assert view.mode().mode is Mode.NORMAL


async def test_without_a_token_writes_are_disabled(view: StaticSystemView, monitor_server: Any) -> None:
    async with monitor_server(view) as (running, _), aiohttp.ClientSession() as s:
        st, body, _ = await _call(s, "POST", running.url + "/api/halt", json={"reason": "x"}, headers=AUTH)
        assert st == 403 and body["error"]["code"] == "writes_disabled"
        assert view.mode().mode is Mode.NORMAL


async def test_loopback_server_refuses_foreign_host_header(
    view: StaticSystemView, monitor_server: Any
) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the dashboard."""
    async with monitor_server(view) as (running, _), aiohttp.ClientSession() as s:
        for host in ("evil.example", "evil.example:8077", "10.0.0.5"):
            st, body, _ = await _call(s, "GET", running.url + "/api/status", headers={"Host": host})
            assert st == 403 and body["error"]["code"] == "host_not_allowed"
        for host in ("localhost", f"127.0.0.1:{running.port}", f"[::1]:{running.port}"):
            st, _, _ = await _call(s, "GET", running.url + "/api/status", headers={"Host": host})
            assert st == 200


@asynccontextmanager
async def _exposed(view: StaticSystemView, token: str | None) -> AsyncIterator[str]:
    """An app configured as bound to 0.0.0.0 but served (for the test) on 127.0.0.1 only."""
    app = create_app(view, MemoryController(view), Metrics(), MonitorConfig(host="0.0.0.0", token=token))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_exposed_server_needs_the_token_for_reads(view: StaticSystemView) -> None:
    async with _exposed(view, TOKEN) as url, aiohttp.ClientSession() as s:
        for path in (
            "/api/status",
            "/api/dashboard",
            "/metrics",
            "/health",
            "/health/ready",
            "/api/openapi.json",
        ):
            st, _, _ = await _call(s, "GET", url + path)
            assert st == 401, path
            st, _, _ = await _call(s, "GET", url + path, headers=AUTH)
            assert st == 200, path
        # The page shell and liveness hold no data: open, so the page can load and ask for the token.
        for path in ("/", "/static/dashboard.js", "/health/live"):
            st, _, _ = await _call(s, "GET", url + path)
            assert st == 200, path


async def test_serve_refuses_exposed_address_without_token(view: StaticSystemView) -> None:
    ctl = MemoryController(view)
    for host in ("0.0.0.0", "::", "192.168.1.10", "monitor.example"):
        with pytest.raises(ConfigError, match="needs a token"):
            await serve(view, ctl, Metrics(), MonitorConfig(host=host, port=0))


async def test_mode_machine_controller_uses_the_real_mode_rules() -> None:
    """The adapter over asym.trading's ModeMachine: a resume is refused while drawdown has not cleared."""
    machine = ModeMachine()
    inputs = {
        "v": ModeInputs(
            equity=Decimal("8800"), day_start_equity=Decimal("9000"), peak_equity=Decimal("10000")
        )
    }
    machine.observe(inputs["v"], 1)  # 12% drawdown >= 10%: EMERGENCY
    ctl = ModeMachineController(machine, inputs=lambda: inputs["v"], clock_ms=lambda: 2)
    assert mode_state(machine).mode is Mode.EMERGENCY and "drawdown" in mode_state(machine).cause
    res = await ctl.resume()
    assert not res.ok and res.mode is Mode.EMERGENCY and any("drawdown" in r for r in res.reasons)
    halted = await ctl.halt("operator")
    assert halted.ok and machine.mode is Mode.HALTED
    refused = await ctl.set_mode(Mode.EMERGENCY, "x")
    assert not refused.ok and machine.mode is Mode.HALTED
    inputs["v"] = ModeInputs(
        equity=Decimal("9900"), day_start_equity=Decimal("9900"), peak_equity=Decimal("10000")
    )
    res = await ctl.resume()
    assert res.ok and machine.mode is Mode.NORMAL and mode_state(machine).cause == ""
