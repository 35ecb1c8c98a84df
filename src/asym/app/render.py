"""Human output of `asym run`: one line per cycle, and the summary table at the end (rich)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from rich.table import Table

from asym.app.runner import CycleInfo
from asym.signals.schema import Signal
from asym.trading.monitoring import SessionSummary


def _money(v: Decimal) -> str:
    return f"{v:,.2f}"


def _signed(v: Decimal) -> str:
    return f"{v:+,.2f}"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f} ms"


def market_time(ms: int) -> str:
    """Epoch ms as 'YYYY-MM-DD HH:MM' UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def cycle_line(info: CycleInfo) -> str:
    """One line about a finished cycle."""
    actions = Counter(o.action.value if isinstance(o, Signal) else "REJECTED" for o in info.outcomes)
    s = info.session
    pf = s.portfolio
    shown = ", ".join(f"{k} {v}" for k, v in sorted(actions.items())) or "no signals"
    return (
        f"cycle {info.n:>3}  {market_time(info.report.now_ms)}  {len(info.result.universe)} symbols  "
        f"{shown}  | entries {len(info.report.entries)}  closes {len(info.report.closes)}  "
        f"refused {info.report.refused}  | open {len(pf.positions())}  trades {len(s.books.ledger.closed)}  "
        f"equity {_money(pf.equity)}  mode {info.report.mode.value}  ({info.wall_s:.2f} s)"
    )


def summary_table(s: SessionSummary, title: str = "asym run: summary") -> Table:
    """The end-of-run summary: money, trades, risk, activity, latency."""
    t = Table(title=title, show_header=True, header_style="bold")
    t.add_column("figure")
    t.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("venue", s.venue),
        ("market time", f"{market_time(s.started_ms)} -> {market_time(s.now_ms)}"),
        ("mode", s.mode),
        ("start balance (USDT)", _money(s.start_balance)),
        ("equity (USDT)", _money(s.equity)),
        ("P&L (USDT)", _signed(s.pnl)),
        ("  realised price P&L", _signed(s.realised_pnl)),
        ("  unrealised P&L", _signed(s.unrealised_pnl)),
        ("  fees paid", _money(s.fees)),
        ("  funding paid", _signed(s.funding)),
        ("trades closed", str(s.trades)),
        ("  won / lost", f"{s.wins} / {s.losses}"),
        ("  win rate", "-" if s.win_rate is None else f"{s.win_rate:.0%}"),
        ("open positions", str(s.open_positions)),
        ("max drawdown", f"{s.max_drawdown:.2%}"),
        ("cycles / signals", f"{s.cycles} / {s.signals}"),
        ("entries sent / refused by risk", f"{s.entries} / {s.refused}"),
        ("orders sent / rejected / unknown", f"{s.orders_sent} / {s.orders_rejected} / {s.orders_unknown}"),
        (
            "signal -> order sent p50 / p99",
            f"{_ms(s.signal_to_send_p50_ms)} / {_ms(s.signal_to_send_p99_ms)}",
        ),
        ("order ack p50 / p99", f"{_ms(s.ack_p50_ms)} / {_ms(s.ack_p99_ms)}"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    return t


def trades_table(s: SessionSummary, limit: int = 20) -> Table:
    """The last closed trades."""
    t = Table(title=f"closed trades (last {limit})")
    for col in ("symbol", "side", "opened", "closed", "size", "net P&L", "fees"):
        t.add_column(col, justify="left" if col in ("symbol", "side") else "right")
    for tr in s.closed_trades[-limit:]:
        t.add_row(
            tr.symbol,
            "LONG" if tr.side.value == "Buy" else "SHORT",
            market_time(tr.opened_ms),
            market_time(tr.closed_ms),
            str(tr.max_size),
            _signed(tr.pnl),
            _money(tr.fees),
        )
    return t


__all__ = ["cycle_line", "market_time", "summary_table", "trades_table"]
