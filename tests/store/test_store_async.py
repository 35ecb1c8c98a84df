"""The asyncio Store over a real DuckDB file: awaited and batched writes, reads, export, retention."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from asym.domain import Interval
from asym.errors import DataError
from asym.store import Store, StoreConfig, StoreError
from asym.store import queries as q

from . import samples as s

D = Decimal
DAY = 86_400_000


def deadletter_text(db_path: Path) -> str:
    """The dead-letter file next to the database (read synchronously: it is small)."""
    return Path(str(db_path) + ".deadletter.jsonl").read_text()


async def wait_for(cond: object, timeout: float = 10.0) -> None:
    """Poll an async condition until true (a behaviour wait, not a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await cond():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_awaited_write_is_committed_and_readable(store: Store) -> None:
    candles = [s.candle(i) for i in range(10)]
    assert await store.write_candles(candles) == 10
    assert await store.candles("BTCUSDT", Interval.M1) == candles
    assert await store.write_candles(candles) == 0
    assert (await store.row_counts())["candles"] == 10


async def test_the_event_loop_keeps_running_during_a_large_write(store: Store) -> None:
    ticks = 0
    done = False

    async def heartbeat() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    hb = asyncio.create_task(heartbeat())
    await store.write_candles([s.candle(i) for i in range(20_000)])
    seen = ticks
    done = True
    await hb
    assert seen > 10  # the loop ran other tasks while the writer thread encoded and committed


async def test_submit_is_batched_and_flushed_by_the_timer(store: Store) -> None:
    for i in range(30):
        store.submit_candles([s.candle(i)])  # returns at once

    async def all_visible() -> bool:
        return len(await store.candles("BTCUSDT", Interval.M1)) == 30

    await wait_for(all_visible)  # no flush() call: the 50 ms timer committed them
    assert store.stats.rows_submitted == 30 and store.stats.rows_pending == 0
    assert store.stats.batches_committed < 30  # batched, not one transaction per row


async def test_submit_flushes_when_the_batch_is_full(db_path: Path) -> None:
    st = await Store.open(StoreConfig(path=str(db_path), batch_rows=100, flush_interval_s=3600))
    try:
        st.submit_candles([s.candle(i) for i in range(250)])

        async def committed() -> bool:
            return st.stats.batches_committed >= 1

        await wait_for(committed)  # the hour-long timer did not need to fire
        await st.flush()
        assert len(await st.candles("BTCUSDT", Interval.M1)) == 250
    finally:
        await st.close()


async def test_write_all_is_one_transaction(store: Store) -> None:
    bad_signal = msgspec.structs.replace(s.signal(0), entry=D("NaN"))
    with pytest.raises(DataError, match="signals"):
        await store.write_all(orders=[s.order("asym-1")], decisions=[s.decision()], signals=[bad_signal])
    counts = await store.row_counts()
    assert counts["orders"] == counts["decisions"] == counts["signals"] == 0
    res = await store.write_all(
        intents=[s.intent()],
        orders=[s.order("asym-1")],
        decisions=[s.decision()],
        positions=[s.position()],
        equity=[s.wallet()],
    )
    assert res.changed == {
        "order_intents": 1,
        "orders": 1,
        "decisions": 1,
        "positions": 1,
        "position_history": 1,
        "equity_history": 1,
    }
    with pytest.raises(DataError, match="unknown table keyword"):
        await store.write_all(bogus=[1])


async def test_bad_fire_and_forget_rows_go_to_the_deadletter_file(store: Store, db_path: Path) -> None:
    good = [s.candle(i) for i in range(3)]
    bad = msgspec.structs.replace(s.candle(3), close=D("Infinity"))
    store.submit_candles([*good, bad])
    await store.flush()
    assert await store.candles("BTCUSDT", Interval.M1) == good
    assert store.stats.rows_deadlettered == 1
    lines = deadletter_text(db_path).splitlines()
    rec = json.loads(lines[0])
    assert (
        rec["table"] == "candles" and "not finite" in rec["reason"] and "Infinity" in json.dumps(rec["row"])
    )


async def test_a_batch_the_database_refuses_is_retried_then_deadlettered(db_path: Path) -> None:
    st = await Store.open(StoreConfig(path=str(db_path), flush_interval_s=0.01, max_flush_retries=2))
    try:
        broken = msgspec.structs.replace(s.candle(0), volume=None)  # NOT NULL column
        with pytest.raises(StoreError, match="rolled back"):
            await st.write_candles([broken, s.candle(1)])
        assert await st.candles("BTCUSDT", Interval.M1) == []
        st.submit_candles([broken])

        async def given_up() -> bool:
            return st.stats.rows_deadlettered == 1

        await wait_for(given_up)
        assert st.stats.flush_failures == 2 and st.stats.rows_pending == 0 and st.stats.last_error
        assert await st.write_candles([s.candle(1)]) == 1  # the store keeps working
    finally:
        await st.close()
    assert "refused the batch 2 times" in deadletter_text(db_path)


async def test_close_flushes_pending_rows_and_data_survives_reopen(db_path: Path) -> None:
    st = await Store.open(StoreConfig(path=str(db_path), flush_interval_s=3600))
    st.submit_tickers([s.ticker(i) for i in range(5)])
    await st.close()
    await st.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        st.submit_tickers([s.ticker(9)])
    async with await Store.open(StoreConfig(path=str(db_path))) as again:
        assert await again.query(q.tickers, "BTCUSDT") == [s.ticker(i) for i in range(5)]


async def test_parquet_export_by_time_range_is_exact(store: Store, tmp_path: Path) -> None:
    candles = [s.candle(i, close=f"104337.{i}") for i in range(10)]
    await store.write_candles(candles)
    dest = tmp_path / "export" / "candles.parquet"
    n = await store.export_parquet("candles", dest, start_ms=s.T0 + 2 * s.M1, end_ms=s.T0 + 5 * s.M1)
    assert n == 3
    table = pq.read_table(dest)
    assert str(table.schema.field("close").type) == "decimal128(38, 18)"
    assert table.column("start").to_pylist() == [s.T0 + i * s.M1 for i in (2, 3, 4)]
    assert table.column("close").to_pylist() == [D(f"104337.{i}") for i in (2, 3, 4)]
    assert await store.export_parquet("orders", tmp_path / "o.parquet") == 0
    with pytest.raises(DataError, match="unknown table"):
        await store.export_parquet("candles; DROP TABLE candles", tmp_path / "x.parquet")


async def test_retention_deletes_only_what_is_old_enough(store: Store) -> None:
    now = s.T0 + 10 * DAY
    await store.write_books([s.book(0)])  # 10 days old
    recent = msgspec.structs.replace(s.book(1), ts=now - DAY)
    await store.write_books([recent])
    await store.write_candles([s.candle(0)])  # candles are not in the default policy
    deleted = await store.apply_retention(now)
    assert deleted["book_snapshots"] == 1 and "candles" not in deleted
    assert [b.ts for b in await store.query(q.books, "BTCUSDT")] == [recent.ts]
    assert len(await store.candles("BTCUSDT", Interval.M1)) == 1
    edge = await store.apply_retention(
        now, {"candles": 10}
    )  # exactly 10 days old: kept (strictly older goes)
    assert edge == {"candles": 0}
    with pytest.raises(DataError, match="at least 1 day"):
        await store.apply_retention(now, {"candles": 0})


async def test_trading_state_reads(store: Store) -> None:
    await store.write_intents([s.intent("asym-1"), s.intent("asym-2", s.T0 + 1)])
    await store.write_orders([s.order("asym-1")])
    assert [i.request.order_link_id for i in await store.pending_intents()] == ["asym-2"]
    assert [o.order_link_id for o in await store.open_orders()] == ["asym-1"]
    await store.write_orders([s.order("asym-1", status=s.OrderStatus.CANCELLED, updated=s.T0 + 1)])
    assert await store.open_orders() == []
    await store.write_positions([s.position()])
    assert await store.positions(open_only=True) == [s.position()]
    await store.write_equity([s.wallet(s.T0), s.wallet(s.T0 + 1, "10010")], account="paper")
    assert [w.total_equity for w in await store.query(q.equity, "paper")] == [D("10003.3962"), D("10010")]
    await store.write_decisions([s.decision()])
    await store.write_signals([s.signal()])
    await store.write_executions([s.execution()])
    assert (await store.query(q.decisions))[0].detail == {"size_usd": "1040.005", "risk_pct": 0.5}


async def test_market_helpers_and_quality_events(store: Store) -> None:
    await store.write_funding([s.funding(0)])
    await store.write_open_interest([s.open_interest(0)])
    await store.write_long_short([s.long_short(0)])
    await store.write_liquidations([s.liquidation(0)])
    await store.write_enhanced([s.enhanced(0)])
    await store.write_quality_events([s.quality_event(0)])
    store.submit_quality_events([s.quality_event(1)])
    store.submit_liquidations([s.liquidation(1)])
    store.submit_books([s.book(0)])
    await store.flush()
    counts = await store.row_counts()
    assert counts["quality_events"] == 2 and counts["liquidations"] == 2 and counts["book_snapshots"] == 1
    assert await store.candle_starts("BTCUSDT", Interval.M1) == []
    assert store.path is not None and store.path.exists()
