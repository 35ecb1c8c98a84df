"""Writing a backtest's outputs: `metrics.json` (deterministic), `report.html` (inline SVG),
`trades.csv`, `decisions.jsonl` and `equity.csv`."""

from __future__ import annotations

import csv
import json
import os
from html import escape
from pathlib import Path
from typing import Any

import msgspec

from asym.backtest.data import format_time
from asym.backtest.metrics import compute_metrics, drawdown_curve
from asym.backtest.runner import BacktestResult
from asym.backtest.svg import line_chart

MAX_TRADE_ROWS = 500
_enc = msgspec.json.Encoder(order="sorted")
_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#111;max-width:960px}
h1{font-size:20px} h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}
td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
table.kv th{color:#555;font-weight:500} td.n{text-align:right;font-variant-numeric:tabular-nums}
.notes li{font-size:12px;color:#444;margin:4px 0} .foot{font-size:11px;color:#777}
"""


def _head(*names: str) -> str:
    return "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"


def metrics_json(metrics: dict[str, Any]) -> str:
    """The metrics as canonical JSON (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(metrics, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(_cell(v))}</td></tr>" for k, v in rows)
    return f"<table class='kv'>{body}</table>"


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


def _money(v: str | None) -> str:
    if v is None:
        return "-"
    try:
        return f"{float(v):,.2f}"
    except ValueError:
        return v


def render_html(result: BacktestResult, m: dict[str, Any]) -> str:
    """The HTML report: summary, equity and drawdown charts, trades, per-symbol figures, notes."""
    run, eq, r, t, c, ex = m["run"], m["equity"], m["returns"], m["trades"], m["costs"], m["exposure"]
    xs = [p.ts for p in result.equity]
    equity = [float(p.equity) for p in result.equity]
    dd = drawdown_curve([p.equity for p in result.equity])
    summary = _table(
        [
            ("Period", f"{run['start']} → {run['end']} UTC, {run['steps']:,} steps of {run['interval']}"),
            ("Symbols", ", ".join(run["symbols"])),
            ("Model", run["model"]),
            ("Execution", run["execution_model"]),
            ("Start / end equity", f"{_money(eq['start'])} → {_money(eq['end'])} USDT"),
            ("P&L", f"{_money(eq['pnl'])} USDT ({_cell(eq['return_pct'])} %)"),
            (
                "Max drawdown",
                f"{_cell(eq['max_drawdown_pct'])} % (steps), "
                f"{_cell(eq['max_drawdown_events_pct'])} % (events)",
            ),
            ("Sharpe / Sortino", f"{_cell(r['sharpe'])} / {_cell(r['sortino'])}"),
            (
                "Trades",
                f"{t['count']} ({t['wins']} won, {t['losses']} lost), win rate {_cell(t['win_rate_pct'])} %",
            ),
            ("Profit factor", t["profit_factor"]),
            ("Fees paid", f"{_money(c['fees_paid'])} USDT over {c['fills']} fills"),
            ("Funding paid (net)", f"{_money(c['funding_paid'])} USDT, {c['funding_payments']} payments"),
            ("Liquidations", c["liquidations"]),
            ("Time in market", f"{_cell(ex['time_in_market_pct'])} %"),
            (
                "Gross exposure avg / max",
                f"{_cell(ex['avg_gross_exposure'])} / {_cell(ex['max_gross_exposure'])} x equity",
            ),
        ]
    )
    trade_rows = "".join(
        "<tr>"
        f"<td>{escape(tr.symbol)}</td><td>{'long' if tr.side.value == 'Buy' else 'short'}</td>"
        f"<td>{format_time(tr.opened_ms)}</td><td>{format_time(tr.closed_ms)}</td>"
        f"<td class='n'>{tr.max_size}</td><td class='n'>{_money(str(tr.pnl))}</td>"
        f"<td class='n'>{_money(str(tr.fees))}</td><td class='n'>{_money(str(tr.funding))}</td>"
        "</tr>"
        for tr in result.trades[:MAX_TRADE_ROWS]
    )
    more = (
        f"<p>{len(result.trades) - MAX_TRADE_ROWS} more trades in trades.csv.</p>"
        if len(result.trades) > MAX_TRADE_ROWS
        else ""
    )
    per_rows = "".join(
        f"<tr><td>{escape(s)}</td><td class='n'>{v['trades']}</td><td class='n'>{v['wins']}</td>"
        f"<td class='n'>{_money(v['pnl'])}</td><td class='n'>{_money(v['fees'])}</td>"
        f"<td class='n'>{_money(v['funding'])}</td></tr>"
        for s, v in m["per_symbol"].items()
    )
    notes = [
        r["annualisation"],
        "Equity is the simulated venue's: wallet plus unrealised P&L at the mark after each step. "
        "Trade P&L is net of fees and funding; open positions at the end are marked, not closed.",
        "Decisions at a step use only data at or before it (closed candles, settled funding); fills, "
        "fees, funding, slippage through the book and liquidation are the simulator engine's.",
    ]
    notes += [f"Analytics adjusted to the data ({s}): {d}" for s, d in run["analytics_adjusted"].items()]
    notes += [f"Warning: {w}" for w in run["warnings"]]
    title = f"asym backtest {run['start']} → {run['end']}"
    per_head = _head("symbol", "trades", "won", "net P&L", "fees", "funding")
    trade_head = _head("symbol", "side", "opened", "closed", "max size", "net P&L", "fees", "funding")
    notes_html = "".join(f"<li>{escape(n)}</li>" for n in notes)
    dd_chart = line_chart(
        xs, dd, title="Drawdown from peak", color="#dc2626", fill=True, invert=True, percent=True
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>asym backtest: {escape(", ".join(run["symbols"]))}</h1>
{summary}
<h2>Equity</h2>
{line_chart(xs, equity, title="Equity (USDT)", fill=True)}
<h2>Drawdown</h2>
{dd_chart}
<h2>Per symbol</h2>
<table>{per_head}{per_rows}</table>
<h2>Trades</h2>
<table>{trade_head}{trade_rows}</table>
{more}
<h2>Notes</h2><ul class="notes">{notes_html}</ul>
<p class="foot">data fingerprint {escape(run["data_fingerprint"][:16])}; metrics.json holds every figure.</p>
</body></html>
"""


def _compact(line: bytes) -> bytes:
    """A refusal keeps its failed checks (the reasons) but not every passed check's figures."""
    if b'"action":"REFUSED"' not in line:
        return line
    doc = msgspec.json.decode(line)
    doc["decision"].pop("detail", None)
    return _enc.encode(doc)


def write_report(result: BacktestResult, out_dir: Path) -> dict[str, Any]:
    """Write metrics.json, report.html, trades.csv, equity.csv, decisions.jsonl and run.json; return the
    metrics. metrics.json is deterministic; run.json holds what depends on the machine and the response
    cache (timings, model calls, tokens and cost)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    m = compute_metrics(result)
    _atomic_write(out_dir / "metrics.json", metrics_json(m))
    run = {"timings_s": result.timings, "model_usage": result.model_usage}
    _atomic_write(out_dir / "run.json", json.dumps(run, sort_keys=True, indent=2) + "\n")
    _atomic_write(out_dir / "report.html", render_html(result, m))
    with (out_dir / "trades.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["symbol", "side", "opened", "closed", "max_size", "pnl", "fees", "funding"])
        for tr in result.trades:
            w.writerow(
                [
                    tr.symbol,
                    tr.side.value,
                    tr.opened_ms,
                    tr.closed_ms,
                    tr.max_size,
                    tr.pnl,
                    tr.fees,
                    tr.funding,
                ]
            )
    with (out_dir / "equity.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ts", "equity", "balance", "unrealised", "gross", "positions"])
        for p in result.equity:
            w.writerow([p.ts, p.equity, p.balance, p.unrealised, p.gross, p.positions])
    with (out_dir / "decisions.jsonl").open("wb") as fb:
        for line in result.decisions:
            fb.write(_compact(line) + b"\n")
    return m


__all__ = ["metrics_json", "render_html", "write_report"]
