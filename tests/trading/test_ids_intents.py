"""Deterministic orderLinkIds and signal ids; intents built from validated signals."""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asym.domain import Side
from asym.errors import DataError
from asym.signals.schema import Action, EntryType, Signal
from asym.trading import (
    LegKind,
    intent_from_signal,
    is_ours,
    order_link_id,
    parse_order_link_id,
    signal_id,
)

from .builders import signal

D = Decimal
VENUE_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


@given(key=st.text(min_size=1, max_size=200), tp=st.integers(1, 99), attempt=st.integers(0, 10**6))
def test_link_ids_fit_the_venue_and_parse_back(key: str, tp: int, attempt: int) -> None:
    for kind, idx in (
        (LegKind.ENTRY, None),
        (LegKind.STOP, None),
        (LegKind.CLOSE, None),
        (LegKind.TAKE_PROFIT, tp),
    ):
        link = order_link_id(key, kind, idx, attempt)
        assert VENUE_RE.match(link) and link.startswith("asym-")
        assert link == order_link_id(key, kind, idx, attempt)  # deterministic
        parsed = parse_order_link_id(link)
        assert parsed is not None and parsed.leg is kind and parsed.tp_index == idx


def test_link_ids_differ_per_key_leg_and_attempt() -> None:
    ids = {
        order_link_id(k, kind, i, a)
        for k in ("s1", "s2")
        for kind, i in ((LegKind.ENTRY, None), (LegKind.TAKE_PROFIT, 1), (LegKind.TAKE_PROFIT, 2))
        for a in (0, 1)
    }
    assert len(ids) == 12
    with pytest.raises(DataError):
        order_link_id("", LegKind.ENTRY)
    with pytest.raises(DataError):
        order_link_id("k", LegKind.TAKE_PROFIT)
    with pytest.raises(DataError):
        order_link_id("k", LegKind.ENTRY, 3)


def test_foreign_ids_are_not_ours() -> None:
    for link in ("", "manual-1", "asym-XYZ-en", "asym-0123456789abcdef01234567-zz", "web_1700000000"):
        assert not is_ours(link)
    assert is_ours(order_link_id("k", LegKind.CLOSE))


def test_signal_id_is_stable_and_content_based() -> None:
    a = signal()
    # the same trade replayed from the response cache: other latency and usage, same id
    b = msgspec.structs.replace(a, latency_ms=1.0, rationale="again")
    assert signal_id(a) == signal_id(b) and re.fullmatch(r"[0-9a-f]{32}", signal_id(a))
    # 49000 and 49000.0 are the same price
    assert signal_id(signal(stop="49000.0")) == signal_id(a)
    assert signal_id(signal(stop="49100")) != signal_id(a)
    assert signal_id(signal(data_timestamp=1)) != signal_id(a)


def test_market_intent_uses_the_current_mark() -> None:
    it = intent_from_signal(signal(), D(50100))
    assert (it.side, it.entry_type, it.entry_price, it.stop_loss, it.leverage) == (
        Side.BUY,
        EntryType.MARKET,
        D(50100),
        D(49000),
        D(3),
    )
    assert [t.price for t in it.take_profits] == [D(53000), D(55000)]
    assert it.signal_id == signal_id(signal()) and it.reward_risk == D("3.5")


def test_limit_intent_uses_the_limit_and_sorts_targets_nearest_first() -> None:
    s = signal(
        action=Action.SHORT,
        entry_type=EntryType.LIMIT,
        entry="50200",
        stop="51000",
        targets=(("46000", "0.3"), ("48000", "0.7")),
    )
    it = intent_from_signal(s, None)
    assert it.side is Side.SELL and it.entry_price == D(50200)
    assert [(t.price, t.fraction) for t in it.take_profits] == [(D(48000), D("0.7")), (D(46000), D("0.3"))]


@pytest.mark.parametrize(
    ("sig", "mark", "match"),
    [
        (signal(action=Action.HOLD), D(1), "only LONG/SHORT"),
        (signal(action=Action.CLOSE), D(1), "only LONG/SHORT"),
        (signal(), None, "current mark"),
        (signal(), D("NaN"), "current mark"),
        (signal(stop=None), D(1), "stop_loss"),
        (signal(leverage="0"), D(1), "leverage"),
        (signal(targets=()), D(1), "take-profit"),
        (signal(targets=(("53000", "0.5"),)), D(1), "sum to"),
        (signal(entry_type=EntryType.LIMIT, entry=None), D(1), "entry_price"),
    ],
)
def test_incomplete_signals_are_a_data_error(sig: Signal, mark: Decimal | None, match: str) -> None:
    with pytest.raises(DataError, match=match):
        intent_from_signal(sig, mark)
