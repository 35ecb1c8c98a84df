"""Collected and recorded data in the real store (DuckDB), and recorded data replayed by the simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient
from asym.domain import Candle, Interval
from asym.market.collector import Collector
from asym.market.config import CollectorConfig
from asym.market.quality import Completeness
from asym.market.recorder import Recorder, export_replay
from asym.market.results import CycleResult
from asym.market.sink import StoreSink
from asym.market.validation import find_candle_gaps
from asym.sim.server.testing import running_simulator
from asym.store import Store, StoreConfig

SMALL = CollectorConfig(
    candles={Interval.H1: 48, Interval.M5: 60}, oi_limit=12, ls_limit=12, funding_limit=10
)


async def test_cycles_are_stored_once_and_candles_are_gapless(tmp_path: Path) -> None:
    async with running_simulator(symbols=3, rate_limits=False, speed=120) as sim:
        client = await BybitClient(sim.rest_url, Credentials(sim.api_key, sim.api_secret)).start()
        async with await Store.open(StoreConfig(path=str(tmp_path / "a.duckdb"))) as store:
            sink = StoreSink(store, "sim")
            collector = Collector(client, SMALL, sink=sink)
            try:
                first = await collector.collect_once()
                counts = await store.row_counts()
                assert counts["candles"] == sum(r.candles_fetched for r in first.results)
                # The same cycle written again, candles included, adds nothing (idempotent writes).
                again = StoreSink(store, "sim")
                for symbol in first.universe:
                    for interval in (Interval.H1, Interval.M5):
                        await again.write_candles(await store.candles(symbol, interval, venue="sim"))
                await again.write_cycle(first)
                assert await store.row_counts() == counts
                await collector.collect_once()
            finally:
                await collector.close()
                await client.close()
            for symbol in first.universe:
                for interval in (Interval.H1, Interval.M5):
                    stored = await store.candles(symbol, interval, venue="sim")
                    closed = [c.start for c in stored if c.confirmed]
                    assert len(closed) >= 48
                    assert find_candle_gaps(closed, interval) == []
            counts = await store.row_counts()
    assert all(counts[t] > 0 for t in ("candles", "tickers", "open_interest", "enhanced_snapshots")), counts


async def test_candles_are_written_in_bounded_batches_before_the_cycle_ends(tmp_path: Path) -> None:
    def candles(n: int, offset: int) -> list[Candle]:
        return [
            Candle(
                symbol="BTCUSDT",
                interval=Interval.M1,
                start=(offset + i) * 60_000,
                open=Decimal("100.5"),
                high=Decimal("101"),
                low=Decimal("100"),
                close=Decimal("100.75"),
                volume=Decimal("3.125"),
                turnover=Decimal("314.0625"),
            )
            for i in range(n)
        ]

    empty = CycleResult(
        cycle=1,
        started_ms=0,
        finished_ms=0,
        universe=(),
        results=(),
        completeness=Completeness(expected=0, present=0, ratio=1.0, missing=()),
        requests=0,
    )
    async with await Store.open(StoreConfig(path=str(tmp_path / "b.duckdb"))) as store:
        sink = StoreSink(store, "sim", candle_batch=100)
        await sink.write_candles(candles(60, 0))
        assert (await store.row_counts())["candles"] == 0  # buffered: below the batch
        await sink.write_candles(candles(60, 60))
        assert (await store.row_counts())["candles"] == 120  # the batch filled: written, buffer emptied
        await sink.write_candles(candles(30, 120))
        assert (await store.row_counts())["candles"] == 120
        await sink.write_cycle(empty)  # the rest goes with the cycle
        stored = await store.candles("BTCUSDT", Interval.M1, venue="sim")
    assert [c.start for c in stored] == [i * 60_000 for i in range(150)]
    assert stored[0].turnover == Decimal("314.0625")


async def test_recorded_klines_replay_in_the_simulator(tmp_path: Path) -> None:
    symbols = ["BTCUSDT", "ETHUSDT"]
    async with running_simulator(symbols=4, rate_limits=False, speed=300) as sim:
        client = await BybitClient(sim.rest_url, Credentials(sim.api_key, sim.api_secret)).start()
        async with await Store.open(StoreConfig(path=str(tmp_path / "rec.duckdb"))) as store:
            try:
                stats = await Recorder(client, store, symbols, venue_label="sim", sample_every_s=0.5).run(6.0)
            finally:
                await client.close()
            assert stats.candles > 0 and stats.books > 0 and stats.tickers > 0
            written = await export_replay(store, tmp_path / "replay", symbols, venue="sim")
            recorded = {
                s: [c for c in await store.candles(s, Interval.M1, venue="sim") if c.confirmed]
                for s in symbols
            }
    assert set(written) == set(symbols) and all(n >= 5 for n in written.values()), written

    # The replayed market starts at the last recorded minute: everything before it is its history and
    # must come back exactly as recorded; the last minute is its live candle, opening where it was recorded.
    for s in symbols:
        last = recorded[s][-1].start
        async with running_simulator(
            replay=tmp_path / "replay", rate_limits=False, history_days=1, start_ms=last
        ) as replay:
            client = await BybitClient(replay.rest_url).start()
            try:
                assert {i.symbol for i in await client.get_instruments()} == set(symbols)
                got = await client.get_klines(s, Interval.M1, start=recorded[s][0].start, limit=1000)
            finally:
                await client.close()
        by_start = {c.start: c for c in got}
        history = [c for c in recorded[s] if c.start < last]
        assert len(history) >= 4
        for c in history:
            r = by_start[c.start]
            assert (r.open, r.high, r.low, r.close, r.volume) == (c.open, c.high, c.low, c.close, c.volume)
        assert by_start[last].open == recorded[s][-1].open
