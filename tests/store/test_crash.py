"""Crash safety: a writer process SIGKILLed mid-write leaves every committed batch intact and nothing partial.

A real subprocess writes batches in a loop through the async Store and prints each batch number once its
`await store.write_candles(...)` returned (= committed). The test kills it with SIGKILL while it is
writing, reopens the file, and checks every batch: the reported ones complete, none partial.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb

from asym.store import Database, StoreConfig, current_version

REPO = Path(__file__).resolve().parents[2]
BATCH = 400

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from decimal import Decimal
    from asym.domain import Candle, Interval
    from asym.store import Store, StoreConfig

    async def main(path: str, batch: int) -> None:
        store = await Store.open(StoreConfig(path=path))
        print("ready", flush=True)
        n = 0
        while True:
            close = n + Decimal("0.123456789012345678")
            candles = [
                Candle(symbol=f"B{n}", interval=Interval.M1, start=i * 60_000, open=close,
                       high=close + 1, low=close, close=close,
                       volume=Decimal(i), turnover=Decimal("0.000000000000000001"))
                for i in range(batch)
            ]
            store.submit_tickers([])  # exercise the fire-and-forget path too (empty: no rows)
            await store.write_candles(candles)
            print(n, flush=True)
            n += 1

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


def _run_writer(path: Path, batches_before_kill: int) -> int:
    """Start the writer, SIGKILL it after it reported `batches_before_kill` commits; the last one reported."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(BATCH)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    last = -1
    deadline = time.monotonic() + 120
    try:
        while last < batches_before_kill - 1:
            assert time.monotonic() < deadline, "writer too slow"
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if not ready:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "writer died"
                continue
            line = proc.stdout.readline().decode().strip()
            assert line, proc.stderr.read().decode() if proc.stderr else "writer died"
            if line != "ready":
                last = int(line)
        proc.send_signal(signal.SIGKILL)  # it is in the middle of writing the next batch
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    return last


def _batches(path: Path) -> dict[int, tuple[int, object]]:
    db = Database(StoreConfig(path=str(path)))  # reopening replays the write-ahead log
    try:
        assert current_version(db.conn) >= 1
        rows = db.conn.execute("SELECT symbol, count(*), min(close) FROM candles GROUP BY symbol").fetchall()
        return {int(sym[1:]): (n, close) for sym, n, close in rows}
    finally:
        db.close()


def test_sigkill_mid_write_keeps_every_committed_batch(tmp_path: Path) -> None:
    path = tmp_path / "crash.duckdb"
    for round_no, kills_after in enumerate((12, 6)):
        before = _batches(path) if round_no else {}
        last = _run_writer(path, kills_after)
        found = _batches(path)
        # every batch the writer saw committed is there, complete and exact
        for n in range(last + 1):
            count, close = found[n]
            assert count == BATCH, f"batch {n} has {count} rows"
            assert close == n + Decimal("0.123456789012345678")
        # anything else is a batch that was in flight: all of it or none of it, never part
        assert all(count == BATCH for count, _ in found.values())
        assert len(found) >= last + 1
        assert set(before) <= set(found)  # the second crash did not damage the first run's batches


def test_a_second_process_cannot_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    db = Database(StoreConfig(path=str(path)))
    try:
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\nfrom asym.store import Database, StoreConfig, StoreError\n"
                "try:\n    Database(StoreConfig(path=sys.argv[1]))\nexcept StoreError as e:\n"
                "    print('refused:', e)\n",
                str(path),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
        assert probe.stdout.startswith("refused: cannot open the store"), probe.stderr
    finally:
        db.close()
    conn = duckdb.connect(str(path))  # released on close
    conn.close()
