"""Backtesting and replay: the code that trades (signals -> risk -> execution -> portfolio), stepped through
history on a simulated clock against the simulator's matching engine. See docs/backtesting.md.

    cfg = BacktestConfig(data=Path("data/"), symbols=("BTCUSDT",), start_ms=..., end_ms=...)
    result = await run_backtest(cfg)
    metrics = write_report(result, Path("out"))      # metrics.json, report.html, trades.csv, ...
"""

from asym.backtest.ai import TRAINING_CUTOFFS, CostEstimate, check_cutoff, estimate_cost
from asym.backtest.bars import BarMarket
from asym.backtest.clock import SimClock
from asym.backtest.config import BacktestConfig
from asym.backtest.data import MarketData, SymbolData, load_data, load_files, load_store, parse_time
from asym.backtest.metrics import compute_metrics
from asym.backtest.report import write_report
from asym.backtest.runner import BacktestResult, EquityPoint, run_backtest
from asym.backtest.sweep import parse_grid, run_sweep
from asym.backtest.venue import AccountUpdates, CoreVenue

__all__ = [
    "TRAINING_CUTOFFS",
    "AccountUpdates",
    "BacktestConfig",
    "BacktestResult",
    "BarMarket",
    "CoreVenue",
    "CostEstimate",
    "EquityPoint",
    "MarketData",
    "SimClock",
    "SymbolData",
    "check_cutoff",
    "compute_metrics",
    "estimate_cost",
    "load_data",
    "load_files",
    "load_store",
    "parse_grid",
    "parse_time",
    "run_backtest",
    "run_sweep",
    "write_report",
]
