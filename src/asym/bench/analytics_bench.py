"""`asym bench analytics`: enhanced data for many assets at once (ours: TA-Lib + NumPy)."""

from __future__ import annotations

from typing import Any

from asym.analytics.bench import run_benchmark
from asym.bench.common import markdown_table


def run(quick: bool = False) -> dict[str, Any]:
    """Enhanced data for 500 assets (100 when quick), repeated; CPU and wall time per asset."""
    return dict(run_benchmark(n_assets=100 if quick else 500, repeats=3 if quick else 5))


def render(r: dict[str, Any]) -> str:
    """Markdown for docs/benchmarks.md."""
    rows = [
        [
            f"enhanced data, {int(r['n_assets'])} assets (full inputs: 1h x 200 and 5m x 288 candles, book, "
            "funding, OI, ratio, liquidations)",
            f"{r['median_s'] * 1000:.0f} ms wall (median)",
            f"{r['median_cpu_s'] * 1000:.0f} ms CPU",
            f"{r['per_asset_ms']:.2f} ms",
        ]
    ]
    return markdown_table(["workload", "time", "CPU", "per asset"], rows)
