"""Loading recorded klines (CSV or Parquet) into exact integer `Recording`s.

Accepted layouts (Bybit kline column order, with or without a header):
* `timestamp,open,high,low,close,volume[,turnover]` with ISO or epoch (ms or s) timestamps;
* `timestamp,datetime,open,high,low,close,volume` (the extra datetime column is ignored);
* Parquet with `timestamp,venue,coin,o,h,l,c,v` (venue `bybit` is picked, symbol = coin + USDT) or with
  `timestamp,open,high,low,close,volume`.
The symbol comes from the file name (`BTCUSDT_1m.csv`, `BTCUSDT_60.csv` -> BTCUSDT) or the coin column.
Rows are sorted by time and duplicate timestamps keep the last row; gaps inside the recording are filled
with flat zero-volume candles at the previous close. A `volume` column whose value per minute would exceed
$10B (impossible for base-coin volume) is taken as quote turnover and converted to base coin.
Prices keep every recorded digit (tick = the finest decimal seen, or the symbol's finer Bybit tick).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from asym.errors import DataError
from asym.sim.market.instruments import SymbolProfile, qty_step_for_price

MINUTE_MS = 60_000
_TURNOVER_PER_MINUTE_LIMIT = 1e10
_NAME = re.compile(r"^([A-Z0-9]+?USDT)(?:[_\-.].*)?$")


@dataclass(slots=True)
class Recording:
    """One symbol's recorded candles as exact integers, oldest first, gapless on its interval."""

    symbol: str
    interval_ms: int
    start: np.ndarray
    """Candle start times (ms)."""
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    """Qty steps."""
    tick: Decimal
    qty_step: Decimal
    source: str

    @property
    def first_ms(self) -> int:
        """Start of the first candle."""
        return int(self.start[0])

    @property
    def end_ms(self) -> int:
        """End of the last candle."""
        return int(self.start[-1]) + self.interval_ms


@dataclass(slots=True)
class _Text:
    """Columns of a CSV as read (strings)."""

    ts: list[str] = field(default_factory=list)
    o: list[str] = field(default_factory=list)
    h: list[str] = field(default_factory=list)
    lo: list[str] = field(default_factory=list)
    c: list[str] = field(default_factory=list)
    v: list[str] = field(default_factory=list)
    turnover: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Columns:
    """Candle columns of one symbol as numbers, in file order."""

    ts: np.ndarray
    o: np.ndarray
    h: np.ndarray
    lo: np.ndarray
    c: np.ndarray
    v: np.ndarray
    has_turnover: bool = False


def _parse_ts(value: str, where: str) -> int:
    s = value.strip()
    try:
        x = float(s)
    except ValueError:
        try:
            d = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError as exc:
            raise DataError(f"{where}: unreadable timestamp {value!r}") from exc
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        return round(d.timestamp() * 1000)
    if not math.isfinite(x):
        raise DataError(f"{where}: unreadable timestamp {value!r}")
    return round(x * 1000) if x < 1e11 else round(x)


def _symbol_from_name(path: Path) -> str:
    stem = path.stem.upper()
    m = _NAME.match(stem)
    if m is None:
        raise DataError(f"{path}: cannot tell the symbol from the file name (expected e.g. BTCUSDT_1m.csv)")
    return m.group(1)


def read_csv(path: Path) -> dict[str, Columns]:
    """Candles of a CSV file (symbol from the file name)."""
    symbol = _symbol_from_name(path)
    raw = _Text()
    with path.open(newline="") as f:
        rows = csv.reader(f)
        first = next(rows, None)
        if first is None:
            raise DataError(f"{path}: empty file")
        header = [x.strip().lower() for x in first]
        has_header = not _looks_numeric(first[0]) and not _looks_iso(first[0])
        cols = _columns(header if has_header else [], path, len(first))
        if not has_header:
            _append(raw, first, cols, f"{path}: line 1")
        for n, row in enumerate(rows, start=2):
            if not row or all(not x.strip() for x in row):
                continue
            _append(raw, row, cols, f"{path}: line {n}")
    offset = 2 if has_header else 1
    where = str(path)
    return {
        symbol: Columns(
            ts=np.array(_parse_ts_bulk(raw.ts, where, offset), dtype=np.int64),
            o=_floats(raw.o, where, offset),
            h=_floats(raw.h, where, offset),
            lo=_floats(raw.lo, where, offset),
            c=_floats(raw.c, where, offset),
            v=_floats(raw.v, where, offset),
            has_turnover=bool(raw.turnover),
        )
    }


def _parse_ts_bulk(values: list[str], where: str, offset: int = 1) -> list[int]:
    """Epoch ms of a timestamp column: numbers (s or ms) or ISO-8601 (UTC unless an offset says otherwise)."""
    if not values:
        return []
    try:
        x = np.array(values, dtype=np.float64)
    except ValueError:
        x = None
    if x is not None and np.all(np.isfinite(x)):
        return np.where(x < 1e11, np.rint(x * 1000), np.rint(x)).astype(np.int64).tolist()
    stripped = [v.strip() for v in values]
    if all(v.endswith("+00:00") for v in stripped) or all(v.endswith("Z") for v in stripped):
        cut = [v[:-6] if v.endswith("+00:00") else v[:-1] for v in stripped]
        try:
            return np.array(cut, dtype="datetime64[ms]").astype(np.int64).tolist()
        except ValueError:
            pass
    return [_parse_ts(v, f"{where}: line {i + offset}") for i, v in enumerate(values)]


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _looks_iso(s: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}", s.strip()))


def _columns(header: list[str], path: Path, width: int) -> dict[str, int]:
    """Column positions; without a header, Bybit's order (start, open, high, low, close, volume, turnover)."""
    if not header:
        if width < 6:
            raise DataError(f"{path}: expected at least 6 columns (time, open, high, low, close, volume)")
        cols = {"ts": 0, "o": 1, "h": 2, "lo": 3, "c": 4, "v": 5}
        if width >= 7:
            cols["turnover"] = 6
        return cols
    names = {
        "ts": ("timestamp", "time", "start", "starttime", "open_time", "ts"),
        "o": ("open", "o"),
        "h": ("high", "h"),
        "lo": ("low", "l"),
        "c": ("close", "c"),
        "v": ("volume", "v", "vol"),
        "turnover": ("turnover", "quote_volume"),
    }
    found: dict[str, int] = {}
    for key, options in names.items():
        for opt in options:
            if opt in header:
                found[key] = header.index(opt)
                break
    missing = [k for k in ("ts", "o", "h", "lo", "c", "v") if k not in found]
    if missing:
        raise DataError(f"{path}: missing columns {missing} in header {header}")
    return found


def _append(raw: _Text, row: list[str], cols: dict[str, int], where: str) -> None:
    try:
        raw.ts.append(row[cols["ts"]])
        raw.o.append(row[cols["o"]].strip())
        raw.h.append(row[cols["h"]].strip())
        raw.lo.append(row[cols["lo"]].strip())
        raw.c.append(row[cols["c"]].strip())
        raw.v.append(row[cols["v"]].strip())
        if "turnover" in cols:
            raw.turnover.append(row[cols["turnover"]].strip())
    except IndexError as exc:
        raise DataError(f"{where}: too few columns ({len(row)})") from exc


def read_parquet(path: Path) -> dict[str, Columns]:
    """Candles of a Parquet file, by symbol (venue `bybit` when there is a venue column)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc
    lower = {n.lower(): n for n in table.column_names}
    pick = {
        "o": ("open", "o"),
        "h": ("high", "h"),
        "lo": ("low", "l"),
        "c": ("close", "c"),
        "v": ("volume", "v"),
    }
    cols: dict[str, str] = {}
    for key, options in pick.items():
        for opt in options:
            if opt in lower:
                cols[key] = lower[opt]
                break
    ts_col = next((lower[c] for c in ("timestamp", "time", "start", "ts") if c in lower), None)
    if ts_col is None or len(cols) < 5:
        raise DataError(f"{path}: expected timestamp and open/high/low/close/volume (or o/h/l/c/v) columns")
    if "venue" in lower:
        table = table.filter(pc.equal(pc.utf8_lower(table.column(lower["venue"])), "bybit"))
        if table.num_rows == 0:
            raise DataError(f"{path}: no rows for venue bybit")
    ts_arr = table.column(ts_col)
    if pa.types.is_timestamp(ts_arr.type):  # to epoch ms whatever the unit
        ts_ms = pc.cast(pc.cast(ts_arr, pa.timestamp("ms", tz="UTC")), pa.int64()).to_numpy()
    else:
        ts_ms = np.array(_parse_ts_bulk([str(x) for x in ts_arr.to_pylist()], str(path), 0), dtype=np.int64)
    try:
        values = {
            k: table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
            for k, name in cols.items()
        }
    except pa.ArrowInvalid as exc:
        raise DataError(f"{path}: non-numeric prices or volumes ({exc})") from exc
    for k, arr in values.items():
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{path}: missing or non-finite values in column {cols[k]!r}")
    if "coin" in lower:
        coins = np.array([str(x).upper() for x in table.column(lower["coin"]).to_pylist()])
    else:
        coins = np.array([_symbol_from_name(path)[:-4]] * table.num_rows)
    out: dict[str, Columns] = {}
    for coin in sorted(set(coins.tolist())):
        sel = coins == coin
        out[f"{coin}USDT"] = Columns(
            ts=ts_ms[sel],
            o=values["o"][sel],
            h=values["h"][sel],
            lo=values["lo"][sel],
            c=values["c"][sel],
            v=values["v"][sel],
        )
    return out


def _floats(values: list[str], where: str, offset: int = 1) -> np.ndarray:
    """A column of decimal strings as finite floats; DataError naming the line of the first bad value."""
    try:
        arr = np.array(values, dtype=np.float64)
    except ValueError:
        for i, v in enumerate(values):
            try:
                float(v)
            except ValueError:
                raise DataError(f"{where}: line {i + offset}: not a number: {v!r}") from None
        raise
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise DataError(f"{where}: line {bad + offset}: not a finite number: {values[bad]!r}")
    return arr


def _decimals(arr: np.ndarray, where: str) -> int:
    """The fewest decimals that write every value of the column exactly."""
    for d in range(0, 13):
        scaled = arr * (10.0**d)
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-7 * np.maximum(1.0, np.abs(scaled))):
            return d
    raise DataError(f"{where}: values with more than 12 decimals")


def _to_units(arr: np.ndarray, decimals: int) -> np.ndarray:
    """Exact integers value * 10**decimals (the decimals were chosen so that this is exact)."""
    return np.rint(arr * (10.0**decimals)).astype(np.int64)


def build_recording(symbol: str, raw: Columns, source: str, known: SymbolProfile | None) -> Recording:
    """Sort, de-duplicate, validate and convert one symbol's candles to exact integers."""
    if raw.ts.size < 2:
        raise DataError(f"{source}: {symbol} needs at least two candles")
    # Sort by time, keep the last row of duplicate timestamps.
    order = np.argsort(raw.ts, kind="stable")
    ts = raw.ts[order]
    keep = np.append(ts[1:] != ts[:-1], True)
    idx = order[keep]
    ts = ts[keep]
    fo, fh, fl, fc, vols = raw.o[idx], raw.h[idx], raw.lo[idx], raw.c[idx], raw.v[idx]
    interval = int(np.bincount((np.diff(ts) // MINUTE_MS).clip(0, 100_000)).argmax()) * MINUTE_MS
    if interval <= 0:
        raise DataError(f"{source}: {symbol}: candles are not on whole minutes")
    # Monthly candles are not evenly spaced; every candle must still start on a whole minute.
    if np.any(ts % MINUTE_MS):
        raise DataError(f"{source}: {symbol}: timestamps are not on minute boundaries")
    dec = max(_decimals(x, source) for x in (fo, fh, fl, fc))
    data_tick = Decimal(1).scaleb(-dec)
    ticks = [_to_units(x, dec) for x in (fo, fh, fl, fc)]
    oo, hh, ll, cc = ticks
    if np.any(hh < np.maximum(oo, cc)) or np.any(ll > np.minimum(oo, cc)) or np.any(ll <= 0):
        bad = int(np.flatnonzero((hh < np.maximum(oo, cc)) | (ll > np.minimum(oo, cc)) | (ll <= 0))[0])
        raise DataError(
            f"{source}: {symbol}: inconsistent candle at {int(ts[bad])} (high/low do not bound open/close)"
        )
    tick = data_tick
    if known is not None and known.tick < data_tick and (data_tick % known.tick) == 0:
        tick = known.tick
    factor = int(data_tick / tick)
    oo, hh, ll, cc = (x * factor for x in (oo, hh, ll, cc))
    price = float(np.median(cc)) * float(tick)
    if np.any(vols < 0):
        raise DataError(f"{source}: {symbol}: negative volume")
    step = known.qty_step if known is not None else qty_step_for_price(Decimal(repr(price)))
    # With a turnover column the volume column is base coin; without, a "volume" worth more than $10B a
    # minute can only be quote turnover (e.g. bybit/btcusdt-15m-1h-4h-1d-1w): convert it to base coin.
    if (
        not raw.has_turnover
        and float(np.median(vols)) * price / (interval / MINUTE_MS) > _TURNOVER_PER_MINUTE_LIMIT
    ):
        vols = vols / ((oo + hh + ll + cc) / 4.0 * float(tick))
    else:
        data_step = Decimal(1).scaleb(-_decimals(vols, source))
        if data_step < step:
            step = data_step  # keep every recorded digit
    vol_steps = np.rint(vols / float(step)).astype(np.int64)
    return _fill_gaps(
        Recording(symbol, interval, ts, oo, hh, ll, cc, vol_steps, tick, step, source),
    )


def _fill_gaps(r: Recording) -> Recording:
    """Insert flat zero-volume candles where the recording has holes (fixed-length intervals only)."""
    if r.interval_ms > 86_400_000:
        return r
    steps = (r.start - r.start[0]) // r.interval_ms
    if steps[-1] + 1 == r.start.size:
        return r
    n = int(steps[-1]) + 1
    full = r.start[0] + np.arange(n, dtype=np.int64) * r.interval_ms
    pos = np.full(n, -1, dtype=np.int64)
    pos[steps] = np.arange(r.start.size)
    src = pos.copy()
    np.maximum.accumulate(src, out=src)
    have = pos >= 0
    close = r.close[src]
    o = np.where(have, r.open[np.maximum(pos, 0)], close)
    h = np.where(have, r.high[np.maximum(pos, 0)], close)
    lo = np.where(have, r.low[np.maximum(pos, 0)], close)
    c = np.where(have, r.close[np.maximum(pos, 0)], close)
    v = np.where(have, r.volume[np.maximum(pos, 0)], 0)
    return Recording(r.symbol, r.interval_ms, full, o, h, lo, c, v, r.tick, r.qty_step, r.source)
