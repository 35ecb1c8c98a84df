"""Protection of open positions: is a position covered by a stop, and what to do when it is not.

Shared by emergency mode and restart planning. The rule: every position has a stop at the venue. If it has
none, put back the trade's own stop when that is still on the losing side of the mark; otherwise a stop
`fallback_stop_fraction` beyond the mark; if the trade's own stop has already been crossed, close.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from asym.domain import Instrument, Order, OrderStatus, Position, StopOrderType
from asym.errors import DataError
from asym.trading.actions import ClosePosition, SetStopLoss, TradingAction
from asym.trading.config import RiskConfig
from asym.trading.ids import position_key
from asym.trading.plan import close_requests, fallback_stop, stop_protects
from asym.trading.sizing import round_stop

_ZERO = Decimal(0)
_STOP_KINDS = frozenset(
    {
        StopOrderType.STOP_LOSS,
        StopOrderType.PARTIAL_STOP_LOSS,
        StopOrderType.STOP,
        StopOrderType.TRAILING_STOP,
    }
)
_LIVE = frozenset({OrderStatus.NEW, OrderStatus.UNTRIGGERED, OrderStatus.PARTIALLY_FILLED})


def reference_mark(position: Position) -> Decimal:
    """The position's mark, or its average price when the venue sent no usable mark."""
    return position.mark_price if position.mark_price > 0 else position.avg_price


def stop_order_covers(position: Position, orders: Iterable[Order]) -> bool:
    """True when live conditional orders on the closing side, triggering on the losing side of the mark,
    cover the whole position (qty 0 = close-all counts as whole)."""
    side = position.side
    if side is None:
        return True
    mark = reference_mark(position)
    covered = _ZERO
    for o in orders:
        if o.symbol != position.symbol or o.side is not side.opposite or o.status not in _LIVE:
            continue
        if o.stop_order_type not in _STOP_KINDS and not o.reduce_only:
            continue
        if o.trigger_price is None or not stop_protects(side, o.trigger_price, mark):
            continue
        if o.qty == 0:
            return True
        covered += o.qty
    return covered >= position.size


def is_protected(position: Position, orders: Iterable[Order]) -> bool:
    """True when the position has a usable position-level stop or is covered by stop orders."""
    if position.side is None or position.size <= 0:
        return True
    if stop_protects(position.side, position.stop_loss, reference_mark(position)):
        return True
    return stop_order_covers(position, orders)


def close_action(position: Position, instrument: Instrument, reason: str) -> ClosePosition:
    """Reduce-only market orders that flatten the position (deterministic orderLinkIds)."""
    side = position.side
    if side is None:
        raise DataError(f"{position.symbol}: a flat position cannot be closed")
    key = position_key(position.symbol, side.value, position.size, position.avg_price)
    return ClosePosition(
        symbol=position.symbol,
        position_side=side,
        qty=position.size,
        orders=close_requests(key, position.symbol, side, position.size, instrument),
        reason=reason,
    )


def protect(
    position: Position,
    orders: Iterable[Order],
    instrument: Instrument,
    known_stop: Decimal | None,
    cfg: RiskConfig,
    reason: str,
) -> list[TradingAction]:
    """Nothing if the position is protected; else a stop (its own, or the fallback), or a close when its
    own stop has already been crossed or no valid stop price exists."""
    side = position.side
    if side is None or position.size <= 0 or is_protected(position, orders):
        return []
    if instrument.symbol != position.symbol:
        raise DataError(f"instrument {instrument.symbol} given for a {position.symbol} position")
    mark = reference_mark(position)
    if known_stop is not None and known_stop > 0:
        stop = round_stop(known_stop, side, instrument.tick_size)
        if stop_protects(side, stop, mark):
            return [
                SetStopLoss(
                    symbol=position.symbol,
                    position_side=side,
                    stop_loss=stop,
                    trigger_by=cfg.stop_trigger_by,
                    reason=f"{reason}: restore the trade's stop",
                )
            ]
        return [
            close_action(position, instrument, f"{reason}: the trade's stop {stop} was crossed (mark {mark})")
        ]
    stop_or_none = fallback_stop(side, mark, cfg.fallback_stop_fraction, instrument.tick_size)
    if stop_or_none is None:
        return [close_action(position, instrument, f"{reason}: no valid fallback stop at mark {mark}")]
    return [
        SetStopLoss(
            symbol=position.symbol,
            position_side=side,
            stop_loss=stop_or_none,
            trigger_by=cfg.stop_trigger_by,
            reason=f"{reason}: fallback stop {cfg.fallback_stop_fraction} beyond mark {mark}",
        )
    ]
