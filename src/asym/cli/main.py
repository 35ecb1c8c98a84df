"""The `asym` command: one sub-command per part, each in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="asym",
    help="asym: the asymmetric trading system for Bybit USDT perpetuals.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _register() -> None:
    """Attach every part's commands (imported here so that `asym --help` stays fast and complete)."""
    from asym.cli import commands

    commands.register(app)


def main() -> None:
    """Console-script entry point."""
    _register()
    app()


if __name__ == "__main__":
    main()
