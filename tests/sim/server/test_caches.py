"""The kline response cache: one encoding per query and market step, never a stale candle."""

from __future__ import annotations

import msgspec

from asym.domain import Interval
from asym.sim.config import SimConfig
from asym.sim.market import Market
from asym.sim.server.caches import KLINE_CACHE_SIZE, Caches
from asym.sim.server.wire_market import kline_table_rows
from asym.sim.types import PriceKind

START_MS = 1_750_000_000_000


def _rows(m: Market, symbol: str, limit: int) -> list[list[str]]:
    inst = m.instrument(symbol)
    return kline_table_rows(inst, m.kline_table(symbol, Interval.M1, None, None, limit, PriceKind.TRADE))


def test_same_query_in_one_step_is_built_once_and_a_new_step_rebuilds() -> None:
    m = Market(SimConfig(symbols=3, seed=3, history_days=1), START_MS)
    caches = Caches(m)
    builds = []

    def build() -> list[list[str]]:
        builds.append(m.now_ms())
        return _rows(m, "BTCUSDT", 5)

    query = ("BTCUSDT", "1", None, None, 5, PriceKind.TRADE)
    first = caches.kline_list(query, build)
    assert caches.kline_list(query, build) is first
    assert len(builds) == 1
    m.advance(START_MS + 90_000, ["BTCUSDT"])  # the open candle closes and a new one opens
    later = msgspec.json.decode(caches.kline_list(query, build))
    assert len(builds) == 2
    assert later == _rows(m, "BTCUSDT", 5)
    assert later != msgspec.json.decode(first)


def test_distinct_queries_are_kept_apart_and_the_cache_is_bounded() -> None:
    m = Market(SimConfig(symbols=3, seed=3, history_days=1), START_MS)
    caches = Caches(m)
    a = caches.kline_list(("BTCUSDT", "1", None, None, 3, "trade"), lambda: _rows(m, "BTCUSDT", 3))
    b = caches.kline_list(("BTCUSDT", "1", None, None, 4, "trade"), lambda: _rows(m, "BTCUSDT", 4))
    assert len(msgspec.json.decode(a)) == 3 and len(msgspec.json.decode(b)) == 4
    for limit in range(1, KLINE_CACHE_SIZE + 5):
        caches.kline_list(("BTCUSDT", "1", None, None, limit, "x"), lambda: [])
    assert len(caches._klines) <= KLINE_CACHE_SIZE
