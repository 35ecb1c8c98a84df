"""Deterministic, idempotent identifiers: a signal's id and the orderLinkId of every leg it places.

The same signal always yields the same ids, so a restart that plans the same trade again sends the same
orderLinkId and the venue answers 110072 (duplicate) instead of opening a second position. An id is
`asym-` + 24 hex digits of SHA-256 over (key, leg, attempt) + `-` + the leg's name: at most 36 characters of
[A-Za-z0-9_-], 96 bits against collisions, and still readable in the venue's order list.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from enum import StrEnum

import msgspec

from asym.errors import DataError
from asym.signals.schema import Signal

PREFIX = "asym-"
MAX_LEN = 36
_DIGEST_HEX = 24
_LINK_RE = re.compile(r"^asym-([0-9a-f]{24})-(en|sl|cl|tp[1-9][0-9]?)$")
_VENUE_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


class LegKind(StrEnum):
    """What an order does for its trade."""

    ENTRY = "en"
    TAKE_PROFIT = "tp"
    STOP = "sl"
    CLOSE = "cl"


class ParsedLink(msgspec.Struct, frozen=True, kw_only=True):
    """An orderLinkId asym made, taken apart."""

    digest: str
    leg: LegKind
    tp_index: int | None = None
    """1-based take-profit number for TAKE_PROFIT legs."""


def leg_name(kind: LegKind, tp_index: int | None = None) -> str:
    """The readable leg suffix: 'en', 'sl', 'cl' or 'tp1'..'tp99'."""
    if kind is LegKind.TAKE_PROFIT:
        if tp_index is None or not 1 <= tp_index <= 99:
            raise DataError(f"a take-profit leg needs an index in 1..99, got {tp_index!r}")
        return f"tp{tp_index}"
    if tp_index is not None:
        raise DataError(f"only take-profit legs carry an index, got {kind} with {tp_index}")
    return kind.value


def order_link_id(key: str, kind: LegKind, tp_index: int | None = None, attempt: int = 0) -> str:
    """The orderLinkId of one leg of the trade identified by `key` (a signal id or a position key).

    `attempt` > 0 gives a fresh id for a deliberate re-placement after the earlier order is known final
    (the venue rejects a reused orderLinkId even when that order is long closed)."""
    if not key:
        raise DataError("an orderLinkId needs a non-empty key")
    if attempt < 0:
        raise DataError(f"attempt must be >= 0, got {attempt}")
    leg = leg_name(kind, tp_index)
    digest = hashlib.sha256(f"{key}\x1f{leg}\x1f{attempt}".encode()).hexdigest()[:_DIGEST_HEX]
    link = f"{PREFIX}{digest}-{leg}"
    # Cannot fail by construction; kept as a guard should the format ever change.
    if len(link) > MAX_LEN or not _VENUE_RE.match(link):
        raise DataError(f"generated orderLinkId {link!r} violates the venue's format")
    return link


def parse_order_link_id(link: str) -> ParsedLink | None:
    """The parts of an orderLinkId asym made, or None for any other id (manual or another system's)."""
    m = _LINK_RE.match(link)
    if m is None:
        return None
    leg = m.group(2)
    if leg.startswith("tp"):
        return ParsedLink(digest=m.group(1), leg=LegKind.TAKE_PROFIT, tp_index=int(leg[2:]))
    return ParsedLink(digest=m.group(1), leg=LegKind(leg))


def is_ours(link: str) -> bool:
    """True when `link` has the shape of an orderLinkId asym generates."""
    return parse_order_link_id(link) is not None


def _dec(value: Decimal | None) -> str:
    # normalize() so that 100 and 100.0 hash alike: the same price is the same signal.
    return "" if value is None else format(value.normalize(), "f")


def signal_id(signal: Signal) -> str:
    """A stable id of a signal from its trading content (not latency or token usage), 32 hex digits."""
    parts = [
        signal.symbol,
        signal.action.value,
        signal.model_id,
        signal.prompt_version,
        str(signal.data_timestamp),
        signal.entry_type.value if signal.entry_type is not None else "",
        _dec(signal.entry_price),
        _dec(signal.stop_loss),
        _dec(signal.leverage),
        ";".join(f"{_dec(t.price)}@{_dec(t.fraction)}" for t in signal.take_profits),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def position_key(symbol: str, side: str, size: Decimal, avg_price: Decimal) -> str:
    """A key for orders that act on an existing position (protective stop, close): stable while the
    position is unchanged, different once its size or entry changes (so a later close is a new id)."""
    return f"pos|{symbol}|{side}|{_dec(size)}|{_dec(avg_price)}"
