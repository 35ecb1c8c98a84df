"""Nearby liquidations: liquidations within +-band % of the current price over the recent window.

nearby = { l : now - window_s * 1000 < l.ts <= now  and  |l.price - P| <= P * band_pct / 100 }
count = |nearby|, notional = sum(l.price * l.size) (exact Decimal, quote currency),
by side: side Buy = a long was liquidated, Sell = a short was liquidated.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from asym.analytics.config import AnalyticsConfig
from asym.analytics.quality import Flags, positive
from asym.analytics.types import NearbyLiquidations
from asym.domain import Liquidation, Side


def nearby_liquidations(
    liquidations: Sequence[Liquidation] | None,
    symbol: str,
    price: Decimal,
    now_ms: int,
    config: AnalyticsConfig,
    flags: Flags,
) -> NearbyLiquidations | None:
    """Count and notional (total, longs, shorts) of the liquidations near `price` in the window.

    None (flag liquidations_missing) when the liquidation feed was not collected at all; an empty list
    is a real zero. Entries with a non-positive/non-finite price or size or another symbol are skipped
    and flagged liquidations_invalid. The band edges are inclusive.
    """
    if liquidations is None:
        flags.add("liquidations_missing")
        return None
    band = Decimal(str(config.liquidation_band_pct)) / 100
    lo, hi = price * (1 - band), price * (1 + band)
    since = now_ms - config.liquidation_window_s * 1000
    n_long = n_short = 0
    v_long = v_short = Decimal(0)
    for liq in liquidations:
        if not positive(liq.price) or not positive(liq.size) or liq.symbol != symbol:
            flags.add("liquidations_invalid")
            continue
        if not since < liq.ts <= now_ms or not lo <= liq.price <= hi:
            continue
        if liq.side == Side.BUY:
            n_long += 1
            v_long += liq.notional
        else:
            n_short += 1
            v_short += liq.notional
    return NearbyLiquidations(
        count=n_long + n_short,
        notional=v_long + v_short,
        long_count=n_long,
        long_notional=v_long,
        short_count=n_short,
        short_notional=v_short,
        band_pct=config.liquidation_band_pct,
        window_s=config.liquidation_window_s,
    )
