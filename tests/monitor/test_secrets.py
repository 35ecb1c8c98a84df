"""A known secret used everywhere a secret can be (monitor token, Telegram bot token, webhook auth header, a
venue key in a log event, the text of failing checks and controllers, even a metric label) never shows up
in any log line, error, HTTP answer or metric."""

from __future__ import annotations

import io
import logging

import aiohttp
import structlog

from asym.logging import get_logger, register_secret
from asym.monitor import (
    AlertManager,
    HealthRegistry,
    MemoryController,
    Metrics,
    MonitorConfig,
    StaticSystemView,
    TelegramSink,
    WebhookSink,
    openapi_document,
    serve,
    start_logging,
)
from asym.monitor.alerts import DeliveryError, EmergencyModeRule, Notification, Severity, Status
from asym.monitor.view import ControlResult, ModeState
from asym.trading.modes import Mode

SECRET = "kn0wn-Secret-7c1d2e3f4a5b6c7d"


class LeakyController(MemoryController):
    """A controller whose failure message contains the secret."""

    async def resume(self) -> ControlResult:
        raise RuntimeError(f"venue said: key {SECRET} rejected")


async def test_known_secret_never_leaks(view: StaticSystemView) -> None:
    register_secret(SECRET)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, structlog.get_config())
    stream = io.StringIO()
    pipeline = start_logging(stream, "DEBUG", replace_handlers=False)
    errors: list[str] = []
    answers: list[str] = []
    try:
        metrics = Metrics()
        metrics.observe_api_request(
            f"/v5/order/create?apiKey={SECRET}", 0.1, ret_code=10003
        )  # a careless label
        health = HealthRegistry()

        def leaky_check() -> str | None:
            raise ValueError(f"cannot reach db with password {SECRET}")

        health.register("db", leaky_check)
        health.register("venue", lambda: f"auth failed for key {SECRET}")
        config = MonitorConfig(port=0, token=SECRET)
        ctl = LeakyController(view)
        # Alerts to a Telegram API that is not there, and a webhook with the secret as its auth header.
        view.mode_state = ModeState(mode=Mode.EMERGENCY, cause=f"api key {SECRET} revoked")
        mgr = AlertManager(
            view,
            [
                TelegramSink(SECRET.replace("-", ""), chat_id=1, base_url="http://127.0.0.1:9", timeout_s=1),
                WebhookSink(
                    "http://127.0.0.1:9/hook", headers={"Authorization": f"Bearer {SECRET}"}, timeout_s=1
                ),
            ],
            metrics=metrics,
            rules=[EmergencyModeRule()],
        )
        register_secret(SECRET.replace("-", ""))
        await mgr.tick()
        await mgr.close()
        get_logger("bybit").info("signed", api_key=SECRET, note=f"secret is {SECRET}")
        async with (
            await serve(view, ctl, metrics, config, health=health) as running,
            aiohttp.ClientSession() as s,
        ):
            auth = {"Authorization": f"Bearer {SECRET}"}
            paths = [
                p for p in openapi_document()["paths"] if p not in ("/api/halt", "/api/resume", "/api/mode")
            ]
            for path in [*paths, "/", "/static/dashboard.js"]:
                async with s.get(running.url + path, headers=auth) as r:
                    answers.append(f"{path} {r.status} {dict(r.headers)} {await r.text()}")
            async with s.post(running.url + "/api/resume", headers=auth) as r:
                assert r.status == 503
                answers.append(await r.text())
            async with s.post(running.url + "/api/halt", json={"reason": f"rotate {SECRET}"}) as r:
                assert r.status == 401  # no token: refused (and the reason is never logged)
                answers.append(await r.text())
        async with aiohttp.ClientSession() as session:
            for ch in mgr.channels:
                try:
                    await ch.sink.send(_note(), session)
                except DeliveryError as exc:
                    errors.append(f"{exc} {exc!r}")
        errors.extend(
            [repr(config), repr(mgr.channels[0].sink), repr(mgr.channels[1].sink), str(running.url)]
        )
        pipeline.flush()
    finally:
        pipeline.stop()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.configure(**saved[2])
    logs = stream.getvalue()
    exposition = metrics.exposition().decode()
    # The test saw the real things happen ...
    assert (
        "alert delivery failed" in logs
        and "control failed" in logs
        and "venue said: key *** rejected" in logs
    )
    assert any("/health 503" in a and "db: check failed: ValueError" in a for a in answers)
    assert any(a.startswith("/metrics 200") and "asym_api_errors_total" in a for a in answers)
    assert len(errors) >= 4 and "asym_api_errors_total" in exposition
    # ... and the secret is in none of it.
    for name, text in (
        ("logs", logs),
        ("metrics", exposition),
        ("answers", "\n".join(answers)),
        ("errors", "\n".join(errors)),
    ):
        assert SECRET not in text, name
        assert SECRET.replace("-", "") not in text, name
    assert "***" in logs and "***" in exposition


def _note() -> Notification:
    return Notification(
        status=Status.FIRING, key="k", rule="r", severity=Severity.WARNING, summary="s", started_ms=0
    )
