"""Sweeps: the grid, every executor giving the same per-point metrics as a single run (serial, a process
pool, a Dask LocalCluster), and the table/heatmap outputs."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from asym.backtest.config import BacktestConfig
from asym.backtest.inputs import step_times
from asym.backtest.metrics import compute_metrics
from asym.backtest.precompute import compute_all
from asym.backtest.report import metrics_json
from asym.backtest.runner import _analytics, run_backtest
from asym.backtest.sweep import grid_points, parse_grid, run_sweep
from asym.backtest.sweep_report import ranked, write_sweep
from asym.errors import ConfigError

from .conftest import DAY, T0, market, synthetic

GRID = ["risk.risk_per_trade=0.005,0.02", "rules.entry_score=2,3"]


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    data = market(synthetic(start=T0 - 10 * DAY, n=24 * 18, amp=0.06, period=60))
    cfg = BacktestConfig(data=Path("unused"), start_ms=T0, end_ms=T0 + 7 * DAY)
    steps = step_times(cfg.start_ms, cfg.end_ms, cfg.step_ms)
    configs, _ = _analytics(data, cfg.analytics_config())
    enhanced = compute_all(data, steps, cfg.start_ms, configs, workers=1)
    return cfg, data, enhanced


def test_grid_parsing_and_points() -> None:
    grid = parse_grid(["risk.risk_per_trade=0.005,0.01", "rules.entry_score=2,3,4", "auto_resume=false"])
    assert grid == {
        "risk.risk_per_trade": ["0.005", "0.01"],
        "rules.entry_score": [2, 3, 4],
        "auto_resume": [False],
    }
    points = grid_points(grid)
    assert len(points) == 6 and points[1] == {
        "risk.risk_per_trade": "0.005",
        "rules.entry_score": 3,
        "auto_resume": False,
    }
    for bad in (["risk.risk_per_trade"], ["=1,2"], ["a=1", "a=2"], []):
        with pytest.raises(ConfigError):
            parse_grid(bad)


async def test_bad_point_is_refused_before_anything_runs(setup) -> None:  # type: ignore[no-untyped-def]
    cfg, data, enhanced = setup
    with pytest.raises(ConfigError, match="risk_per_trade"):
        await run_sweep(
            cfg, parse_grid(["risk.risk_per_trade=0.5"]), executor="serial", shared=(data, enhanced)
        )
    with pytest.raises(ConfigError, match="unknown config section"):
        await run_sweep(cfg, parse_grid(["nope.x=1"]), executor="serial", shared=(data, enhanced))


async def test_process_pool_and_serial_equal_single_runs(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg, data, enhanced = setup
    grid = parse_grid(GRID)
    serial = await run_sweep(cfg, grid, executor="serial", shared=(data, enhanced))
    pool = await run_sweep(cfg, grid, executor="process", workers=2, shared=(data, enhanced))
    assert pool.workers == 2 and serial.workers == 1
    assert [p.overrides for p in pool.points] == grid_points(grid)
    assert [p.error for p in pool.points] == [None] * 4
    assert [metrics_json(p.metrics) for p in pool.points] == [metrics_json(p.metrics) for p in serial.points]  # type: ignore[arg-type]
    one = await run_backtest(cfg.with_overrides(grid_points(grid)[0]), data=data, enhanced=enhanced)
    assert metrics_json(compute_metrics(one)) == metrics_json(pool.points[0].metrics)  # type: ignore[arg-type]
    # the risk budget matters: the same trades at 4x the risk move equity 4x as much
    assert len({p.metrics["equity"]["end"] for p in pool.points}) > 1  # type: ignore[index]
    order = write_sweep(pool, tmp_path, "return_pct")
    assert order == ranked(pool, "return_pct")
    vals = [p.value("return_pct") for p in order]
    assert vals == sorted(vals, reverse=True)  # type: ignore[type-var]
    rows = list(csv.DictReader((tmp_path / "sweep.csv").open()))
    assert len(rows) == 4 and set(rows[0]) >= {"risk.risk_per_trade", "rules.entry_score", "sharpe"}
    html = (tmp_path / "sweep.html").read_text()
    svg = "<svg" + html.split("<svg")[1].split("</svg>")[0] + "</svg>"
    assert sum(1 for e in ET.fromstring(svg).iter() if e.tag.endswith("rect")) == 4  # a 2 x 2 heatmap


async def test_dask_local_cluster_gives_the_same_points(setup) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("distributed", reason="the Dask path needs dask[distributed] (extra 'cluster')")
    cfg, data, enhanced = setup
    grid = parse_grid(["risk.risk_per_trade=0.005,0.02"])
    serial = await run_sweep(cfg, grid, executor="serial", shared=(data, enhanced))
    # a LocalCluster of thread workers starts in a second; the scatter/submit/gather path is the same
    dask = await run_sweep(cfg, grid, executor="dask", workers=2, shared=(data, enhanced), processes=False)
    assert dask.executor == "dask" and dask.workers == 2
    assert [metrics_json(p.metrics) for p in dask.points] == [metrics_json(p.metrics) for p in serial.points]  # type: ignore[arg-type]
