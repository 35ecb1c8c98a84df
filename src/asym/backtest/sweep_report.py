"""A sweep's outputs: `sweep.json` (every point's metrics), `sweep.csv` (one row per point) and
`sweep.html` (the ranking table and heatmaps of a metric over the first two grid axes)."""

from __future__ import annotations

import csv
import itertools
import json
from html import escape
from pathlib import Path
from typing import Any

from asym.backtest.svg import heatmap
from asym.backtest.sweep import METRICS, PointResult, SweepResult

MAX_HEATMAPS = 12
COLUMNS = ("return_pct", "sharpe", "sortino", "max_drawdown_pct", "trades", "win_rate_pct", "profit_factor")


def ranked(result: SweepResult, metric: str) -> list[PointResult]:
    """Points best first by `metric` (drawdown: smallest first); failed points last."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    sign = 1.0 if metric == "max_drawdown_pct" else -1.0

    def key(p: PointResult) -> tuple[int, float]:
        v = p.value(metric)
        return (1, 0.0) if v is None else (0, sign * v)

    return sorted(result.points, key=key)


def _label(v: Any) -> str:
    return str(v)


def heatmaps(result: SweepResult, metric: str) -> list[str]:
    """SVG heatmaps of `metric` over the first two axes, one per combination of the other axes."""
    axes = list(result.grid)
    if len(axes) == 1:
        rows_ax, cols_ax, rest = axes[0], None, []
    else:
        rows_ax, cols_ax, rest = axes[0], axes[1], axes[2:]
    by_key = {tuple(sorted((k, repr(v)) for k, v in p.overrides.items())): p for p in result.points}
    out = []
    for combo in itertools.islice(itertools.product(*(result.grid[a] for a in rest)), MAX_HEATMAPS):
        fixed = dict(zip(rest, combo, strict=True))
        cols = result.grid[cols_ax] if cols_ax else [""]
        values = []
        for rv in result.grid[rows_ax]:
            row = []
            for cv in cols:
                ov = {rows_ax: rv, **({cols_ax: cv} if cols_ax else {}), **fixed}
                p = by_key.get(tuple(sorted((k, repr(v)) for k, v in ov.items())))
                row.append(p.value(metric) if p is not None else None)
            values.append(row)
        title = f"{metric}" + (" at " + ", ".join(f"{k}={v}" for k, v in fixed.items()) if fixed else "")
        out.append(
            heatmap(
                [_label(v) for v in result.grid[rows_ax]],
                [_label(v) for v in cols],
                values,
                title=title,
                row_label=rows_ax,
                col_label=cols_ax or "",
            )
        )
    return out


def write_sweep(result: SweepResult, out_dir: Path, metric: str = "sharpe") -> list[PointResult]:
    """Write sweep.json, sweep.csv and sweep.html; return the points ranked by `metric`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    order = ranked(result, metric)
    axes = list(result.grid)
    doc = {
        "grid": {k: [str(v) for v in vs] for k, vs in result.grid.items()},
        "executor": result.executor,
        "workers": result.workers,
        "points": [
            {"overrides": {k: str(v) for k, v in p.overrides.items()}, "metrics": p.metrics, "error": p.error}
            for p in result.points
        ],
    }
    (out_dir / "sweep.json").write_text(json.dumps(doc, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    with (out_dir / "sweep.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*axes, *COLUMNS, "error"])
        for p in result.points:
            w.writerow([p.overrides[a] for a in axes] + [p.value(c) for c in COLUMNS] + [p.error or ""])
    head = "".join(f"<th>{escape(a)}</th>" for a in [*axes, *COLUMNS])
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(str(p.overrides[a]))}</td>" for a in axes)
        + "".join(f"<td>{'-' if p.value(c) is None else f'{p.value(c):.4g}'}</td>" for c in COLUMNS)
        + (f"<td>{escape(p.error)}</td>" if p.error else "")
        + "</tr>"
        for p in order
    )
    maps = "\n".join(heatmaps(result, metric))
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>asym sweep ({escape(metric)})</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}}</style></head><body>
<h1 style="font-size:20px">asym sweep: {len(result.points)} backtests,
{escape(result.executor)} x {result.workers}</h1>
{maps}
<h2 style="font-size:16px">Points by {escape(metric)}</h2>
<table><tr>{head}</tr>{body}</table>
</body></html>
"""
    (out_dir / "sweep.html").write_text(html, encoding="utf-8")
    return order


__all__ = ["COLUMNS", "heatmaps", "ranked", "write_sweep"]
