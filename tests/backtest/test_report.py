"""Metrics (hand-checked formulas), the HTML report with its inline SVG, and the JSON/CSV outputs."""

from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from asym.backtest.config import BacktestConfig
from asym.backtest.metrics import drawdown_curve, max_drawdown, ratios
from asym.backtest.report import write_report
from asym.backtest.runner import run_backtest
from asym.backtest.svg import heatmap, line_chart

from .conftest import DAY, HOUR, T0, market, synthetic

D = Decimal


def test_ratio_formulas_by_hand() -> None:
    rets = [0.01, -0.02, 0.03, 0.0]
    sharpe, sortino, vol = ratios(rets, 4.0)
    mean = 0.005
    sd = math.sqrt(((0.005) ** 2 + (0.025) ** 2 + (0.025) ** 2 + (0.005) ** 2) / 3)
    assert sharpe == pytest.approx(mean / sd * 2)
    assert sortino == pytest.approx(mean / math.sqrt(0.02**2 / 4) * 2)
    assert vol == pytest.approx(sd * 2)
    assert ratios([0.01], 4.0) == (None, None, None)
    assert ratios([0.0, 0.0], 4.0)[0] is None


def test_drawdown_by_hand() -> None:
    curve = [D(100), D(120), D(90), D(130), D(117)]
    dd, at = max_drawdown(curve)
    assert dd == D(30) / D(120) and at == 2
    assert drawdown_curve(curve) == [0.0, 0.0, 0.25, 0.0, 0.1]


def test_svg_charts_are_well_formed() -> None:
    xs = [T0 + i * HOUR for i in range(5000)]
    ys = [100 + math.sin(i / 50) for i in range(5000)]
    svg = line_chart(xs, ys, title="Equity <USDT> & co", fill=True)
    root = ET.fromstring(svg)
    (poly,) = [e for e in root.iter() if e.tag.endswith("polyline")]
    assert len(poly.get("points", "").split()) <= 1500  # thinned, extremes kept
    ET.fromstring(line_chart([], [], title="empty"))
    hm = heatmap(
        ["a", "b"],
        ["x", "y", "z"],
        [[1.0, None, 3.0], [0.5, 2.0, float("nan")]],
        title="t",
        row_label="r",
        col_label="c",
    )
    root = ET.fromstring(hm)
    assert sum(1 for e in root.iter() if e.tag.endswith("rect")) == 6


async def test_report_files_and_metrics_are_consistent(tmp_path: Path) -> None:
    data = market(synthetic(start=T0 - 10 * DAY, n=24 * 25, amp=0.06, period=60))
    cfg = BacktestConfig(data=Path("unused"), start_ms=T0, end_ms=T0 + 14 * DAY, rules={"entry_score": 2})
    r = await run_backtest(cfg, data=data)
    m = write_report(r, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text()) == json.loads(json.dumps(m))
    html = (tmp_path / "report.html").read_text()
    assert html.count("<svg") == 2 and "Sharpe" in html
    for svg in html.split("<svg")[1:]:
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")
    rows = list(csv.DictReader((tmp_path / "trades.csv").open()))
    t = m["trades"]
    assert len(rows) == t["count"] > 0
    pnl = [D(row["pnl"]) for row in rows]
    assert t["wins"] == sum(p > 0 for p in pnl) and t["losses"] == sum(p < 0 for p in pnl)
    gains, losses = sum(p for p in pnl if p > 0), -sum(p for p in pnl if p < 0)
    if losses:
        assert t["profit_factor"] == pytest.approx(float(gains / losses), rel=1e-9)
    eq = list(csv.DictReader((tmp_path / "equity.csv").open()))
    assert len(eq) == m["run"]["steps"] and D(eq[-1]["equity"]) == D(m["equity"]["end"])
    assert m["returns"]["periods_per_year"] == 8760
    assert m["equity"]["pnl"] == str(D(m["equity"]["end"]) - D(10000))
    # trade P&L is net of fees and funding: the trades' sum equals the equity change when flat at the end
    # (to a micro-USDT: the venue values closes at its 8-decimal average entry, the books at exact cost)
    if not m["trades"]["open_at_end"]:
        assert abs(sum(pnl) - D(m["equity"]["pnl"])) < D("0.000001")
