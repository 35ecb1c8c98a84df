"""Standard indicators (TA-Lib wrappers over float64 arrays) and realised volatility (NumPy).

Every function returns the value at the LAST bar, or None when the input is too short or the result
is not finite; none raises on short input. Inputs must already be validated (finite, > 0).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import talib

from asym.analytics.types import Trend

F64 = npt.NDArray[np.float64]

MINUTES_PER_YEAR = 365 * 24 * 60
"""Crypto trades around the clock: a year is 365 days of 24 hours."""


def _last(values: F64) -> float | None:
    if values.size == 0:
        return None
    v = float(values[-1])
    return v if math.isfinite(v) else None


def rsi(close: F64, period: int = 14) -> float | None:
    """Wilder's RSI (TA-Lib RSI) at the last bar; needs period + 1 closes."""
    if len(close) < period + 1:
        return None
    return _last(talib.RSI(close, timeperiod=period))


def atr(high: F64, low: F64, close: F64, period: int = 14) -> float | None:
    """Wilder's Average True Range (TA-Lib ATR) at the last bar, in price units; needs period + 1 bars."""
    if len(close) < period + 1:
        return None
    return _last(talib.ATR(high, low, close, timeperiod=period))


def ema(close: F64, period: int) -> float | None:
    """Exponential moving average (TA-Lib EMA, seeded with the SMA of the first `period` closes)."""
    if len(close) < period:
        return None
    return _last(talib.EMA(close, timeperiod=period))


def bbands_width(close: F64, period: int = 20, dev: float = 2.0) -> float | None:
    """Bollinger band width (upper - lower) / middle with an SMA middle and `dev` population sigmas."""
    if len(close) < period:
        return None
    sma = talib.MA_Type.SMA
    upper, middle, lower = talib.BBANDS(close, timeperiod=period, nbdevup=dev, nbdevdn=dev, matype=sma)
    m = _last(middle)
    u, lo = _last(upper), _last(lower)
    if m is None or u is None or lo is None or m <= 0:
        return None
    return (u - lo) / m


def periods_per_year(interval_minutes: float) -> float:
    """Bars of `interval_minutes` in a 365-day year (the annualisation factor is its square root)."""
    return MINUTES_PER_YEAR / interval_minutes


def realized_vol(close: F64, n_returns: int, interval_minutes: float) -> float | None:
    """Annualised realised volatility (fraction): sample std (ddof=1) of the last `n_returns` log returns

    times sqrt(periods_per_year(interval_minutes)); needs n_returns + 1 closes.
    """
    if n_returns < 2 or len(close) < n_returns + 1:
        return None
    r = np.diff(np.log(close[-(n_returns + 1) :]))
    v = float(np.std(r, ddof=1)) * math.sqrt(periods_per_year(interval_minutes))
    return v if math.isfinite(v) else None


def ema_trend(ema_fast: float, ema_slow: float, flat_band: float) -> Trend:
    """UP when ema_fast / ema_slow - 1 >= flat_band, DOWN when <= -flat_band, FLAT in between."""
    d = ema_fast / ema_slow - 1.0
    if d >= flat_band:
        return "UP"
    if d <= -flat_band:
        return "DOWN"
    return "FLAT"
