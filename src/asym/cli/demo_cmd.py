"""`asym demo`: the README's first command. A bounded run on the embedded simulator that shows what asym
sees: one collection cycle of enhanced data, then live books and tickers through asym's own client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from asym import eventloop
from asym.cli.collect_cmd import cycle_table
from asym.cli.venue import open_venue
from asym.domain import OrderBook, Ticker
from asym.domain.venue import MarketStream
from asym.market.collector import Collector
from asym.market.config import CollectorConfig


def _live_table(
    books: Mapping[str, MarketStream[OrderBook]],
    tickers: Mapping[str, MarketStream[Ticker]],
    elapsed: float,
    total: float,
) -> Table:
    t = Table(title=f"live from the simulator over asym's WebSocket client ({elapsed:.0f}/{total:.0f} s)")
    for col in ("symbol", "last", "mark", "bid", "ask", "spread %", "book levels", "funding", "OI"):
        t.add_column(col, justify="left" if col == "symbol" else "right")
    for symbol, stream in books.items():
        b = stream.latest()
        tk = tickers[symbol].latest()
        spread = "-"
        if b is not None and b.mid:
            spread = f"{(b.asks[0][0] - b.bids[0][0]) / b.mid * 100:.4f}"
        t.add_row(
            symbol,
            "-" if tk is None else str(tk.last_price),
            "-" if tk is None or tk.mark_price is None else str(tk.mark_price),
            "-" if b is None else str(b.best_bid),
            "-" if b is None else str(b.best_ask),
            spread,
            "-" if b is None else f"{len(b.bids)}/{len(b.asks)}",
            "-" if tk is None or tk.funding_rate is None else str(tk.funding_rate),
            "-" if tk is None or tk.open_interest is None else str(tk.open_interest),
        )
    return t


async def _demo(seconds: float, symbols: int, speed: float) -> None:
    console = Console(width=max(140, Console().width))
    console.print(
        f"[bold]asym demo[/bold]: embedded Bybit V5 simulator, {symbols} symbols, market time x{speed:g}"
    )
    async with open_venue("sim", symbols=symbols, speed=speed) as v:
        sim = v.simulator
        assert sim is not None  # --venue sim always starts one
        console.print(f"simulator at {sim.rest_url} (REST) and {sim.ws_public_url} (WS)")
        collector = Collector(v.client, CollectorConfig(max_symbols=10))
        try:
            result = await collector.collect_once()
            console.print(cycle_table(result, limit=10))
        finally:
            await collector.close()
        watch = [r.symbol for r in result.results[:8]]
        books: dict[str, MarketStream[OrderBook]] = {s: await v.client.stream_orderbook(s, 50) for s in watch}
        tickers: dict[str, MarketStream[Ticker]] = {s: await v.client.stream_ticker(s) for s in watch}
        start = time.monotonic()
        with Live(_live_table(books, tickers, 0, seconds), console=console, refresh_per_second=4) as live:
            while (elapsed := time.monotonic() - start) < seconds:
                await asyncio.sleep(0.25)
                live.update(_live_table(books, tickers, elapsed, seconds))
        for s in (*books.values(), *tickers.values()):
            await s.aclose()
    console.print()
    console.print("done: see README.md for `asym sim serve`, `asym collect` and the other commands")


def register(app: typer.Typer) -> None:
    """Attach `asym demo`."""

    @app.command("demo")
    def demo(
        seconds: float = typer.Option(20.0, help="how long to show live data"),
        symbols: int = typer.Option(20, help="symbols the simulator lists"),
        speed: float = typer.Option(10.0, help="market time runs this many times faster"),
    ) -> None:
        """A bounded demo on the embedded simulator (no keys, no network)."""
        eventloop.run(_demo(seconds, symbols, speed))
