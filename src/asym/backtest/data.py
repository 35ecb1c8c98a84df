"""Historical data for a backtest: candles and settled funding of many symbols, from files or the store.

Sources (`load_data(path, ...)`):

* a kline file (CSV or Parquet, any layout `asym.market.loaders.load_klines` reads: Bybit column order,
  Binance, the shared multi-venue Parquet with `venue`/`coin` columns, ...);
* a folder of such files (one symbol per file, the symbol from the name, e.g. `BTCUSDT_1m.csv`; several
  files for one symbol: the finest interval wins), or holding one multi-symbol Parquet;
* a DuckDB store written by `asym collect` / `asym record` (`*.duckdb`): the `candles` and
  `funding_rates` tables.

Funding comes from `funding=` or is found beside the candles: `funding_rates.parquet` (venue/coin), a
`funding/` folder (or `../funding/`) of `SYMBOL.csv`, or any file with `funding` in its name. Every file
goes through the project's loaders, so dirty input is cleaned (or rejected) and reported, never guessed.
Symbols are aligned by timestamp: each keeps its own candles; the runner asks "what was closed at t".
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from asym.analytics import CandleArrays
from asym.domain import Candle, FundingRate, Interval, Liquidation, LongShortRatio, OpenInterest
from asym.errors import ConfigError, DataError
from asym.market.loaders import LoadReport, load_funding, load_klines

_SYMBOL = re.compile(r"([A-Z0-9]{2,}USDT)")
_KLINE_SUFFIXES = (".csv", ".parquet", ".pq")
_MULTI_CANDLE_NAMES = ("candles.parquet",)
_FUNDING_NAMES = ("funding_rates.parquet", "funding.parquet", "funding_rates.csv")


@dataclass(frozen=True, slots=True)
class SymbolData:
    """One symbol's history: exact candles (oldest first, closed) with float columns, and funding."""

    symbol: str
    interval: Interval
    candles: tuple[Candle, ...]
    arrays: CandleArrays
    funding: tuple[FundingRate, ...] = ()
    source: str = ""
    open_interest: tuple[OpenInterest, ...] | None = None
    """Recorded open interest (a store that collected it), oldest first; None: not recorded."""
    long_short: tuple[LongShortRatio, ...] | None = None
    """Recorded long/short account ratio, oldest first; None: not recorded."""
    liquidations: tuple[Liquidation, ...] | None = None
    """Recorded public liquidations, oldest first; None: not recorded."""

    @property
    def first_ms(self) -> int:
        """Start of the first candle."""
        return self.candles[0].start

    @property
    def end_ms(self) -> int:
        """End of the last candle."""
        return self.candles[-1].start + self.interval.ms

    def closed_count(self, t: int) -> int:
        """How many candles had closed at time t (start + interval <= t)."""
        return int(np.searchsorted(self.arrays.start, t - self.interval.ms, side="right"))

    def funding_upto(self, t: int) -> int:
        """How many funding settlements happened at or before t."""
        return bisect_right(self.funding, t, key=lambda f: f.ts)


@dataclass(frozen=True, slots=True)
class MarketData:
    """Every symbol of a backtest (in the order asked for) and how it was loaded."""

    symbols: dict[str, SymbolData]
    reports: tuple[LoadReport, ...] = field(default=())

    def __getitem__(self, symbol: str) -> SymbolData:
        return self.symbols[symbol]

    @property
    def names(self) -> list[str]:
        """The symbols, in order."""
        return list(self.symbols)

    @property
    def first_ms(self) -> int:
        """Start of the earliest candle."""
        return min(s.first_ms for s in self.symbols.values())

    @property
    def end_ms(self) -> int:
        """End of the latest candle."""
        return max(s.end_ms for s in self.symbols.values())

    def fingerprint(self) -> str:
        """SHA-256 over every candle and funding rate (exact values): the data's identity for caches."""
        h = hashlib.sha256()
        for name, s in self.symbols.items():
            h.update(f"{name}|{s.interval.value}|{len(s.candles)}|{len(s.funding)}\n".encode())
            for c in s.candles:
                h.update(f"{c.start},{c.open},{c.high},{c.low},{c.close},{c.volume},{c.turnover}\n".encode())
            for f in s.funding:
                h.update(f"{f.ts},{f.rate}\n".encode())
            for o in s.open_interest or ():
                h.update(f"oi{o.ts},{o.open_interest}\n".encode())
            for r in s.long_short or ():
                h.update(f"ls{r.ts},{r.buy_ratio}\n".encode())
            for x in s.liquidations or ():
                h.update(f"lq{x.ts},{x.side},{x.price},{x.size}\n".encode())
        return h.hexdigest()

    def replace_symbol(self, data: SymbolData) -> MarketData:
        """A copy with one symbol's data replaced (tests perturb history this way)."""
        return MarketData({**self.symbols, data.symbol: data}, self.reports)


def parse_time(value: str) -> int:
    """`2025-06-01`, `2025-06-01T12:00`, `2025-06-01 12:00:00+02:00` or epoch ms -> epoch ms (naive = UTC)."""
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"not a date: {value!r} (use YYYY-MM-DD, an ISO date-time, or epoch ms)") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return int(d.timestamp() * 1000)


def format_time(ms: int) -> str:
    """Epoch ms as `YYYY-MM-DD HH:MM` UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def symbol_data(
    symbol: str,
    candles: Sequence[Candle],
    funding: Sequence[FundingRate] = (),
    source: str = "",
    *,
    open_interest: Sequence[OpenInterest] | None = None,
    long_short: Sequence[LongShortRatio] | None = None,
    liquidations: Sequence[Liquidation] | None = None,
) -> SymbolData:
    """Wrap loaded candles (one interval, oldest first), funding and what else was recorded."""
    closed = [c for c in candles if c.confirmed]
    if len(closed) < 2:
        raise DataError(f"{symbol}: needs at least two closed candles, got {len(closed)}")
    interval = closed[0].interval
    if any(c.interval is not interval or c.symbol != symbol for c in closed):
        raise DataError(f"{symbol}: candles of several intervals or symbols in one series")
    starts = [c.start for c in closed]
    if any(b <= a for a, b in pairwise(starts)):
        raise DataError(f"{symbol}: candle starts are not strictly increasing")
    arrays = CandleArrays.from_columns(
        start=starts,
        open=[float(c.open) for c in closed],
        high=[float(c.high) for c in closed],
        low=[float(c.low) for c in closed],
        close=[float(c.close) for c in closed],
        volume=[float(c.volume) for c in closed],
        turnover=[float(c.turnover) for c in closed],
    )
    rates = sorted((f for f in funding if f.symbol == symbol), key=lambda f: f.ts)

    def recorded(xs: Sequence[Any] | None) -> tuple[Any, ...] | None:
        return (
            None if xs is None else tuple(sorted((x for x in xs if x.symbol == symbol), key=lambda x: x.ts))
        )

    return SymbolData(
        symbol,
        interval,
        tuple(closed),
        arrays,
        tuple(rates),
        source,
        recorded(open_interest),
        recorded(long_short),
        recorded(liquidations),
    )


def trim(data: MarketData, start_ms: int | None, end_ms: int | None) -> MarketData:
    """Only candles starting in [start_ms, end_ms), and funding and the other recorded series in
    [start_ms, end_ms] (None: unbounded)."""

    def inside(xs: Sequence[Any] | None) -> list[Any] | None:
        if xs is None:
            return None
        return [
            x for x in xs if (start_ms is None or x.ts >= start_ms) and (end_ms is None or x.ts <= end_ms)
        ]

    out: dict[str, SymbolData] = {}
    for name, s in data.symbols.items():
        keep = [
            c
            for c in s.candles
            if (start_ms is None or c.start >= start_ms) and (end_ms is None or c.start < end_ms)
        ]
        if len(keep) < 2:
            raise DataError(f"{name}: fewer than two candles between the requested times")
        out[name] = symbol_data(
            name,
            keep,
            inside(s.funding) or [],
            s.source,
            open_interest=inside(s.open_interest),
            long_short=inside(s.long_short),
            liquidations=inside(s.liquidations),
        )
    return MarketData(out, data.reports)


# ---------------------------------------------------------------- files


def _symbol_of(path: Path) -> str | None:
    m = _SYMBOL.search(path.name.upper())
    return m.group(1) if m else None


def _coins_in(path: Path, venue: str) -> list[str]:
    """Coins of a venue/coin Parquet file (reads two columns only)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = {n.lower(): n for n in pq.read_schema(path).names}
    if "coin" not in names:
        return []
    cols = [names["coin"]] + ([names["venue"]] if "venue" in names else [])
    table = pq.read_table(path, columns=cols)
    if "venue" in names:
        table = table.filter(pc.equal(table.column(names["venue"]), venue))
    return sorted({str(c).upper() for c in table.column(names["coin"]).to_pylist()})


def _is_multi(path: Path) -> bool:
    if path.suffix.lower() not in (".parquet", ".pq"):
        return False
    import pyarrow.parquet as pq

    return "coin" in {n.lower() for n in pq.read_schema(path).names}


def _funding_files(root: Path, symbol: str) -> list[Path]:
    """Funding files that may hold `symbol`, nearest first."""
    folder = root if root.is_dir() else root.parent
    found: list[Path] = []
    for name in _FUNDING_NAMES:
        if (folder / name).is_file():
            found.append(folder / name)
    for sub in (folder / "funding", folder.parent / "funding"):
        for suffix in (".csv", ".parquet"):
            if (sub / f"{symbol}{suffix}").is_file():
                found.append(sub / f"{symbol}{suffix}")
    found += sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and "funding" in p.name.lower() and _symbol_of(p) == symbol and p not in found
    )
    return found


def _load_funding_for(
    symbol: str, files: Sequence[Path], venue: str, reports: list[LoadReport]
) -> list[FundingRate]:
    coin = symbol[:-4]
    for f in files:
        try:
            if _is_multi(f):
                if coin not in _coins_in(f, venue):
                    continue
                rates, report = load_funding(f, venue=venue, coin=coin, symbol=symbol)
            else:
                rates, report = load_funding(f, symbol=symbol)
        except DataError:
            continue  # a file that is not a funding file of this symbol: try the next one
        reports.append(report)
        if rates:
            return rates
    return []


def _header(path: Path) -> set[str]:
    """Lower-case column names of a Parquet schema or a CSV's first line (empty when unreadable)."""
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return {n.lower() for n in pq.read_schema(path).names}
        with path.open(newline="") as fh:
            return {c.strip().lower() for c in fh.readline().split(",")}
    except (OSError, ValueError, UnicodeDecodeError):
        return set()
    except Exception:  # pyarrow raises its own types for a file that is not Parquet
        return set()


def _looks_like_klines(path: Path) -> bool:
    """A file with price columns (or a headerless CSV in Bybit's order); not OI, liquidations, books."""
    cols = _header(path)
    if not cols:
        return False
    if all(c.replace(".", "").replace("-", "").isdigit() or not c for c in cols):
        return True  # headerless: the loader reads Bybit's column order
    return bool(cols & {"close", "c", "close_price"}) and bool(cols & {"open", "o", "open_price"})


def _kline_candidates(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ConfigError(f"--data {root}: no such file or folder")
    return sorted(
        p
        for p in root.iterdir()
        if p.is_file()
        and p.suffix.lower() in _KLINE_SUFFIXES
        and "funding" not in p.name.lower()
        and _looks_like_klines(p)
    )


def load_files(
    path: str | Path,
    symbols: Sequence[str] | None,
    *,
    venue: str = "bybit",
    funding: str | Path | None = None,
) -> MarketData:
    """Candles (and funding) of `symbols` (None: every symbol found) from a file or a folder."""
    root = Path(path)
    files = _kline_candidates(root)
    reports: list[LoadReport] = []
    loaded: dict[str, tuple[list[Candle], str]] = {}
    wanted = {s.upper() for s in symbols} if symbols is not None else None
    for f in files:
        if _is_multi(f) or f.name in _MULTI_CANDLE_NAMES:
            for coin in _coins_in(f, venue):
                sym = f"{coin}USDT"
                if wanted is not None and sym not in wanted:
                    continue
                candles, report = load_klines(f, venue=venue, coin=coin, symbol=sym)
                reports.append(report)
                _keep_finest(loaded, sym, candles, str(f))
            continue
        named = _symbol_of(f)
        if named is None or (wanted is not None and named not in wanted):
            continue
        candles, report = load_klines(f, symbol=named)
        reports.append(report)
        _keep_finest(loaded, named, candles, str(f))
    order = [s.upper() for s in symbols] if symbols is not None else sorted(loaded)
    missing = [s for s in order if s not in loaded]
    if missing:
        raise DataError(f"--data {root}: no candles found for {', '.join(missing)}")
    out: dict[str, SymbolData] = {}
    for sym in order:
        candles, source = loaded[sym]
        ffiles = [Path(funding)] if funding is not None else _funding_files(root, sym)
        rates = _load_funding_for(sym, ffiles, venue, reports)
        out[sym] = symbol_data(sym, candles, rates, source)
    return MarketData(out, tuple(reports))


def _keep_finest(
    loaded: dict[str, tuple[list[Candle], str]], sym: str, candles: list[Candle], source: str
) -> None:
    if len(candles) < 2:
        return
    old = loaded.get(sym)
    if old is None or candles[0].interval.ms < old[0][0].interval.ms:
        loaded[sym] = (candles, source)


# ---------------------------------------------------------------- store


async def load_store(
    path: str | Path,
    symbols: Sequence[str],
    *,
    start_ms: int | None,
    end_ms: int | None,
    venue: str = "bybit",
    intervals: Sequence[Interval] = (Interval.M1, Interval.M5, Interval.M15, Interval.H1),
) -> MarketData:
    """Candles (finest stored interval first) and funding of `symbols` from an asym DuckDB store."""
    from asym.store import Store, StoreConfig
    from asym.store import queries as q

    if not await asyncio.to_thread(Path(path).is_file):
        raise ConfigError(f"--data {path}: no such store file")
    store = await Store.open(StoreConfig(path=str(path)))
    try:
        out: dict[str, SymbolData] = {}
        for sym in symbols:
            candles: list[Candle] = []
            for iv in intervals:
                candles = await store.candles(sym, iv, start=start_ms, end=end_ms, venue=venue)
                if len(candles) >= 2:
                    break
            if len(candles) < 2:
                raise DataError(f"store {path}: no candles for {sym} (venue {venue})")
            # The store's end is exclusive; a settlement at exactly end_ms belongs to the last step.
            fend = None if end_ms is None else end_ms + 1
            rates = await store.query(q.funding, sym, start=start_ms, end=fend, venue=venue)
            # What the collector recorded beside candles; a table without rows for the symbol means "not
            # recorded" (None), so the enhanced data flags it instead of reading it as "nothing happened".
            oi = await store.query(q.open_interest, sym, start=start_ms, end=fend, venue=venue)
            ls = await store.query(q.long_short, sym, start=start_ms, end=fend, venue=venue)
            liq = await store.query(q.liquidations, sym, start=start_ms, end=fend, venue=venue)
            out[sym] = symbol_data(
                sym,
                candles,
                rates,
                f"store:{path}",
                open_interest=oi or None,
                long_short=ls or None,
                liquidations=liq or None,
            )
        return MarketData(out)
    finally:
        await store.close()


async def load_data(
    path: str | Path,
    symbols: Sequence[str] | None,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    venue: str = "bybit",
    funding: str | Path | None = None,
) -> MarketData:
    """Load from a store (`*.duckdb`) or kline files, keeping candles in [start_ms, end_ms)."""
    p = Path(path)
    if p.suffix.lower() in (".duckdb", ".db"):
        if not symbols:
            raise ConfigError("a store backtest needs --symbols (the store may hold hundreds)")
        data = await load_store(p, symbols, start_ms=start_ms, end_ms=end_ms, venue=venue)
    else:
        data = await asyncio.to_thread(load_files, p, symbols, venue=venue, funding=funding)
    return trim(data, start_ms, end_ms)


__all__ = [
    "MarketData",
    "SymbolData",
    "format_time",
    "load_data",
    "load_files",
    "load_store",
    "parse_time",
    "symbol_data",
    "trim",
]
