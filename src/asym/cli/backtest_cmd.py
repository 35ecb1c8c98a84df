"""`asym backtest` (one run: metrics.json, report.html) and `asym backtest sweep` (a parameter grid)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from asym import eventloop
from asym.errors import AsymError, ConfigError

if TYPE_CHECKING:
    from asym.backtest.sweep import Executor

err = Console(stderr=True)
backtest_app = typer.Typer(
    name="backtest",
    help="Replay history through the code that trades: signals -> risk -> execution on the simulator engine.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _settings(values: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected section.name=value (e.g. risk.risk_per_trade=0.02)")
        out[key.strip()] = value.strip()
    return out


def build_config(
    *,
    config: Path | None,
    data: Path | None,
    symbols: str | None,
    start: str | None,
    end: str | None,
    model: str | None,
    interval: str | None,
    balance: str | None,
    seed: int | None,
    venue: str | None,
    funding: Path | None,
    warmup_days: float | None,
    execution: str | None,
    force: bool,
    model_cutoff: str | None,
    cache_dir: Path | None,
    auto_resume: bool | None,
    settings: list[str] | None,
    reset_peak: bool = False,
) -> Any:
    """The BacktestConfig from a config file (optional) overridden by the options given."""
    from asym.backtest.config import BacktestConfig, load_config_file
    from asym.backtest.data import parse_time

    raw: dict[str, Any] = load_config_file(config) if config is not None else {}
    for key in ("from", "to"):
        if key in raw:
            raw["start_ms" if key == "from" else "end_ms"] = parse_time(str(raw.pop(key)))
    given = {
        "data": data,
        "model": model,
        "interval": interval,
        "balance": balance,
        "seed": seed,
        "venue": venue,
        "funding": funding,
        "warmup_days": warmup_days,
        "execution_model": execution,
        "model_cutoff": model_cutoff,
        "cache_dir": cache_dir,
        "auto_resume": auto_resume,
        "reset_peak_on_resume": reset_peak or None,
    }
    raw.update({k: v for k, v in given.items() if v is not None})
    if force:
        raw["force"] = True
    if symbols is not None:
        raw["symbols"] = (
            None if symbols.strip().lower() == "all" else [s for s in symbols.split(",") if s.strip()]
        )
    if start is not None:
        raw["start_ms"] = parse_time(start)
    if end is not None:
        raw["end_ms"] = parse_time(end)
    missing = [
        name
        for name, key in (("--data", "data"), ("--from", "start_ms"), ("--to", "end_ms"))
        if key not in raw
    ]
    if missing:
        raise ConfigError(f"missing {', '.join(missing)} (give them as options or in --config)")
    try:
        cfg = BacktestConfig.model_validate(raw)
    except ValueError as exc:
        raise ConfigError(str(exc).replace("\n", "; ")) from None
    cfg = cfg.with_overrides(_settings(settings)) if settings else cfg
    cfg.check()
    return cfg


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def summary_table(m: dict[str, Any]) -> Table:
    """The end-of-run table."""
    eq, r, t, c, ex = m["equity"], m["returns"], m["trades"], m["costs"], m["exposure"]

    def f(v: Any, suffix: str = "") -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.3g}{suffix}" if abs(v) < 1000 else f"{v:,.0f}{suffix}"
        try:
            return f"{float(v):,.2f}{suffix}"
        except (TypeError, ValueError):
            return str(v)

    table = Table(
        title=f"backtest {m['run']['start']} → {m['run']['end']} ({', '.join(m['run']['symbols'])})"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("equity start → end", f"{f(eq['start'])} → {f(eq['end'])} USDT"),
        ("P&L", f"{f(eq['pnl'])} USDT ({f(eq['return_pct'], ' %')})"),
        ("max drawdown", f(eq["max_drawdown_pct"], " %")),
        ("Sharpe / Sortino (annualised)", f"{f(r['sharpe'])} / {f(r['sortino'])}"),
        ("trades (won / lost)", f"{t['count']} ({t['wins']} / {t['losses']})"),
        ("win rate", f(t["win_rate_pct"], " %")),
        ("profit factor", f(t["profit_factor"])),
        ("fees paid", f"{f(c['fees_paid'])} USDT"),
        ("funding paid (net)", f"{f(c['funding_paid'])} USDT ({c['funding_payments']} payments)"),
        ("liquidations", str(c["liquidations"])),
        ("time in market", f(ex["time_in_market_pct"], " %")),
    ]
    for k, v in rows:
        table.add_row(k, v)
    return table


async def _run(
    cfg: Any,
    out: Path,
    yes: bool,
    max_cost: float | None,
    workers: int | None,
    all_decisions: bool,
    enhanced_cache: Path | None = None,
) -> None:
    from asym.backtest.ai import check_cutoff, estimate_cost, is_ai, parse_cutoff
    from asym.backtest.data import load_data
    from asym.backtest.inputs import step_times
    from asym.backtest.precompute import compute_all
    from asym.backtest.report import write_report
    from asym.backtest.runner import _analytics, run_backtest
    from asym.logging import configure_logging

    ai = is_ai(cfg.model)
    if ai:
        for w in check_cutoff(
            cfg.model, cfg.start_ms, force=cfg.force, override=parse_cutoff(cfg.model_cutoff)
        ):
            err.print(f"[yellow]{w}[/yellow]")
    import structlog

    with err.status("loading data"):
        data = await load_data(
            cfg.data,
            cfg.symbols,
            start_ms=cfg.start_ms - cfg.warmup_ms,
            end_ms=cfg.end_ms,
            venue=cfg.venue,
            funding=cfg.funding,
        )
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    previous = structlog.get_config()
    log_file = await asyncio.to_thread((out / "backtest.log").open, "w", encoding="utf-8")
    # The session's logs go to OUT/backtest.log, away from the progress bar; restored afterwards.
    configure_logging(level="INFO", json=True, stream=log_file)
    try:
        steps = step_times(cfg.start_ms, cfg.end_ms, cfg.step_ms)
        configs, _ = _analytics(data, cfg.analytics_config())
        with _progress() as progress:
            task = progress.add_task("enhanced data", total=len(steps) * len(data.names))
            enhanced = await asyncio.to_thread(
                compute_all,
                data,
                steps,
                cfg.start_ms,
                configs,
                seed=cfg.seed,
                workers=workers,
                cache_dir=enhanced_cache,
                progress=lambda n: progress.advance(task, n),
            )
        if ai:
            sample = next((e for s in data.names for e in enhanced[s] if e is not None), None)
            est = estimate_cost(cfg.model, len(steps) * len(data.names), sample, cfg.signal_config())
            err.print(f"[bold]model cost estimate:[/bold] {est.describe()}")
            if max_cost is not None and (est.cost_usd is None or est.cost_usd > max_cost):
                raise ConfigError(f"the estimate exceeds --max-cost {max_cost} USD: refusing to start")
            if not yes:
                if not sys.stdin.isatty():
                    raise ConfigError("an AI backtest spends money: confirm with --yes (non-interactive)")
                if not typer.confirm("start?", default=False):
                    raise typer.Exit(1)
        with _progress() as progress:
            task = progress.add_task("trading", total=len(steps))
            result = await run_backtest(
                cfg,
                data=data,
                enhanced=enhanced,
                out_dir=out,
                progress=lambda done, total: progress.update(task, completed=done),
                record_all_decisions=all_decisions,
            )
        metrics = write_report(result, out)
    finally:
        structlog.configure(**previous)
        log_file.close()
    Console(width=max(100, Console().width)).print(summary_table(metrics))
    err.print(f"wrote {out / 'metrics.json'} and {out / 'report.html'}")


@backtest_app.callback()
def backtest(
    ctx: typer.Context,
    data: Path | None = typer.Option(
        None, "--data", help="kline file, folder of files, or asym DuckDB store"
    ),
    symbols: str | None = typer.Option(None, "--symbols", help="A,B or all (default: all in the data)"),
    start: str | None = typer.Option(None, "--from", help="first decision time: YYYY-MM-DD[THH:MM] UTC"),
    end: str | None = typer.Option(None, "--to", help="last decision time"),
    model: str | None = typer.Option(
        None, "--model", help="signal model spec: rules (default), deepseek:..."
    ),
    out: Path = typer.Option(Path("backtest-out"), "--out", help="output folder"),
    config: Path | None = typer.Option(None, "--config", help="TOML/JSON file with any of these settings"),
    interval: str | None = typer.Option(
        None, "--interval", help="decision interval, Bybit notation (default 60)"
    ),
    balance: str | None = typer.Option(None, "--balance", help="starting balance USDT (default 10000)"),
    seed: int | None = typer.Option(None, "--seed", help="seed of the venue's book model"),
    venue: str | None = typer.Option(None, "--venue", help="rows of this venue in multi-venue files (bybit)"),
    funding: Path | None = typer.Option(
        None, "--funding", help="funding file (default: found beside the data)"
    ),
    warmup_days: float | None = typer.Option(
        None, "--warmup-days", help="history before --from (default 10)"
    ),
    execution: str | None = typer.Option(
        None, "--execution", help="bars (fast, default) or replay (sim Market)"
    ),
    settings: list[str] = typer.Option(
        None, "--set", help="override, e.g. risk.risk_per_trade=0.02 (repeatable)"
    ),
    force: bool = typer.Option(
        False, "--force", help="allow an AI model on a period before its training cutoff"
    ),
    model_cutoff: str | None = typer.Option(
        None, "--model-cutoff", help="training cutoff of a model not in the table"
    ),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="AI response cache (default OUT/cache)"),
    yes: bool = typer.Option(False, "--yes", "-y", help="start an AI backtest without asking"),
    max_cost: float | None = typer.Option(
        None, "--max-cost", help="refuse when the AI cost estimate exceeds this (USD)"
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="processes for the enhanced data (default: auto)"
    ),
    auto_resume: bool | None = typer.Option(
        None, "--auto-resume/--no-auto-resume", help="daily resume attempt in emergency"
    ),
    reset_peak: bool = typer.Option(
        False, "--reset-peak", help="daily check: acknowledge a drawdown that alone blocks the resume"
    ),
    enhanced_cache: Path | None = typer.Option(
        None, "--enhanced-cache", help="keep the enhanced data here; re-runs on the same data reuse it"
    ),
    all_decisions: bool = typer.Option(
        False, "--all-decisions", help="write HOLD decisions to decisions.jsonl too"
    ),
) -> None:
    """Run one backtest and write OUT/metrics.json and OUT/report.html (`asym backtest sweep` for grids)."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        cfg = build_config(
            config=config,
            data=data,
            symbols=symbols,
            start=start,
            end=end,
            model=model,
            interval=interval,
            balance=balance,
            seed=seed,
            venue=venue,
            funding=funding,
            warmup_days=warmup_days,
            execution=execution,
            force=force,
            model_cutoff=model_cutoff,
            cache_dir=cache_dir,
            auto_resume=auto_resume,
            settings=settings,
            reset_peak=reset_peak,
        )
        eventloop.run(_run(cfg, out, yes, max_cost, workers, all_decisions, enhanced_cache))
    except AsymError as exc:
        err.print(f"[red]backtest: {exc}[/red]")
        raise typer.Exit(2) from None


@backtest_app.command("sweep")
def sweep(
    data: Path | None = typer.Option(None, "--data", help="kline file, folder, or DuckDB store"),
    symbols: str | None = typer.Option(None, "--symbols", help="A,B or all"),
    start: str | None = typer.Option(None, "--from", help="first decision time"),
    end: str | None = typer.Option(None, "--to", help="last decision time"),
    model: str | None = typer.Option(None, "--model", help="signal model spec (rules by default)"),
    out: Path = typer.Option(Path("sweep-out"), "--out", help="output folder"),
    config: Path | None = typer.Option(None, "--config", help="TOML/JSON base config"),
    interval: str | None = typer.Option(None, "--interval", help="decision interval (default 60)"),
    grid: list[str] = typer.Option(
        ..., "--grid", help="axis name=v1,v2,... e.g. risk.risk_per_trade=0.005,0.01"
    ),
    settings: list[str] = typer.Option(None, "--set", help="fixed override for every point"),
    workers: int | None = typer.Option(None, "--workers", help="parallel workers (default: cores)"),
    executor: str = typer.Option("process", "--executor", help="process (default), serial, or dask"),
    dask: str | None = typer.Option(
        None, "--dask", help="Dask scheduler address (tcp://host:8786); implies --executor dask"
    ),
    metric: str = typer.Option(
        "sharpe", "--metric", help="ranking/heatmap metric: sharpe, sortino, return_pct, ..."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="run points with an AI model (they spend money)"),
) -> None:
    """Run a grid of backtests in parallel; writes sweep.csv, sweep.json and sweep.html (heatmap)."""
    from asym.backtest.sweep import METRICS, parse_grid, run_sweep
    from asym.backtest.sweep_report import COLUMNS, write_sweep

    try:
        if metric not in METRICS:
            raise ConfigError(f"--metric {metric!r}: one of {', '.join(METRICS)}")
        cfg = build_config(
            config=config,
            data=data,
            symbols=symbols,
            start=start,
            end=end,
            model=model,
            interval=interval,
            balance=None,
            seed=None,
            venue=None,
            funding=None,
            warmup_days=None,
            execution=None,
            force=False,
            model_cutoff=None,
            cache_dir=None,
            auto_resume=None,
            settings=settings,
        )
        axes = parse_grid(grid)
        _ai_sweep_consent(cfg, axes, yes)
        ex = "dask" if dask else executor
        if ex not in ("process", "serial", "dask"):
            raise ConfigError(f"--executor {executor!r}: process, serial or dask")
        with _progress() as progress:
            n = 1
            for vs in axes.values():
                n *= len(vs)
            task = progress.add_task(f"sweep ({ex})", total=n)
            result = eventloop.run(
                run_sweep(
                    cfg,
                    axes,
                    executor=cast("Executor", ex),
                    workers=workers,
                    address=dask,
                    progress=lambda done, total: progress.update(task, completed=done),
                )
            )
        order = write_sweep(result, out, metric)
    except AsymError as exc:
        err.print(f"[red]sweep: {exc}[/red]")
        raise typer.Exit(2) from None
    table = Table(
        title=f"{len(result.points)} backtests in {result.seconds:.1f} s ({result.per_minute:.1f}/min)"
    )
    for a in axes:
        table.add_column(a)
    for c in COLUMNS:
        table.add_column(c, justify="right")
    for p in order[:30]:
        table.add_row(
            *[str(p.overrides[a]) for a in axes],
            *["-" if p.value(c) is None else f"{p.value(c):.4g}" for c in COLUMNS],
        )
    Console(width=max(120, Console().width)).print(table)
    err.print(f"wrote {out / 'sweep.csv'}, {out / 'sweep.json'} and {out / 'sweep.html'}")


def _ai_sweep_consent(cfg: Any, axes: dict[str, list[Any]], yes: bool) -> None:
    """Points with an AI model spend money: show the upper bound and require --yes."""
    from asym.backtest.ai import estimate_cost, is_ai
    from asym.backtest.inputs import step_times
    from asym.backtest.sweep import grid_points

    specs = [str(p.get("model", cfg.model)) for p in grid_points(axes)]
    ai = [m for m in specs if is_ai(m)]
    if not ai:
        return
    steps = len(step_times(cfg.start_ms, cfg.end_ms, cfg.step_ms)) * len(cfg.symbols or ("?",))
    total = [estimate_cost(m, steps, None, cfg.signal_config()) for m in ai]
    calls = sum(e.calls for e in total)
    costs = [e.cost_usd for e in total]
    cost = "unknown" if any(c is None for c in costs) else f"${sum(c for c in costs if c is not None):.2f}"
    err.print(
        f"[bold]{len(ai)} AI points:[/bold] up to {calls:,} model calls, about {cost} (cache hits are free)"
    )
    if not yes:
        raise ConfigError("an AI sweep spends money: confirm with --yes")


def register(app: typer.Typer) -> None:
    """Attach `asym backtest` and `asym backtest sweep`."""
    app.add_typer(backtest_app, name="backtest")


__all__ = ["backtest_app", "build_config", "register", "summary_table"]
