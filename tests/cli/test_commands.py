"""The documented commands as a user runs them: subprocesses of the installed `asym` entry point."""

from __future__ import annotations

import json
import subprocess
import sys

from asym.sim.server.testing import simulator_in_thread

ENHANCED_KEYS = {
    "symbol",
    "timestamp",
    "liquidity_score",
    "liquidation_risk",
    "funding_sentiment",
    "oi_sentiment",
    "market_risk_score",
    "spread_pct",
    "nearby_liquidations",
    "order_book_depth",
    "technical_indicators",
    "quality_flags",
}


def _asym(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asym.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_collect_once_json_prints_one_object_per_symbol() -> None:
    p = _asym(
        "collect", "--venue", "sim", "--symbols", "BTCUSDT,ETHUSDT", "--once", "--json", "--sim-symbols", "5"
    )
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [d["symbol"] for d in lines] == ["BTCUSDT", "ETHUSDT"]
    for d in lines:
        assert d.keys() >= ENHANCED_KEYS
        assert d["order_book_depth"] == 25
        assert isinstance(d["last_price"], str)  # exact decimal on the wire


def test_collect_cross_checks_a_second_exchange_through_ccxt() -> None:
    # The second exchange is the simulator itself, reached through ccxt's bybit: it must agree.
    with simulator_in_thread(symbols=5, rate_limits=False, seed=7) as second:
        p = _asym(
            "collect", "--venue", second.rest_url, "--symbols", "BTCUSDT,ETHUSDT", "--once", "--json",
            "--reference", "bybit", "--reference-url", second.rest_url,
        )  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [d["symbol"] for d in lines] == ["BTCUSDT", "ETHUSDT"]
    assert not [f for d in lines for f in d["quality_flags"] if f.startswith("reference")]

    p = _asym("collect", "--venue", "sim", "--once", "--reference", "nosuchexchange")
    assert p.returncode != 0
    assert "unknown ccxt exchange id 'nosuchexchange'" in p.stderr
    assert "Traceback" not in p.stderr


def test_signals_json_prints_validated_outcomes() -> None:
    p = _asym("signals", "--venue", "sim", "--model", "rules", "--json", "--sim-symbols", "8")
    assert p.returncode == 0, p.stderr[-2000:]
    outcomes = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(outcomes) == 8
    for o in outcomes:
        assert o["kind"] in ("signal", "rejection")
        if o["kind"] == "signal" and o["action"] in ("LONG", "SHORT"):
            entry, stop = float(o["entry_price"]), float(o["stop_loss"])
            assert (stop < entry) if o["action"] == "LONG" else (stop > entry)
            assert float(o["reward_risk"]) >= 2.5


def test_bad_venue_is_a_clear_error_not_a_traceback() -> None:
    p = _asym("collect", "--venue", "nowhere", "--once")
    assert p.returncode != 0
    assert "--venue must be" in p.stderr
    assert "Traceback" not in p.stderr
