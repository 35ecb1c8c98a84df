"""Parameter sweeps: a grid over risk, rule and model settings, one backtest per point.

    grid = parse_grid(["risk.risk_per_trade=0.005,0.01,0.02", "rules.entry_score=2,3"])
    result = await run_sweep(base_config, grid, executor="process", workers=2)

The data is loaded and its enhanced data computed ONCE (they do not depend on risk or rule settings), then
the points run in parallel: `executor="process"` (default: `concurrent.futures.ProcessPoolExecutor` on
this machine, each worker receiving the data once), `"dask"` (a Dask cluster: `address` of a running
scheduler, or None for a `LocalCluster` on this machine; the data is scattered to the workers once), or
`"serial"` (one process). Points that change analytics settings compute their own enhanced data.
Every point is a complete, deterministic backtest: a point's metrics equal a single run with its config.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from asym import eventloop
from asym.backtest.config import BacktestConfig
from asym.backtest.data import MarketData, load_data
from asym.backtest.inputs import step_times
from asym.backtest.metrics import compute_metrics
from asym.backtest.precompute import Series, compute_all
from asym.backtest.runner import _analytics, run_backtest
from asym.errors import AsymError, ConfigError

Executor = Literal["serial", "process", "dask"]
METRICS: dict[str, tuple[str, str]] = {
    "sharpe": ("returns", "sharpe"),
    "sortino": ("returns", "sortino"),
    "return_pct": ("equity", "return_pct"),
    "max_drawdown_pct": ("equity", "max_drawdown_pct"),
    "win_rate_pct": ("trades", "win_rate_pct"),
    "profit_factor": ("trades", "profit_factor"),
    "trades": ("trades", "count"),
}
"""Metrics a sweep can rank and draw: name -> (section, key) of metrics.json."""


def _value(text: str) -> Any:
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.lstrip("-").isdigit():
        return int(t)
    try:
        Decimal(t)
    except InvalidOperation:
        return t
    return t  # decimal numbers stay strings: the typed configs read them exactly


def parse_grid(specs: Sequence[str]) -> dict[str, list[Any]]:
    """`name=v1,v2,...` per axis -> {name: [values]} (ConfigError on malformed input)."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip()
        if not sep or not name or not raw.strip():
            raise ConfigError(
                f"--grid {spec!r}: expected name=value1,value2 (e.g. risk.risk_per_trade=0.005,0.01)"
            )
        values = [_value(v) for v in raw.split(",") if v.strip()]
        if name in grid:
            raise ConfigError(f"--grid {name} given twice")
        grid[name] = values
    if not grid:
        raise ConfigError("a sweep needs at least one --grid axis")
    return grid


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the axes, in order (last axis fastest)."""
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[n] for n in names))]


@dataclass(slots=True)
class PointResult:
    """One point of the grid: its overrides, its metrics (or the error), how long it took."""

    overrides: dict[str, Any]
    metrics: dict[str, Any] | None
    error: str | None
    seconds: float

    def value(self, metric: str) -> float | None:
        """The named metric (see METRICS), None when missing."""
        if self.metrics is None:
            return None
        section, key = METRICS[metric]
        v = self.metrics.get(section, {}).get(key)
        return float(v) if isinstance(v, int | float) and math.isfinite(float(v)) else None


@dataclass(slots=True)
class SweepResult:
    """Every point, in grid order, and the run's figures."""

    grid: dict[str, list[Any]]
    points: list[PointResult]
    seconds: float
    executor: str
    workers: int
    prepare_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        """Backtests per minute of the points' phase (data preparation excluded)."""
        run = max(self.seconds - self.prepare_seconds, 1e-9)
        return len(self.points) / run * 60


# ---- one point (runs in a worker) ----------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _init_worker(path: str) -> None:
    """Process-pool initializer: load the shared data and enhanced data once per worker process."""
    with open(path, "rb") as fh:
        _STATE["shared"] = pickle.load(fh)


def run_point(
    base: dict[str, Any],
    overrides: dict[str, Any],
    shared: tuple[MarketData, dict[str, Series], str] | None = None,
) -> PointResult:
    """Run one grid point to its metrics (in this process; asyncio inside)."""
    t0 = time.perf_counter()
    data, enhanced, analytics_key = shared if shared is not None else _STATE["shared"]
    try:
        cfg = BacktestConfig.model_validate(base).with_overrides(overrides)
        same = repr(sorted(cfg.analytics.items())) == analytics_key
        result = eventloop.run(run_backtest(cfg, data=data, enhanced=enhanced if same else None, workers=1))
        metrics = compute_metrics(result)
        return PointResult(overrides, metrics, None, time.perf_counter() - t0)
    except AsymError as exc:
        return PointResult(overrides, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
    except Exception as exc:  # a bug in one point must not lose the others' results: recorded, reported
        return PointResult(overrides, None, f"internal {type(exc).__name__}: {exc}", time.perf_counter() - t0)


# ---- the sweep -------------------------------------------------------------------------------------


async def prepare(cfg: BacktestConfig, workers: int | None = None) -> tuple[MarketData, dict[str, Series]]:
    """Load the data and compute the enhanced data shared by every point."""
    data = await load_data(
        cfg.data,
        cfg.symbols,
        start_ms=cfg.start_ms - cfg.warmup_ms,
        end_ms=cfg.end_ms,
        venue=cfg.venue,
        funding=cfg.funding,
    )
    steps = step_times(cfg.start_ms, cfg.end_ms, cfg.step_ms)
    configs, _ = _analytics(data, cfg.analytics_config())
    enhanced = await asyncio.to_thread(
        compute_all, data, steps, cfg.start_ms, configs, seed=cfg.seed, workers=workers
    )
    return data, enhanced


async def run_sweep(
    base: BacktestConfig,
    grid: dict[str, list[Any]],
    *,
    executor: Executor = "process",
    workers: int | None = None,
    address: str | None = None,
    shared: tuple[MarketData, dict[str, Series]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    processes: bool = True,
) -> SweepResult:
    """Run every grid point; `shared` (data, enhanced) skips the preparation (benchmarks, tests).
    `processes=False` makes a Dask LocalCluster of threads (quick to start; tests)."""
    points = grid_points(grid)
    for ov in points:
        base.with_overrides(ov)  # every point's config is valid before anything runs
    t0 = time.perf_counter()
    data, enhanced = shared if shared is not None else await prepare(base, workers)
    prep = time.perf_counter() - t0
    key = repr(sorted(base.analytics.items()))
    payload = (data, enhanced, key)
    base_dict = base.model_dump(mode="json")
    n = len(points)
    done = 0
    results: list[PointResult] = []

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, n)

    if executor == "serial" or n == 1:
        w = 1
        for ov in points:
            results.append(await asyncio.to_thread(run_point, base_dict, ov, payload))
            tick()
    elif executor == "process":
        w = max(1, min(workers or os.cpu_count() or 1, n))
        results = await asyncio.to_thread(_process_pool, base_dict, points, payload, w, tick)
    elif executor == "dask":
        results, w = await asyncio.to_thread(
            _dask, base_dict, points, payload, address, workers, tick, processes
        )
    else:
        raise ConfigError(f"unknown executor {executor!r} (serial, process, dask)")
    return SweepResult(grid, results, time.perf_counter() - t0, executor, w, prep)


def _process_pool(
    base: dict[str, Any],
    points: list[dict[str, Any]],
    payload: tuple[Any, ...],
    workers: int,
    tick: Callable[[], None],
) -> list[PointResult]:
    from concurrent.futures import ProcessPoolExecutor

    with tempfile.TemporaryDirectory(prefix="asym-sweep-") as tmp:
        path = Path(tmp) / "shared.pkl"
        with path.open("wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(str(path),)
        ) as pool:
            futures = [pool.submit(run_point, base, ov) for ov in points]
            out = []
            for f in futures:
                out.append(f.result())
                tick()
    return out


def _dask(
    base: dict[str, Any],
    points: list[dict[str, Any]],
    payload: tuple[Any, ...],
    address: str | None,
    workers: int | None,
    tick: Callable[[], None],
    processes: bool = True,
) -> tuple[list[PointResult], int]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "the Dask executor needs dask[distributed] "
            "(pip install 'dask[distributed]'; asym's optional extra 'cluster')"
        ) from None
    cluster = None
    if address is None:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        n_workers = len(client.scheduler_info().get("workers", {})) or 1
        shared = client.scatter(payload, broadcast=True)
        futures = [client.submit(run_point, base, ov, shared, pure=False) for ov in points]
        out = []
        for f in futures:
            out.append(f.result())
            tick()
        return out, n_workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


__all__ = [
    "METRICS",
    "PointResult",
    "SweepResult",
    "grid_points",
    "parse_grid",
    "prepare",
    "run_point",
    "run_sweep",
]
