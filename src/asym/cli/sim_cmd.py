"""`asym sim ...` commands (filled in by the simulator server)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach `asym sim` to the root app."""
    sim = typer.Typer(help="The Bybit V5-compatible exchange simulator.", no_args_is_help=True)
    app.add_typer(sim, name="sim")
