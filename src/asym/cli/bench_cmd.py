"""`asym bench`: run benchmarks and write their figures (with date and machine) to docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from asym.bench.common import machine_info, write_section

# part -> (module, title); each module has run(quick: bool) (sync or async) and render(results) -> str.
PARTS: dict[str, tuple[str, str]] = {
    "sim": ("asym.bench.sim_bench", "Simulator"),
    "client": ("asym.bench.client_bench", "Bybit client vs ccxt and pybit"),
    "collect": ("asym.bench.collect_bench", "Data collection"),
    "analytics": ("asym.bench.analytics_bench", "Enhanced data"),
    "signals": ("asym.bench.signals_bench", "Signal layer"),
    "trading": ("asym.bench.trading_bench", "Trading"),
    "backtest": ("asym.bench.backtest_bench", "Backtesting"),
}
DEFAULT_OUT = Path("docs/benchmarks.md")


async def _run_part(name: str, quick: bool) -> dict[str, Any]:
    module = importlib.import_module(PARTS[name][0])
    run = module.run
    kwargs = {"quick": quick} if "quick" in inspect.signature(run).parameters else {}
    result = run(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return dict(result)


def run_parts(names: list[str], quick: bool, out: Path) -> None:
    """Run the named parts one after another and write each one's section as soon as it is done."""
    console = Console(stderr=True)
    for name in names:
        module_name, title = PARTS[name]
        console.print(f"[bold]bench {name}[/bold] ({module_name}) ...")
        results = asyncio.run(_run_part(name, quick))
        module = importlib.import_module(module_name)
        body = f"## {title}\n\nMeasured {machine_info()}" + (" (quick run)" if quick else "") + "\n\n"
        body += module.render(results)
        write_section(out, name, body)
        raw = out.parent / "bench-results" / f"{name}.json"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(results, indent=1, default=str) + "\n")
        console.print(module.render(results))


def register(app: typer.Typer) -> None:
    """Attach `asym bench`."""

    @app.command("bench")
    def bench(
        parts: list[str] = typer.Argument(None, help=f"parts to run: all or any of {', '.join(PARTS)}"),
        quick: bool = typer.Option(False, "--quick", help="smaller runs (a smoke test of the benchmarks)"),
        out: Path = typer.Option(DEFAULT_OUT, help="the markdown file to update"),
    ) -> None:
        """Run benchmarks (ours vs peers, side by side in one run) and write docs/benchmarks.md."""
        names = list(PARTS) if not parts or "all" in parts else parts
        unknown = [p for p in names if p not in PARTS]
        if unknown:
            raise typer.BadParameter(f"unknown parts {unknown}; choose from {', '.join(PARTS)}")
        run_parts(names, quick, out)
