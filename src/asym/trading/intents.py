"""`TradeIntent`: what a validated LONG/SHORT signal asks the trading engine to do, independent of the
signal's wire form. Risk, sizing and order planning only ever see intents."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from asym.domain import Side
from asym.errors import DataError
from asym.signals.schema import Action, EntryType, Signal
from asym.trading.ids import signal_id


class TargetLeg(msgspec.Struct, frozen=True, kw_only=True):
    """One take-profit target: its price and the share of the position closed there."""

    price: Decimal
    fraction: Decimal


class TradeIntent(msgspec.Struct, frozen=True, kw_only=True):
    """A trade to open: side, reference entry, stop, targets (nearest first), leverage, provenance."""

    symbol: str
    side: Side
    entry_type: EntryType
    entry_price: Decimal
    """The real reference: the current mark for market entries, the limit price for limit entries."""
    stop_loss: Decimal
    take_profits: tuple[TargetLeg, ...]
    leverage: Decimal
    signal_id: str
    model_id: str
    reward_risk: Decimal
    """Net reward/risk as the signal layer computed it (after fees and expected funding)."""
    data_timestamp: int = 0
    """Timestamp of the market data the signal was made from (ms)."""


def _positive(name: str, value: Decimal | None) -> Decimal:
    if value is None:
        raise DataError(f"signal has no {name}")
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise DataError(f"signal {name} must be a finite positive Decimal, got {value!r}")
    return value


def intent_from_signal(signal: Signal, mark: Decimal | None, sid: str | None = None) -> TradeIntent:
    """The intent of a validated LONG/SHORT signal; `mark` (the current mark price) is the reference of a
    market entry; `sid`: the signal's id when the caller has it. Raises DataError for HOLD/CLOSE or an
    incomplete signal."""
    if signal.action not in (Action.LONG, Action.SHORT):
        raise DataError(f"only LONG/SHORT signals open trades, got {signal.action}")
    if signal.entry_type is None:
        raise DataError("signal has no entry_type")
    if signal.entry_type is EntryType.MARKET:
        # The market order fills near the mark of the moment it is placed, not of the signal's data.
        entry = _positive("current mark (market entry)", mark)
    else:
        entry = _positive("entry_price", signal.entry_price)
    stop = _positive("stop_loss", signal.stop_loss)
    leverage = _positive("leverage", signal.leverage)
    rr = signal.reward_risk
    if rr is None or not rr.is_finite():
        raise DataError("signal has no finite reward_risk")
    if not signal.take_profits:
        raise DataError("signal has no take-profit target")
    legs = []
    for i, tp in enumerate(signal.take_profits):
        legs.append(
            TargetLeg(
                price=_positive(f"take_profits[{i}].price", tp.price),
                fraction=_positive(f"take_profits[{i}].fraction", tp.fraction),
            )
        )
    total = sum((leg.fraction for leg in legs), Decimal(0))
    if abs(total - 1) > Decimal("0.01"):
        raise DataError(f"take-profit fractions sum to {total}, not 1")
    side = Side.BUY if signal.action is Action.LONG else Side.SELL
    legs.sort(key=lambda leg: abs(leg.price - entry))
    return TradeIntent(
        symbol=signal.symbol,
        side=side,
        entry_type=signal.entry_type,
        entry_price=entry,
        stop_loss=stop,
        take_profits=tuple(legs),
        leverage=leverage,
        signal_id=sid if sid is not None else signal_id(signal),
        model_id=signal.model_id,
        reward_risk=rr,
        data_timestamp=signal.data_timestamp,
    )
