"""Small helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

from asym.bybit import BybitClient
from asym.domain import Instrument, OrderRequest, OrderType, Side


def on_grid(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded down to a multiple of `step`."""
    return (value / step).to_integral_value(rounding="ROUND_FLOOR") * step


async def resting_buy(client: BybitClient, inst: Instrument, link_id: str, away: str = "0.9") -> OrderRequest:
    """A limit buy far enough below the market to rest on the book."""
    book = await client.get_orderbook(inst.symbol, 1)
    assert book.best_bid is not None
    return resting_buy_at(inst, book.best_bid, link_id, away)


def resting_buy_at(inst: Instrument, best_bid: Decimal, link_id: str, away: str = "0.9") -> OrderRequest:
    """A limit buy at `away` x best bid (on the tick grid), worth about 10 USDT."""
    price = on_grid(best_bid * Decimal(away), inst.tick_size)
    qty = max(inst.min_order_qty, on_grid(Decimal(10) / price + inst.qty_step, inst.qty_step))
    return OrderRequest(
        symbol=inst.symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=qty,
        price=price,
        order_link_id=link_id,
    )


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll `cond` until true or `timeout` (conditions owned by other components: no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True
