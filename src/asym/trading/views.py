"""The read-only views the risk engine decides on: the account (equity, margin, exposures, mode) and the
market data of the asset. Built by the shell from the portfolio, the order tracker and the collector."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Side
from asym.trading.modes import Mode


class Exposure(msgspec.Struct, frozen=True, kw_only=True):
    """Notional (quote currency, absolute) held or pending in one symbol and direction."""

    symbol: str
    side: Side
    notional: Decimal
    pending: bool = False
    """True for an entry order not yet filled (counts against caps as if it were filled)."""


class AccountView(msgspec.Struct, frozen=True, kw_only=True):
    """What risk needs to know about the account."""

    equity: Decimal
    available_balance: Decimal
    """Balance free for new margin (the venue's totalAvailableBalance, or equity less used margin)."""
    mode: Mode
    exposures: tuple[Exposure, ...] = ()


class MarketView(msgspec.Struct, frozen=True, kw_only=True):
    """The freshest enhanced data of the intent's symbol (None when there is none)."""

    data: EnhancedData | None
