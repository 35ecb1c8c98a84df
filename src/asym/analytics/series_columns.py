"""The columns of a series that `compute_enhanced_series` composes: candle windows and their flags,
technical indicators, funding windows, books and tickers, each computed once for every step."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from asym.analytics.candles import CandleArrays, interval_ms
from asym.analytics.config import AnalyticsConfig
from asym.analytics.funding import history_stats, sentiment_from_stats
from asym.analytics.indicators import ema_trend
from asym.analytics.quality import as_float, finite, floats
from asym.analytics.series_book import BookColumns, book_columns
from asym.analytics.series_candles import CandleWindows, candle_windows
from asym.analytics.series_indicators import indicator_columns, realized_vol_column
from asym.analytics.series_inputs import SeriesInputs
from asym.analytics.types import FundingSentiment, TechnicalIndicators

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
_NAN = float("nan")


def _floats(values: Sequence[Decimal | None], none: B) -> F64:
    """as_float of each value (NaN for None or not a finite number); `none` marks the None values."""
    n = len(values)
    try:
        if not none.any():
            out = np.fromiter(map(float, values), dtype=np.float64, count=n)  # type: ignore[arg-type]
        else:
            out = np.fromiter((_NAN if v is None else float(v) for v in values), dtype=np.float64, count=n)
    except (TypeError, ValueError, InvalidOperation):  # a signalling NaN: value by value
        return np.array([_NAN if (f := as_float(v)) is None else f for v in values], dtype=np.float64)
    out[~np.isfinite(out)] = _NAN
    return out


def _is_none(values: Sequence[object]) -> B:
    # identity tests: `None in values` would call Decimal.__eq__ on every element
    return np.fromiter((v is None for v in values), dtype=bool, count=len(values))


def none_nan(values: F64) -> list[float | None]:
    """The column as Python floats, NaN as None."""
    return [None if v != v else v for v in values.tolist()]


class SeriesColumns:
    """Everything of a series that does not depend on the step's composition, as columns; `fast`
    marks the steps whose ticker and book `compute_enhanced_series` can compose without `market_fields`
    and `check_book` (every ticker field absent or valid, the price its last price, the book usable)."""

    def __init__(self, series: SeriesInputs, config: AnalyticsConfig) -> None:
        self.series = series
        self.config = config
        times = series.t
        n = len(series)
        self.plan: list[tuple[str, int | None]] = [(iv, interval_ms(iv)) for iv in series.candles]
        self.windows: dict[str, CandleWindows] = {
            iv: candle_windows(
                series.candles[iv],
                step,
                times,
                series.lookback(iv),
                config.candle_stale_intervals,
                config.candle_max_range_ratio,
            )
            for iv, step in self.plan
            if step is not None
        }
        self._technical()
        self._candle_flags()
        self._funding()
        self.books: BookColumns | None = (
            book_columns(series.books, series.symbol, times, config) if series.books is not None else None
        )
        self._tickers()
        self.fast = self.ticker_ok & (np.zeros(n, bool) if self.books is None else self.books.usable)
        if self.books is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                dev = np.abs(self.books.mid / self.last_f - 1.0) * 100.0
            self.fast &= ~(dev > config.book_max_mid_deviation_pct)

    # ---- candles and indicators -------------------------------------------------------------------

    def _technical(self) -> None:
        cfg, n, windows = self.config, len(self.series), self.windows
        ind, vs, vl = cfg.indicator_interval, cfg.vol_short_interval, cfg.vol_long_interval
        nan = np.full(n, np.nan)
        cols = {k: nan for k in ("rsi", "atr", "atr_pct", "ema_f", "ema_s", "bbw", "v1", "v24")}
        short = {k: np.zeros(n, bool) for k in ("ind", "v1", "v24")}
        if ind in windows:
            w = windows[ind]
            c = indicator_columns(w, ~w.stale, cfg)
            cols.update(
                rsi=c.rsi, atr=c.atr, atr_pct=c.atr_pct, ema_f=c.ema_fast, ema_s=c.ema_slow, bbw=c.bb_width
            )
            short["ind"] = c.short
        for key, iv, n_ret in (("v1", vs, cfg.vol_short_returns), ("v24", vl, cfg.vol_long_returns)):
            if iv in windows:
                w = windows[iv]
                cols[key], short[key] = realized_vol_column(w, ~w.stale, n_ret)
        self.vol_1h, self.vol_24h = cols["v1"], cols["v24"]
        # The flags technical_indicators adds, in its order (a repeated interval counts once).
        names = (f"candles_short:{ind}", f"candles_short:{vs}", f"candles_short:{vl}")
        self.tech_code = short["ind"] * 1 + short["v1"] * 2 + short["v24"] * 4
        self.tech_flag_sets = [
            tuple(dict.fromkeys(nm for b, nm in enumerate(names) if code >> b & 1)) for code in range(8)
        ]
        has = ~np.all(
            np.isnan(np.vstack([cols[k] for k in ("rsi", "atr", "ema_f", "ema_s", "bbw", "v1", "v24")])),
            axis=0,
        )
        band = cfg.ema_flat_band
        lists = {k: none_nan(v) for k, v in cols.items()}
        self.tech: list[TechnicalIndicators | None] = []
        rows = zip(
            has.tolist(),
            lists["rsi"],
            lists["atr"],
            lists["atr_pct"],
            lists["v1"],
            lists["v24"],
            lists["ema_f"],
            lists["ema_s"],
            lists["bbw"],
            strict=True,
        )
        for h, rsi, atr, atr_pct, v1, v24, ef, es, bbw in rows:
            self.tech.append(
                TechnicalIndicators(
                    rsi_14=rsi,
                    atr_14=atr,
                    atr_pct=atr_pct,
                    realized_vol_1h=v1,
                    realized_vol_24h=v24,
                    ema_fast=ef,
                    ema_slow=es,
                    ema_trend=None if ef is None or es is None else ema_trend(ef, es, band),
                    bb_width=bbw,
                    interval=ind,
                )
                if h
                else None
            )

    def _candle_flags(self) -> None:
        """Per step: the flags `_usable_candles` adds, in its order, as an id into `candle_flag_sets`."""
        n, cfg = len(self.series), self.config
        code = np.zeros(n, dtype=np.int64)
        bits: list[tuple[str, B | None]] = []
        for iv, step in self.plan:
            if step is None:
                bits.append((f"candles_interval_unknown:{iv}", None))
                continue
            w = self.windows[iv]
            bits += [
                (f"candles_{p}:{iv}", m)
                for p, m in (("invalid", w.invalid), ("gap", w.gap), ("stale", w.stale))
            ]
        varying = [(name, m) for name, m in bits if m is not None]
        for b, (_, m) in enumerate(varying):
            code |= m.astype(np.int64) << b
        ivs = (cfg.indicator_interval, cfg.vol_short_interval, cfg.vol_long_interval)
        missing = [f"candles_missing:{iv}" for iv in ivs if iv not in self.series.candles]
        uniq, self.candle_id = np.unique(code, return_inverse=True)
        self.candle_flag_sets = []
        for c in uniq.tolist():
            on, j = [], 0
            for name, mask in bits:
                if mask is None:
                    on.append(name)
                else:
                    if c >> j & 1:
                        on.append(name)
                    j += 1
            self.candle_flag_sets.append(tuple(on + missing))

    def candle_flags(self, i: int) -> tuple[str, ...]:
        """The candle flags of step i."""
        return self.candle_flag_sets[int(self.candle_id[i])]

    def window(self, iv: str, i: int) -> CandleArrays:
        """The usable candles of `iv` at step i."""
        return self.windows[iv].window(i)

    # ---- funding ----------------------------------------------------------------------------------

    def _funding(self) -> None:
        """The funding history of every distinct window (it changes at settlements only), as
        `clean_history` returns it: flags, the cleaned rates and their (mean, std) for the z-score."""
        s, cfg = self.series, self.config
        self.fund_end = s.funding_ends()
        xs = s.hist.funding[0]
        ends = np.unique(self.fund_end)
        starts = np.maximum(0, ends - s.funding_limit)
        self.fund_flags: dict[int, tuple[str, ...]] = {}
        self.fund_len: dict[int, int] = {}
        self._fund_stats: dict[int, tuple[float, float] | None] = {}
        self._sentiments: dict[tuple[int, float, int], tuple[Decimal, FundingSentiment]] = {}
        if xs is None or len(xs) == 0:
            for k in ends.tolist():
                self.fund_flags[k], self.fund_len[k], self._fund_stats[k] = (
                    ("funding_history_missing",),
                    -1,
                    None,
                )
            self._rates = np.zeros(0)
            self._valid = np.zeros(0, dtype=bool)
            return
        with np.errstate(invalid="ignore"):
            rates = floats([x.rate for x in xs])
            valid = np.isfinite(rates) & (np.abs(rates) <= cfg.funding_rate_max_abs)
        valid &= np.fromiter((x.symbol == s.symbol for x in xs), dtype=bool, count=len(xs))
        self._rates, self._valid = rates, valid
        n_bad = np.concatenate(([0], np.cumsum(~valid)))
        window = cfg.funding_history_window
        # Windows whose last `window` rates are all valid: (mean, std) of those rows at once (each row is
        # reduced as the 1-D array would be: the same pairwise sums).
        full = (ends - starts >= window) & (n_bad[ends] - n_bad[np.maximum(ends - window, 0)] == 0)
        full &= ends - starts - (n_bad[ends] - n_bad[starts]) >= cfg.funding_min_history
        stats: dict[int, tuple[float, float]] = {}
        if window > 0 and np.any(full) and len(rates) >= window:
            fe = ends[full]
            rows = sliding_window_view(rates, window)[fe - window]
            stats = dict(
                zip(
                    fe.tolist(),
                    zip(np.mean(rows, axis=1).tolist(), np.std(rows, axis=1).tolist(), strict=True),
                    strict=True,
                )
            )
        for a, k in zip(starts.tolist(), ends.tolist(), strict=True):
            flags: list[str] = []
            if k == a:
                flags.append("funding_history_missing")
                kept = 0
            else:
                if n_bad[k] - n_bad[a] > 0:
                    flags.append("funding_history_invalid")
                kept = (k - a) - int(n_bad[k] - n_bad[a])
                if kept == 0:
                    flags.append("funding_history_missing")
            self.fund_flags[k] = tuple(flags)
            self.fund_len[k] = kept if kept else -1
            if k in stats:
                self._fund_stats[k] = stats[k]
            else:
                self._fund_stats[k] = history_stats(self.fund_history(k), cfg)

    def fund_history(self, k: int) -> np.ndarray | None:
        """The cleaned funding history of window k (None: missing)."""
        if self.fund_len.get(k, -1) < 0:
            return None
        a = max(0, k - self.series.funding_limit)
        return self._rates[a:k][self._valid[a:k]]

    def sentiment(self, k: int, rate: Decimal, interval_hours: float) -> FundingSentiment:
        """funding_sentiment of `rate` against window k (one per rate object, window and interval)."""
        key = (k, interval_hours, id(rate))
        hit = self._sentiments.get(key)
        if hit is not None and hit[0] is rate:
            return hit[1]
        out = sentiment_from_stats(rate, interval_hours, self._fund_stats[k], self.config)
        self._sentiments[key] = (rate, out)
        return out

    # ---- tickers ----------------------------------------------------------------------------------

    def _tickers(self) -> None:
        """Per step: whether market_fields would take the ticker as is (every field absent or valid, the
        price its last price), and the floats the scores need."""
        tk, cfg = self.series.tickers, self.config
        present = np.asarray(tk.present, dtype=bool)
        converted: dict[int, tuple[F64, B]] = {}

        def col(name: str) -> tuple[F64, B]:
            values = getattr(tk, name)
            hit = converted.get(id(values))  # columns are often shared (mark = index = last)
            if hit is None:
                none = _is_none(values)
                hit = converted[id(values)] = (_floats(values, none), none)
            return hit

        self.last_f, none = col("last_price")
        ok = present & ~none & (self.last_f > 0)
        for name in ("mark_price", "index_price"):
            f, none = col(name)
            ok &= none | (f > 0)
        for name in ("volume_24h", "turnover_24h", "open_interest"):
            f, none = col(name)
            ok &= none | (f >= 0)
        self.turnover_f = col("turnover_24h")[0]
        # Rates repeat (they change at settlements): the exact Decimal test (as market_fields makes it)
        # once per distinct object.
        rates = tk.funding_rate
        ids = np.fromiter(map(id, rates), dtype=np.int64, count=len(rates))
        _, first, inv = np.unique(ids, return_index=True, return_inverse=True)
        max_abs = cfg.funding_rate_max_abs
        good = [(r := rates[j]) is None or (finite(r) and abs(r) <= max_abs) for j in first.tolist()]
        ok &= np.asarray(good, dtype=bool)[inv]
        self.rate_f, self.rate_none = col("funding_rate")
        fih = tk.funding_interval_hours
        distinct = set(fih)
        default = cfg.funding_default_interval_hours
        if len(distinct) == 1:  # the usual case: one funding interval all along
            h = next(iter(distinct))
            ok &= h is None or h > 0
            self.interval_h = np.full(len(fih), float(h or default))
        else:
            ok &= np.fromiter((h is None or h > 0 for h in fih), dtype=bool, count=len(fih))
            self.interval_h = np.fromiter((h or default for h in fih), dtype=np.float64, count=len(fih))
        self.ticker_ok = ok
        self.stale = present & (self.series.t - np.asarray(tk.ts, dtype=np.int64) > cfg.ticker_max_age_ms)


__all__ = ["SeriesColumns", "none_nan"]
