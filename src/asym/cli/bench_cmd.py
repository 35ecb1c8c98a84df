"""`asym bench`: run benchmarks and write their figures (with date and machine) to docs/benchmarks.md."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from asym import eventloop
from asym.bench.common import machine_info, write_section
from asym.bench.summary import write_summary

# part -> (module, title, entry); the entry takes `quick` (sync or async) and the module has render(results).
PARTS: dict[str, tuple[str, str, str]] = {
    "sim": ("asym.bench.sim_bench", "Simulator", "run"),
    "client": ("asym.bench.client_bench", "Bybit client vs ccxt and pybit", "run_standalone"),
    "collect": ("asym.bench.collect_bench", "Data collection", "run"),
    "analytics": ("asym.bench.analytics_bench", "Enhanced data", "run"),
    "signals": ("asym.bench.signals_bench", "Signal layer", "run"),
    "trading": ("asym.bench.trading_bench", "Trading", "run"),
    "backtest": ("asym.bench.backtest_bench", "Backtesting", "run"),
}
DEFAULT_OUT = Path("docs/benchmarks.md")


def _run_part(name: str, quick: bool) -> dict[str, Any]:
    """Run one part's entry: a coroutine function in a fresh event loop, a plain function as it is (it may
    start event loops of its own)."""
    module_name, _, entry = PARTS[name]
    module = importlib.import_module(module_name)
    run = getattr(module, entry)
    kwargs = {"quick": quick} if "quick" in inspect.signature(run).parameters else {}
    result = eventloop.run(run(**kwargs)) if inspect.iscoroutinefunction(run) else run(**kwargs)
    if inspect.isawaitable(result):
        result = eventloop.run(result)  # type: ignore[arg-type]
    return dict(result)


def run_parts(names: list[str], quick: bool, out: Path) -> None:
    """Run the named parts one after another and write each one's section as soon as it is done."""
    console = Console(stderr=True)
    for name in names:
        module_name, title, _ = PARTS[name]
        console.print(f"[bold]bench {name}[/bold] ({module_name}) ...")
        results = _run_part(name, quick)
        module = importlib.import_module(module_name)
        rendered = module.render(results)
        body = f"## {title}\n\nMeasured {machine_info()}" + (" (quick run)" if quick else "") + "\n\n"
        # A part that writes its own heading and machine line keeps them.
        body = rendered if rendered.lstrip().startswith("## ") else body + rendered
        write_section(out, name, body)
        raw = out.parent / "bench-results" / f"{name}.json"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(results, indent=1, default=str) + "\n")
        console.print(rendered)
    write_summary(out)


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
