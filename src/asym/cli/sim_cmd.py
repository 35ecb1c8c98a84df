"""`asym sim ...`: run the Bybit V5-compatible exchange simulator.

`asym sim serve` prints ONE JSON line first (rest_url, ws_public_url, ws_private_url, api_key,
api_secret), flushed at once, then serves until SIGINT/SIGTERM and exits 0. The keys come from the config
defaults or from ASYM_SIM_API_KEY / ASYM_SIM_API_SECRET (never from argv, where `ps` would show them).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from asym import eventloop
from asym.errors import ConfigError


def _build_config(overrides: dict[str, Any]) -> Any:
    from asym.sim.config import SimConfig
    from asym.sim.faults import parse_faults

    key = os.environ.get("ASYM_SIM_API_KEY")
    secret = os.environ.get("ASYM_SIM_API_SECRET")
    if key:
        overrides["api_key"] = key
    if secret:
        overrides["api_secret"] = secret
    config = SimConfig(**overrides)
    parse_faults(config.faults)
    return config


async def _serve(config: Any, host: str, port: int) -> None:
    from asym.sim.server.app import SimServer

    server = SimServer(config, warm_up=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers first: a client may signal the moment it has read the first line.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start(host, port)
    line = {
        "rest_url": server.rest_url,
        "ws_public_url": server.ws_public_url,
        "ws_private_url": server.ws_private_url,
        "api_key": config.api_key,
        "api_secret": config.api_secret,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="interface to bind"),
    port: int = typer.Option(0, "--port", help="port to bind (0 = any free port)"),
    symbols: int | None = typer.Option(None, "--symbols", help="number of simulated linear perpetuals"),
    replay: Path | None = typer.Option(None, "--replay", help="recorded klines (file or folder) to replay"),
    speed: float | None = typer.Option(None, "--speed", help="market time runs this many times faster"),
    seed: int | None = typer.Option(None, "--seed", help="seed of the market and of the faults"),
    faults: str | None = typer.Option(
        None, "--faults", help="fault spec, e.g. error_rate=0.1,latency_ms=20-50"
    ),
    balance: str | None = typer.Option(None, "--balance", help="USDT balance of the funded account"),
    no_rate_limits: bool = typer.Option(False, "--no-rate-limits", help="do not enforce Bybit's rate limits"),
    ip_ban_seconds: float | None = typer.Option(
        None, "--ip-ban-seconds", help="ban after an IP-limit breach"
    ),
) -> None:
    """Serve Bybit V5 REST + WebSocket on one port until SIGINT or SIGTERM."""
    if symbols is not None and replay is not None:
        typer.echo("error: --symbols and --replay are exclusive", err=True)
        raise typer.Exit(2)
    overrides: dict[str, Any] = {}
    for name, value in (
        ("symbols", symbols),
        ("replay", replay),
        ("speed", speed),
        ("seed", seed),
        ("faults", faults),
        ("ip_ban_seconds", ip_ban_seconds),
    ):
        if value is not None:
            overrides[name] = value
    if balance is not None:
        try:
            overrides["balance_usdt"] = Decimal(balance)
        except InvalidOperation:
            typer.echo(f"error: --balance {balance!r} is not a number", err=True)
            raise typer.Exit(2) from None
    if no_rate_limits:
        overrides["rate_limits"] = False
    try:
        config = _build_config(overrides)
    except (ValidationError, ConfigError) as exc:
        typer.echo(f"error: invalid simulator configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    from asym.logging import configure_logging

    configure_logging("WARNING")
    try:
        eventloop.run(_serve(config, host, port))
    except OSError as exc:
        typer.echo(f"error: cannot serve on {host}:{port}: {exc}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    """Attach `asym sim` to the root app."""
    sim = typer.Typer(help="The Bybit V5-compatible exchange simulator.", no_args_is_help=True)
    sim.command("serve")(serve)
    app.add_typer(sim, name="sim")
