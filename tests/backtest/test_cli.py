"""`asym backtest` and `asym backtest sweep` as a user runs them (typer's runner, real files)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from asym.cli.backtest_cmd import backtest_app

from .conftest import DAY, T0, synthetic

runner = CliRunner()


def _text(res) -> str:  # type: ignore[no-untyped-def]
    """The output with rich's line wrapping undone."""
    return " ".join(res.output.split())


def _data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "funding").mkdir(parents=True)
    s = synthetic(start=T0 - 10 * DAY, n=24 * 15, amp=0.06, period=60)
    rows = [f"{c.start},{c.open},{c.high},{c.low},{c.close},{c.volume}" for c in s.candles]
    (d / "BTCUSDT_60.csv").write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    (d / "funding" / "BTCUSDT.csv").write_text(
        "timestamp,symbol,funding_rate\n" + "\n".join(f"{f.ts},BTCUSDT,{f.rate}" for f in s.funding) + "\n"
    )
    return d


def test_backtest_writes_metrics_and_report(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(
        backtest_app,
        [
            "--data",
            str(data),
            "--symbols",
            "BTCUSDT",
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-05",
            "--out",
            str(out),
            "--set",
            "rules.entry_score=2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "P&L" in _text(res) and "win rate" in _text(res)
    m = json.loads((out / "metrics.json").read_text())
    assert m["run"]["symbols"] == ["BTCUSDT"] and m["run"]["steps"] == 4 * 24 + 1
    assert m["costs"]["funding_payments"] >= 0 and (out / "report.html").is_file()
    assert json.loads((out / "run.json").read_text())["timings_s"]["trading_s"] > 0


def test_config_file_and_replay_execution(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    cfg = tmp_path / "bt.toml"
    cfg.write_text(
        f'data = "{data}"\nfrom = "2025-06-01"\nto = "2025-06-02"\nexecution_model = "replay"\n'
        'replay_step_ms = 60000\n[rules]\nentry_score = 1\n[risk]\nrisk_per_trade = "0.02"\n'
    )
    res = runner.invoke(backtest_app, ["--config", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["run"]["execution_model"] == "replay" and m["run"]["config"]["risk"]["risk_per_trade"] == "0.02"


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    out = ["--out", str(tmp_path / "o")]
    res = runner.invoke(backtest_app, ["--data", str(data), "--to", "2025-06-02", *out])
    assert res.exit_code == 2 and "missing --from" in _text(res)
    res = runner.invoke(
        backtest_app,
        [
            "--data",
            str(data),
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-02",
            "--set",
            "risk.risk_per_trade=2",
            *out,
        ],
    )
    assert res.exit_code == 2 and "risk_per_trade" in _text(res)
    res = runner.invoke(
        backtest_app, ["--data", str(data), "--from", "2025-06-02", "--to", "2025-06-01", *out]
    )
    assert res.exit_code == 2 and "end after it starts" in _text(res)
    res = runner.invoke(
        backtest_app, ["--data", str(tmp_path / "none"), "--from", "2025-06-01", "--to", "2025-06-02", *out]
    )
    assert res.exit_code == 2 and "no such file or folder" in _text(res)
    assert not (tmp_path / "o").exists()  # nothing is written for a run that could not start


def test_ai_model_shows_the_estimate_and_needs_consent(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    args = [
        "--data",
        str(data),
        "--from",
        "2025-06-01",
        "--to",
        "2025-06-02",
        "--out",
        str(tmp_path / "o"),
        "--model",
        "openai-compatible:http://127.0.0.1:9/v1:some-model",
    ]
    res = runner.invoke(backtest_app, args)
    assert res.exit_code == 2 and "no known training cutoff" in _text(res)
    res = runner.invoke(backtest_app, [*args, "--model-cutoff", "2020-01-01"])
    assert res.exit_code == 2
    assert "up to 25 model calls" in _text(res) and "confirm with --yes" in _text(res)


def test_sweep_command(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    out = tmp_path / "sw"
    res = runner.invoke(
        backtest_app,
        [
            "sweep",
            "--data",
            str(data),
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-04",
            "--out",
            str(out),
            "--grid",
            "risk.risk_per_trade=0.005,0.01",
            "--executor",
            "serial",
            "--metric",
            "return_pct",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "2 backtests" in _text(res)
    assert (out / "sweep.csv").is_file() and (out / "sweep.html").is_file() and (out / "sweep.json").is_file()


def test_ai_points_in_a_sweep_need_consent(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    res = runner.invoke(
        backtest_app,
        [
            "sweep",
            "--data",
            str(data),
            "--symbols",
            "BTCUSDT",
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-02",
            "--out",
            str(tmp_path / "sw"),
            "--grid",
            "model=rules,openai-compatible:http://127.0.0.1:9/v1:m",
        ],
    )
    assert res.exit_code == 2
    assert "1 AI points: up to 25 model calls" in _text(res) and "confirm with --yes" in _text(res)
