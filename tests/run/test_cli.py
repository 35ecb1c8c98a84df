"""`asym run`, `asym halt` and `asym resume`: the commands end to end (the embedded simulator, the monitor's
HTTP server, the control API with its token)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
import typer
from typer.testing import CliRunner

from asym.analytics import AnalyticsConfig
from asym.app.runner import RunConfig, run
from asym.app.venues import SimOptions
from asym.cli import control_cmd, run_cmd
from asym.cli.control_cmd import control
from asym.trading.modes import Mode
from asym.trading.session import TradingSession


def cli() -> typer.Typer:
    app = typer.Typer()
    run_cmd.register(app)
    control_cmd.register(app)
    return app


def test_run_command_trades_on_the_embedded_simulator_and_prints_the_summary() -> None:
    args = ["run", "--venue", "sim", "--cycles", "4", "--cycle-seconds", "0.5", "--no-http"]
    args += ["--sim-symbols", "6", "--model", "rules"]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("cycle ") >= 4 and "asym run: summary" in out
    for figure in ("equity (USDT)", "P&L (USDT)", "trades closed", "win rate", "max drawdown", "fees paid"):
        assert figure in out
    assert "signal -> order sent p50 / p99" in out


@pytest.mark.parametrize(
    ("venue", "env", "needle"),
    [("mainnet", {}, "--live"), ("testnet", {"BYBIT_API_KEY": "", "BYBIT_API_SECRET": ""}, "needs keys")],
)
def test_live_venues_refuse_without_confirmation_or_keys(
    venue: str, env: dict[str, str], needle: str
) -> None:
    result = CliRunner().invoke(cli(), ["run", "--venue", venue, "--cycles", "1", "--no-http"], env=env)
    assert result.exit_code == 2 and needle in result.output


def test_halt_without_a_running_loop_says_so(tmp_path: Path) -> None:
    token = tmp_path / "t"
    token.write_text("x" * 32)
    token.chmod(0o600)
    args = ["halt", "--reason", "test", "--http", "127.0.0.1:9", "--token-file", str(token)]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 2 and "cannot reach" in result.output


async def test_halt_and_resume_through_the_control_api_of_a_running_loop(tmp_path: Path) -> None:
    stop = asyncio.Event()
    ready: asyncio.Future[tuple[str, TradingSession]] = asyncio.get_running_loop().create_future()
    token_file = tmp_path / "monitor.token"
    cfg = RunConfig(
        venue="sim",
        cycles=None,
        speed=300,
        cycle_seconds=0.3,
        http="127.0.0.1:0",
        token_file=token_file,
        sim=SimOptions(symbols=4, rate_limits=False),
        analytics=AnalyticsConfig(indicator_interval="5"),
    )

    def on_ready(tv: object, session: TradingSession, url: str | None) -> None:
        assert url is not None
        ready.set_result((url, session))

    task = asyncio.create_task(run(cfg, stop=stop, on_ready=on_ready))
    url, session = await asyncio.wait_for(ready, 60)
    address = url.removeprefix("http://")
    token = token_file.read_text().strip()
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    try:
        status, answer = await control(address, "halt", {"reason": "test: news"}, token)
        assert status == 200 and answer["mode"] == "HALTED" and session.mode is Mode.HALTED
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/health") as r:
                assert r.status == 503 and "HALTED" in await r.text()
            async with http.get(f"{url}/metrics") as r:
                assert r.status == 200 and "asym_" in await r.text()
            async with http.get(f"{url}/api/status") as r:
                assert r.status == 200
        status, answer = await control(address, "halt", {"reason": "no token"}, None)
        assert status in (401, 403) and session.mode is Mode.HALTED
        status, answer = await control(address, "resume", {}, token)
        assert status == 200 and answer["mode"] == "NORMAL" and session.mode is Mode.NORMAL
    finally:
        stop.set()
        result = await asyncio.wait_for(task, 60)
    assert result.stopped and result.summary.mode == "NORMAL"
    assert result.summary.start_balance == Decimal(100_000)


def test_run_until_sigterm_then_a_clean_shutdown_with_the_summary(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    cmd = [
        sys.executable,
        "-m",
        "asym.cli.run_cmd",
        "run",
        "--venue",
        "sim",
        "--no-http",
        "--sim-symbols",
        "4",
    ]
    cmd += ["--cycle-seconds", "0.3", "--db", str(tmp_path / "s.duckdb")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("cycle   2"):
            os.kill(proc.pid, signal.SIGTERM)
            break
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "asym run: summary" in out
    assert (tmp_path / "s.duckdb").exists() and (tmp_path / "s.duckdb.journal").stat().st_size == 0


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--entry-style", "aggressive", "--entry-style"),
        ("--unknown-positions", "sell", "--unknown-positions"),
        ("--balance", "lots", "--balance"),
        ("--venue", "binance", "--venue"),
        ("--reference-url", "http://127.0.0.1:9", "--reference-url needs --reference"),
        ("--reference", "nosuchexchange", "unknown ccxt exchange id"),
    ],
)
def test_bad_options_get_a_clear_error(option: str, value: str, needle: str) -> None:
    result = CliRunner().invoke(cli(), ["run", "--no-http", "--cycles", "1", option, value])
    assert result.exit_code == 2 and needle in result.output


def test_the_reference_option_reaches_the_collector() -> None:
    from asym.app.runner import collector_config
    from asym.cli.run_cmd import build_config

    cfg = build_config(
        venue="sim", model="rules", cycles=1, speed=None, http=None, symbols=None, max_symbols=None,
        db=None, cycle_seconds=None, live=False, sim_symbols=4, seed=7, faults="", balance="1000",
        entry_style="market", flatten=False, indicator_interval=None, token_file=None,
        reference="bybit", reference_url="http://127.0.0.1:9",
    )  # fmt: skip
    assert isinstance(cfg, RunConfig)
    ref = collector_config(cfg).reference
    assert ref is not None and (ref.exchange, ref.url) == ("bybit", "http://127.0.0.1:9")
