"""`asym sim serve` as a subprocess: first stdout line is the JSON, the server answers, SIGTERM exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)
REPO = Path(__file__).resolve().parents[3]


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "asym.cli.main", "sim", "serve", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_json_first_and_stops_cleanly(sig: signal.Signals) -> None:
    proc = _start("--symbols", "3", "--port", "0", "--no-rate-limits", "--seed", "11")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"rest_url", "ws_public_url", "ws_private_url", "api_key", "api_secret"}
        assert info["rest_url"].startswith("http://127.0.0.1:")
        port = info["rest_url"].rsplit(":", 1)[1]
        assert info["ws_public_url"] == f"ws://127.0.0.1:{port}/v5/public/linear"
        assert info["ws_private_url"] == f"ws://127.0.0.1:{port}/v5/private"
        with urllib.request.urlopen(
            info["rest_url"] + "/v5/market/instruments-info?category=linear", timeout=10
        ) as r:
            body = json.loads(r.read())
        assert [i["symbol"] for i in body["result"]["list"]] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_keys_come_from_the_environment() -> None:
    env = {"ASYM_SIM_API_KEY": "env-key-123", "ASYM_SIM_API_SECRET": "env-secret-456"}
    proc = _start("--symbols", "1", env=env)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["api_key"] == "env-key-123" and info["api_secret"] == "env-secret-456"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--faults", "nonsense=1"], "unknown fault key 'nonsense'"),
        (["--symbols", "0"], "symbols"),
        (["--symbols", "3", "--replay", "x.csv"], "exclusive"),
    ],
)
def test_bad_options_fail_fast_with_a_clear_error(args: list[str], fragment: str) -> None:
    proc = _start(*args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == ""
    assert fragment in err


def test_replay_serves_the_recorded_symbol(shared_data: Path) -> None:
    csv = shared_data / "bybit" / "linear-1m" / "BTCUSDT_1m.csv"
    proc = _start("--replay", str(csv), "--no-rate-limits")
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        with urllib.request.urlopen(info["rest_url"] + "/v5/market/tickers?category=linear", timeout=10) as r:
            tickers = json.loads(r.read())["result"]["list"]
        assert [t["symbol"] for t in tickers] == ["BTCUSDT"]
        url = info["rest_url"] + "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=3"
        with urllib.request.urlopen(url, timeout=10) as r:
            rows = json.loads(r.read())["result"]["list"]
        # The recording spans 2025-05-30 16:39 .. 2025-06-29 16:38 UTC: market time lies inside it.
        assert all(1_748_623_140_000 <= int(row[0]) <= 1_751_215_080_000 for row in rows)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
