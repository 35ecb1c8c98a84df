"""The `asym` command: one sub-command per part, each in its own module."""

from __future__ import annotations

import sys

import typer

from asym.errors import AsymError

app = typer.Typer(
    name="asym",
    help="asym: the asymmetric trading system for Bybit USDT perpetuals.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(
    log_level: str = typer.Option(
        "WARNING", envvar="ASYM_LOG_LEVEL", help="log level of the JSON logs written to stderr"
    ),
) -> None:
    """asym: the asymmetric trading system for Bybit USDT perpetuals."""
    from asym.logging import configure_logging

    configure_logging(level=log_level.upper(), json=True)


def _register() -> None:
    """Attach every part's commands (imported here so that `asym --help` stays fast and complete)."""
    from asym.cli import commands

    commands.register(app)


def main() -> None:
    """Console-script entry point: asym's own errors end in one clear line on stderr, not a traceback."""
    _register()
    try:
        app()
    except AsymError as exc:
        sys.stderr.write(f"asym: error: {exc}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
