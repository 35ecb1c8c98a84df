"""Alert delivery over real HTTP to a local receiver (webhook JSON and Telegram's sendMessage format):
deduplicated, resolved, rate-limited, retried after failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from asym.monitor import AlertManager, Metrics, StaticSystemView, TelegramSink, WebhookSink
from asym.monitor.alerts import (
    DeliveryError,
    DrawdownRule,
    EmergencyModeRule,
    Notification,
    Sink,
    StaleDataRule,
    Status,
)
from asym.monitor.alerts.rules import Severity
from asym.monitor.view import AccountSummary, DataQuality, ModeState, StreamFreshness
from asym.trading.modes import Mode

BOT_TOKEN = "123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"


@dataclass
class Receiver:
    """What the local receiver got, and how it should answer next."""

    url: str = ""
    hooks: list[dict[str, Any]] = field(default_factory=list)
    telegram: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_next: int = 0
    telegram_refuse: bool = False


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook + fake Telegram API on 127.0.0.1."""
    got = Receiver()

    async def hook(request: web.Request) -> web.Response:
        if got.fail_next > 0:
            got.fail_next -= 1
            return web.Response(status=500, text="boom")
        got.hooks.append(await request.json())
        return web.json_response({"ok": True})

    async def send_message(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if got.fail_next > 0:
            got.fail_next -= 1
            return web.Response(status=502)
        if got.telegram_refuse:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            )
        got.telegram.append((token, await request.json()))
        return web.json_response({"ok": True, "result": {"message_id": len(got.telegram)}})

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_post("/bot{token}/sendMessage", send_message)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    got.url = str(server.make_url("")).rstrip("/")
    try:
        yield got
    finally:
        await server.close()


class Clock:
    """A hand-driven ms clock."""

    def __init__(self) -> None:
        self.t = 1_000_000

    def __call__(self) -> int:
        return self.t


def _drawdown(view: StaticSystemView, equity: str) -> None:
    a = view.account_summary
    view.account_summary = AccountSummary(
        equity=Decimal(equity),
        available_balance=a.available_balance,
        unrealised_pnl=a.unrealised_pnl,
        realised_pnl=a.realised_pnl,
        day_start_equity=a.day_start_equity,
        peak_equity=Decimal("10000"),
    )


async def test_firing_is_sent_once_and_resolve_follows(view: StaticSystemView) -> None:
    clock = Clock()
    metrics = Metrics(process=False)
    async with receiver() as rx:
        sinks: list[Sink] = [
            WebhookSink(rx.url + "/hook"),
            TelegramSink(BOT_TOKEN, chat_id=-100123, base_url=rx.url),
        ]
        mgr = AlertManager(
            view, sinks, metrics=metrics, rules=[DrawdownRule(), EmergencyModeRule()], clock_ms=clock
        )
        try:
            assert await mgr.tick() == []
            _drawdown(view, "9300")  # 7% below the peak
            (n,) = await mgr.tick()
            assert n.status is Status.FIRING and n.key == "drawdown"
            for _ in range(3):  # still firing: nothing new is sent
                clock.t += 5000
                assert await mgr.tick() == []
            assert len(rx.hooks) == 1 and len(rx.telegram) == 1
            hook = rx.hooks[0]
            assert hook["source"] == "asym" and hook["status"] == "firing" and hook["key"] == "drawdown"
            assert hook["severity"] == "warning" and "drawdown 7.00%" in hook["summary"]
            assert hook["started_at"] == "1970-01-01T00:16:40Z" and hook["ended_at"] is None
            token, msg = rx.telegram[0]
            assert token == BOT_TOKEN and msg["chat_id"] == -100123
            assert msg["text"].startswith("asym FIRING [warning] drawdown\ndrawdown 7.00% from peak")
            assert [a.key for a in mgr.active()] == ["drawdown"]
            _drawdown(view, "9900")
            clock.t += 5000
            (r,) = await mgr.tick()
            assert r.status is Status.RESOLVED
            assert [h["status"] for h in rx.hooks] == ["firing", "resolved"]
            assert rx.hooks[1]["ended_at"] == "1970-01-01T00:17:00Z"
            assert rx.telegram[1][1]["text"].startswith("asym RESOLVED drawdown")
            assert mgr.active() == []
            sent = metrics.registry.get_sample_value(
                "asym_alert_deliveries_total", {"channel": "webhook", "outcome": "sent"}
            )
            assert sent == 2
        finally:
            await mgr.close()


async def test_rate_limit_defers_and_nothing_is_lost(view: StaticSystemView) -> None:
    clock = Clock()
    async with receiver() as rx:
        mgr = AlertManager(
            view,
            [WebhookSink(rx.url + "/hook")],
            rules=[StaleDataRule()],
            max_per_window=2,
            window_s=60,
            clock_ms=clock,
        )
        try:
            view.quality = DataQuality(
                freshness=tuple(StreamFreshness(stream=f"s{i}", age_s=99.0, max_age_s=5.0) for i in range(5))
            )
            notes = await mgr.tick()
            assert len(notes) == 5 and len(rx.hooks) == 2  # two per minute
            clock.t += 30_000
            await mgr.tick()
            assert len(rx.hooks) == 2  # still inside the window
            clock.t += 30_000
            await mgr.tick()
            assert len(rx.hooks) == 4
            clock.t += 60_000
            await mgr.tick()
            assert sorted(h["key"] for h in rx.hooks) == [f"stale_data:s{i}" for i in range(5)]
            assert all(h["status"] == "firing" for h in rx.hooks)
        finally:
            await mgr.close()


async def test_failed_deliveries_are_retried_next_tick(view: StaticSystemView) -> None:
    clock = Clock()
    metrics = Metrics(process=False)
    async with receiver() as rx:
        sinks: list[Sink] = [
            WebhookSink(rx.url + "/hook"),
            TelegramSink(BOT_TOKEN, chat_id=1, base_url=rx.url),
        ]
        mgr = AlertManager(view, sinks, metrics=metrics, rules=[EmergencyModeRule()], clock_ms=clock)
        try:
            rx.fail_next = 2  # the first attempt of each channel fails (HTTP 500 / 502)
            view.mode_state = ModeState(mode=Mode.EMERGENCY, cause="api_failures")
            await mgr.tick()
            assert rx.hooks == [] and rx.telegram == []
            failed = metrics.registry.get_sample_value(
                "asym_alert_deliveries_total", {"channel": "webhook", "outcome": "failed"}
            )
            assert failed == 1
            clock.t += 5000
            await mgr.tick()  # same alert, not re-fired, but the queued message goes out now
            assert [h["key"] for h in rx.hooks] == ["mode:EMERGENCY"] and len(rx.telegram) == 1
            # Telegram's own refusal ({"ok": false}) is a failure too.
            rx.telegram_refuse = True
            view.mode_state = ModeState(mode=Mode.HALTED, cause="operator")
            clock.t += 5000
            await mgr.tick()
            assert [h["key"] for h in rx.hooks] == ["mode:EMERGENCY", "mode:EMERGENCY", "mode:HALTED"]
            assert [h["status"] for h in rx.hooks] == ["firing", "resolved", "firing"]
            assert len(rx.telegram) == 1
        finally:
            await mgr.close()


async def test_delivery_errors_never_contain_the_bot_token() -> None:
    n = Notification(
        status=Status.FIRING, key="k", rule="r", severity=Severity.WARNING, summary="s", started_ms=0
    )
    async with aiohttp.ClientSession() as session:
        # Nothing listens on this port: a connection error whose aiohttp text would include the URL.
        async with receiver() as rx:
            dead = rx.url
        sink = TelegramSink(BOT_TOKEN, chat_id=1, base_url=dead, timeout_s=2)
        with pytest.raises(DeliveryError) as err:
            await sink.send(n, session)
        assert BOT_TOKEN not in str(err.value) and BOT_TOKEN not in repr(err.value)
        assert err.value.__cause__ is None and err.value.__suppress_context__
        assert BOT_TOKEN not in repr(sink)
        async with receiver() as rx:
            rx.telegram_refuse = True
            with pytest.raises(DeliveryError, match="chat not found") as err:
                await TelegramSink(BOT_TOKEN, chat_id=1, base_url=rx.url).send(n, session)
            assert BOT_TOKEN not in str(err.value)


async def test_a_broken_sink_is_retried_then_given_up(view: StaticSystemView) -> None:
    class Broken:
        name = "broken"
        calls = 0

        async def send(self, n: Notification, session: aiohttp.ClientSession) -> None:
            self.calls += 1
            raise KeyError("bug in a sink")

    sink = Broken()
    metrics = Metrics(process=False)
    mgr = AlertManager(view, [sink], metrics=metrics, rules=[EmergencyModeRule()], max_attempts=3)
    try:
        view.mode_state = ModeState(mode=Mode.EMERGENCY, cause="x")
        for _ in range(5):
            await mgr.tick()
    finally:
        await mgr.close()
    assert sink.calls == 3 and len(mgr.channels[0].outbox) == 0
    get = metrics.registry.get_sample_value
    assert get("asym_alert_deliveries_total", {"channel": "broken", "outcome": "failed"}) == 3
    assert get("asym_alert_deliveries_total", {"channel": "broken", "outcome": "dropped"}) == 1
    assert [a.key for a in mgr.active()] == ["mode:EMERGENCY"]  # still shown as active on the dashboard
