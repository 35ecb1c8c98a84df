"""Health checks (liveness, readiness, reasons, broken checks) and the runtime probes (loop lag, RSS, CPU)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from asym.monitor import EventLoopLagMonitor, HealthRegistry, Heartbeat, Kind, Metrics, StaticSystemView
from asym.monitor.health import loop_lag_check, standard_checks
from asym.monitor.runtime import ProcessSampler, resident_memory_bytes
from asym.monitor.view import DataQuality, ModeState, StreamFreshness
from asym.trading.modes import Mode


async def test_ready_when_all_checks_pass(view: StaticSystemView) -> None:
    reg = HealthRegistry()
    standard_checks(reg, view)
    rep = await reg.report()
    assert rep.live and rep.ready and rep.reasons == ()
    assert {c.name for c in rep.checks} == {"mode", "freshness", "data_quality"}


async def test_not_ready_reasons_name_the_problem(view: StaticSystemView) -> None:
    reg = HealthRegistry()
    standard_checks(reg, view)
    view.mode_state = ModeState(mode=Mode.EMERGENCY, cause="drawdown 11% >= 10%")
    view.quality = DataQuality(
        freshness=(
            StreamFreshness(stream="book", age_s=42.0, max_age_s=5.0),
            StreamFreshness(stream="funding", age_s=None, max_age_s=600.0),
            StreamFreshness(stream="ticker", age_s=1.0, max_age_s=5.0),
        ),
        usable_share=0.2,
    )
    venue_down = {"v": True}
    reg.register("venue", lambda: "venue unreachable: 5 failures in a row" if venue_down["v"] else None)
    rep = await reg.report()
    assert rep.live and not rep.ready
    text = " | ".join(rep.reasons)
    assert "mode EMERGENCY: drawdown 11% >= 10%" in text
    assert "book 42.0s old > 5s" in text and "funding never received" in text and "ticker" not in text
    assert "usable data on 20% of assets < 50%" in text
    assert "venue unreachable" in text
    venue_down["v"] = False
    assert all("venue" not in r for r in (await reg.report()).reasons)


async def test_broken_and_slow_checks_fail_without_breaking_the_report() -> None:
    reg = HealthRegistry(timeout_s=0.05)

    def boom() -> str | None:
        raise RuntimeError("database is locked")

    async def slow() -> str | None:
        await asyncio.sleep(5)
        return None

    async def fine() -> str | None:
        return None

    reg.register("boom", boom)
    reg.register("slow", slow)
    reg.register("fine", fine, Kind.LIVENESS)
    rep = await reg.report()
    assert rep.live and not rep.ready
    assert "boom: check failed: RuntimeError: database is locked" in rep.reasons
    assert "slow: check timed out" in rep.reasons


async def test_liveness_failure_makes_not_ready_too_and_heartbeat() -> None:
    now = {"t": 100.0}
    hb = Heartbeat("trading loop", max_age_s=30, clock=lambda: now["t"])
    reg = HealthRegistry()
    reg.register("loop", hb.check, Kind.LIVENESS)
    rep = await reg.report()
    assert not rep.live and not rep.ready and rep.reasons == ("trading loop has not completed a cycle yet",)
    hb.beat()
    now["t"] += 10
    assert (await reg.report()).live
    now["t"] += 25
    rep = await reg.report()
    assert not rep.live and "trading loop silent for 35.0 s" in rep.reasons[0]


async def test_health_endpoints(view: StaticSystemView, monitor_server: Any) -> None:
    async with monitor_server(view) as (running, parts), aiohttp.ClientSession() as s:
        for path, key in (("/health", "ready"), ("/health/ready", "ready"), ("/health/live", "live")):
            async with s.get(running.url + path) as r:
                assert r.status == 200 and (await r.json())[key] is True
        view.quality = DataQuality(freshness=(StreamFreshness(stream="book", age_s=99.0, max_age_s=5.0),))
        async with s.get(running.url + "/health") as r:
            body = await r.json()
            assert r.status == 503 and body["live"] is True and body["ready"] is False
            assert body["reasons"] == ["data stale: book 99.0s old > 5s"]
        async with s.get(running.url + "/health/ready") as r:
            assert r.status == 503 and (await r.json())["reasons"] == ["data stale: book 99.0s old > 5s"]
        async with s.get(running.url + "/health/live") as r:
            assert r.status == 200  # stale data does not call for a restart
        parts["health"].register("loop", lambda: "trading loop silent for 90 s", Kind.LIVENESS)
        async with s.get(running.url + "/health/live") as r:
            assert r.status == 503 and await r.json() == {"live": False}  # open path: no details


async def test_loop_lag_monitor_sees_a_blocked_loop() -> None:
    m = Metrics()
    mon = EventLoopLagMonitor(m, interval_s=0.01, process_every_s=0.0)
    mon.start()
    await asyncio.sleep(0.05)
    assert mon.max_s < 0.15  # an idle loop
    time.sleep(0.25)  # noqa: ASYNC251 -- block the loop on purpose, as sync I/O would
    await asyncio.sleep(0.05)
    await mon.stop()
    assert mon.max_s >= 0.2
    check = loop_lag_check(lambda: mon.max_s, limit_s=0.1)
    assert check() is not None and "event loop lag" in str(check())
    assert m.registry.get_sample_value("asym_event_loop_lag_max_seconds") >= 0.2  # type: ignore[operator]
    assert m.registry.get_sample_value("asym_event_loop_lag_seconds_count") >= 2  # type: ignore[operator]
    cpu = m.registry.get_sample_value("asym_process_cpu_usage_ratio")
    assert cpu is not None and cpu >= 0


def test_process_sampler_measures_cpu_and_memory() -> None:
    rss = resident_memory_bytes()
    assert rss is not None and rss > 10_000_000  # a Python process with numpy and aiohttp loaded
    sampler = ProcessSampler()
    time.sleep(0.2)
    _, idle = sampler.sample()
    deadline = time.monotonic() + 0.2
    x = 0
    while time.monotonic() < deadline:  # burn CPU: the share must rise clearly (the machine is shared)
        x += 1
    _, busy = sampler.sample()
    assert idle is not None and busy is not None
    assert idle < 0.05 and busy > 0.1 and busy > 3 * idle
