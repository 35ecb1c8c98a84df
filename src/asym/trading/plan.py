"""Order plans: the exact orders that open a sized trade with exchange-side protection, and the orders
that protect or close an existing position.

An accepted trade is ONE entry order carrying a full-position stop loss and a full-position take profit at
the farthest target (Bybit tpslMode Full: both fire on the venue even if asym is down), plus reduce-only
limit orders at the nearer targets, placed once the entry has filled (a reduce-only order needs a position).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from asym.domain import Instrument, OrderRequest, OrderType, Side, TimeInForce
from asym.errors import DataError
from asym.signals.schema import EntryType
from asym.trading.config import RiskConfig
from asym.trading.ids import LegKind, order_link_id
from asym.trading.sizing import ceil_to_step, floor_to_step, split_legs

_ZERO = Decimal(0)


class OrderPlan(msgspec.Struct, frozen=True, kw_only=True):
    """Everything needed to open one trade, sized and rounded; `entry` first, `exits` after it fills."""

    intent_key: str
    symbol: str
    side: Side
    entry_type: EntryType
    leverage: Decimal
    """Set the symbol's leverage to this before sending the entry."""
    qty: Decimal
    entry_price: Decimal
    """Reference entry on the tick grid (the limit price, or the mark for a market entry)."""
    worst_entry: Decimal
    """Entry the size was computed for (market: the mark moved by the slippage allowance)."""
    stop_loss: Decimal
    take_profits: tuple[Decimal, ...]
    """Target prices on the tick grid, nearest first."""
    tp_fractions: tuple[Decimal, ...]
    tp_quantities: tuple[Decimal, ...]
    """Quantity closed at each target for a full fill (0 = merged into the next; the last is the rest)."""
    entry: OrderRequest
    exits: tuple[OrderRequest, ...]
    """Reduce-only limit orders at the nearer targets, sized for a full fill (see `exits_for_fill`)."""
    risk_amount: Decimal
    """Worst loss at the stop: qty x loss per unit (fees and slippage included); <= the risk budget."""
    notional: Decimal
    margin: Decimal
    reward_risk: Decimal
    """Net reward/risk of the rounded plan (fraction-weighted over the legs, after fees)."""


def entry_request(
    *,
    key: str,
    symbol: str,
    side: Side,
    entry_type: EntryType,
    qty: Decimal,
    price: Decimal,
    stop_loss: Decimal,
    final_target: Decimal,
    cfg: RiskConfig,
) -> OrderRequest:
    """The entry order with the stop and the farthest target attached as full-position TP/SL."""
    is_limit = entry_type is EntryType.LIMIT
    return OrderRequest(
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT if is_limit else OrderType.MARKET,
        qty=qty,
        order_link_id=order_link_id(key, LegKind.ENTRY),
        price=price if is_limit else None,
        time_in_force=TimeInForce.GTC if is_limit else None,
        take_profit=final_target,
        stop_loss=stop_loss,
        tp_trigger_by=cfg.tp_trigger_by,
        sl_trigger_by=cfg.stop_trigger_by,
    )


def tp_requests(
    key: str,
    symbol: str,
    side: Side,
    targets: tuple[Decimal, ...],
    quantities: list[Decimal] | tuple[Decimal, ...],
) -> tuple[OrderRequest, ...]:
    """Reduce-only limit exits at every target but the last (the attached TP closes the rest)."""
    out = []
    for i, (price, q) in enumerate(zip(targets[:-1], quantities[:-1], strict=True), start=1):
        if q <= 0:
            continue
        out.append(
            OrderRequest(
                symbol=symbol,
                side=side.opposite,
                order_type=OrderType.LIMIT,
                qty=q,
                price=price,
                time_in_force=TimeInForce.GTC,
                reduce_only=True,
                order_link_id=order_link_id(key, LegKind.TAKE_PROFIT, i),
            )
        )
    return tuple(out)


def exits_for_fill(
    plan: OrderPlan, filled_qty: Decimal, instrument: Instrument, cfg: RiskConfig
) -> tuple[OrderRequest, ...]:
    """The take-profit exits for an entry that filled `filled_qty` (a partial fill shrinks every leg).

    The orderLinkIds are the plan's, so placing them again after a restart is idempotent; amend an
    already placed leg to the new qty rather than placing it twice."""
    if filled_qty <= 0:
        return ()
    if filled_qty > plan.qty:
        raise DataError(f"filled {filled_qty} exceeds the planned qty {plan.qty}")
    qtys = split_legs(
        filled_qty, plan.tp_fractions, instrument.qty_step, instrument.min_order_qty, cfg.min_tp_leg_fraction
    )
    return tp_requests(plan.intent_key, plan.symbol, plan.side, plan.take_profits, qtys)


def close_requests(
    key: str, symbol: str, position_side: Side, size: Decimal, instrument: Instrument
) -> tuple[OrderRequest, ...]:
    """Reduce-only market orders that flatten `size`, each at most the instrument's max market qty."""
    if size <= 0:
        return ()
    chunk = floor_to_step(instrument.max_mkt_order_qty, instrument.qty_step)
    if chunk <= 0:
        raise DataError(
            f"{symbol}: max market order qty {instrument.max_mkt_order_qty} is below one qty step"
        )
    out = []
    left, i = size, 0
    while left > 0:
        q = min(chunk, left)
        out.append(
            OrderRequest(
                symbol=symbol,
                side=position_side.opposite,
                order_type=OrderType.MARKET,
                qty=q,
                reduce_only=True,
                order_link_id=order_link_id(f"{key}|{i}", LegKind.CLOSE),
            )
        )
        left -= q
        i += 1
    return tuple(out)


def fallback_stop(position_side: Side, mark: Decimal, fraction: Decimal, tick: Decimal) -> Decimal | None:
    """A protective stop `fraction` beyond the mark on the losing side, on the tick grid rounded towards
    the mark (never wider than asked); None when that is not a positive price."""
    if position_side is Side.BUY:
        stop = ceil_to_step(mark * (1 - fraction), tick)
        ok = _ZERO < stop < mark
    else:
        stop = floor_to_step(mark * (1 + fraction), tick)
        ok = stop > mark
    return stop if ok else None


def stop_protects(position_side: Side, stop: Decimal | None, mark: Decimal) -> bool:
    """True when `stop` is a usable stop for the position at this mark (set, and on the losing side)."""
    if stop is None or stop <= 0:
        return False
    return stop < mark if position_side is Side.BUY else stop > mark
