"""`asym collect`: collection cycles over the universe, as a table or one JSON object per symbol per line."""

from __future__ import annotations

import contextlib
import sys
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from asym import eventloop
from asym.analytics import to_json_line
from asym.cli.venue import open_venue, venue_label
from asym.market.collector import Collector
from asym.market.config import CollectorConfig
from asym.market.reference import ReferenceConfig, reference_config
from asym.market.results import CycleResult
from asym.market.sink import StoreSink
from asym.store import Store, StoreConfig

err = Console(stderr=True)


def parse_symbols(value: str) -> tuple[str, ...] | None:
    """`all` -> None (the whole universe); `A,B` -> ('A', 'B') upper-cased."""
    if value.strip().lower() == "all":
        return None
    syms = tuple(s.strip().upper() for s in value.split(",") if s.strip())
    if not syms:
        raise typer.BadParameter("give `all` or a comma-separated list such as BTCUSDT,ETHUSDT")
    return syms


def cycle_table(result: CycleResult, limit: int = 30) -> Table:
    """A table of the enhanced data of one cycle (the top `limit` symbols)."""
    t = Table(
        title=f"cycle {result.cycle}: {len(result.universe)} symbols in {result.duration_s:.1f} s, "
        f"{result.requests} requests, completeness {result.completeness.ratio:.1%}"
    )
    for col in (
        "symbol",
        "last",
        "spread %",
        "liquidity",
        "funding",
        "OI",
        "RSI",
        "vol 24h",
        "liq risk",
        "risk",
        "flags",
    ):
        t.add_column(col, justify="left" if col in ("symbol", "flags") else "right")
    for r in result.results[:limit]:
        e = r.enhanced
        ti = e.technical_indicators
        t.add_row(
            e.symbol,
            f"{e.last_price}",
            "-" if e.spread_pct is None else f"{e.spread_pct:.4f}",
            "-" if e.liquidity_score is None else f"{e.liquidity_score:.2f}",
            "-"
            if e.funding_sentiment is None
            else f"{e.funding_sentiment.direction} {e.funding_sentiment.pressure}",
            "-" if e.oi_sentiment is None else e.oi_sentiment.label,
            "-" if ti is None or ti.rsi_14 is None else f"{ti.rsi_14:.1f}",
            "-" if ti is None or ti.realized_vol_24h is None else f"{ti.realized_vol_24h:.0%}",
            "-" if e.liquidation_risk is None else e.liquidation_risk.value,
            "-" if e.market_risk_score is None else f"{e.market_risk_score:.2f}",
            ",".join(e.quality_flags)[:40],
        )
    return t


async def _collect(
    venue: str,
    symbols: tuple[str, ...] | None,
    once: bool,
    as_json: bool,
    cycle_seconds: float,
    sim_symbols: int,
    seed: int,
    min_turnover: float,
    db: Path | None = None,
    reference: ReferenceConfig | None = None,
) -> None:
    config = CollectorConfig(
        symbols=symbols,
        cycle_seconds=cycle_seconds,
        min_turnover_24h=Decimal(str(min_turnover)),
        reference=reference,
    )
    async with contextlib.AsyncExitStack() as stack:
        sink = None
        if db is not None:
            store = await stack.enter_async_context(await Store.open(StoreConfig(path=str(db))))
            sink = StoreSink(store, venue_label(venue))
        v = await stack.enter_async_context(open_venue(venue, symbols=sim_symbols, seed=seed))
        with Progress(
            TextColumn("collecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("collect", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            collector = Collector(v.client, config, progress=tick, sink=sink)
            try:
                async for result in collector.run(cycles=1 if once else None):
                    if as_json:
                        out = sys.stdout.buffer
                        for r in result.results:
                            out.write(to_json_line(r.enhanced) + b"\n")
                        out.flush()
                    else:
                        progress.stop()
                        Console(width=max(140, Console().width)).print(cycle_table(result))
                        progress.start()
                    progress.reset(task)
            finally:
                await collector.close()


def register(app: typer.Typer) -> None:
    """Attach `asym collect`."""

    @app.command("collect")
    def collect(
        venue: str = typer.Option("sim", help="sim, mainnet, testnet, demo or http://host:port"),
        symbols: str = typer.Option("all", help="`all` or a comma-separated list"),
        once: bool = typer.Option(False, "--once", help="one cycle, then exit"),
        as_json: bool = typer.Option(False, "--json", help="one JSON object per symbol per line"),
        cycle_seconds: float = typer.Option(1800.0, help="time between cycle starts"),
        min_turnover: float = typer.Option(0.0, help="universe filter: minimum 24h turnover in USDT"),
        sim_symbols: int = typer.Option(50, help="with --venue sim: symbols the simulator lists"),
        seed: int = typer.Option(7, help="with --venue sim: the market's seed"),
        db: Path = typer.Option(None, help="also store every cycle in this DuckDB file"),
        reference: str = typer.Option(
            None, help="cross-check last prices against this exchange (a ccxt id, e.g. binanceusdm)"
        ),
        reference_url: str = typer.Option(
            None, help="with --reference: its REST base URL (a proxy, or a simulator as `bybit`)"
        ),
    ) -> None:
        """Collect market data and print the enhanced data per symbol."""
        ref = reference_config(reference, reference_url)
        try:
            eventloop.run(
                _collect(
                    venue,
                    parse_symbols(symbols),
                    once,
                    as_json,
                    cycle_seconds,
                    sim_symbols,
                    seed,
                    min_turnover,
                    db,
                    ref,
                )
            )
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
