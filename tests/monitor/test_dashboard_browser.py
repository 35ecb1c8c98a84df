"""The dashboard in a real headless Chromium: what a person would see after the page's JS ran.

Skips when /usr/bin/chromium is absent (install: apt-get install -y chromium). The screenshot is kept under
artifacts/monitor/ (gitignored) for a human look.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from asym.monitor import MemoryController, Metrics, MonitorConfig, SignalRecord, StaticSystemView, create_app
from asym.monitor.view import ModeState
from asym.trading.modes import Mode

from .conftest import TOKEN

CHROMIUM = Path("/usr/bin/chromium")
_profiles = itertools.count()
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "monitor"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium) for the browser test"
)


async def chromium(url: str, tmp_path: Path, *mode: str, budget_ms: int = 4000) -> str:
    """Run headless Chromium on `url` (loopback only) and return its stdout."""
    profile = tmp_path / f"profile-{next(_profiles)}"
    proc = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        *mode,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode(errors="replace")


def cell_texts(dom: str, table_id: str) -> list[list[str]]:
    """The text of each body row of a table in the dumped DOM."""
    m = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', dom, re.S)
    assert m, f"table {table_id} not found"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def element_text(dom: str, el_id: str) -> str:
    """The text of an element by id (no nested tags expected)."""
    m = re.search(rf'id="{el_id}"[^>]*>([^<]*)<', dom)
    assert m, f"#{el_id} not found"
    return html.unescape(m.group(1))


async def test_dashboard_shows_the_system(
    view: StaticSystemView, monitor_server: Any, tmp_path: Path
) -> None:
    view.mode_state = ModeState(mode=Mode.EMERGENCY, cause="drawdown 10.2% >= 10%", since_ms=1)
    evil = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
    view.signals.insert(
        0,
        SignalRecord(
            ts=1_767_225_720_000,
            symbol="XRPUSDT",
            action="SHORT",
            outcome="accepted",
            rationale=f"model said {evil}",
            confidence=0.61,
            reward_risk=Decimal("2.4"),
            model_id="llm",
        ),
    )
    async with monitor_server(view) as (running, _):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "dashboard.png"
        shot.unlink(missing_ok=True)
        dom = await chromium(
            running.url + "/", tmp_path, "--dump-dom", f"--screenshot={shot}", "--window-size=1400,1800"
        )
    # Mode and cause.
    assert element_text(dom, "mode") == "EMERGENCY"
    assert element_text(dom, "mode-cause") == "drawdown 10.2% >= 10%"
    assert 'class="mode EMERGENCY"' in dom
    # Money exactly as the view has it.
    assert element_text(dom, "equity") == "10234.56"
    assert element_text(dom, "pnl-total") == "+234.56"
    assert element_text(dom, "pnl-day") == "+134.56"
    assert element_text(dom, "pnl-realised") == "+111.11" and element_text(dom, "pnl-unrealised") == "+123.45"
    assert element_text(dom, "drawdown") == "0.64%"
    assert element_text(dom, "positions-count") == "2"
    # The P&L curve was drawn with every point.
    m = re.search(r'<polyline points="([^"]+)"', dom)
    assert m and len(m.group(1).split()) == 121
    # Tables.
    positions = cell_texts(dom, "positions")
    assert [r[:3] for r in positions] == [["BTCUSDT", "Buy", "0.015"], ["ETHUSDT", "Sell", "1.2"]]
    assert positions[0][6] == "+14.99"
    signals = cell_texts(dom, "signals")
    assert [r[1:4] for r in signals] == [
        ["XRPUSDT", "SHORT", "accepted"],
        ["BTCUSDT", "LONG", "accepted"],
        ["SOLUSDT", "–", "rejected"],
    ]
    assert signals[1][6].startswith("Funding neutral, OI building")
    assert signals[2][6] == "reward_risk_below_min: net R:R 1.4 < 2"
    # Hostile text is shown as text, never run or parsed as markup.
    assert signals[0][6] == f"model said {evil}"
    assert "<img src" not in dom and "pwned" not in element_text(dom, "mode")
    assert re.search(r"<title>asym monitor</title>", dom)
    enhanced = cell_texts(dom, "enhanced")
    assert [r[0] for r in enhanced] == ["BTCUSDT", "ETHUSDT"]
    assert enhanced[0][1:5] == ["62000.1", "0.0021", "0.83", "MEDIUM"]
    assert enhanced[0][5] == "LONGS_PAY MILD" and enhanced[0][6] == "LONG_BUILDUP" and enhanced[0][10] == "UP"
    assert enhanced[1][12] == "book_stale"
    assert cell_texts(dom, "freshness") == [["ticker", "1.5", "5", "ok"], ["book", "2.0", "5", "ok"]]
    assert cell_texts(dom, "quality-kinds") == [["crossed_book", "1"], ["stale", "3"]]
    assert element_text(dom, "usable-share") == "90%"
    assert cell_texts(dom, "latency") == [["/v5/market/kline", "40", "1", "12.5", "40.0", "88.0"]]
    assert "not ready: mode EMERGENCY" in element_text(dom, "health")
    assert shot.exists() and shot.stat().st_size > 10_000
    shutil.copy(shot, tmp_path / "dashboard.png")


class _FlippingView(StaticSystemView):
    """Goes HALTED while serving the page's third poll: only a live update can show it."""

    polls = 0

    def recent_signals(self, limit: int = 50) -> list[SignalRecord]:
        self.polls += 1
        if self.polls == 3:
            self.mode_state = ModeState(mode=Mode.HALTED, cause="halted while watching")
        return super().recent_signals(limit)  # type: ignore[return-value]


async def test_dashboard_updates_live(view: StaticSystemView, monitor_server: Any, tmp_path: Path) -> None:
    """The page polls: a change made after it loaded shows up without a reload."""
    flipping = _FlippingView(**{f: getattr(view, f) for f in view.__dataclass_fields__})
    async with monitor_server(flipping, poll_ms=500) as (running, _):
        dom = await chromium(running.url + "/", tmp_path, "--dump-dom", budget_ms=5000)
    assert flipping.polls >= 4
    assert element_text(dom, "mode") == "HALTED"
    assert element_text(dom, "mode-cause") == "halted while watching"


async def test_exposed_dashboard_needs_the_token(view: StaticSystemView, tmp_path: Path) -> None:
    app = create_app(view, MemoryController(view), Metrics(), MonitorConfig(host="0.0.0.0", token=TOKEN))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        url = str(server.make_url("/"))
        without, with_token = await asyncio.gather(
            chromium(url, tmp_path, "--dump-dom"), chromium(url + f"#token={TOKEN}", tmp_path, "--dump-dom")
        )
    finally:
        await server.close()
    assert re.search(r'<section id="login">', without) and re.search(r'<main id="main" hidden', without)
    assert element_text(without, "equity") == "–"  # no data without the token
    assert element_text(with_token, "equity") == "10234.56"
    assert re.search(r'<section id="login" hidden', with_token)
    assert TOKEN not in with_token  # the fragment is removed from the URL and never rendered
