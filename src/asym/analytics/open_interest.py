"""Open-interest sentiment: OI change against price change over the same window.

t1 = time of the latest OI point, t0 = time of the latest OI point at or before t1 - oi_window_hours
oi_change_pct    = (OI(t1) / OI(t0) - 1) * 100
price_change_pct = (P(t1) / P(t0) - 1) * 100, P(t) = close of the candle that ends at or just before t
label = NEUTRAL         if |oi_change_pct| < oi_change_threshold_pct
                        or |price_change_pct| < oi_price_threshold_pct
        LONG_BUILDUP    OI up,   price up      (new longs)
        SHORT_BUILDUP   OI up,   price down    (new shorts)
        LONG_UNWINDING  OI down, price down    (longs closing)
        SHORT_COVERING  OI down, price up      (shorts closing)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asym.analytics.candles import CandleArrays
from asym.analytics.config import AnalyticsConfig
from asym.analytics.quality import Flags, floats
from asym.analytics.types import OiLabel, OiSentiment
from asym.domain import OpenInterest

_HOUR_MS = 3_600_000


def oi_label(oi_change_pct: float, price_change_pct: float, config: AnalyticsConfig) -> OiLabel:
    """The label of an (OI change %, price change %) pair; a change equal to its threshold counts."""
    if (
        abs(oi_change_pct) < config.oi_change_threshold_pct
        or abs(price_change_pct) < config.oi_price_threshold_pct
    ):
        return "NEUTRAL"
    if oi_change_pct > 0:
        return "LONG_BUILDUP" if price_change_pct > 0 else "SHORT_BUILDUP"
    return "SHORT_COVERING" if price_change_pct > 0 else "LONG_UNWINDING"


def price_at(candles: CandleArrays, step_ms: int, ts: int) -> float | None:
    """Close of the candle ending at or before `ts` and less than one interval before it, else None."""
    if len(candles) == 0:
        return None
    ends = candles.start + step_ms
    i = int(np.searchsorted(ends, ts, side="right")) - 1
    if i < 0 or ts - int(ends[i]) >= step_ms:
        return None
    return float(candles.close[i])


def oi_sentiment(
    history: Sequence[OpenInterest] | None,
    symbol: str,
    now_ms: int,
    prices: Sequence[tuple[CandleArrays, int]],
    config: AnalyticsConfig,
    flags: Flags,
) -> OiSentiment | None:
    """OiSentiment over the configured window, or None with a flag naming why.

    `prices` are validated candle sets with their interval in ms, finest first; the first that covers
    both ends of the window prices it. Flags: oi_history_missing, oi_history_invalid, oi_history_stale,
    oi_history_short, oi_history_gap, oi_price_missing.
    """
    if not history:
        flags.add("oi_history_missing")
        return None
    values = floats([p.open_interest for p in history])
    ts = np.fromiter((p.ts for p in history), dtype=np.int64, count=len(history))
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(values) & (values > 0)
    valid &= np.fromiter((p.symbol == symbol for p in history), dtype=bool, count=len(history))
    if not np.all(valid):
        flags.add("oi_history_invalid")
    keep = valid & (ts <= now_ms)
    if not np.any(keep):
        flags.add("oi_history_missing")
        return None
    order = np.argsort(ts[keep], kind="stable")
    ts, values = ts[keep][order], values[keep][order]
    t1, oi1 = int(ts[-1]), float(values[-1])
    if now_ms - t1 > config.oi_max_age_ms:
        flags.add("oi_history_stale")
        return None
    window_ms = config.oi_window_hours * _HOUR_MS
    i0 = int(np.searchsorted(ts, t1 - window_ms, side="right")) - 1  # newest point at or before t1 - window
    if i0 < 0:
        flags.add("oi_history_short")
        return None
    t0, oi0 = int(ts[i0]), float(values[i0])
    if t1 - t0 > config.oi_max_window_factor * window_ms:
        flags.add("oi_history_gap")
        return None
    for candles, step_ms in prices:
        p0, p1 = price_at(candles, step_ms, t0), price_at(candles, step_ms, t1)
        if p0 is not None and p1 is not None:
            break
    else:
        flags.add("oi_price_missing")
        return None
    oi_chg = (oi1 / oi0 - 1.0) * 100.0
    px_chg = (p1 / p0 - 1.0) * 100.0
    return OiSentiment(
        oi_change_pct=oi_chg,
        price_change_pct=px_chg,
        label=oi_label(oi_chg, px_chg, config),
        window_hours=(t1 - t0) / _HOUR_MS,
    )
