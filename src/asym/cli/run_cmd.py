"""`asym run`: the main job. Collect -> enhanced data -> signals -> risk -> execution every cycle, positions
followed continuously in between, the monitor on --http; a summary table at the end.

With `--venue sim` the defaults make a bounded demo convincing: market time x300 between cycles (still
while asym decides), 2-second cycles, 5-minute indicators, a dozen simulated symbols.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer
from rich.console import Console

from asym import eventloop
from asym.errors import AsymError, ConfigError


@dataclass(frozen=True)
class Pace:
    """Defaults that depend on the venue."""

    speed: float
    cycle_seconds: float
    indicator_interval: str
    risk_per_trade: str


SIM_PACE = Pace(speed=600.0, cycle_seconds=2.0, indicator_interval="5", risk_per_trade="0.0025")
LIVE_PACE = Pace(speed=1.0, cycle_seconds=1800.0, indicator_interval="60", risk_per_trade="0.01")


def _symbols(value: str | None) -> tuple[str, ...] | None:
    if value is None or value.strip().lower() == "all":
        return None
    syms = tuple(s.strip().upper() for s in value.split(",") if s.strip())
    if not syms:
        raise typer.BadParameter("give `all` or a comma-separated list such as BTCUSDT,ETHUSDT")
    return syms


def build_config(
    *,
    venue: str,
    model: str | None,
    cycles: int | None,
    speed: float | None,
    http: str | None,
    symbols: str | None,
    max_symbols: int | None,
    db: str | None,
    cycle_seconds: float | None,
    live: bool,
    sim_symbols: int,
    seed: int,
    faults: str,
    balance: str,
    entry_style: str,
    flatten: bool,
    indicator_interval: str | None,
    token_file: Path | None,
    risk_per_trade: str | None = None,
    unknown_positions: str = "adopt",
    rate_limits: bool = True,
    reference: str | None = None,
    reference_url: str | None = None,
) -> object:
    """The RunConfig for these options (venue-dependent defaults filled in)."""
    from asym.analytics import AnalyticsConfig
    from asym.app.runner import RunConfig
    from asym.app.venues import SimOptions, parse_venue
    from asym.market.reference import reference_config
    from asym.signals import default_model_spec
    from asym.trading.config import RiskConfig
    from asym.trading.emergency import EmergencyPolicy
    from asym.trading.executor import EntryStyle, ExecutionConfig
    from asym.trading.restart import RestartPolicy, UnknownPositionPolicy
    from asym.trading.session import SessionConfig

    kind, _ = parse_venue(venue)
    pace = SIM_PACE if kind == "sim" else LIVE_PACE
    try:
        bal = Decimal(balance)
    except InvalidOperation:
        raise ConfigError(f"--balance {balance!r} is not a number") from None
    try:
        style = EntryStyle(entry_style)
    except ValueError:
        raise ConfigError(f"--entry-style must be market or post_only, not {entry_style!r}") from None
    try:
        unknown = UnknownPositionPolicy(unknown_positions)
    except ValueError:
        raise ConfigError(f"--unknown-positions must be adopt or close, not {unknown_positions!r}") from None
    try:
        risk = RiskConfig(risk_per_trade=Decimal(risk_per_trade or pace.risk_per_trade))
    except InvalidOperation:
        raise ConfigError(f"--risk-per-trade {risk_per_trade!r} is not a number") from None
    mode_name = {"sim": "paper", "remote": "paper", "paper": "paper"}.get(kind, "live")
    return RunConfig(
        venue=venue,
        model=model or default_model_spec(),
        cycles=cycles,
        speed=speed if speed is not None else pace.speed,
        cycle_seconds=cycle_seconds if cycle_seconds is not None else pace.cycle_seconds,
        symbols=_symbols(symbols),
        max_symbols=max_symbols,
        db=db,
        http=http,
        token_file=token_file,
        live=live,
        sim=SimOptions(symbols=sim_symbols, seed=seed, faults=faults, balance=bal, rate_limits=rate_limits),
        session=SessionConfig(
            risk=risk,
            execution=ExecutionConfig(entry_style=style),
            emergency=EmergencyPolicy(flatten=flatten),
            restart=RestartPolicy(unknown_positions=unknown),
            signal_mode_name=mode_name,
        ),
        analytics=AnalyticsConfig(indicator_interval=indicator_interval or pace.indicator_interval),
        reference=reference_config(reference, reference_url),
    )


async def _main(cfg: object, console: Console, err: Console) -> int:
    from asym.app.render import cycle_line, summary_table, trades_table
    from asym.app.runner import run

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready(tv: object, session: object, url: str | None) -> None:
        name = getattr(tv, "name", "?")
        err.print(f"[bold]asym run[/bold] on {name}" + (f"; monitor at {url}" if url else ""))

    try:
        result = await run(
            cfg,  # type: ignore[arg-type]
            stop=stop,
            on_cycle=lambda info: console.print(cycle_line(info), highlight=False),
            on_ready=ready,
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    console.print(summary_table(result.summary))
    if result.summary.closed_trades:
        console.print(trades_table(result.summary))
    if result.stopped:
        err.print(f"stopped after {result.cycles} cycles")
    return 0


def register(app: typer.Typer) -> None:
    """Attach `asym run`."""

    @app.command("run")
    def run_command(
        venue: str = typer.Option(
            "sim", help="sim, paper[:source], mainnet, testnet, demo, http://host:port"
        ),
        model: str | None = typer.Option(
            None, help="model spec (default: deepseek>rules with a key, else rules)"
        ),
        cycles: int | None = typer.Option(None, help="stop after N cycles (default: until SIGINT/SIGTERM)"),
        speed: float | None = typer.Option(None, help="market time x wall time (sim: 600, else 1)"),
        http: str = typer.Option("127.0.0.1:8077", help="monitor HOST:PORT (metrics, health, dashboard)"),
        no_http: bool = typer.Option(False, "--no-http", help="do not serve the monitor"),
        symbols: str | None = typer.Option(None, help="`all` or a comma-separated list (default: all)"),
        max_symbols: int | None = typer.Option(None, help="trade only the N symbols with the most turnover"),
        db: str | None = typer.Option(None, help="store file (default: memory for sim, data/asym.duckdb)"),
        cycle_seconds: float | None = typer.Option(
            None, help="wall seconds between cycles (sim: 2, else 1800)"
        ),
        live: bool = typer.Option(False, "--live", help="required for --venue mainnet (real money)"),
        sim_symbols: int = typer.Option(12, help="with --venue sim: symbols the simulator lists"),
        seed: int = typer.Option(7, help="with --venue sim: the market's seed"),
        faults: str = typer.Option("", help="with --venue sim: fault spec, e.g. error_rate=0.05"),
        balance: str = typer.Option("100000", help="with --venue sim: USDT balance of the account"),
        entry_style: str = typer.Option(
            "market", help="market, or post_only (limit at the touch, then market)"
        ),
        flatten: bool = typer.Option(
            False, "--flatten-on-emergency", help="close all positions in EMERGENCY"
        ),
        indicator_interval: str | None = typer.Option(None, help="klines of RSI/ATR/EMA (sim: 5, else 60)"),
        token_file: Path = typer.Option(Path("data/monitor.token"), help="control API token (created 0600)"),
        risk_per_trade: str | None = typer.Option(
            None, help="loss at the stop / equity (sim: 0.0025, else 0.01)"
        ),
        unknown_positions: str = typer.Option(
            "adopt", help="on restart, positions the store does not know: adopt or close"
        ),
        reference: str | None = typer.Option(
            None, help="cross-check last prices against this exchange (a ccxt id, e.g. binanceusdm)"
        ),
        reference_url: str | None = typer.Option(None, help="with --reference: its REST base URL"),
    ) -> None:
        """Trade: collect, signal, risk, execute, monitor; a summary table at the end."""
        console = Console(width=max(120, Console().width))
        err = Console(stderr=True)
        try:
            cfg = build_config(
                venue=venue,
                model=model,
                cycles=cycles,
                speed=speed,
                http=None if no_http else http,
                symbols=symbols,
                max_symbols=max_symbols,
                db=db,
                cycle_seconds=cycle_seconds,
                live=live,
                sim_symbols=sim_symbols,
                seed=seed,
                faults=faults,
                balance=balance,
                entry_style=entry_style,
                flatten=flatten,
                indicator_interval=indicator_interval,
                token_file=token_file,
                risk_per_trade=risk_per_trade,
                unknown_positions=unknown_positions,
                reference=reference,
                reference_url=reference_url,
            )
            code = eventloop.run(_main(cfg, console, err))
        except AsymError as exc:
            err.print(f"error: {exc}")
            raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        sys.stdout.flush()
        raise typer.Exit(code)


def main() -> None:
    """`python -m asym.cli.run_cmd run ...` (and `halt`, `resume`): these commands without the root app."""
    from asym.cli import control_cmd
    from asym.logging import configure_logging

    app = typer.Typer(no_args_is_help=True)
    register(app)
    control_cmd.register(app)
    configure_logging("WARNING")
    app()


if __name__ == "__main__":
    main()
