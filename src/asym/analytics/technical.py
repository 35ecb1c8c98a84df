"""TechnicalIndicators of one asset from its validated candles (see asym.analytics.indicators)."""

from __future__ import annotations

from collections.abc import Mapping

from asym.analytics.candles import CandleArrays
from asym.analytics.config import AnalyticsConfig
from asym.analytics.indicators import atr, bbands_width, ema, ema_trend, realized_vol, rsi
from asym.analytics.quality import Flags
from asym.analytics.types import TechnicalIndicators

_MINUTE_MS = 60_000


def technical_indicators(
    candles: Mapping[str, tuple[CandleArrays, int]], config: AnalyticsConfig, flags: Flags
) -> TechnicalIndicators | None:
    """Indicators on the usable candle sets ({interval: (arrays, interval_ms)}); None if none computes.

    Each indicator is None on its own when its interval is absent or too short; a too-short interval
    adds `candles_short:<interval>` (an absent one was already flagged by the caller).
    """
    iv = config.indicator_interval
    rsi_v = atr_v = atr_pct = ema_f = ema_s = bbw = None
    trend = None
    if iv in candles:
        a, _ = candles[iv]
        c = a.close
        rsi_v = rsi(c, config.rsi_period)
        atr_v = atr(a.high, a.low, c, config.atr_period)
        atr_pct = None if atr_v is None else atr_v / float(c[-1]) * 100.0
        ema_f = ema(c, config.ema_fast_period)
        ema_s = ema(c, config.ema_slow_period)
        trend = None if ema_f is None or ema_s is None else ema_trend(ema_f, ema_s, config.ema_flat_band)
        bbw = bbands_width(c, config.bb_period, config.bb_dev)
        if None in (rsi_v, atr_v, ema_f, ema_s, bbw):
            flags.add(f"candles_short:{iv}")
    vol_1h = _vol(candles, config.vol_short_interval, config.vol_short_returns, flags)
    vol_24h = _vol(candles, config.vol_long_interval, config.vol_long_returns, flags)
    values = (rsi_v, atr_v, ema_f, ema_s, bbw, vol_1h, vol_24h)
    if all(v is None for v in values):
        return None
    return TechnicalIndicators(
        rsi_14=rsi_v,
        atr_14=atr_v,
        atr_pct=atr_pct,
        realized_vol_1h=vol_1h,
        realized_vol_24h=vol_24h,
        ema_fast=ema_f,
        ema_slow=ema_s,
        ema_trend=trend,
        bb_width=bbw,
        interval=iv,
    )


def _vol(candles: Mapping[str, tuple[CandleArrays, int]], iv: str, n: int, flags: Flags) -> float | None:
    if iv not in candles:
        return None
    a, step_ms = candles[iv]
    v = realized_vol(a.close, n, step_ms / _MINUTE_MS)
    if v is None:
        flags.add(f"candles_short:{iv}")
    return v
