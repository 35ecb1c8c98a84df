"""Technical indicators of every step's candle window, from ONE TA-Lib call per indicator over the series.

The per-step path (`asym.analytics.technical`) calls TA-Lib on the window [s, e] it is given (up to 200
bars). EMA, RSI and ATR are recursions whose value depends on where they START: TA-Lib seeds them with
the mean of the first `period` values of the input, so the value at e over the window differs from the
value at e over the whole series (measured on a year of 1h Bybit candles: EMA(20) by up to 7e-10,
EMA(50) by up to 1.2e-4, RSI(14) by 4e-6, ATR(14) by 5e-6, relative). They are linear, though, so the
window's value follows from the series' value exactly (in real arithmetic):

    EMA:  E_w(e) = E(e) + r^(e-s-p+1) * (mean(x[s..s+p-1]) - E(s+p-1)),     r = 1 - 2/(p+1)
    ATR:  A_w(e) = A(e) + q^(e-s-p)   * (mean(TR[s+1..s+p]) - A(s+p)),      q = (p-1)/p
    RSI:  the same for Wilder's average gain G and loss L (each an ATR of the gains / losses),
          RSI_w = 100 * G_w / (G_w + L_w), 0 when G_w + L_w = 0

(the series value carries the window's seed forward; the correction swaps the series' seed for the
window's). A window whose diffs hold no gain (loss, true range) has G_w (L_w, A_w) exactly 0, as TA-Lib's.
The result equals the per-step value up to floating-point rounding (TA-Lib 0.8 itself picks FMA code at
run time, so bit equality is not on offer): |rel| < 1e-13 on the shared data, tested at 1e-9.

Bollinger bands at e depend on the last `period` closes only, but TA-Lib keeps running sums from the
start of its input, so its rounding depends on the start too: the series is evaluated in chunks of
`BB_CHUNK` outputs (running sums never older than the per-step window's), |rel| < 1e-10 observed.
Realised volatility is computed exactly as the per-step function does (log, diff, std of each window's
returns as rows of a 2-D array): bit-identical.

The series are computed per run of valid bars (an invalid bar never enters a window: `prepare_candles`
cuts there), so a NaN never poisons a recursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import talib
from numpy.lib.stride_tricks import sliding_window_view

from asym.analytics.config import AnalyticsConfig
from asym.analytics.indicators import periods_per_year
from asym.analytics.series_candles import CandleWindows

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

BB_CHUNK = 256
"""Bollinger outputs per TA-Lib call (running sums restart every chunk)."""
_MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class IndicatorColumns:
    """Per step: every TechnicalIndicators value (NaN = None) and the `candles_short` flags."""

    rsi: F64
    atr: F64
    atr_pct: F64
    ema_fast: F64
    ema_slow: F64
    bb_width: F64
    short: B
    """The indicator interval was usable but too short for one of rsi/atr/ema/bb."""
    usable: B
    """The indicator interval was usable at the step (present, known, not stale)."""


def _segments(valid: B) -> list[tuple[int, int]]:
    """Runs [a, b) of consecutive valid bars."""
    if valid.size == 0:
        return []
    v = np.concatenate(([False], valid, [False])).astype(np.int8)
    d = np.diff(v)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _window_sum(x: F64, start: I64, p: int) -> F64:
    """sum(x[s..s+p-1]) for each s (a pairwise sum of the p values, like a per-window sum)."""
    if start.size == 0:
        return np.zeros(0)
    return np.add.reduce(sliding_window_view(x, p)[start], axis=1)


def _series(fn: object, segments: list[tuple[int, int]], n: int, *cols: F64) -> F64:
    """A TA-Lib function evaluated on every valid run, NaN elsewhere."""
    out = np.full(n, np.nan)
    for a, b in segments:
        out[a:b] = fn(*(c[a:b] for c in cols))  # type: ignore[operator]
    return out


def _wilder_window(series: F64, x: F64, s: I64, e: I64, p: int, nonzero: I64) -> F64:
    """Wilder average (ATR-style, seeded with the mean of x[s+1..s+p]) of x over each window [s, e]."""
    q = (p - 1) / p
    seed = _window_sum(x, s + 1, p) / p
    w = series[e] + q ** (e - s - p).astype(np.float64) * (seed - series[s + p])
    # No non-zero term in the window: the average is exactly 0 (and never negative).
    any_term = (nonzero[e + 1] - nonzero[s + 1]) > 0
    return np.where(any_term, np.maximum(w, 0.0), 0.0)


def indicator_columns(w: CandleWindows, usable: B, config: AnalyticsConfig) -> IndicatorColumns:
    """RSI, ATR (and % of close), EMAs and Bollinger width of every step's window on `w`'s interval."""
    a = w.arrays
    n_steps = w.end.size
    nan = np.full(n_steps, np.nan)
    rsi, atr, atr_pct, ema_f, ema_s, bbw = (nan.copy() for _ in range(6))
    length = np.where(usable, w.length, 0)
    n = len(a)
    segs = _segments(w.valid)
    c, h, lo = a.close, a.high, a.low
    s_all, e_all = w.cut, w.end - 1

    def ema_for(p: int, out: F64) -> None:
        sel = np.flatnonzero(length >= p)
        if sel.size == 0:
            return
        series = _series(lambda x: talib.EMA(x, timeperiod=p), segs, n, c)
        s, e = s_all[sel], e_all[sel]
        r = 1.0 - 2.0 / (p + 1)
        seed = _window_sum(c, s, p) / p
        out[sel] = series[e] + r ** (e - s - p + 1).astype(np.float64) * (seed - series[s + p - 1])

    ema_for(config.ema_fast_period, ema_f)
    ema_for(config.ema_slow_period, ema_s)

    p = config.rsi_period
    sel = np.flatnonzero(length >= p + 1)
    if sel.size:
        s, e = s_all[sel], e_all[sel]
        d = np.zeros(n)
        d[1:] = np.diff(c)
        with np.errstate(invalid="ignore"):
            gain = np.where(d > 0, d, 0.0)
            loss = np.where(d < 0, -d, 0.0)
        zeros = np.zeros(n)
        g_series = _series(lambda x, z: talib.ATR(x, z, z, timeperiod=p), segs, n, gain, zeros)
        l_series = _series(lambda x, z: talib.ATR(x, z, z, timeperiod=p), segs, n, loss, zeros)
        gain = np.nan_to_num(gain)
        loss = np.nan_to_num(loss)
        g = _wilder_window(g_series, gain, s, e, p, np.concatenate(([0], np.cumsum(gain > 0))))
        lw = _wilder_window(l_series, loss, s, e, p, np.concatenate(([0], np.cumsum(loss > 0))))
        tot = g + lw
        with np.errstate(invalid="ignore", divide="ignore"):
            rsi[sel] = np.where(tot > 0, (g / tot) * 100.0, 0.0)

    p = config.atr_period
    sel = np.flatnonzero(length >= p + 1)
    if sel.size:
        s, e = s_all[sel], e_all[sel]
        tr = np.zeros(n)
        for sa, sb in segs:
            if sb - sa > 1:
                tr[sa + 1 : sb] = talib.TRANGE(h[sa:sb], lo[sa:sb], c[sa:sb])[1:]
        a_series = _series(lambda x, y, z: talib.ATR(x, y, z, timeperiod=p), segs, n, h, lo, c)
        atr[sel] = _wilder_window(a_series, tr, s, e, p, np.concatenate(([0], np.cumsum(tr > 0))))
        with np.errstate(invalid="ignore", divide="ignore"):
            atr_pct[sel] = atr[sel] / c[e] * 100.0

    p = config.bb_period
    sel = np.flatnonzero(length >= p)
    if sel.size:
        width = np.full(n, np.nan)
        dev = config.bb_dev
        for sa, sb in segs:
            for c0 in range(sa + p - 1, sb, BB_CHUNK):
                c1 = min(sb, c0 + BB_CHUNK)
                up, mid, low = talib.BBANDS(
                    c[c0 - p + 1 : c1], timeperiod=p, nbdevup=dev, nbdevdn=dev, matype=talib.MA_Type.SMA
                )
                u, m, lw2 = up[p - 1 :], mid[p - 1 :], low[p - 1 :]
                with np.errstate(invalid="ignore", divide="ignore"):
                    width[c0:c1] = np.where(m > 0, (u - lw2) / m, np.nan)
        bbw[sel] = width[e_all[sel]]

    cols = (rsi, atr, ema_f, ema_s, bbw)
    for col in (*cols, atr_pct):
        col[~np.isfinite(col)] = np.nan
    short = usable & np.any(np.isnan(np.vstack(cols)), axis=0)
    return IndicatorColumns(rsi, atr, atr_pct, ema_f, ema_s, bbw, short, usable)


def realized_vol_column(w: CandleWindows, usable: B, n_returns: int) -> tuple[F64, B]:
    """Per step: realized_vol of the window (NaN = None) and whether it was too short (a usable window
    without n_returns + 1 closes). Bit-identical to `indicators.realized_vol` on each window."""
    steps = w.end.size
    out = np.full(steps, np.nan)
    ok = usable & (w.length >= n_returns + 1) & (n_returns >= 2)
    sel = np.flatnonzero(ok)
    if sel.size:
        c = w.arrays.close
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.log(c)
        rets = sliding_window_view(np.diff(logs), n_returns)[w.end[sel] - n_returns - 1]
        factor = math.sqrt(periods_per_year(w.step_ms / _MINUTE_MS))
        with np.errstate(invalid="ignore"):
            out[sel] = np.std(rets, axis=1, ddof=1) * factor
    out[~np.isfinite(out)] = np.nan
    return out, usable & np.isnan(out)


__all__ = ["BB_CHUNK", "IndicatorColumns", "indicator_columns", "realized_vol_column"]
