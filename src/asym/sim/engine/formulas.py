"""Money formulas of the engine: fees, average price, P&L, margins, liquidation and bankruptcy prices.

Everything is exact Decimal arithmetic on base-coin sizes and quote prices; the only rounding is the
average entry price (8 decimals, like Bybit's avgPrice) and prices converted back to ticks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from asym.domain import RiskLimitTier, Side

MAKER_FEE_RATE = Decimal("0.0002")
TAKER_FEE_RATE = Decimal("0.00055")
AVG_PRICE_QUANTUM = Decimal("1e-8")
RATE_QUANTUM = Decimal("1e-4")
ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Tier:
    """The risk tier that applies to a position: maintenance rate, deduction, id and value cap."""

    risk_id: int
    limit_value: Decimal
    mm_rate: Decimal
    mm_deduction: Decimal
    max_leverage: Decimal


def default_tier(max_leverage: Decimal) -> Tier:
    """Tier 1 when the market publishes none: MM rate = 1 / (2 x maxLeverage) (0.5 % at 100x, like BTC)."""
    return Tier(1, Decimal("2000000"), ONE / (2 * max_leverage), ZERO, max_leverage)


def tier_for(tiers: list[RiskLimitTier], value: Decimal, max_leverage: Decimal) -> Tier:
    """The first tier whose risk-limit value covers `value` (the last tier when none does)."""
    if not tiers:
        return default_tier(max_leverage)
    chosen = tiers[-1]
    for t in tiers:
        if value <= t.risk_limit_value:
            chosen = t
            break
    mm = chosen.maintenance_margin
    # Bybit's public tables write some rates in percent ("0.5" = 0.5 %); a rate above 0.5 is one of those.
    if mm > Decimal("0.5"):
        mm = mm / 100
    return Tier(chosen.tier_id, chosen.risk_limit_value, mm, chosen.mm_deduction, chosen.max_leverage)


def fee(value: Decimal, rate: Decimal) -> Decimal:
    """Trading fee of one fill: exec value x fee rate (exact)."""
    return value * rate


def average_price(old_avg: Decimal, old_size: Decimal, price: Decimal, qty: Decimal) -> Decimal:
    """Average entry after adding `qty` at `price` to `old_size` at `old_avg` (8 decimals, half-even)."""
    total = old_size + qty
    return ((old_avg * old_size + price * qty) / total).quantize(AVG_PRICE_QUANTUM, ROUND_HALF_EVEN)


def closed_pnl(side: Side, avg: Decimal, exit_price: Decimal, qty: Decimal) -> Decimal:
    """Realised P&L of closing `qty` of a `side` position entered at `avg` at `exit_price` (before fees)."""
    return (exit_price - avg) * qty * side.sign


def unrealised_pnl(side: Side | None, avg: Decimal, mark: Decimal, size: Decimal) -> Decimal:
    """Unrealised P&L at the mark price (0 when flat)."""
    if side is None or size == 0:
        return ZERO
    return (mark - avg) * size * side.sign


def initial_margin(value: Decimal, leverage: Decimal) -> Decimal:
    """Initial margin of a position value at a leverage."""
    return value / leverage


def maintenance_margin(value: Decimal, tier: Tier) -> Decimal:
    """Maintenance margin of a (mark-based) position value in a tier, never below zero."""
    return max(ZERO, value * tier.mm_rate - tier.mm_deduction)


def order_cost(value: Decimal, leverage: Decimal) -> Decimal:
    """Margin an open order reserves: its initial margin plus the taker fee to open it."""
    return value / leverage + value * TAKER_FEE_RATE


def liquidation_price(
    side: Side, avg: Decimal, size: Decimal, leverage: Decimal, tier: Tier, tick: Decimal
) -> int | None:
    """Isolated-style liquidation price in ticks: where IM + UPL equals MM at that price.

    Long:  IM + (L - E)S = L S m - d  ->  L = (E S - IM - d) / (S (1 - m))
    Short: IM + (E - L)S = L S m - d  ->  L = (E S + IM + d) / (S (1 + m))
    Rounded towards the entry (a long is liquidated no later than the exact price). None when the
    price would be zero or negative (a 1x long cannot be liquidated).
    """
    if size == 0:
        return None
    im = initial_margin(avg * size, leverage)
    if side is Side.BUY:
        exact = (avg * size - im - tier.mm_deduction) / (size * (1 - tier.mm_rate))
        ticks = int((exact / tick).to_integral_value(ROUND_CEILING))
    else:
        exact = (avg * size + im + tier.mm_deduction) / (size * (1 + tier.mm_rate))
        ticks = int((exact / tick).to_integral_value(ROUND_FLOOR))
    return ticks if ticks > 0 else None


def bankruptcy_price(side: Side, avg: Decimal, leverage: Decimal, tick: Decimal) -> int | None:
    """Price in ticks where the position's initial margin is exhausted: E (1 -+ 1/leverage).

    Rounded towards the entry so the loss at the bankruptcy price never exceeds the margin.
    """
    if side is Side.BUY:
        exact = avg * (1 - 1 / leverage)
        ticks = int((exact / tick).to_integral_value(ROUND_CEILING))
    else:
        exact = avg * (1 + 1 / leverage)
        ticks = int((exact / tick).to_integral_value(ROUND_FLOOR))
    return ticks if ticks > 0 else None


def rate(numerator: Decimal, denominator: Decimal) -> Decimal:
    """A ratio rounded to 4 decimals (account IM/MM rates); 0 when the denominator is not positive."""
    if denominator <= 0:
        return ZERO
    return (numerator / denominator).quantize(RATE_QUANTUM, ROUND_HALF_EVEN)
