"""Load kline and funding files (CSV or Parquet) into domain objects, cleaning or rejecting dirty input.

Every load returns a `LoadReport` that says what was wrong and what was done about it: mixed s/ms/us
timestamps normalised to ms, duplicates removed (and how many disagreed), reversed or shuffled order
fixed, a date column that disagrees with the unix column ignored, invalid rows dropped, still-open bars
dropped, gaps listed, outliers flagged. `on_dirty='reject'` raises `DirtyDataError` (a `DataError`) with
the same report instead of cleaning. Layouts are recognised by header (column names, any order), so
Bybit, Binance, Jesse, cryptodatadownload-style and the shared multi-venue Parquet files all load.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from math import isfinite
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np

from asym.domain import Candle, Category, FundingRate, Interval
from asym.errors import DataError
from asym.market.quality import DirtyDataError, LoadReport, ValidationConfig
from asym.market.validation import (
    DEFAULT_CONFIG,
    check_candle,
    check_funding,
    find_candle_gaps,
    outlier_events,
)

OnDirty = Literal["clean", "reject"]

# column names (lower case, '-' read as '_') that play each role; the first match wins
_ALIASES: dict[str, tuple[str, ...]] = {
    role: tuple(names.split(","))
    for role, names in {
        "time": "start,starttime,start_time,open_time,opentime,timestamp,timestamp_ms,ts,unix,time,open time",
        "date": "date,datetime,dt,date_time",
        "open": "open,o,open_price,openprice",
        "high": "high,h,high_price,highprice",
        "low": "low,l,low_price,lowprice",
        "close": "close,c,close_price,closeprice",
        "volume": "volume,v,vol,base_volume",
        "turnover": "turnover,quote_volume,quote_asset_volume,quote volume,volume_usdt",
        "symbol": "symbol,pair",
        "venue": "venue,exchange",
        "coin": "coin,base",
        "rate": "funding_rate,fundingrate,rate",
    }.items()
}
_QUOTES = ("usdt", "usd", "usdc", "busd")
_BYBIT_ORDER = ("start", "open", "high", "low", "close", "volume", "turnover")
_KNOWN_TURNOVER_DIRS = ("btcusdt-15m-1h-4h-1d-1w",)
"""Shared data sets whose `volume` column is USDT turnover (see ../shared/data/README.md)."""
_ESTIMATE_Q = Decimal("0.00000001")
_MAX_EXAMPLES = 10


class KlineArrays(msgspec.Struct, frozen=True):
    """Column arrays of one candle series (float64 prices: for statistics and indicators, not money)."""

    start: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    turnover: np.ndarray


def to_arrays(candles: Sequence[Candle]) -> KlineArrays:
    """Candles to NumPy columns (start int64 ms, the rest float64)."""

    def col(f: str) -> np.ndarray:
        return np.array([float(getattr(c, f)) for c in candles], dtype=np.float64)

    start = np.array([c.start for c in candles], dtype=np.int64)
    return KlineArrays(
        start, col("open"), col("high"), col("low"), col("close"), col("volume"), col("turnover")
    )


# ---------------------------------------------------------------- reading


class _Table(msgspec.Struct):
    names: list[str]
    rows: list[list[Any]]
    lines: list[int]
    layout: str
    bad: list[str]
    open_dropped: int = 0


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _read_csv(path: Path) -> _Table:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        first = next(reader, None)
        if first is None:
            raise DataError(f"{path}: empty file")
        body = list(reader)
    headerless = _parse_number(first[0]) is not None
    if headerless:
        if len(first) not in (6, 7):
            raise DataError(f"{path}: no header and {len(first)} columns (Bybit kline order has 6 or 7)")
        names, body, start_line, layout = (
            list(_BYBIT_ORDER[: len(first)]),
            [first, *body],
            1,
            "bybit-kline-order",
        )
    else:
        names, start_line, layout = first, 2, "csv:" + ",".join(_norm(n) for n in first)
    width = len(names)
    if all(len(row) == width for row in body):  # the usual case: nothing to sort out row by row
        return _Table(names, body, list(range(start_line, start_line + len(body))), layout, [])
    rows, lines, bad = [], [], []
    for i, row in enumerate(body):
        if not row:
            continue
        if len(row) != len(names):
            bad.append(f"line {i + start_line}: {len(row)} fields, expected {len(names)}")
            continue
        rows.append(row)
        lines.append(i + start_line)
    return _Table(names, rows, lines, layout, bad)


def _read_parquet(path: Path, venue: str | None, coin: str | None, drop_last_open: bool | None) -> _Table:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = table.column_names
    low = {_norm(n): n for n in names}
    for n in names:  # timestamps of any unit/zone become int64 ms UTC
        if pa.types.is_timestamp(table.schema.field(n).type):
            ms = pc.cast(pc.cast(table.column(n), pa.timestamp("ms", tz="UTC")), pa.int64())
            table = table.set_column(names.index(n), n, ms)
    venue_col, coin_col = low.get("venue"), low.get("coin")
    time_col = next((low[a] for a in _ALIASES["time"] if a in low), None)
    last_open_ms: int | None = None
    if venue_col and venue is not None:
        table = table.filter(pc.equal(table.column(venue_col), venue))
        # README: the last bar of each venue was still open when recorded (auto: venue+coin layout)
        if (drop_last_open if drop_last_open is not None else bool(coin_col)) and time_col and table.num_rows:
            last_open_ms = int(pc.max(table.column(time_col)).as_py())
    if coin_col and coin is not None:
        table = table.filter(pc.equal(table.column(coin_col), coin))
    rows = [list(r.values()) for r in table.to_pylist()]
    t = _Table(names, rows, list(range(1, len(rows) + 1)), "parquet:" + ",".join(_norm(n) for n in names), [])
    if last_open_ms is not None and time_col:
        ti = names.index(time_col)
        t.rows = [r for r in rows if r[ti] != last_open_ms]
        t.lines = t.lines[: len(t.rows)]
        t.open_dropped = len(rows) - len(t.rows)
    return t


def _roles(names: list[str], path: Path) -> dict[str, int]:
    low = [_norm(n) for n in names]
    roles: dict[str, int] = {}
    for role, aliases in _ALIASES.items():
        for a in aliases:
            if a in low and role not in roles and low.index(a) not in roles.values():
                roles[role] = low.index(a)
    for i, n in enumerate(low):  # cryptodatadownload: 'Volume BTC' (base) and 'Volume USDT' (quote)
        m = re.fullmatch(r"volume[ _](\w+)", n)
        if m:
            roles["turnover" if m.group(1) in _QUOTES else "volume"] = i
    if "time" not in roles and "date" in roles:
        roles["time"] = roles.pop("date")
    return roles


def _require(roles: dict[str, int], need: Sequence[str], names: list[str], path: Path) -> None:
    missing = [r for r in need if r not in roles]
    if missing:
        raise DataError(f"{path}: cannot find column(s) {missing} in header {names}")


# ---------------------------------------------------------------- parsing


def _parse_number(v: Any) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None


_UNITS = (("s", 1e11, 1000.0), ("ms", 1e14, 1.0), ("us", 1e17, 1e-3), ("ns", 1e20, 1e-6))


def _to_ms(v: Any) -> tuple[int | None, str]:
    """A unix time in s, ms, us or ns (told apart by magnitude) or an ISO date-time: (ms UTC, unit)."""
    looks_like_date = type(v) is str and (":" in v or v.count("-") >= 2)
    x = None if looks_like_date else _parse_number(v)
    if x is None:
        d = _parse_date(v)
        return (d, "iso") if d is not None else (None, "")
    if isfinite(x) and x > 0:
        for unit, limit, factor in _UNITS:
            if x < limit:
                return round(x * factor), unit
    return None, ""


_TWELVE_HOUR = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d)-([AP])M")


def _parse_date(v: Any) -> int | None:
    """ISO date-time (naive = UTC) or a 12h-clock hour like '2017-08-17 05-AM', as epoch ms."""
    s = str(v).strip()
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        m = _TWELVE_HOUR.fullmatch(s)  # strptime is ten times slower and these files have 28k of them
        if m is None:
            return None
        y, mo, day, hour, half = m.groups()
        h12 = int(hour)
        if not 1 <= h12 <= 12:
            return None
        d = datetime(int(y), int(mo), int(day), h12 % 12 + (12 if half == "P" else 0))
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return int(d.timestamp() * 1000)


def _to_dec(v: Any) -> Decimal:
    """Exact Decimal from text ('nan' parses, to be caught by validation; '' and 'NULL' raise).

    Floats (Parquet doubles) keep 15 significant digits, their real precision, and at most 18 decimals.
    """
    if type(v) is str:
        return Decimal(v)  # surrounding blanks are allowed; anything not a number raises
    if isinstance(v, float):
        if not isfinite(v):
            return Decimal(str(v).replace("inf", "Infinity"))
        d = Decimal(format(v, ".15g"))
        d = d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()
        return d if d.as_tuple().exponent >= -18 else d.quantize(Decimal("1e-18"))  # type: ignore[operator]
    if isinstance(v, Decimal | int) and not isinstance(v, bool):
        return Decimal(v)
    raise InvalidOperation(f"not a number: {v!r}")


# ---------------------------------------------------------------- the pipeline


class _Rows(msgspec.Struct):
    ts: list[int]
    cols: dict[str, list[Decimal]]
    native_ms: list[bool]

    def values(self, i: int) -> dict[str, Decimal]:
        return {f: c[i] for f, c in self.cols.items()}


def _times(raw: Sequence[Any]) -> tuple[list[int | None], list[str]]:
    """Epoch ms of each value (None if unparseable) and its unit: 's', 'ms', 'us', 'ns' or 'iso'."""
    try:
        x = np.array(raw, dtype=np.float64)  # the common case, all numeric: vectorised
    except (ValueError, TypeError):
        pairs = [_to_ms(v) for v in raw]
        return [m for m, _ in pairs], [u for _, u in pairs]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(x) & (x > 0) & (x < 1e20)
        conds = [x < 1e11, x < 1e14, x < 1e17]
        unit = np.select(conds, ["s", "ms", "us"], "ns")
        scaled = np.rint(x * np.select(conds, [1000.0, 1.0, 1e-3], 1e-6))
    return [
        int(v) if good else None for v, good in zip(scaled.tolist(), ok.tolist(), strict=True)
    ], unit.tolist()


def _decimals(col: Sequence[Any]) -> tuple[list[Decimal], set[int]]:
    """A column as Decimals (vectorised over text) and the indexes that did not parse."""
    if col and type(col[0]) is str:  # a CSV column is all text; Parquet columns are never text here
        try:
            return list(map(Decimal, col)), set()
        except (InvalidOperation, ValueError):
            pass  # some cell is not a number: find which, one by one
    out, bad = [], set()
    for i, v in enumerate(col):
        try:
            out.append(_to_dec(v))
        except (InvalidOperation, ValueError):
            out.append(Decimal(0))
            bad.add(i)
    return out, bad


def _parse_rows(t: _Table, roles: dict[str, int], fields: Sequence[str], report: LoadReport) -> _Rows:
    columns = list(zip(*t.rows, strict=True)) if t.rows else [() for _ in t.names]
    ms, units = _times(columns[roles["time"]])
    bad_rows: dict[int, str] = {
        i: f"bad time {columns[roles['time']][i]!r}" for i, m in enumerate(ms) if m is None
    }
    parsed: dict[str, list[Decimal]] = {}
    for f in fields:
        if f in roles:
            parsed[f], bad_idx = _decimals(columns[roles[f]])
            for i in bad_idx:
                bad_rows.setdefault(i, f"bad number {columns[roles[f]][i]!r} in {t.names[roles[f]]}")
    keep = [i for i in range(len(ms)) if i not in bad_rows]
    ts = [m for m in (ms[i] for i in keep) if m is not None]  # all of them: unparseable times are not kept
    out = _Rows(ts, {f: [c[i] for i in keep] for f, c in parsed.items()}, [units[i] == "ms" for i in keep])
    bad = t.bad + [f"line {t.lines[i]}: {why}" for i, why in sorted(bad_rows.items())]
    report.unparseable_rows = len(bad)
    report.unparseable_examples = bad[:_MAX_EXAMPLES]
    n = Counter(units[i] for i in keep)
    report.seconds_timestamps, report.millisecond_timestamps = n["s"], n["ms"]
    report.microsecond_timestamps, report.iso_timestamps = n["us"] + n["ns"], n["iso"]
    date_i = roles.get("date") if roles.get("date") != roles["time"] else None
    if date_i is not None:
        raw_dates = [str(columns[date_i][i]) for i in keep]
        report.date_column = t.names[date_i]
        report.twelve_hour_dates = sum(1 for d in raw_dates if d.endswith(("AM", "PM")))
        parsed_dates = map(_parse_date, raw_dates)
        offsets = [None if d is None else d - ts for d, ts in zip(parsed_dates, out.ts, strict=True)]
        common = Counter(o for o in offsets if o is not None).most_common(1)
        mode = common[0][0] if common else 0
        report.date_offset_hours = mode / 3_600_000 if mode else None
        report.date_mismatches = sum(1 for o in offsets if o != mode)
    return out


def _order_and_dedupe(rows: _Rows, report: LoadReport) -> list[int]:
    """Indexes of the kept rows in ascending time; the ms-stamped row wins a duplicate, then file order."""
    ts = rows.ts
    diffs = [b - a for a, b in pairwise(ts)]
    downs = sum(1 for d in diffs if d < 0)
    ups = sum(1 for d in diffs if d > 0)
    report.reversed_order = downs > 0 and ups == 0
    report.out_of_order_rows = 0 if report.reversed_order else downs
    if downs == 0 and ups == len(diffs):  # already ascending and unique: the common case
        return list(range(len(ts)))
    if ups == 0 and downs == len(diffs):  # newest first, unique
        return list(range(len(ts) - 1, -1, -1))
    order = sorted(range(len(ts)), key=lambda i: (ts[i], not rows.native_ms[i], i))
    keep: list[int] = []
    for i in order:
        if keep and ts[keep[-1]] == ts[i]:
            report.duplicates_removed += 1
            report.duplicate_conflicts += rows.values(keep[-1]) != rows.values(i)
        else:
            keep.append(i)
    return keep


def _infer_interval(ts: list[int], path: Path, given: Interval | None) -> Interval:
    diffs = Counter(b - a for a, b in pairwise(ts))
    if not diffs:
        if given is None:
            raise DataError(f"{path}: cannot infer the interval from fewer than two rows; pass interval=")
        return given
    step = diffs.most_common(1)[0][0]
    if given is not None:
        if given is not Interval.MONTH and step != given.ms:
            raise DataError(
                f"{path}: rows are mostly {step} ms apart, not the {given.value} interval asked for"
            )
        return given
    for iv in Interval:
        if iv.ms == step:
            return iv
    if 28 * 86_400_000 <= step <= 31 * 86_400_000:
        return Interval.MONTH
    known = ", ".join(i.value for i in Interval)
    raise DataError(f"{path}: rows are {step} ms apart, which is no Bybit kline interval ({known})")


def _symbol(path: Path, t: _Table, roles: dict[str, int], symbol: str | None, coin: str | None) -> str:
    if symbol:
        return symbol
    if "symbol" in roles:
        found = {str(r[roles["symbol"]]).replace("/", "").replace("-", "").upper() for r in t.rows}
        if len(found) == 1:
            return found.pop()
        raise DataError(f"{path}: several symbols {sorted(found)[:10]}; pass symbol=")
    if coin:
        return f"{coin.upper()}USDT"
    m = re.search(r"([A-Z0-9]{2,}USDT)", path.name.upper())
    if m:
        return m.group(1)
    raise DataError(f"{path}: cannot tell the symbol from the file name or columns; pass symbol=")


def _select(path: Path, t: _Table, roles: dict[str, int], venue: str | None, coin: str | None) -> None:
    for role, want in (("venue", venue), ("coin", coin)):
        if role in roles and want is None:
            found = sorted({str(r[roles[role]]) for r in t.rows})
            if len(found) > 1:
                raise DataError(f"{path}: the file holds several {role}s {found}; pass {role}=")


def _open(
    path: str | Path, venue: str | None, coin: str | None, drop_last_open: bool | None
) -> tuple[Path, _Table]:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    if p.suffix.lower() in (".parquet", ".pq"):
        return p, _read_parquet(p, venue, coin, drop_last_open)
    return p, _read_csv(p)


def _volumes(
    vol: Decimal | None, turn: Decimal | None, h: Decimal, lo: Decimal, c: Decimal
) -> tuple[Decimal, Decimal, bool]:
    """(volume, turnover, repaired): a missing or NaN one is estimated from the other x typical price."""
    vol_ok, turn_ok = vol is not None and vol.is_finite(), turn is not None and turn.is_finite()
    repaired = (vol is not None and not vol_ok) or (turn is not None and not turn_ok)
    try:
        tp = (h + lo + c) / 3
        if vol_ok:
            return vol, (vol * tp).quantize(_ESTIMATE_Q), repaired  # type: ignore[operator,return-value]
        if turn_ok:
            return (turn / tp).quantize(_ESTIMATE_Q), turn, repaired  # type: ignore[operator,return-value]
    except (InvalidOperation, ZeroDivisionError):
        pass  # prices unusable: the candle check rejects the row
    return vol if vol is not None else Decimal("NaN"), turn if turn is not None else Decimal("NaN"), False


def _build_candles(
    rows: _Rows,
    keep: list[int],
    sym: str,
    iv: Interval,
    category: Category,
    now_ms: int | None,
    source: str,
    report: LoadReport,
) -> list[Candle]:
    """Candles of the kept rows; invalid, still-open and off-grid bars are counted and left out."""
    out: list[Candle] = []
    aligned = iv.ms <= Interval.D1.ms
    o_, h_, l_, c_ = (rows.cols[f] for f in ("open", "high", "low", "close"))
    v_, t_ = rows.cols.get("volume"), rows.cols.get("turnover")
    for i in keep:
        start, vol, turn, repaired = rows.ts[i], v_[i] if v_ else None, t_[i] if t_ else None, False
        if vol is None or turn is None or not (vol.is_finite() and turn.is_finite()):
            vol, turn, repaired = _volumes(vol, turn, h_[i], l_[i], c_[i])
        confirmed = now_ms is None or start + iv.ms <= now_ms
        c = Candle(
            symbol=sym,
            interval=iv,
            start=start,
            open=o_[i],
            high=h_[i],
            low=l_[i],
            close=c_[i],
            volume=vol,
            turnover=turn,
            confirmed=confirmed,
            category=category,
        )
        problems = check_candle(c, source=source)
        if problems:
            report.invalid_rows_dropped += 1
            report.events += problems
        elif not confirmed:
            report.open_bars_dropped += 1
        elif aligned and start % iv.ms:
            report.misaligned_rows += 1
        else:
            report.values_estimated += repaired
            out.append(c)
    return out


def load_klines(
    path: str | Path,
    *,
    symbol: str | None = None,
    interval: Interval | None = None,
    venue: str | None = None,
    coin: str | None = None,
    category: Category = Category.LINEAR,
    on_dirty: OnDirty = "clean",
    volume_is: Literal["base", "quote"] | None = None,
    now_ms: int | None = None,
    drop_last_open: bool | None = None,
    outliers: Literal["flag", "drop"] = "flag",
    config: ValidationConfig = DEFAULT_CONFIG,
) -> tuple[list[Candle], LoadReport]:
    """Load one candle series from a CSV or Parquet kline file; clean it (or reject it) and report.

    `volume_is='quote'` says the file's only volume column is quote turnover (auto for the known shared
    set); a missing volume or turnover is estimated from the typical price (h+l+c)/3 and reported.
    `now_ms` marks bars that had not closed by then and drops them; `drop_last_open` drops the bars at a
    venue's latest timestamp in venue/coin Parquet files (default there, per the data set's README).
    """
    p, t = _open(path, venue, coin, drop_last_open)
    roles = _roles(t.names, p)
    _require(roles, ("time", "open", "high", "low", "close"), t.names, p)
    if "volume" not in roles and "turnover" not in roles:
        raise DataError(f"{p}: no volume or turnover column in header {t.names}")
    _select(p, t, roles, venue, coin)
    if volume_is is None and any(d in p.parts for d in _KNOWN_TURNOVER_DIRS):
        volume_is = "quote"
    if volume_is == "quote" and "volume" in roles and "turnover" not in roles:
        roles["turnover"] = roles.pop("volume")
    report = LoadReport(path=str(p), layout=t.layout, rows_read=len(t.rows) + len(t.bad), venue=venue)
    report.symbol = sym = _symbol(p, t, roles, symbol, coin)
    report.open_bars_dropped = t.open_dropped
    report.rows_read += t.open_dropped
    rows = _parse_rows(t, roles, ("open", "high", "low", "close", "volume", "turnover"), report)
    keep = _order_and_dedupe(rows, report)
    starts = [rows.ts[i] for i in keep]
    iv = _infer_interval(starts, p, interval)
    report.interval = iv.value
    report.estimated_fields = tuple(f for f in ("volume", "turnover") if f not in roles)
    source = f"file:{p.name}"
    candles = _build_candles(rows, keep, sym, iv, category, now_ms, source, report)
    report.missing_starts = find_candle_gaps([c.start for c in candles], iv)
    px = {
        f: np.array([getattr(c, f) for c in candles], dtype=np.float64)
        for f in ("open", "high", "low", "close")
    }
    starts_arr = np.array([c.start for c in candles], dtype=np.int64)
    flagged = outlier_events(
        sym, starts_arr, px["open"], px["high"], px["low"], px["close"], config, source=source
    )
    report.events += flagged
    report.outliers_flagged = len({e.ts for e in flagged})
    if outliers == "drop" and flagged:
        bad_starts = {e.ts for e in flagged}
        candles = [c for c in candles if c.start not in bad_starts]
        report.outliers_dropped = len(bad_starts)
    report.rows_loaded = len(candles)
    if on_dirty == "reject" and report.dirty:
        raise DirtyDataError(report)
    return candles, report


def load_klines_array(path: str | Path, **kwargs: Any) -> tuple[KlineArrays, LoadReport]:
    """`load_klines` with the result as NumPy columns (same cleaning, same report)."""
    candles, report = load_klines(path, **kwargs)
    return to_arrays(candles), report


def load_funding(
    path: str | Path,
    *,
    symbol: str | None = None,
    venue: str | None = None,
    coin: str | None = None,
    category: Category = Category.LINEAR,
    on_dirty: OnDirty = "clean",
    config: ValidationConfig = DEFAULT_CONFIG,
) -> tuple[list[FundingRate], LoadReport]:
    """Load settled funding rates (CSV `timestamp,symbol,funding_rate` or venue/coin Parquet)."""
    p, t = _open(path, venue, coin, False)
    roles = _roles(t.names, p)
    _require(roles, ("time", "rate"), t.names, p)
    _select(p, t, roles, venue, coin)
    report = LoadReport(path=str(p), layout=t.layout, rows_read=len(t.rows) + len(t.bad), venue=venue)
    report.symbol = sym = _symbol(p, t, roles, symbol, coin)
    rows = _parse_rows(t, roles, ("rate",), report)
    out: list[FundingRate] = []
    for i in _order_and_dedupe(rows, report):
        f = FundingRate(symbol=sym, rate=rows.cols["rate"][i], ts=rows.ts[i], category=category)
        problems = check_funding(f, config, source=f"file:{p.name}")
        if problems:
            report.invalid_rows_dropped += 1
            report.events += problems
            continue
        out.append(f)
    report.rows_loaded = len(out)
    if on_dirty == "reject" and report.dirty:
        raise DirtyDataError(report)
    return out, report


__all__ = [
    "DirtyDataError",
    "KlineArrays",
    "LoadReport",
    "OnDirty",
    "load_funding",
    "load_klines",
    "load_klines_array",
    "to_arrays",
]
