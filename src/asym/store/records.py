"""Records of the trading state that have no asym.domain type yet: intents, decisions, signals.

The trading and signal layers build these from their own objects (a Signal or Rejection becomes a
`SignalRecord` with the full object as `payload`). Money stays Decimal; `payload`/`detail` are free-form
JSON objects (Decimals inside them are written as strings and come back as strings).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from asym.domain import OrderRequest, WalletBalance


class OrderIntent(msgspec.Struct, frozen=True, kw_only=True):
    """An order asym is about to send, written BEFORE sending: after a crash, an intent without an order
    is looked up at the venue by its orderLinkId (never blindly re-sent)."""

    request: OrderRequest
    ts: int
    decision_id: str | None = None


class DecisionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the trading engine decided for one symbol and why (reasons are machine-readable codes)."""

    decision_id: str
    ts: int
    symbol: str
    action: str
    """e.g. OPEN_LONG, OPEN_SHORT, CLOSE, HOLD, SKIP."""
    reasons: tuple[str, ...] = ()
    mode: str = ""
    """Trading mode at the time (e.g. paper, live, halted)."""
    signal_id: str | None = None
    order_link_ids: tuple[str, ...] = ()
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


class SignalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One model output: an accepted signal, or a rejection with its reason code."""

    signal_id: str
    ts: int
    symbol: str
    model: str
    action: str
    """LONG, SHORT, HOLD or CLOSE."""
    accepted: bool
    reason_code: str | None = None
    reason: str | None = None
    entry: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: tuple[Decimal, ...] = ()
    confidence: float | None = None
    payload: dict[str, Any] = msgspec.field(default_factory=dict)


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True):
    """The wallet of one account at one instant (the equity history is a series of these)."""

    account: str
    balance: WalletBalance


__all__ = ["DecisionRecord", "EquityPoint", "OrderIntent", "SignalRecord"]
