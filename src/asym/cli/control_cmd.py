"""`asym halt` / `asym resume`: steer a running `asym run` through its control API (--http address).

    asym halt --reason "news at 14:30"      # HALTED: no new entries, entries cancelled, stops ensured
    asym resume                             # NORMAL again, or refused with the reasons (exit code 1)

The token comes from ASYM_MONITOR_TOKEN or the token file `asym run` created (default
data/monitor.token); it is sent as a bearer token and never printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import typer

from asym import eventloop
from asym.errors import ConfigError
from asym.monitor.config import load_token, parse_http_address

DEFAULT_HTTP = "127.0.0.1:8077"
DEFAULT_TOKEN_FILE = Path("data/monitor.token")


def base_url(address: str) -> str:
    """http://host:port of a HOST:PORT address (IPv6 in brackets)."""
    host, port = parse_http_address(address)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def control(address: str, action: str, body: dict[str, Any], token: str | None) -> tuple[int, Any]:
    """POST /api/<action>; (HTTP status, decoded JSON answer)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.post(f"{base_url(address)}/api/{action}", data=json.dumps(body), headers=headers) as resp,
    ):
        text = await resp.text()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, {"error": {"code": "not_json", "message": text[:300]}}


def _run(address: str, action: str, body: dict[str, Any], token_file: Path) -> None:
    try:
        token = load_token(token_file)
        if token is None:
            raise ConfigError(
                f"no control token: set ASYM_MONITOR_TOKEN or create {token_file} (asym run does)"
            )
        status, answer = eventloop.run(control(address, action, body, token))
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        typer.echo(f"error: cannot reach asym run at {address}: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(answer, indent=2))
    if status == 200:
        return
    if status == 409:  # refused: a trigger has not cleared
        raise typer.Exit(1)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Attach `asym halt` and `asym resume`."""

    @app.command("halt")
    def halt(
        reason: str = typer.Option(..., "--reason", help="why (shown as the mode's cause, kept in the log)"),
        http: str = typer.Option(DEFAULT_HTTP, help="address of the running asym run (its --http)"),
        token_file: Path = typer.Option(DEFAULT_TOKEN_FILE, help="control API token file"),
    ) -> None:
        """Halt trading: no new entries, pending entries cancelled, every position keeps a stop."""
        if not reason.strip():
            raise typer.BadParameter("give a reason")
        _run(http, "halt", {"reason": reason.strip()}, token_file)

    @app.command("resume")
    def resume(
        reason: str = typer.Option("", "--reason", help="why (optional)"),
        http: str = typer.Option(DEFAULT_HTTP, help="address of the running asym run (its --http)"),
        token_file: Path = typer.Option(DEFAULT_TOKEN_FILE, help="control API token file"),
    ) -> None:
        """Resume trading (refused, exit code 1, while a trigger such as the drawdown has not cleared)."""
        _run(http, "resume", {"reason": reason.strip()}, token_file)
