"""The order-book state machine: real-dump replay against an independent dict rebuild, gaps, crossed
books, resets, and a property test against the same reference on random streams."""

from __future__ import annotations

import itertools
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asym.bybit.orderbook import Apply, BookState, OrderBookMachine, StaleBookError


def _reference_apply(ref: dict[str, dict[Decimal, Decimal]], msg: dict[str, Any]) -> None:
    """The plain rebuild: dicts of Decimal price -> Decimal size, snapshot replaces, size 0 deletes."""
    data = msg["data"]
    if msg["type"] == "snapshot":
        ref["b"] = {Decimal(p): Decimal(s) for p, s in data["b"] if Decimal(s) != 0}
        ref["a"] = {Decimal(p): Decimal(s) for p, s in data["a"] if Decimal(s) != 0}
        return
    for side in ("b", "a"):
        for p, s in data[side]:
            if Decimal(s) == 0:
                del ref[side][Decimal(p)]
            else:
                ref[side][Decimal(p)] = Decimal(s)


def _as_dicts(m: OrderBookMachine) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    bids, asks = m.levels()
    return {p: Decimal(s) for p, s in bids}, {p: Decimal(s) for p, s in asks}


def _load_dump(shared_data: Path) -> list[dict[str, Any]]:
    path = shared_data / "bybit" / "orderbook" / "xrpusdt-ob500.data.zip"
    if not path.exists():
        pytest.skip(f"needs {path}")
    with zipfile.ZipFile(path) as zf:
        name = zf.namelist()[0]
        return [json.loads(line) for line in zf.read(name).splitlines() if line.strip()]


def test_real_dump_replay_matches_reference_after_every_message(shared_data: Path) -> None:
    msgs = _load_dump(shared_data)
    assert msgs[0]["type"] == "snapshot" and len(msgs) == 50
    m = OrderBookMachine("XRPUSDT", 500)
    ref: dict[str, dict[Decimal, Decimal]] = {}
    for i, msg in enumerate(msgs):
        d = msg["data"]
        result = m.apply(msg["type"], d["b"], d["a"], d["u"], d["seq"], msg["ts"], msg.get("cts", 0))
        _reference_apply(ref, msg)
        assert result is Apply.OK, f"message {i}: {m.last_reason}"
        bids, asks = _as_dicts(m)
        assert bids == ref["b"], f"bids differ after message {i}"
        assert asks == ref["a"], f"asks differ after message {i}"
        # Order: best first, strictly monotonic, never crossed.
        view = m.view()
        assert view is not None and view.update_id == d["u"]
        assert [p for p, _ in view.bids] == sorted(ref["b"], reverse=True)[:500]
        assert [p for p, _ in view.asks] == sorted(ref["a"])[:500]
        assert view.bids[0][0] < view.asks[0][0]
        top = m.top()
        assert top == (max(ref["b"]), min(ref["a"]))
    # Verified continuity rule on the real data: u advances by exactly one per delta.
    us = [msg["data"]["u"] for msg in msgs]
    assert all(b - a == 1 for a, b in itertools.pairwise(us))


def test_gap_makes_the_book_unreadable_until_the_next_snapshot(shared_data: Path) -> None:
    msgs = _load_dump(shared_data)
    m = OrderBookMachine("XRPUSDT", 500)
    snap = msgs[0]["data"]
    assert m.apply("snapshot", snap["b"], snap["a"], snap["u"]) is Apply.OK
    d2 = msgs[2]["data"]  # skips message 1: u jumps by 2
    assert m.apply("delta", d2["b"], d2["a"], d2["u"]) is Apply.RESYNC
    assert m.state is BookState.STALE and "gap" in m.last_reason
    assert m.view() is None
    with pytest.raises(StaleBookError):
        m.top()
    with pytest.raises(StaleBookError):
        m.levels()
    # Later deltas are ignored while stale; a new snapshot makes it readable again.
    d3 = msgs[3]["data"]
    assert m.apply("delta", d3["b"], d3["a"], d3["u"]) is Apply.IGNORED
    assert m.view() is None
    assert m.apply("snapshot", snap["b"], snap["a"], snap["u"]) is Apply.OK
    assert m.view() is not None and m.resyncs == 1


def test_duplicate_and_pre_snapshot_deltas_are_ignored() -> None:
    m = OrderBookMachine("X", 50)
    assert m.apply("delta", [["1", "1"]], [], 5) is Apply.IGNORED
    assert m.state is BookState.EMPTY and m.view() is None
    m.apply("snapshot", [["10.0", "1"]], [["11.0", "2"]], 7)
    assert m.apply("delta", [["10.0", "5"]], [], 7) is Apply.IGNORED  # same u again
    assert m.apply("delta", [["10.0", "5"]], [], 6) is Apply.IGNORED  # older
    v = m.view()
    assert v is not None and v.bids == ((Decimal("10.0"), Decimal("1")),)
    assert m.apply("delta", [["10.0", "5"]], [], 8) is Apply.OK
    v = m.view()
    assert v is not None and v.bids[0][1] == Decimal("5")


def test_crossed_book_and_unknown_delete_force_resync() -> None:
    m = OrderBookMachine("X", 50)
    m.apply("snapshot", [["10.0", "1"]], [["11.0", "2"]], 1)
    assert m.apply("delta", [["11.5", "1"]], [], 2) is Apply.RESYNC
    assert "crossed" in m.last_reason and m.view() is None
    m.apply("snapshot", [["10.0", "1"]], [["11.0", "2"]], 1)
    assert m.apply("delta", [["9.0", "0"]], [], 2) is Apply.RESYNC
    assert "unknown level" in m.last_reason
    m.apply("snapshot", [["10.0", "1"]], [["10.0", "2"]], 1)
    assert m.state is BookState.STALE  # a crossed snapshot is not readable either


def test_snapshot_resets_including_u_restart_and_malformed_input_is_stale() -> None:
    m = OrderBookMachine("X", 50)
    m.apply("snapshot", [["10.0", "1"], ["9.0", "1"]], [["11.0", "2"]], 1000)
    assert m.apply("snapshot", [["20.0", "1"]], [["21.0", "1"]], 1) is Apply.OK  # venue restart: u == 1
    v = m.view()
    assert v is not None and v.bids == ((Decimal("20.0"), Decimal("1")),) and v.update_id == 1
    assert m.apply("delta", [["abc", "1"]], [], 2) is Apply.RESYNC
    assert "malformed" in m.last_reason
    assert m.apply("snapshot", [["1.0.0", "1"]], [], 1) is Apply.RESYNC


def test_prices_with_more_decimals_later_are_exact() -> None:
    m = OrderBookMachine("X", 50)
    m.apply("snapshot", [["42544", "1"], ["42540", "2"]], [["42548", "3"]], 1)
    assert m.apply("delta", [["42544.25", "4"]], [["42547.5", "1"]], 2) is Apply.OK
    v = m.view()
    assert v is not None
    assert [p for p, _ in v.bids] == [Decimal("42544.25"), Decimal("42544"), Decimal("42540")]
    assert v.best_ask == Decimal("42547.5")
    assert m.apply("delta", [["42544", "0"]], [["42548.00", "0"]], 3) is Apply.OK
    v = m.view()
    assert v is not None and [p for p, _ in v.asks] == [Decimal("42547.5")]


def _cache_sizes(m: OrderBookMachine) -> tuple[int, int]:
    return len(m._bids.cache), len(m._asks.cache)  # the price-string caches' size is the point here


def test_a_drifting_book_keeps_its_price_caches_bounded_and_its_levels_exact() -> None:
    """Prices that drift for hours must not pile up in the string -> key caches (memory), and pruning
    them must never change what the book holds."""
    m = OrderBookMachine("X", 10)  # cap: max(64, 4 x 10) = 64 per side
    ref: dict[str, dict[Decimal, Decimal]] = {}
    bids = [(f"{1000 - i}.5", "1") for i in range(10)]
    asks = [(f"{1001 + i}.5", "1") for i in range(10)]
    snap = {"type": "snapshot", "data": {"b": bids, "a": asks}}
    assert m.apply("snapshot", bids, asks, 1) is Apply.OK
    _reference_apply(ref, snap)
    for u in range(2, 2_000):  # the whole book moves up one tick per message: every price is new
        shift = u - 1
        b = [(f"{1000 - 10 + shift}.5", "0"), (f"{1000 + shift}.5", "2")]
        a = [(f"{1001 + shift - 1}.5", "0"), (f"{1001 + 9 + shift}.5", "3")]
        msg = {"type": "delta", "data": {"b": b, "a": a}}
        assert m.apply("delta", b, a, u) is Apply.OK, m.last_reason
        _reference_apply(ref, msg)
        assert max(_cache_sizes(m)) <= 64
    assert _as_dicts(m) == (ref["b"], ref["a"])


def test_a_stream_that_never_deletes_cannot_make_the_cache_work_quadratic() -> None:
    m = OrderBookMachine("X", 1)  # cap 64; the bid side grows far past it
    assert m.apply("snapshot", [("100", "1")], [("100000", "1")], 1) is Apply.OK
    for u in range(2, 1_000):
        assert m.apply("delta", [(f"{100 + u}", "1")], [], u) is Apply.OK
        assert _cache_sizes(m)[0] <= 64
    bids, _ = m.levels()
    assert len(bids) == 999 and bids[0][0] == Decimal(1099)


def test_view_depth_and_zero_formats() -> None:
    m = OrderBookMachine("X", 2)
    m.apply("snapshot", [["3", "1"], ["2", "1"], ["1", "1"]], [["4", "1"], ["5", "0.000"]], 1)
    v = m.view()
    assert v is not None and len(v.bids) == 2 and len(v.asks) == 1
    assert m.apply("delta", [["3", "0.0"]], [], 2) is Apply.OK
    v = m.view(depth=10)
    assert v is not None and v.best_bid == Decimal("2")


# ---------------------------------------------------------------- property test

_prices = st.integers(min_value=1, max_value=60)


@st.composite
def _streams(draw: Any) -> list[tuple[str, list[list[str]], list[list[str]]]]:
    """A snapshot then valid deltas: bids below 3.05, asks above (never crossed), deletes only of held
    levels; a price may be written with 1 to 3 decimals ("3.1", "3.10", "3.100": one level)."""
    bids = {p: draw(st.integers(1, 9)) for p in draw(st.sets(st.integers(1, 30), max_size=12))}
    asks = {p: draw(st.integers(1, 9)) for p in draw(st.sets(st.integers(31, 60), max_size=12))}
    nd = st.integers(1, 3)

    def fmt(p: int) -> str:
        return f"{p / 10:.{draw(nd)}f}"

    out = [("snapshot", [[f"{p / 10:.1f}", str(s)] for p, s in bids.items()],
            [[f"{p / 10:.1f}", str(s)] for p, s in asks.items()])]  # fmt: skip
    for _ in range(draw(st.integers(0, 25))):
        msg: dict[str, list[list[str]]] = {"b": [], "a": []}
        for key, book, lo, hi in (("b", bids, 1, 30), ("a", asks, 31, 60)):
            for _ in range(draw(st.integers(0, 4))):
                if book and draw(st.booleans()):
                    p = draw(st.sampled_from(sorted(book)))
                    if p in {int(float(x[0]) * 10) for x in msg[key]}:
                        continue
                    del book[p]
                    msg[key].append([fmt(p), "0"])
                else:
                    p = draw(st.integers(lo, hi))
                    if p in {int(float(x[0]) * 10) for x in msg[key]}:
                        continue
                    book[p] = draw(st.integers(1, 9))
                    msg[key].append([fmt(p), str(book[p])])
        out.append(("delta", msg["b"], msg["a"]))
    return out


@settings(max_examples=150, deadline=None)
@given(_streams())
def test_random_streams_match_the_reference(
    stream: list[tuple[str, list[list[str]], list[list[str]]]],
) -> None:
    m = OrderBookMachine("X", 100)
    ref: dict[str, dict[Decimal, Decimal]] = {}
    for u, (kind, b, a) in enumerate(stream, start=1):
        assert m.apply(kind, b, a, u) is Apply.OK
        _reference_apply(ref, {"type": kind, "data": {"b": b, "a": a}})
        assert _as_dicts(m) == (ref["b"], ref["a"])
        view = m.view()
        assert view is not None
        assert [p for p, _ in view.bids] == sorted(ref["b"], reverse=True)
        assert [p for p, _ in view.asks] == sorted(ref["a"])
        if ref["b"] and ref["a"]:
            assert m.top() == (max(ref["b"]), min(ref["a"]))


def test_derived_depth_stream_replays_to_the_top_levels_of_the_deep_book(shared_data: Path) -> None:
    from asym.bybit.bookstream import derive_depth_stream, read_dump

    path = shared_data / "bybit" / "orderbook" / "xrpusdt-ob500.data.zip"
    if not path.exists():
        pytest.skip(f"needs {path}")
    deep_msgs = read_dump(path)
    shallow = derive_depth_stream(deep_msgs, 50)
    assert len(shallow) == len(deep_msgs)
    deep, top = OrderBookMachine("XRPUSDT", 500), OrderBookMachine("XRPUSDT", 50)
    for raw_deep, raw_top in zip(deep_msgs, shallow, strict=True):
        d, t = json.loads(raw_deep), json.loads(raw_top)
        assert deep.apply(d["type"], d["data"]["b"], d["data"]["a"], d["data"]["u"]) is Apply.OK
        assert top.apply(t["type"], t["data"]["b"], t["data"]["a"], t["data"]["u"]) is Apply.OK
        a, b = top.view(), deep.view(depth=50)
        assert a is not None and b is not None
        assert a.bids == b.bids and a.asks == b.asks and len(a.bids) == 50
