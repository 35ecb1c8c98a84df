"""Pure validation checks over domain market objects; every problem becomes a `QualityEvent`.

Nothing here does I/O or reads a clock: `now_ms` is passed in. Money comparisons are exact Decimal
arithmetic (so a threshold boundary is exact); only the outlier statistics (median/MAD of log returns)
use float64, because they are statistics, not money. A non-finite Decimal (NaN, Infinity) is reported and
then left out of every comparison (Decimal NaN refuses ordering).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise

import numpy as np

from asym.domain import (
    Candle,
    FundingRate,
    Interval,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    OrderBook,
    Ticker,
)
from asym.market.quality import Completeness, QualityEvent, QualityKind, Severity, ValidationConfig

DEFAULT_CONFIG = ValidationConfig()
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)

K = QualityKind
S = Severity


class _Sink:
    """Collects the events of one timestamp, symbol and source (one line per problem in each check)."""

    __slots__ = ("events", "source", "symbol", "ts")

    def __init__(self, ts: int, symbol: str, source: str) -> None:
        self.ts, self.symbol, self.source = ts, symbol, source
        self.events: list[QualityEvent] = []

    def add(self, field: str, kind: QualityKind, sev: Severity, detail: str, value: object = None) -> None:
        self.events.append(
            QualityEvent(
                ts=self.ts,
                symbol=self.symbol,
                source=self.source,
                field=field,
                kind=kind,
                severity=sev,
                detail=detail,
                value=None if value is None else str(value),
            )
        )

    def price(self, field: str, v: object) -> bool:
        """Report a bad price; True when it is usable (finite and > 0)."""
        if not _finite(v):
            self.add(field, K.NOT_FINITE, S.ERROR, f"{field} is not a finite number", v)
            return False
        d = Decimal(v)  # type: ignore[arg-type]
        if d <= 0:
            kind = K.ZERO_PRICE if d == 0 else K.NEGATIVE_PRICE
            self.add(field, kind, S.ERROR, f"{field} is {'zero' if d == 0 else 'negative'}", d)
            return False
        return True

    def amount(self, field: str, v: object, *, positive: bool = False) -> bool:
        """Report a bad size/volume (finite, >= 0, or > 0 when `positive`); True when usable."""
        if not _finite(v):
            self.add(field, K.NOT_FINITE, S.ERROR, f"{field} is not a finite number", v)
            return False
        d = Decimal(v)  # type: ignore[arg-type]
        if d < 0:
            self.add(field, K.NEGATIVE_VALUE, S.ERROR, f"{field} is negative", d)
            return False
        if positive and d == 0:
            self.add(field, K.OUT_OF_RANGE, S.ERROR, f"{field} is zero", d)
            return False
        return True


def _finite(v: object) -> bool:
    if type(v) is Decimal:
        return v.is_finite()
    return isinstance(v, Decimal | int) and not isinstance(v, bool) and Decimal(v).is_finite()


def deviation_pct(price: Decimal, reference: Decimal) -> Decimal:
    """|price - reference| / reference x 100, exact to 28 significant digits."""
    return abs(price - reference) / reference * _HUNDRED


def _candle_ok(c: Candle) -> bool:
    """Fast path for the common case: everything finite and consistent (no event to build)."""
    o, h, lo, cl, v, t = c.open, c.high, c.low, c.close, c.volume, c.turnover
    try:
        # lo > 0 and h finite bound open and close; NaN refuses ordering (raises): the slow path explains
        return (
            _ZERO < lo <= o <= h
            and lo <= cl <= h
            and v >= _ZERO
            and t >= _ZERO
            and h.is_finite()
            and v.is_finite()
            and t.is_finite()
        )
    except (InvalidOperation, TypeError, AttributeError):
        return False


def check_candle(c: Candle, *, source: str = "candle") -> list[QualityEvent]:
    """Prices finite and > 0, volume/turnover finite and >= 0, OHLC consistent (low <= open,close <= high)."""
    if _candle_ok(c):
        return []
    s = _Sink(c.start, c.symbol, source)
    ok = {f: s.price(f, getattr(c, f)) for f in ("open", "high", "low", "close")}
    s.amount("volume", c.volume)
    s.amount("turnover", c.turnover)
    if ok["high"] and ok["low"] and c.low > c.high:
        s.add("low", K.OHLC_INCONSISTENT, S.ERROR, f"low > high ({c.high})", c.low)
    for f in ("open", "close"):
        v: Decimal = getattr(c, f)
        if ok[f] and ok["high"] and c.high < v:
            s.add("high", K.OHLC_INCONSISTENT, S.ERROR, f"high < {f} ({v})", c.high)
        if ok[f] and ok["low"] and c.low > v:
            s.add("low", K.OHLC_INCONSISTENT, S.ERROR, f"low > {f} ({v})", c.low)
    return s.events


def _book_side(s: _Sink, levels: Sequence[tuple[Decimal, Decimal]], side: str) -> list[Decimal] | None:
    usable = True
    for i, (price, size) in enumerate(levels):
        usable &= s.price(f"{side}[{i}].price", price)
        s.amount(f"{side}[{i}].size", size, positive=True)
    if not usable:
        return None
    prices = [p for p, _ in levels]
    for i in range(1, len(prices)):
        if (prices[i] >= prices[i - 1]) if side == "bids" else (prices[i] <= prices[i - 1]):
            want = "descending" if side == "bids" else "ascending"
            s.add(
                side,
                K.UNSORTED_BOOK,
                S.ERROR,
                f"{side} not strictly {want} at level {i} ({prices[i - 1]} then {prices[i]})",
                prices[i],
            )
            return None
    return prices


def check_book(book: OrderBook, *, source: str = "book") -> list[QualityEvent]:
    """Empty sides, bad prices/sizes, unsorted sides (bids descending, asks ascending), crossed or locked."""
    s = _Sink(book.ts, book.symbol, source)
    for side in ("bids", "asks"):
        if not getattr(book, side):
            s.add(side, K.EMPTY_BOOK, S.ERROR, f"no {side}")
    bids = _book_side(s, book.bids, "bids")
    asks = _book_side(s, book.asks, "asks")
    if bids and asks and bids[0] >= asks[0]:
        s.add("bids[0].price", K.CROSSED_BOOK, S.ERROR, f"best bid {bids[0]} >= best ask {asks[0]}", bids[0])
    return s.events


_TICKER_PRICES = (
    "mark_price",
    "index_price",
    "bid1_price",
    "ask1_price",
    "prev_price_24h",
    "high_price_24h",
    "low_price_24h",
    "prev_price_1h",
)
_TICKER_AMOUNTS = (
    "bid1_size",
    "ask1_size",
    "volume_24h",
    "turnover_24h",
    "open_interest",
    "open_interest_value",
)


def check_ticker(
    t: Ticker, config: ValidationConfig = DEFAULT_CONFIG, *, source: str = "ticker"
) -> list[QualityEvent]:
    """Ticker prices valid (None allowed for optional ones), bid1 < ask1, 24h range, last vs mark/index."""
    s = _Sink(t.ts, t.symbol, source)
    last_ok = s.price("last_price", t.last_price)
    ok = {f: getattr(t, f) is not None and s.price(f, getattr(t, f)) for f in _TICKER_PRICES}
    for f in _TICKER_AMOUNTS:
        if getattr(t, f) is not None:
            s.amount(f, getattr(t, f))
    if t.price_24h_pcnt is not None and not _finite(t.price_24h_pcnt):
        s.add(
            "price_24h_pcnt", K.NOT_FINITE, S.ERROR, "price_24h_pcnt is not a finite number", t.price_24h_pcnt
        )
    if t.funding_rate is not None:
        _funding(s, t.funding_rate, config)
    if ok["bid1_price"] and ok["ask1_price"] and t.bid1_price >= t.ask1_price:  # type: ignore[operator]
        s.add(
            "bid1_price", K.CROSSED_BOOK, S.ERROR, f"bid1 {t.bid1_price} >= ask1 {t.ask1_price}", t.bid1_price
        )
    if ok["high_price_24h"] and ok["low_price_24h"] and t.low_price_24h > t.high_price_24h:  # type: ignore[operator]
        s.add(
            "low_price_24h",
            K.OHLC_INCONSISTENT,
            S.ERROR,
            f"24h low > 24h high ({t.high_price_24h})",
            t.low_price_24h,
        )
    if last_ok:
        for ref, limit in (
            ("mark_price", config.max_mark_deviation_pct),
            ("index_price", config.max_index_deviation_pct),
        ):
            if ok[ref]:
                s.events += check_price_deviation(
                    t.symbol,
                    t.ts,
                    t.last_price,
                    getattr(t, ref),
                    limit,
                    source=source,
                    field="last_price",
                    reference_name=ref,
                )
    return s.events


def check_price_deviation(
    symbol: str,
    ts: int,
    price: Decimal,
    reference: Decimal,
    max_pct: Decimal,
    *,
    source: str,
    field: str,
    reference_name: str,
) -> list[QualityEvent]:
    """One PRICE_DEVIATION warning when |price - reference| / reference > max_pct percent (equal passes)."""
    if not (_finite(price) and _finite(reference)) or reference <= 0:
        return []
    dev = deviation_pct(price, reference)
    if dev <= max_pct:
        return []
    s = _Sink(ts, symbol, source)
    s.add(
        field,
        K.PRICE_DEVIATION,
        S.WARNING,
        f"{field} {price} is {dev:.4f} % from {reference_name} {reference} (limit {max_pct} %)",
        price,
    )
    return s.events


def _funding(s: _Sink, rate: object, config: ValidationConfig) -> None:
    if not _finite(rate):
        s.add("funding_rate", K.NOT_FINITE, S.ERROR, "funding rate is not a finite number", rate)
    elif abs(Decimal(rate)) > config.max_abs_funding_rate:  # type: ignore[arg-type]
        s.add(
            "funding_rate", K.OUT_OF_RANGE, S.ERROR, f"|funding rate| > {config.max_abs_funding_rate}", rate
        )


def check_funding(
    f: FundingRate, config: ValidationConfig = DEFAULT_CONFIG, *, source: str = "funding"
) -> list[QualityEvent]:
    """Funding rate finite and within +-max_abs_funding_rate."""
    s = _Sink(f.ts, f.symbol, source)
    _funding(s, f.rate, config)
    return s.events


def check_open_interest(oi: OpenInterest, *, source: str = "open_interest") -> list[QualityEvent]:
    """Open interest finite and >= 0."""
    s = _Sink(oi.ts, oi.symbol, source)
    s.amount("open_interest", oi.open_interest)
    return s.events


def check_long_short(r: LongShortRatio, *, source: str = "long_short_ratio") -> list[QualityEvent]:
    """Both ratios finite and in [0, 1], and summing to 1 within 0.01."""
    s = _Sink(r.ts, r.symbol, source)
    ok = True
    for f in ("buy_ratio", "sell_ratio"):
        v = getattr(r, f)
        if not s.amount(f, v):
            ok = False
        elif v > 1:
            s.add(f, K.OUT_OF_RANGE, S.ERROR, f"{f} > 1", v)
            ok = False
    total = r.buy_ratio + r.sell_ratio if ok else None
    if total is not None and abs(total - 1) > Decimal("0.01"):
        s.add(
            "sell_ratio", K.OUT_OF_RANGE, S.WARNING, f"buy + sell ratio = {total}, expected 1", r.sell_ratio
        )
    return s.events


def check_liquidation(liq: Liquidation, *, source: str = "liquidation") -> list[QualityEvent]:
    """Liquidation price finite and > 0, size finite and > 0."""
    s = _Sink(liq.ts, liq.symbol, source)
    s.price("price", liq.price)
    s.amount("size", liq.size, positive=True)
    return s.events


def check_freshness(
    stream: str,
    symbol: str,
    ts: int,
    now_ms: int,
    config: ValidationConfig = DEFAULT_CONFIG,
    *,
    max_age_ms: int | None = None,
) -> list[QualityEvent]:
    """STALE when now - ts > the stream's limit (equal passes); FUTURE_TIMESTAMP when ts > now + skew."""
    limit = max_age_ms if max_age_ms is not None else config.freshness_ms.get(stream)
    age = now_ms - ts
    s = _Sink(now_ms, symbol, stream)
    if limit is not None and age > limit:
        s.add("ts", K.STALE, S.WARNING, f"{stream} is {age} ms old (limit {limit} ms)", age)
    if -age > config.max_clock_skew_ms:
        s.add(
            "ts",
            K.FUTURE_TIMESTAMP,
            S.WARNING,
            f"{stream} timestamp is {-age} ms in the future (skew limit {config.max_clock_skew_ms} ms)",
            ts,
        )
    return s.events


def check_candle_freshness(
    c: Candle, now_ms: int, config: ValidationConfig = DEFAULT_CONFIG
) -> list[QualityEvent]:
    """The newest candle of a series is stale when it closed (or, if open, started) > interval + grace ago."""
    reference = c.start + c.interval.ms if c.confirmed else c.start
    limit = c.interval.ms + config.candle_grace_ms
    return check_freshness(
        f"candle:{c.interval.value}", c.symbol, reference, now_ms, config, max_age_ms=limit
    )


def snapshot_prices(
    ticker: Ticker | None = None,
    book: OrderBook | None = None,
    candle: Candle | None = None,
    external: Mapping[str, Decimal | None] | None = None,
) -> dict[str, Decimal | None]:
    """Named prices of one instant for `cross_validate`: last, mark, index, mid, candle_close, externals."""
    out: dict[str, Decimal | None] = {}
    if ticker is not None:
        out |= {"last": ticker.last_price, "mark": ticker.mark_price, "index": ticker.index_price}
    if book is not None and book.bids and book.asks:
        bid, ask = book.bids[0][0], book.asks[0][0]
        out["mid"] = (bid + ask) / 2 if _finite(bid) and _finite(ask) else None
    if candle is not None:
        out["candle_close"] = candle.close
    out |= dict(external or {})
    return out


def cross_validate(
    symbol: str,
    ts: int,
    prices: Mapping[str, Decimal | None],
    config: ValidationConfig = DEFAULT_CONFIG,
    *,
    source: str = "cross",
) -> list[QualityEvent]:
    """Compare every pair of named prices; SOURCE_MISMATCH when |a - b| / mean(a, b) > the pair's tolerance.

    Missing (None) or invalid prices are skipped: their own checks report them.
    """
    named = [(n, p) for n, p in prices.items() if p is not None and _finite(p) and p > 0]
    s = _Sink(ts, symbol, source)
    for i, (a, pa) in enumerate(named):
        for b, pb in named[i + 1 :]:
            tol = config.tolerance(a, b)
            dev = abs(pa - pb) / ((pa + pb) / 2) * _HUNDRED
            if dev > tol:
                s.add(
                    f"{a}~{b}",
                    K.SOURCE_MISMATCH,
                    S.WARNING,
                    f"{a} {pa} vs {b} {pb}: {dev:.4f} % apart (tolerance {tol} %)",
                    f"{dev:.6f}",
                )
    return s.events


def check_completeness(
    symbols: Iterable[str],
    fields: Iterable[str],
    observed: Mapping[str, Mapping[str, object]],
    *,
    ts: int,
) -> tuple[Completeness, list[QualityEvent]]:
    """Which (symbol, field) cells of a cycle are absent or None: ratio, missing list, one event per cell."""
    syms, flds = sorted(set(symbols)), sorted(set(fields))
    missing = [(sym, f) for sym in syms for f in flds if observed.get(sym, {}).get(f) is None]
    expected = len(syms) * len(flds)
    present = expected - len(missing)
    ratio = 1.0 if expected == 0 else present / expected
    comp = Completeness(expected=expected, present=present, ratio=ratio, missing=tuple(missing))
    events = []
    for sym, f in missing:
        s = _Sink(ts, sym, f)  # source = the field, so the flag reads e.g. 'funding_rate_missing'
        s.add(f, K.MISSING, S.WARNING, f"{f} missing for {sym} in this cycle")
        events += s.events
    return comp, events


def _month_starts(first: int, stop: int) -> list[int]:
    d = datetime.fromtimestamp(first / 1000, UTC)
    y, m = d.year, d.month
    out: list[int] = []
    while True:
        ms = int(datetime(y, m, 1, tzinfo=UTC).timestamp() * 1000)
        if ms >= stop:
            return out
        if ms >= first:
            out.append(ms)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def find_candle_gaps(
    starts: Iterable[int], interval: Interval, *, start: int | None = None, end: int | None = None
) -> list[int]:
    """Missing candle starts from `start` (default: first observed) to `end` (exclusive; default: last + 1).

    The grid keeps the series' own phase (Bybit weeks start on Monday); months are calendar months.
    """
    seen = np.unique(np.fromiter(starts, dtype=np.int64))
    if seen.size == 0 and (start is None or end is None):
        return []
    lo = int(seen[0]) if start is None else start
    hi = int(seen[-1]) + 1 if end is None else end
    if interval is Interval.MONTH:
        grid = np.array(_month_starts(lo, hi), dtype=np.int64)
    else:
        step = interval.ms
        phase = int(seen[0]) % step if seen.size else (0 if step <= Interval.D1.ms else lo % step)
        grid = np.arange(lo + (phase - lo) % step, hi, step, dtype=np.int64)
    return [int(x) for x in np.setdiff1d(grid, seen, assume_unique=True)]


def _gap_events(symbol: str, interval: Interval, missing: list[int], source: str) -> list[QualityEvent]:
    out: list[QualityEvent] = []
    limit = interval.ms * (1.5 if interval is Interval.MONTH else 1)
    runs: list[list[int]] = []
    for m in missing:
        if runs and m - runs[-1][-1] <= limit:
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in runs:
        s = _Sink(run[0], symbol, source)
        s.add(
            "start",
            K.CANDLE_GAP,
            S.WARNING,
            f"{len(run)} candle(s) missing from {run[0]} to {run[-1]}",
            len(run),
        )
        out += s.events
    return out


def robust_center_scale(x: np.ndarray) -> tuple[float, float] | None:
    """(median, 1.4826 x MAD); scale falls back to 1.2533 x mean abs deviation if MAD is 0; None if flat."""
    med = float(np.median(x))
    dev = np.abs(x - med)
    scale = 1.4826 * float(np.median(dev))
    if scale == 0.0:
        scale = 1.2533 * float(np.mean(dev))
    return None if scale == 0.0 else (med, scale)


def robust_zscores(x: np.ndarray) -> np.ndarray | None:
    """Robust z-scores (x - median) / scale with `robust_center_scale`; None when x is flat."""
    cs = robust_center_scale(x)
    return None if cs is None else (x - cs[0]) / cs[1]


def outlier_events(
    symbol: str,
    starts: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    config: ValidationConfig = DEFAULT_CONFIG,
    *,
    source: str = "candle",
) -> list[QualityEvent]:
    """OUTLIER warnings for prints whose log move is > outlier_z robust sigmas of the close-to-close returns.

    Close: the return into the bar (a spike and its immediate reversal flag only the spike). Open: the gap
    from the previous close (for the first bar: from its own close). High/low: the wicks beyond the body.
    Inputs are float64 arrays in time order; bars with non-positive or non-finite prices are skipped.
    """
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
        ok &= (o > 0) & (h > 0) & (lo > 0) & (c > 0)
    idx = np.nonzero(ok)[0]
    if idx.size < config.outlier_min_samples + 1:
        return []
    lc, lop, lh, ll = np.log(c[idx]), np.log(o[idx]), np.log(h[idx]), np.log(lo[idx])
    r = np.diff(lc)
    cs = robust_center_scale(r)
    if cs is None:
        return []
    med, scale = cs
    thr = config.outlier_z
    out: list[QualityEvent] = []

    def add(i: int, field: str, z: float, value: float) -> None:
        s = _Sink(int(starts[idx[i]]), symbol, source)
        s.add(
            field,
            K.OUTLIER,
            S.WARNING,
            f"{field} moved {z:+.1f} robust sigmas (threshold {thr:g})",
            repr(value),
        )
        out.extend(s.events)

    z = (r - med) / scale
    big = np.abs(z) > thr
    for j in np.nonzero(big)[0]:
        if not (j > 0 and big[j - 1] and np.sign(z[j]) != np.sign(z[j - 1])):  # a reversal of a flagged spike
            add(int(j) + 1, "close", float(z[j]), float(c[idx[j + 1]]))
    gap = np.concatenate(([lop[0] - lc[0]], lop[1:] - lc[:-1]))
    for field, series, vals in (
        ("open", gap, o),
        ("high", lh - np.maximum(lop, lc), h),
        ("low", np.minimum(lop, lc) - ll, lo),
    ):
        zs = series / scale
        for i in np.nonzero(np.abs(zs) > thr)[0]:
            add(int(i), field, float(zs[i]), float(vals[idx[i]]))
    return sorted(out, key=lambda e: (e.ts, e.field))


def check_candle_outliers(
    candles: Sequence[Candle], config: ValidationConfig = DEFAULT_CONFIG, *, source: str = "candle"
) -> list[QualityEvent]:
    """`outlier_events` over one time-ordered candle series (prices go to float: statistics only)."""
    if not candles:
        return []

    def arr(f: str) -> np.ndarray:
        vals = (getattr(c, f) for c in candles)
        return np.array([float(v) if _finite(v) else np.nan for v in vals], dtype=np.float64)

    starts = np.array([c.start for c in candles], dtype=np.int64)
    o, h, lo, c = arr("open"), arr("high"), arr("low"), arr("close")
    return outlier_events(candles[0].symbol, starts, o, h, lo, c, config, source=source)


def check_candle_series(
    candles: Sequence[Candle], config: ValidationConfig = DEFAULT_CONFIG, *, source: str = "candle"
) -> list[QualityEvent]:
    """Series checks for one (symbol, interval): order, duplicates, alignment, gaps and outliers."""
    if not candles:
        return []
    symbol, interval = candles[0].symbol, candles[0].interval
    starts = [c.start for c in candles]
    s = _Sink(starts[0], symbol, source)
    back = sum(1 for a, b in pairwise(starts) if b < a)
    if back:
        s.add("start", K.OUT_OF_ORDER, S.WARNING, f"{back} candle(s) earlier than their predecessor", back)
    out = s.events
    for start, n in sorted(Counter(starts).items()):
        if n > 1:
            d = _Sink(start, symbol, source)
            d.add("start", K.DUPLICATE, S.WARNING, f"{n} candles start at {start}", n)
            out += d.events
    if interval.ms <= Interval.D1.ms:
        for start in sorted({x for x in starts if x % interval.ms}):
            m = _Sink(start, symbol, source)
            m.add(
                "start",
                K.MISALIGNED,
                S.ERROR,
                f"start is not a multiple of the {interval.value} interval",
                start,
            )
            out += m.events
    out += _gap_events(symbol, interval, find_candle_gaps(starts, interval), source)
    ordered = sorted({c.start: c for c in candles}.values(), key=lambda c: c.start)
    out += check_candle_outliers(ordered, config, source=source)
    return out


__all__ = [
    "DEFAULT_CONFIG",
    "check_book",
    "check_candle",
    "check_candle_freshness",
    "check_candle_outliers",
    "check_candle_series",
    "check_completeness",
    "check_freshness",
    "check_funding",
    "check_liquidation",
    "check_long_short",
    "check_open_interest",
    "check_price_deviation",
    "check_ticker",
    "cross_validate",
    "deviation_pct",
    "find_candle_gaps",
    "outlier_events",
    "robust_center_scale",
    "robust_zscores",
    "snapshot_prices",
]
