"""The top of docs/benchmarks.md: every target of the specification with asym's figure, the peer's figure
on the same work in the same run (where a peer exists) and the ratio, plus a plot (SVG).

It reads the raw results each part wrote (docs/bench-results/<part>.json), so the summary always shows
the latest measurement of each part, with that part's date and machine.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asym.bench.common import markdown_table


@dataclass(frozen=True)
class Row:
    """One line of the summary: a figure against its goal (lower is better unless `higher_better`)."""

    metric: str
    spec: str
    goal: str
    asym: float | None
    unit: str
    goal_value: float
    higher_better: bool = False
    peer: str = ""
    peer_ratio: str = ""
    measured: str = ""

    @property
    def met(self) -> bool | None:
        """Whether asym's figure meets the goal (None when not measured)."""
        if self.asym is None or math.isnan(self.asym):
            return None
        return self.asym >= self.goal_value if self.higher_better else self.asym <= self.goal_value

    @property
    def margin(self) -> float | None:
        """How far inside the goal: goal/figure (or figure/goal for higher-is-better); > 1 means met."""
        if self.asym is None or math.isnan(self.asym) or self.asym <= 0:
            return None
        return self.asym / self.goal_value if self.higher_better else self.goal_value / self.asym


def _load(results: Path, part: str) -> dict[str, Any] | None:
    p = results / f"{part}.json"
    if not p.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(p.read_text())
        return data
    except ValueError:
        return None


def _when(d: dict[str, Any] | None) -> str:
    if not d:
        return "not measured"
    return str(d.get("machine", "")).split(";")[0]


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def collect_rows(results: Path) -> list[Row]:
    """The summary rows from the raw results of each part."""
    rows: list[Row] = []
    client = _load(results, "client")
    checks = (client or {}).get("checks", {})
    rps = [v for k, v in checks.items() if k.startswith("rps_vs_ccxt_c16_")]
    cpu = [v for k, v in checks.items() if k.startswith("cpu_vs_bare_")]
    over = [v for k, v in checks.items() if k.startswith("overhead_p95_us_")]
    rows.append(
        Row(
            "API: client overhead p95",
            "p95 < 500 ms",
            "< 1 ms",
            _f(max(over) / 1000) if over else None,
            "ms",
            1.0,
            measured=_when(client),
        )
    )
    rows.append(
        Row(
            "API: client CPU per request vs bare aiohttp",
            "-",
            "<= 1.3x",
            _f(max(cpu)) if cpu else None,
            "x",
            1.3,
            peer="bare aiohttp GET + JSON decode",
            measured=_when(client),
        )
    )
    rows.append(
        Row(
            "API: throughput vs ccxt at concurrency 16",
            "-",
            ">= 2x",
            _f(min(rps)) if rps else None,
            "x",
            2.0,
            higher_better=True,
            peer="ccxt async",
            peer_ratio="see client section",
            measured=_when(client),
        )
    )
    rows.append(
        Row(
            "order book deltas applied per second",
            "-",
            ">= 100,000",
            _f(checks.get("deltas_per_s")),
            "/s",
            100_000,
            higher_better=True,
            peer="pybit, ccxt.pro",
            measured=_when(client),
        )
    )
    sig = _load(results, "signals")
    rows.append(
        Row(
            "signals: own overhead per asset",
            "< 2 s per asset",
            "< 5 ms",
            _f((sig or {}).get("overhead_ms_per_asset_median")),
            "ms",
            5.0,
            measured=_when(sig),
        )
    )
    rows.append(
        Row(
            "signals: 100 assets, model answering after 1.5 s",
            "-",
            "< 3 s",
            _f((sig or {}).get("wall_s_median")),
            "s",
            3.0,
            measured=_when(sig),
        )
    )
    col = _load(results, "collect")
    cyc = (col or {}).get("cycle", {})
    rows.append(
        Row(
            f"collection cycle, {cyc.get('symbols', '?')} symbols, vs IP-limit floor",
            "< 5 min",
            "<= 1.3x floor",
            _f(cyc.get("ratio")),
            "x",
            1.3,
            measured=_when(col),
        )
    )
    mem = (col or {}).get("memory", {})
    rows.append(
        Row(
            f"memory, {mem.get('symbols', '?')} symbols streaming",
            "< 512 MB",
            "< 256 MB",
            _f(mem.get("rss_steady_mb")),
            "MB",
            256,
            measured=_when(col),
        )
    )
    cpu_s = (col or {}).get("cpu", {})
    rows.append(
        Row(
            f"CPU, {cpu_s.get('symbols', '?')} symbols streaming",
            "< 50 %",
            "< 25 % of a core",
            _f(cpu_s.get("cpu_pct_of_core")),
            "%",
            25,
            measured=_when(col),
        )
    )
    tr = _load(results, "trading")
    rows.append(
        Row(
            "order execution: signal to order on the wire, p99",
            "< 1 s",
            "< 10 ms",
            _f((tr or {}).get("steady_p99_ms")),
            "ms",
            10,
            measured=_when(tr),
        )
    )
    bt = _load(results, "backtest")
    year = (bt or {}).get("year_1h_10_symbols", {})
    total = _f(year.get("total_s")) if year else None
    rows.append(Row("backtest: a year of 1h, 10 symbols", "-", "< 20 s", total, "s", 20, measured=_when(bt)))
    sim = _load(results, "sim")
    for key, label, goal in (
        ("rest_rps", "simulator: REST requests/s on one core", 3000),
        ("ws_msgs_per_s", "simulator: WebSocket messages/s published", 50_000),
    ):
        rows.append(
            Row(
                label,
                "-",
                f">= {goal:,}",
                _f((sim or {}).get(key)),
                "/s",
                goal,
                higher_better=True,
                measured=_when(sim),
            )
        )
    return rows


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "not measured"
    if unit in ("/s", "MB"):
        return f"{v:,.0f} {unit}"
    if unit == "x":
        return f"{v:.2f}x"
    return f"{v:.3g} {unit}"


def render_summary(rows: list[Row]) -> str:
    """The summary table."""
    table = markdown_table(
        ["metric", "specification", "asym goal", "asym", "met", "peer / reference", "measured"],
        [
            [
                r.metric,
                r.spec,
                r.goal,
                _fmt(r.asym, r.unit),
                {True: "yes", False: "**no**", None: "-"}[r.met],
                r.peer or "-",
                r.measured,
            ]
            for r in rows
        ],
    )
    return (
        "## Summary: every target\n\nEach figure comes from its part's section below (same run as its peer "
        "figures); the plot shows how far inside (right of 1) or outside each goal asym is.\n\n"
        + table
        + "\n\n![margin to each goal](benchmarks.svg)\n"
    )


def render_svg(rows: list[Row]) -> str:
    """A horizontal bar chart of the margin to each goal on a log scale (1 = exactly at the goal)."""
    measured = [r for r in rows if r.margin is not None]
    width, bar_h, left, top = 900, 22, 360, 30
    height = top + bar_h * len(measured) + 40
    lo, hi = -2.0, 2.0  # log10 margin range shown: 0.01x .. 100x

    def x(m: float) -> float:
        v = min(hi, max(lo, math.log10(m)))
        return left + (v - lo) / (hi - lo) * (width - left - 20)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<text x="{left}" y="18">margin to goal (log scale; right of the line = goal met)</text>',
    ]
    for i, r in enumerate(measured):
        y = top + i * bar_h
        m = r.margin or 1.0
        x0, x1 = x(1.0), x(m)
        color = "#2e7d32" if m >= 1 else "#c62828"
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{r.metric[:52]}</text>')
        parts.append(
            f'<rect x="{min(x0, x1):.1f}" y="{y + 4}" width="{abs(x1 - x0):.1f}" height="{bar_h - 8}" '
            f'fill="{color}"/>'
        )
        parts.append(f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 15}">{m:.2g}x</text>')
    xl = x(1.0)
    parts.append(f'<line x1="{xl:.1f}" y1="{top - 4}" x2="{xl:.1f}" y2="{height - 30}" stroke="#000"/>')
    for tick in (0.01, 0.1, 1, 10, 100):
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 12}" text-anchor="middle">{tick:g}x</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_summary(out: Path) -> None:
    """Rewrite the summary section of `out` and the plot beside it from the raw results."""
    from asym.bench.common import write_section

    rows = collect_rows(out.parent / "bench-results")
    marker = "<!-- bench:0-summary:start -->"
    text = out.read_text() if out.exists() else "# Benchmarks\n\nWritten by `asym bench`.\n"
    if marker not in text:  # the summary goes first, right after the title
        head, _, rest = text.partition("\n\n")
        out.write_text(head + "\n\n" + marker + "\n<!-- bench:0-summary:end -->\n\n" + rest)
    write_section(out, "0-summary", render_summary(rows))
    (out.parent / "benchmarks.svg").write_text(render_svg(rows))
