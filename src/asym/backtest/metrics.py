"""The figures of a backtest, computed from its equity curve, closed trades and the venue's executions.

Money is exact (Decimal, written as strings); ratios are floats (statistics). Definitions:

* equity curve: the venue's equity (wallet + unrealised P&L at the mark) after each decision step;
  returns r_i = E_i / E_(i-1) - 1 per step, E_0 = the starting balance;
* Sharpe = mean(r) / stdev(r) x sqrt(N), Sortino = mean(r) / sqrt(mean(min(r, 0)^2)) x sqrt(N), risk-free
  rate 0, N = steps per year of 365 days (crypto trades every day): 8,760 for 1h steps, 105,120 for 5m;
* max drawdown: the largest fall from a running peak of the step curve (and of every event, from the
  session's own tracker, which also sees moves between steps);
* win rate = winners / closed trades; profit factor = sum of winning trades' net P&L / |sum of losers'|
  (net: after fees and funding); a trade is one round trip flat -> position -> flat;
* exposure: share of steps with an open position, and gross notional / equity (mean and max);
* fees: trading fees of every fill (liquidations included); funding: the sum of funding payments
  (positive = paid), received funding also reported on its own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

from asym.backtest.config import config_dict
from asym.backtest.data import format_time
from asym.backtest.runner import BacktestResult
from asym.domain import ExecType

YEAR_MS = 365 * 86_400_000
_ZERO = Decimal(0)


def _f(x: float | None) -> float | None:
    """A float for JSON: None for NaN/inf, 10 significant digits (stable across platforms' last bits)."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.10g}")


def _pct(num: Decimal, den: Decimal) -> float | None:
    return _f(float(num / den) * 100) if den else None


def returns(result: BacktestResult) -> list[float]:
    """Per-step simple returns of the equity curve (the first step against the starting balance)."""
    prev = float(result.config.balance)
    out = []
    for p in result.equity:
        e = float(p.equity)
        out.append(e / prev - 1.0 if prev > 0 else 0.0)
        prev = e
    return out


def ratios(rets: list[float], periods_per_year: float) -> tuple[float | None, float | None, float | None]:
    """(Sharpe, Sortino, annualised volatility) of per-step returns."""
    n = len(rets)
    if n < 2:
        return None, None, None
    mean = sum(rets) / n
    var = sum((r - mean) ** 2 for r in rets) / (n - 1)
    sd = math.sqrt(var)
    down = math.sqrt(sum(min(r, 0.0) ** 2 for r in rets) / n)
    k = math.sqrt(periods_per_year)
    sharpe = mean / sd * k if sd > 0 else None
    sortino = mean / down * k if down > 0 else None
    return sharpe, sortino, sd * k


def max_drawdown(values: list[Decimal]) -> tuple[Decimal, int]:
    """(largest fall from a running peak as a fraction, index where it bottomed)."""
    peak = _ZERO
    worst, at = _ZERO, -1
    for i, v in enumerate(values):
        if v > peak:
            peak = v
        elif peak > 0:
            dd = (peak - v) / peak
            if dd > worst:
                worst, at = dd, i
    return worst, at


def drawdown_curve(values: list[Decimal]) -> list[float]:
    """Drawdown (fraction, >= 0) at each point."""
    peak = _ZERO
    out = []
    for v in values:
        peak = max(peak, v)
        out.append(float((peak - v) / peak) if peak > 0 else 0.0)
    return out


def compute_metrics(result: BacktestResult) -> dict[str, Any]:
    """Every figure of the report, as JSON values (deterministic for the same run)."""
    cfg = result.config
    balance = cfg.balance
    eq = [balance] + [p.equity for p in result.equity]
    end = eq[-1]
    dd, dd_at = max_drawdown(eq)
    ppy = YEAR_MS / cfg.step_ms
    sharpe, sortino, vol = ratios(returns(result), ppy)

    trades = result.trades
    wins = [t for t in trades if t.pnl > 0]
    losses = [t for t in trades if t.pnl < 0]
    gross_profit = sum((t.pnl for t in wins), _ZERO)
    gross_loss = sum((t.pnl for t in losses), _ZERO)
    pf = _f(float(gross_profit / -gross_loss)) if gross_loss else None

    fees = funding = received = _ZERO
    n_funding = liquidations = fills = 0
    per: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"trades": 0, "pnl": _ZERO, "fees": _ZERO, "funding": _ZERO, "wins": 0}
    )
    for x in result.executions:
        if x.exec_type is ExecType.FUNDING:
            funding += x.fee
            n_funding += 1
            if x.fee < 0:
                received -= x.fee
            per[x.symbol]["funding"] += x.fee
        else:
            fees += x.fee
            fills += 1
            liquidations += x.exec_type is ExecType.BUST_TRADE
            per[x.symbol]["fees"] += x.fee
    for t in trades:
        s = per[t.symbol]
        s["trades"] += 1
        s["pnl"] += t.pnl
        s["wins"] += t.pnl > 0

    in_market = sum(1 for p in result.equity if p.positions)
    gross = [float(p.gross / p.equity) for p in result.equity if p.equity > 0]
    durations = [(t.closed_ms - t.opened_ms) / 3_600_000 for t in trades]
    summary = result.summary
    return {
        "run": {
            "symbols": result.symbols,
            "start": format_time(cfg.start_ms),
            "end": format_time(cfg.end_ms),
            "interval": cfg.interval,
            "steps": len(result.steps),
            "model": cfg.model,
            "execution_model": cfg.execution_model,
            "data_fingerprint": result.fingerprint,
            "analytics_adjusted": result.analytics,
            "warnings": result.warnings,
            "config": config_dict(cfg),
        },
        "equity": {
            "start": str(balance),
            "end": str(end),
            "pnl": str(end - balance),
            "return_pct": _pct(end - balance, balance),
            "peak": str(max(eq)),
            "max_drawdown_pct": _f(float(dd) * 100),
            "max_drawdown_at": format_time(result.equity[dd_at - 1].ts) if dd_at > 0 else None,
            "max_drawdown_events_pct": _f(float(summary.max_drawdown) * 100),
            "books_equity": str(summary.equity),
        },
        "returns": {
            "sharpe": _f(sharpe),
            "sortino": _f(sortino),
            "volatility_annual_pct": _f(vol * 100) if vol is not None else None,
            "periods_per_year": _f(ppy),
            "annualisation": (
                f"per-step simple returns of equity x sqrt({ppy:g}) (steps of {cfg.interval} in a 365-day "
                "year); risk-free rate 0; Sortino's downside deviation over all steps"
            ),
        },
        "trades": {
            "count": len(trades),
            "wins": len(wins),
            "losses": len(losses),
            "win_rate_pct": _f(len(wins) / len(trades) * 100) if trades else None,
            "profit_factor": pf,
            "gross_profit": str(gross_profit),
            "gross_loss": str(gross_loss),
            "avg_pnl": str(sum((t.pnl for t in trades), _ZERO) / len(trades)) if trades else None,
            "best": str(max(t.pnl for t in trades)) if trades else None,
            "worst": str(min(t.pnl for t in trades)) if trades else None,
            "avg_duration_h": _f(sum(durations) / len(durations)) if durations else None,
            "long": sum(1 for t in trades if t.side.value == "Buy"),
            "short": sum(1 for t in trades if t.side.value == "Sell"),
            "open_at_end": summary.open_positions,
        },
        "costs": {
            "fees_paid": str(fees),
            "funding_paid": str(funding),
            "funding_received": str(received),
            "funding_payments": n_funding,
            "fills": fills,
            "liquidations": liquidations,
        },
        "exposure": {
            "time_in_market_pct": _f(in_market / len(result.equity) * 100) if result.equity else None,
            "avg_gross_exposure": _f(sum(gross) / len(gross)) if gross else None,
            "max_gross_exposure": _f(max(gross)) if gross else None,
        },
        "activity": {
            "decisions": result.decision_counts,
            "signals": summary.signals,
            "entries": summary.entries,
            "refused": summary.refused,
            "orders_sent": summary.orders_sent,
            "orders_rejected": summary.orders_rejected,
        },
        "per_symbol": {
            sym: {
                "trades": v["trades"],
                "wins": v["wins"],
                "pnl": str(v["pnl"]),
                "fees": str(v["fees"]),
                "funding": str(v["funding"]),
            }
            for sym, v in sorted(per.items())
        },
    }


__all__ = ["YEAR_MS", "compute_metrics", "drawdown_curve", "max_drawdown", "ratios", "returns"]
