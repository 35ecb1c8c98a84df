"""SIGKILL in the middle of order placement, against a simulator in another process: after the restart no
order is duplicated (one order per orderLinkId, one entry per symbol), none is orphaned (every open order
at the venue is tracked by the recovered session), and every position has a stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient

from .helpers import file_size

DRIVER = Path(__file__).resolve().parent / "kill_driver.py"


@pytest.fixture
def sim_process() -> Iterator[dict[str, Any]]:
    """`asym sim serve` in its own process (orders take 40-120 ms: plenty of time to die mid-flight)."""
    cmd = [sys.executable, "-m", "asym.cli.main", "sim", "serve", "--port", "0", "--symbols", "4"]
    cmd += ["--seed", "5", "--no-rate-limits", "--faults", "latency_ms=20-60"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_driver(url: str, db: Path, kill_after: int | None = None) -> list[str]:
    """Run the driver; with `kill_after`, SIGKILL it as its n-th order leaves. Its stdout lines."""
    env = {**os.environ, "ASYM_LOG_LEVEL": "ERROR"}
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), url, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    placed = 0
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("PLACING"):
            placed += 1
            if kill_after is not None and placed >= kill_after:
                time.sleep(0.02)  # the request is on the wire, the answer is not back yet
                os.kill(proc.pid, signal.SIGKILL)
                break
        assert time.monotonic() < deadline, "driver too slow"
    code = proc.wait(timeout=60)
    if kill_after is None:
        assert code == 0, proc.stderr.read() if proc.stderr else ""
    else:
        assert code == -signal.SIGKILL
    return lines


async def test_sigkill_mid_placement_then_restart(sim_process: dict[str, Any], tmp_path: Path) -> None:
    url = sim_process["rest_url"]
    db = tmp_path / "state.duckdb"
    first = run_driver(url, db, kill_after=4)
    killed_links = [line.split()[1] for line in first if line.startswith("PLACING")]
    assert len(killed_links) == 4
    assert file_size(f"{db}.journal") > 0, "intents were made durable before sending"

    second = run_driver(url, db)
    assert "DONE" in second
    state = json.loads(second[-1])
    tracked: dict[str, str] = state["tracked"]

    creds = Credentials(sim_process["api_key"], sim_process["api_secret"])
    async with BybitClient(url, creds) as venue:
        history = await venue.get_order_history(limit=1000)
        open_orders = await venue.get_open_orders()
        positions = [p for p in await venue.get_positions() if p.size > 0]
    # no duplicate: one order per orderLinkId, and one entry per symbol
    per_link = Counter(o.order_link_id for o in history if o.order_link_id)
    assert per_link and max(per_link.values()) == 1, per_link.most_common(3)
    entries = Counter(o.symbol for o in history if o.order_link_id.endswith("-en"))
    assert entries and max(entries.values()) == 1, entries
    # the orders the killed run had on the wire were all resolved: known to the recovered session
    for link in killed_links:
        assert link in tracked, link
        assert tracked[link] not in ("SENT", "UNKNOWN", "PENDING"), (link, tracked[link])
    # no orphan: every open order at the venue is known to the session
    for o in open_orders:
        key = o.order_link_id or f"#{o.order_id}"
        assert key in tracked, (key, o.stop_order_type, o.reduce_only)
    # every position has a stop on the venue, below its mark (all longs)
    assert positions
    for p in positions:
        assert p.stop_loss is not None and 0 < p.stop_loss < p.mark_price, p
