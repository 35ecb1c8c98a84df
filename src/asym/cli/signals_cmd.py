"""`asym signals`: collect once, ask a model, print validated signals and rejections as JSON lines."""

from __future__ import annotations

import sys
from decimal import Decimal

import typer
from rich.console import Console
from rich.table import Table

from asym import eventloop
from asym.cli.collect_cmd import parse_symbols
from asym.cli.venue import open_venue
from asym.errors import AsymError
from asym.market.collector import Collector
from asym.market.config import CollectorConfig
from asym.signals import (
    Rejection,
    RiskState,
    Signal,
    SignalInput,
    SignalOutcome,
    build_model,
    default_model_spec,
    generate_signals,
    to_json_line,
)


def outcomes_table(outcomes: list[SignalOutcome]) -> Table:
    """Signals and rejections as a table."""
    t = Table(title=f"{len(outcomes)} outcomes")
    for col in ("symbol", "outcome", "entry", "stop", "targets", "R:R", "lev", "conf", "model", "why"):
        t.add_column(col)
    for o in outcomes:
        if isinstance(o, Signal):
            t.add_row(
                o.symbol,
                o.action.value,
                str(o.entry_price or ""),
                str(o.stop_loss or ""),
                " ".join(str(tp.price) for tp in o.take_profits),
                "" if o.reward_risk is None else f"{o.reward_risk:.2f}",
                "" if o.leverage is None else str(o.leverage),
                f"{o.confidence:.2f}",
                o.model_id,
                o.rationale[:60],
            )
        elif isinstance(o, Rejection):
            t.add_row(
                o.symbol, f"rejected: {o.code.value}", "", "", "", "", "", "", o.model_id, o.detail[:60]
            )
    return t


async def _signals(
    venue: str,
    model_spec: str | None,
    symbols: tuple[str, ...] | None,
    as_json: bool,
    sim_symbols: int,
    seed: int,
) -> int:
    model = build_model(model_spec or default_model_spec())
    try:
        async with open_venue(venue, symbols=sim_symbols, seed=seed) as v:
            collector = Collector(v.client, CollectorConfig(symbols=symbols, streams=False))
            try:
                cycle = await collector.collect_once()
            finally:
                await collector.close()
            equity = Decimal(0)
            positions = {}
            if v.client.credentials is not None:
                wallet = await v.client.get_wallet()
                equity = wallet.total_equity
                positions = {p.symbol: p for p in await v.client.get_positions() if p.side is not None}
            risk = RiskState(equity=equity, open_positions=len(positions))
            inputs = [
                SignalInput(data=r.enhanced, position=positions.get(r.symbol), risk=risk)
                for r in cycle.results
            ]
            outcomes = await generate_signals(inputs, model)
    finally:
        await model.aclose()
    if as_json:
        for o in outcomes:
            sys.stdout.write(to_json_line(o) + "\n")
        sys.stdout.flush()
    else:
        Console(width=max(160, Console().width)).print(outcomes_table(outcomes))
    return 0


def register(app: typer.Typer) -> None:
    """Attach `asym signals`."""

    @app.command("signals")
    def signals(
        venue: str = typer.Option("sim", help="sim, mainnet, testnet, demo or http://host:port"),
        model: str = typer.Option(
            None,
            help="rules | deepseek:deepseek-chat | openai-compatible:URL:MODEL | "
            "consensus:N:a|b|c | a>b>rules (default: deepseek when DEEPSEEK_API_KEY is "
            "set, else rules)",
        ),
        symbols: str = typer.Option("all", help="`all` or a comma-separated list"),
        as_json: bool = typer.Option(False, "--json", help="one JSON object per outcome per line"),
        sim_symbols: int = typer.Option(50, help="with --venue sim: symbols the simulator lists"),
        seed: int = typer.Option(7, help="with --venue sim: the market's seed"),
    ) -> None:
        """Validated signals (and rejections with reasons) for the chosen symbols."""
        try:
            raise typer.Exit(
                eventloop.run(_signals(venue, model, parse_symbols(symbols), as_json, sim_symbols, seed))
            )
        except AsymError as exc:
            Console(stderr=True).print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
