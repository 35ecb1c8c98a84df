"""Order validation against an instrument's filters and the current prices; raises SimRejection.

Texts follow Bybit's observed messages where they are known (bybit-v5.md §3.11, §5.2).
"""

from __future__ import annotations

from decimal import Decimal

from asym.domain import Side, TriggerBy
from asym.sim.types import SimInstrument, SimRejection

ORDER_PRICE_BAND_PCT = 10
"""A limit price may not be more than this % through the mark price (Bybit's priceLimitRatio, 110003)."""


def check_trading(inst: SimInstrument) -> None:
    """110074 unless the contract is live."""
    if inst.info.status != "Trading":
        raise SimRejection(110074, "This contract is not live")


def check_qty(inst: SimInstrument, qty: int, is_market: bool) -> None:
    """10001 when qty is below minOrderQty or above maxOrderQty / maxMktOrderQty."""
    info = inst.info
    q = inst.qty.to_decimal(qty)
    if qty <= 0 or q < info.min_order_qty:
        raise SimRejection(10001, "The number of contracts exceeds minimum limit allowed")
    cap = info.max_mkt_order_qty if is_market else info.max_order_qty
    if q > cap:
        raise SimRejection(10001, "The number of contracts exceeds maximum limit allowed")


def check_price_filter(inst: SimInstrument, price: int, name: str = "price") -> None:
    """10001 when a price is outside [minPrice, maxPrice]."""
    p = inst.price.to_decimal(price)
    if price <= 0 or p < inst.info.min_price or p > inst.info.max_price:
        raise SimRejection(
            10001,
            f"{name} {inst.price.to_str(price)} out of range [{inst.info.min_price}, {inst.info.max_price}]",
        )


def check_price_band(inst: SimInstrument, side: Side, price: int, mark: int) -> None:
    """110003 when a limit price lies more than ORDER_PRICE_BAND_PCT through the mark price."""
    if side is Side.BUY and price * 100 > mark * (100 + ORDER_PRICE_BAND_PCT):
        raise SimRejection(110003, f"price is invalid: buy price above mark +{ORDER_PRICE_BAND_PCT}%")
    if side is Side.SELL and price * 100 < mark * (100 - ORDER_PRICE_BAND_PCT):
        raise SimRejection(110003, f"price is invalid: sell price below mark -{ORDER_PRICE_BAND_PCT}%")


def check_notional(inst: SimInstrument, qty: int, price: int) -> None:
    """110094 when qty x price is below minNotionalValue."""
    value = inst.qty.to_decimal(qty) * inst.price.to_decimal(price)
    if value < inst.info.min_notional:
        raise SimRejection(
            110094,
            f"Order notional value below the lower limit: {value} < {inst.info.min_notional}",
        )


def trigger_label(by: TriggerBy) -> str:
    """Bybit's name of a trigger price kind inside error texts."""
    return by.value


def check_tpsl_side(
    inst: SimInstrument,
    position_side: Side,
    base: int,
    take_profit: int | None,
    stop_loss: int | None,
    base_name: str,
) -> None:
    """10001 when a TP/SL lies on the wrong side of `base` for a `position_side` position (0/None: skip)."""
    b = inst.price.to_str(base)
    if take_profit:
        check_price_filter(inst, take_profit, "takeProfit")
        if (take_profit <= base) if position_side is Side.BUY else (take_profit >= base):
            word = "higher" if position_side is Side.BUY else "lower"
            raise SimRejection(
                10001,
                f"TakeProfit:{inst.price.to_str(take_profit)} set for {position_side.value} position "
                f"should be {word} than base_price:{b}??{base_name}",
            )
    if stop_loss:
        check_price_filter(inst, stop_loss, "stopLoss")
        if (stop_loss >= base) if position_side is Side.BUY else (stop_loss <= base):
            word = "lower" if position_side is Side.BUY else "higher"
            raise SimRejection(
                10001,
                f"StopLoss:{inst.price.to_str(stop_loss)} set for {position_side.value} position "
                f"should be {word} than base_price:{b}??{base_name}",
            )


def check_trigger(inst: SimInstrument, direction: int, trigger: int, current: int, by: TriggerBy) -> None:
    """110092 / 110093 when the trigger price is already on the wrong side of the current price."""
    if direction == 1 and trigger <= current:
        raise SimRejection(
            110092,
            f"expect Rising, but trigger_price[{inst.price.to_str(trigger)}] <= "
            f"current[{inst.price.to_str(current)}]??{trigger_label(by)}",
        )
    if direction == 2 and trigger >= current:
        raise SimRejection(
            110093,
            f"expect Falling, but trigger_price[{inst.price.to_str(trigger)}] >= "
            f"current[{inst.price.to_str(current)}]??{trigger_label(by)}",
        )


def check_leverage(inst: SimInstrument, leverage: Decimal) -> None:
    """10001 when leverage is outside [minLeverage, maxLeverage] or off the leverageStep grid."""
    info = inst.info
    if not leverage.is_finite() or leverage < info.min_leverage or leverage > info.max_leverage:
        raise SimRejection(
            10001, f"leverage {leverage} out of range [{info.min_leverage}, {info.max_leverage}]"
        )
    if (leverage - info.min_leverage) % info.leverage_step != 0:
        raise SimRejection(10001, f"leverage {leverage} is not a multiple of {info.leverage_step}")
