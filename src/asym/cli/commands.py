"""Registry of sub-commands: each part's CLI module adds its commands to the root app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach every available sub-command to `app`."""
    from asym.cli import (
        backtest_cmd,
        bench_cmd,
        collect_cmd,
        control_cmd,
        demo_cmd,
        record_cmd,
        run_cmd,
        signals_cmd,
        sim_cmd,
    )

    sim_cmd.register(app)
    collect_cmd.register(app)
    demo_cmd.register(app)
    bench_cmd.register(app)
    signals_cmd.register(app)
    record_cmd.register(app)
    backtest_cmd.register(app)
    run_cmd.register(app)
    control_cmd.register(app)
