"""Long/short account ratio: the latest share of accounts that are long, validated and fresh."""

from __future__ import annotations

from collections.abc import Sequence

from asym.analytics.config import AnalyticsConfig
from asym.analytics.quality import Flags, as_float
from asym.domain import LongShortRatio


def latest_long_share(
    history: Sequence[LongShortRatio] | None, symbol: str, now_ms: int, config: AnalyticsConfig, flags: Flags
) -> float | None:
    """buy_ratio / (buy_ratio + sell_ratio) of the newest valid point at or before now, else None.

    Flags: ls_ratio_missing (nothing collected), ls_ratio_invalid (entries skipped: non-finite,
    negative, both zero, other symbol), ls_ratio_stale (newest point older than ls_max_age_ms).
    """
    if not history:
        flags.add("ls_ratio_missing")
        return None
    best: tuple[int, float] | None = None
    for p in history:
        buy, sell = as_float(p.buy_ratio), as_float(p.sell_ratio)
        if buy is None or sell is None or buy < 0 or sell < 0 or buy + sell <= 0 or p.symbol != symbol:
            flags.add("ls_ratio_invalid")
            continue
        if p.ts <= now_ms and (best is None or p.ts > best[0]):
            best = (p.ts, buy / (buy + sell))
    if best is None:
        flags.add("ls_ratio_missing")
        return None
    if now_ms - best[0] > config.ls_max_age_ms:
        flags.add("ls_ratio_stale")
        return None
    return best[1]
