"""Pure sizing arithmetic: rounding to the instrument's grid on the safe side, loss per unit, and the
largest quantity that satisfies a limit (found by exact multiplication, never trusted to a division).

Position size = (equity x risk_per_trade) / (|entry - stop| + expected fees and slippage per unit),
rounded DOWN to qtyStep; docs/trading.md has the worked example.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from asym.domain import Side
from asym.errors import DataError

_ZERO = Decimal(0)


def _check_step(step: Decimal) -> None:
    if not step.is_finite() or step <= 0:
        raise DataError(f"step must be a finite positive Decimal, got {step}")


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` that is <= value."""
    _check_step(step)
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` that is >= value."""
    _check_step(step)
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_entry(price: Decimal, side: Side, tick: Decimal) -> Decimal:
    """A limit entry on the tick grid, never worse than asked: a buy rounds down, a sell up."""
    return floor_to_step(price, tick) if side is Side.BUY else ceil_to_step(price, tick)


def round_stop(stop: Decimal, side: Side, tick: Decimal) -> Decimal:
    """A stop on the tick grid, moved towards the entry so the risk never grows (long: up, short: down)."""
    return ceil_to_step(stop, tick) if side is Side.BUY else floor_to_step(stop, tick)


def round_target(target: Decimal, side: Side, tick: Decimal) -> Decimal:
    """A take-profit on the tick grid, moved towards the entry so the reward is never overstated."""
    return floor_to_step(target, tick) if side is Side.BUY else ceil_to_step(target, tick)


def worst_market_entry(mark: Decimal, side: Side, slippage_rate: Decimal) -> Decimal:
    """The fill price a market entry is sized for: the mark moved against us by the slippage rate."""
    return mark * (1 + slippage_rate) if side is Side.BUY else mark * (1 - slippage_rate)


def stop_fill(stop: Decimal, side: Side, slippage_rate: Decimal) -> Decimal:
    """The price a triggered stop is assumed to fill at (beyond the stop by the slippage rate)."""
    return stop * (1 - slippage_rate) if side is Side.BUY else stop * (1 + slippage_rate)


def loss_per_unit(
    entry: Decimal, stop: Decimal, side: Side, fee_rate: Decimal, slippage_rate: Decimal
) -> Decimal:
    """Loss of one unit of position when the stop fills: price move to the slipped stop plus taker fees on
    both the entry and the (slipped) exit. An upper bound of the real loss for either side."""
    exit_price = stop_fill(stop, side, slippage_rate)
    return abs(entry - exit_price) + fee_rate * entry + fee_rate * exit_price


def gain_per_unit(entry: Decimal, target: Decimal, fee_rate: Decimal) -> Decimal:
    """Gain of one unit closed at `target` after taker fees on entry and exit (may be <= 0)."""
    return abs(target - entry) - fee_rate * entry - fee_rate * target


def max_qty(estimate: Decimal, step: Decimal, fits: Callable[[Decimal], bool]) -> Decimal:
    """The largest multiple of `step`, at most `estimate` rounded down, for which `fits(qty)` holds
    (0 if none). `estimate` comes from a division; `fits` re-checks it with exact products."""
    if not estimate.is_finite() or estimate <= 0:
        return _ZERO
    q = floor_to_step(estimate, step)
    # A quotient rounded at 28 digits can sit one step too high: step down until the exact test passes.
    while q > 0 and not fits(q):
        q -= step
    return q if q > 0 else _ZERO


def qty_for_risk(budget: Decimal, per_unit: Decimal, step: Decimal) -> Decimal:
    """Largest qty on the step grid whose loss at the stop is <= budget."""
    if per_unit <= 0:
        raise DataError(f"loss per unit must be > 0, got {per_unit}")
    return max_qty(budget / per_unit, step, lambda q: q * per_unit <= budget)


def qty_for_notional(cap: Decimal, price: Decimal, step: Decimal) -> Decimal:
    """Largest qty on the step grid with qty x price <= cap."""
    if price <= 0:
        raise DataError(f"price must be > 0, got {price}")
    return max_qty(cap / price, step, lambda q: q * price <= cap)


def qty_for_margin(
    available: Decimal, leverage: Decimal, price: Decimal, fee_rate: Decimal, step: Decimal
) -> Decimal:
    """Largest qty whose initial margin (notional / leverage) plus entry fee fits `available`."""
    if leverage <= 0 or price <= 0:
        raise DataError(f"leverage and price must be > 0, got {leverage} and {price}")

    def fits(q: Decimal) -> bool:
        notional = q * price
        # Multiplied out by leverage to stay exact:
        # notional / lev + fee x notional <= avail  <=>  notional + fee x notional x lev <= avail x lev
        return notional + fee_rate * notional * leverage <= available * leverage

    return max_qty(available * leverage / (price * (1 + fee_rate * leverage)), step, fits)


def split_legs(
    qty: Decimal, fractions: Sequence[Decimal], step: Decimal, min_qty: Decimal, min_fraction: Decimal = _ZERO
) -> list[Decimal]:
    """Quantity closed at each target: every leg but the last rounded down to the step; a leg too small
    to place (below min qty or min_fraction of qty) is merged into the next; the last takes the rest."""
    if not fractions:
        raise DataError("at least one target fraction is needed")
    out: list[Decimal] = []
    carry = _ZERO
    for f in fractions[:-1]:
        leg = floor_to_step(qty * f, step) + carry
        if leg < min_qty or leg <= 0 or leg < qty * min_fraction:
            carry, leg = leg, _ZERO
        else:
            carry = _ZERO
        out.append(leg)
    out.append(qty - sum(out, _ZERO))
    return out
