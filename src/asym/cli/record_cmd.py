"""`asym record`: stream live public data of any venue into the store; optionally export it for replay."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live

from asym import eventloop
from asym.cli.collect_cmd import parse_symbols
from asym.cli.venue import open_venue, venue_label
from asym.market.recorder import Recorder, RecordStats, export_replay
from asym.store import Store, StoreConfig


async def _record(
    venue: str,
    symbols: tuple[str, ...] | None,
    db: Path,
    seconds: float | None,
    export: Path | None,
    sim_symbols: int,
    speed: float,
) -> None:
    console = Console(stderr=True)
    async with open_venue(venue, symbols=sim_symbols, speed=speed) as v:
        chosen = list(symbols) if symbols else [i.symbol for i in await v.client.get_instruments()]
        label = venue_label(venue)
        async with await Store.open(StoreConfig(path=str(db))) as store:
            with Live(console=console, refresh_per_second=2, transient=False) as live:

                def show(s: RecordStats) -> None:
                    live.update(
                        f"recording {len(chosen)} symbols from {label} into {db}: {s.seconds:.0f} s, "
                        f"{s.candles} kline updates, {s.books} books, {s.tickers} tickers, "
                        f"{s.liquidations} liquidations"
                    )

                stats = await Recorder(v.client, store, chosen, venue_label=label, progress=show).run(seconds)
                show(stats)
            if export is not None:
                written = await export_replay(store, export, chosen, venue=label)
                console.print(
                    f"exported {sum(written.values())} closed 1m candles of {len(written)} symbols to "
                    f"{export} (replay with: asym sim serve --replay {export})"
                )


def register(app: typer.Typer) -> None:
    """Attach `asym record`."""

    @app.command("record")
    def record(
        venue: str = typer.Option("sim", help="sim, mainnet, testnet, demo or http://host:port"),
        symbols: str = typer.Option("BTCUSDT,ETHUSDT", help="`all` or a comma-separated list"),
        db: Path = typer.Option(Path("data/asym.duckdb"), help="the DuckDB store to write"),
        seconds: float = typer.Option(None, help="stop after this long (default: until Ctrl-C)"),
        export: Path = typer.Option(None, help="afterwards, write SYMBOL_1m.parquet files here for replay"),
        sim_symbols: int = typer.Option(20, help="with --venue sim: symbols the simulator lists"),
        speed: float = typer.Option(1.0, help="with --venue sim: market time runs this many times faster"),
    ) -> None:
        """Record live public data (1m klines, books, tickers, liquidations) into the store."""
        try:
            eventloop.run(_record(venue, parse_symbols(symbols), db, seconds, export, sim_symbols, speed))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
