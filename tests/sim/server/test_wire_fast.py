"""The server's fast formatting equals the reference formatting: integer tickers and klines, the cached
ticker formatter, vectorised book deltas, Scale strings; and no number is ever written in exponent
notation (1E-7 ticks)."""

from __future__ import annotations

import json
import random
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from asym.domain import Interval
from asym.sim.config import SimConfig
from asym.sim.market import Market
from asym.sim.market.book import PoolBooks
from asym.sim.server.testing import running_simulator
from asym.sim.server.wire_market import (
    RawTickerFormatter,
    TickerFormatter,
    kline_rows,
    kline_table_rows,
    premium_rows,
    ticker_item,
    ws_ticker_data,
)
from asym.sim.server.ws_streams import _changes
from asym.sim.types import PriceKind
from asym.sim.units import Scale

START_MS = 1_750_000_000_000
# Real names and generated ones, with 1E-7 ticks (1000PEPE, NOT, ...) and steps of 100 / 1000.
SYMBOLS = ["BTCUSDT", "ETHUSDT", "XRPUSDT", "DOGEUSDT", "1000PEPEUSDT", "NOTUSDT", "ALT110USDT", "ALT131USDT"]


def _market() -> Market:
    return Market(SimConfig(symbols=140, seed=5, history_days=2), START_MS)


def test_ticker_formatters_equal_the_reference_item_and_delta() -> None:
    m = _market()
    raw_fmt = {s: RawTickerFormatter(m.instrument(s)) for s in SYMBOLS}
    view_fmt = {s: TickerFormatter(m.instrument(s)) for s in SYMBOLS}
    state: dict[str, tuple[Any, Any, dict[str, str], dict[str, str], dict[str, str]]] = {}
    deltas = 0
    for k in range(150):
        t = START_MS + k * 211 + (k // 50) * 61_000
        m.advance(t, SYMBOLS)
        for s in SYMBOLS:
            inst = m.instrument(s)
            raw, view = m.ticker_raw(s), m.ticker(s)
            ref_item = ticker_item(inst, view)
            assert raw_fmt[s].fields(raw) == ref_item
            assert view_fmt[s].fields(view) == ref_item
            ref_ws = ws_ticker_data(inst, view)
            if s not in state:
                state[s] = (raw, view, raw_fmt[s].ws(raw), view_fmt[s].ws(view), ref_ws)
                assert state[s][2] == state[s][3] == ref_ws
                continue
            prev_raw, prev_view, data_raw, data_view, published = state[s]
            # The reference: every field whose string differs from the last published data, in order.
            expected = {key: v for key, v in ref_ws.items() if published.get(key) != v}
            got_raw = raw_fmt[s].ws_update(prev_raw, raw, data_raw)
            got_view = view_fmt[s].ws_update(prev_view, view, data_view)
            assert list(got_raw.items()) == list(expected.items()) == list(got_view.items()), (k, s)
            assert data_raw == data_view == ref_ws
            deltas += bool(expected)
            state[s] = (raw, view, data_raw, data_view, ref_ws)
    assert deltas > 500


@pytest.mark.parametrize("kind", [PriceKind.TRADE, PriceKind.MARK, PriceKind.INDEX, PriceKind.PREMIUM])
def test_kline_table_rows_equal_reference_rows(kind: str) -> None:
    m = _market()
    m.advance(START_MS + 30_000, SYMBOLS)
    for s in SYMBOLS:
        inst = m.instrument(s)
        for interval in (Interval.M1, Interval.M15, Interval.H4, Interval.D1):
            rows = m.klines(s, interval, None, None, 120, kind)
            if kind == PriceKind.PREMIUM:
                ref = premium_rows(rows)  # type: ignore[arg-type]
            else:
                ref = kline_rows(inst, rows, with_volume=kind == PriceKind.TRADE)  # type: ignore[arg-type]
            assert kline_table_rows(inst, m.kline_table(s, interval, None, None, 120, kind)) == ref


def _reference_changes(old: dict[int, int], new: dict[int, int], descending: bool) -> list[tuple[int, int]]:
    out = [(px, sz) for px, sz in new.items() if old.get(px) != sz]
    out += [(px, 0) for px in old if px not in new]
    return sorted(out, reverse=descending)


def test_vectorised_book_diff_equals_dict_diff() -> None:
    rng = random.Random(3)
    rows, depth = 40, 50
    for descending in (True, False):
        old, new = PoolBooks.empty(rows, depth), PoolBooks.empty(rows, depth)
        expected: list[list[tuple[int, int]]] = []
        for r in range(rows):
            base = rng.randint(2, 10**9)
            prices = sorted(rng.sample(range(base, base + 400), 80), reverse=descending)
            before = {p: rng.randint(1, 50) for p in prices[: rng.randint(0, depth)]}
            after = dict(before)
            for p in rng.sample(prices, 20):  # changed, added and removed levels
                if rng.random() < 0.3:
                    after.pop(p, None)
                else:
                    after[p] = rng.randint(1, 50)
            after = dict(sorted(after.items(), reverse=descending)[:depth])
            old.put(r, sorted(before.items(), reverse=descending), [])
            new.put(r, sorted(after.items(), reverse=descending), [])
            expected.append(_reference_changes(before, after, descending))
        got_rows, starts, px, sz = _changes(
            old.bid_px, old.bid_sz, old.bid_n, new.bid_px, new.bid_sz, new.bid_n, descending
        )
        got: list[list[tuple[int, int]]] = [[] for _ in range(rows)]
        for k, r in enumerate(got_rows):
            got[r] = list(zip(px[starts[k] : starts[k + 1]], sz[starts[k] : starts[k + 1]], strict=True))
        assert got == expected


@pytest.mark.parametrize("step", ["0.1", "0.10", "0.0001", "1E-7", "1", "100", "1E+1", "0.5", "0.25", "2.50"])
def test_scale_strings_are_plain_and_exact(step: str) -> None:
    sc = Scale(step)
    rng = np.random.default_rng(1)
    values = [0, 1, 7, 10, 99, 100, *rng.integers(0, 10**12, 200).tolist()]
    reference = [format(sc.to_decimal(n), "f") for n in values]
    assert [sc.to_str(n) for n in values] == reference
    assert sc.strs(values) == reference
    assert sc.fresh_strs(values) == ["0" if n == 0 else r for n, r in zip(values, reference, strict=True)]
    assert all("E" not in r and "e" not in r for r in reference)
    assert sc.to_int(sc.to_str(12345)) == 12345


@pytest.mark.parametrize("bad", ["1e400", "-1e400", "nan", "inf", "abc", "", None])
def test_scale_to_int_rejects_with_value_error(bad: Any) -> None:
    with pytest.raises(ValueError):
        Scale("0.1").to_int(bad)
    with pytest.raises(ValueError):
        Scale(Decimal("1E-7")).to_int(bad)


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_EXPONENT = re.compile(r"^-?\d+(\.\d+)?[eE][+-]?\d+$")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


async def test_no_exponent_notation_on_the_wire_for_tiny_ticks() -> None:
    import aiohttp

    async with running_simulator(symbols=140, rate_limits=False) as sim, aiohttp.ClientSession() as s:
        strings: list[str] = []
        for sym in ("1000PEPEUSDT", "ALT110USDT"):
            q = f"category=linear&symbol={sym}"
            for path in (
                f"/v5/market/instruments-info?{q}",
                f"/v5/market/tickers?{q}",
                f"/v5/market/orderbook?{q}&limit=50",
                f"/v5/market/kline?{q}&interval=60&limit=50",
                f"/v5/market/mark-price-kline?{q}&interval=1&limit=5",
                f"/v5/market/premium-index-price-kline?{q}&interval=1&limit=5",
                f"/v5/market/recent-trade?{q}&limit=20",
                f"/v5/market/open-interest?{q}&intervalTime=1h&limit=5",
                f"/v5/market/funding/history?{q}&limit=5",
            ):
                async with s.get(sim.rest_url + path) as r:
                    body = await r.json()
                assert body["retCode"] == 0, (path, body)
                strings += _strings(body["result"])
            async with s.ws_connect(sim.ws_public_url) as ws:
                await ws.send_json({"op": "subscribe", "args": [f"orderbook.50.{sym}", f"tickers.{sym}"]})
                for _ in range(4):
                    strings += _strings(json.loads((await ws.receive()).data).get("data", {}))
        numbers = [x for x in strings if _NUMBER.match(x)]
        assert len(numbers) > 500
        assert "0.0000001" in strings  # the 1E-7 tick, written plainly
        assert not [x for x in strings if _EXPONENT.match(x)]
