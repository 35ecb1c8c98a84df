"""Replay of recorded klines: a file or a folder of recordings (asym.sim.market.recordings), coarser
candles expanded to 1m by a bridge that keeps each source candle's OHLC exact, and the replayed symbols'
series, with a generated continuation (anchored at the last recorded close) after the recording ends.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np

from asym.errors import DataError
from asym.sim.market.generator import DAY_MINUTES, Component, SeriesParams, bridge_extremes, series_params
from asym.sim.market.instruments import SymbolProfile, _make_profile, build_universe
from asym.sim.market.live import SymbolContext
from asym.sim.market.paths import candle_path
from asym.sim.market.recordings import Recording, build_recording, read_csv, read_parquet
from asym.sim.market.seeding import rng_for, symbol_key
from asym.sim.market.series import (
    AuxModel,
    BaseSeries,
    DayBlock,
    GeneratedSeries,
    default_aux,
    typical_turnover,
)
from asym.sim.market.universe import GeneratedUniverse, context_for, sizing

MINUTE_MS = 60_000


def expand_candle(
    o: int, h: int, lo: int, c: int, v: int, minutes: int, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """1m candles (o, h, l, c, v) of one `minutes`-long candle whose aggregate is exactly (o, h, l, c, v):
    minute boundaries follow a bridge through the extremes in a plausible order, intra-minute extremes are
    bridge maxima clipped into [l, h], volume is split in whole steps."""
    if minutes == 1:
        one = np.array
        return one([o]), one([h]), one([lo]), one([c]), one([v])
    sd_candle = math.log(max(h, 1) / max(lo, 1)) / math.sqrt(4 * math.log(2)) if h > lo else 0.0
    price = (h + lo) / 2.0
    step_sd = sd_candle * price / math.sqrt(minutes)
    edges = candle_path(o, h, lo, c, minutes + 1, max(step_sd * 0.6, 1e-9), rng)
    mo = edges[:-1]
    mc = edges[1:]
    r = np.log(np.maximum(mc, 1) / np.maximum(mo, 1))
    hi, low = bridge_extremes(r, np.full(minutes, sd_candle / math.sqrt(minutes) * 0.5), rng)
    mh = np.minimum(h, np.maximum(np.maximum(mo, mc), np.rint(mo * np.exp(hi)).astype(np.int64)))
    ml = np.maximum(lo, np.minimum(np.minimum(mo, mc), np.rint(mo * np.exp(low)).astype(np.int64)))
    # Short candles (2-3 minutes) cannot place both extremes on minute edges: put them inside a minute.
    if mh.max() < h:
        mh[int(np.argmax(np.maximum(mo, mc)))] = h
    if ml.min() > lo:
        ml[int(np.argmin(np.minimum(mo, mc)))] = lo
    if v <= 0:
        mv = np.zeros(minutes, dtype=np.int64)
    else:
        w = np.abs(np.diff(edges)).astype(np.float64) + max(1.0, float(np.abs(np.diff(edges)).mean()))
        w *= np.exp(0.5 * rng.standard_normal(minutes))
        mv = _split_weighted(v, w)
    return mo, mh, ml, mc, mv


def _split_weighted(total: int, w: np.ndarray) -> np.ndarray:
    raw = total * w / w.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        base[np.argsort(raw - base)[::-1][:rest]] += 1
    return base


class Replay:
    """All recordings of a replay source, by symbol."""

    def __init__(self, recordings: dict[str, Recording], seed: int) -> None:
        if not recordings:
            raise DataError("no recordings to replay")
        self.recordings = recordings
        self.seed = seed
        known = {p.symbol: p for p in build_universe(100)}
        self._profiles = [self._profile(r, known.get(r.symbol), i) for i, r in enumerate(recordings.values())]

    @property
    def first_ms(self) -> int:
        """Start of the earliest recording."""
        return min(r.first_ms for r in self.recordings.values())

    @property
    def last_ms(self) -> int:
        """End of the latest recording."""
        return max(r.end_ms for r in self.recordings.values())

    def default_start_ms(self, history_days: int) -> int:
        """First minute after `history_days` of history, or the middle of a shorter recording."""
        first, last = self.first_ms, self.last_ms
        want = first + history_days * 86_400_000
        if want >= last:
            want = first + (last - first) // 2
        return want // MINUTE_MS * MINUTE_MS

    def resolve_start(self, start_ms: int, history_days: int) -> int:
        """`start_ms` when it lies inside the recording (after its first minute), else the default start."""
        if self.first_ms + MINUTE_MS < start_ms < self.last_ms:
            return start_ms
        return self.default_start_ms(history_days)

    def profiles(self) -> list[SymbolProfile]:
        """Profiles of the replayed symbols (filters from the data; model scales estimated from it)."""
        return list(self._profiles)

    def _profile(self, r: Recording, known: SymbolProfile | None, i: int) -> SymbolProfile:
        closes = r.close.astype(np.float64) * float(r.tick)
        price = Decimal(repr(float(closes[-1]))).quantize(r.tick)
        lr = np.diff(np.log(np.maximum(closes, 1e-12)))
        per_year = 525_600 * MINUTE_MS / r.interval_ms
        vol = float(np.std(lr) * math.sqrt(per_year)) if lr.size > 2 else 0.6
        vol = min(3.0, max(0.05, vol if math.isfinite(vol) else 0.6))
        turnover = (
            float(np.mean(r.volume)) * float(r.qty_step) * float(np.mean(closes)) * 86_400_000 / r.interval_ms
        )
        base = r.symbol[:-4]
        rank = known.rank if known is not None else 100 + i
        p = known or _make_profile(rank, base, price, vol, 0.6)
        max_qty = (Decimal(10) ** 9 * r.qty_step).quantize(r.qty_step) if known is None else p.max_order_qty
        return SymbolProfile(
            symbol=r.symbol,
            base_coin=base,
            rank=rank,
            base_price=price,
            tick=r.tick,
            qty_step=r.qty_step,
            max_order_qty=max_qty,
            max_mkt_order_qty=p.max_mkt_order_qty
            if known is not None
            else (max_qty / 5).quantize(r.qty_step),
            max_leverage=p.max_leverage,
            funding_cap=p.funding_cap,
            vol_ann=vol,
            corr_btc=p.corr_btc,
            tail=p.tail,
            daily_turnover=max(turnover, 1e5),
            avg_trade_value=p.avg_trade_value,
            launch_time=min(p.launch_time, r.first_ms),
        )

    def build(
        self, p: SymbolProfile, seed: int, universe: GeneratedUniverse
    ) -> tuple[BaseSeries, SymbolContext]:
        """Series and context of one replayed symbol."""
        rec = self.recordings[p.symbol]
        series = ReplaySeries(rec, p, seed)
        ctx = context_for(
            p,
            seed,
            generated=False,
            sigma_ref=series.sigma_ref,
            range_k=0.8,
            price=float(p.base_price),
            daily_turnover=p.daily_turnover,
        )
        return series, ctx


def load_replay(source: Path | str, *, seed: int = 7) -> Replay:
    """Load a file or a folder of files (*.csv, *.parquet). Several files for one symbol: the finest
    interval wins."""
    path = Path(source)
    if not path.exists():
        raise DataError(f"replay source {path} does not exist")
    files = (
        sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
        if path.is_dir()
        else [path]
    )
    if not files:
        raise DataError(f"{path}: no .csv or .parquet files")
    known = {p.symbol: p for p in build_universe(100)}
    best: dict[str, Recording] = {}
    for f in files:
        if f.suffix.lower() == ".parquet":
            raws = read_parquet(f)
        elif f.suffix.lower() == ".csv":
            raws = read_csv(f)
        else:
            raise DataError(f"{f}: unsupported file type (use .csv or .parquet)")
        for symbol, raw in raws.items():
            rec = build_recording(symbol, raw, str(f), known.get(symbol))
            old = best.get(symbol)
            if old is None or rec.interval_ms < old.interval_ms:
                best[symbol] = rec
    return Replay(best, seed)


class ReplaySeries(BaseSeries):
    """Day blocks of a replayed symbol: the recording expanded to 1m inside it, a generated continuation
    (anchored at the last recorded close) after it."""

    def __init__(self, rec: Recording, p: SymbolProfile, seed: int, cache_days: int = 48) -> None:
        self.rec = rec
        self.p = p
        self.seed = seed
        self.first_minute = rec.first_ms // MINUTE_MS
        self.end_minute = rec.end_ms // MINUTE_MS
        self.sigma_ref = p.vol_ann / math.sqrt(525_600)
        self._blocks = 0
        self._cache: dict[int, DayBlock] = {}
        self._cache_days = cache_days
        self._expanded: dict[int, tuple[np.ndarray, ...]] = {}
        price = float(p.base_price)
        s = sizing(p, price, p.daily_turnover)
        self.mean_volume_steps = max(1.0, float(np.mean(rec.volume)) * MINUTE_MS / rec.interval_ms)
        origin_day = self.first_minute // DAY_MINUTES
        self.aux = AuxModel(
            default_aux(
                p.vol_ann, s.oi_base, p.rank, lambda salt: (symbol_key(p.symbol + salt) % 1000) / 1000
            ),
            seed,
            p.symbol,
            origin_day,
        )
        self._continuation: GeneratedSeries | None = None

    @property
    def blocks_generated(self) -> int:
        """How many day blocks were computed."""
        return self._blocks

    def _source_minutes(self, a: int, b: int) -> tuple[np.ndarray, ...]:
        """(o, h, l, c, v) of recorded minutes [a, b) (inside the recording)."""
        rec = self.rec
        k = rec.interval_ms // MINUTE_MS
        first = self.first_minute
        if k == 1:
            # 1m recordings (gapless after loading) are sliced directly.
            sl = slice(a - first, b - first)
            return rec.open[sl], rec.high[sl], rec.low[sl], rec.close[sl], rec.volume[sl]
        out = [np.zeros(b - a, dtype=np.int64) for _ in range(5)]
        i = max(0, int(np.searchsorted(rec.start, a * MINUTE_MS, side="right")) - 1)
        while True:
            if i >= rec.start.size:
                break
            s_min = int(rec.start[i]) // MINUTE_MS
            e_min = int(rec.start[i + 1]) // MINUTE_MS if i + 1 < rec.start.size else s_min + k
            if s_min >= b:
                break
            exp = self._expand(i, e_min - s_min)
            lo_i = max(a, s_min)
            hi_i = min(b, e_min)
            for j in range(5):
                out[j][lo_i - a : hi_i - a] = exp[j][lo_i - s_min : hi_i - s_min]
            i += 1
        return tuple(out)

    def _expand(self, i: int, minutes: int) -> tuple[np.ndarray, ...]:
        hit = self._expanded.get(i)
        if hit is not None:
            return hit
        rec = self.rec
        if len(self._expanded) > 4096:
            self._expanded.clear()
        k = rec.interval_ms // MINUTE_MS
        if k < DAY_MINUTES and DAY_MINUTES % k == 0:
            # Candles that tile a day are expanded together with one generator per UTC day (cheaper than
            # one per candle, and still independent of which day is asked for first).
            day = int(rec.start[i]) // MINUTE_MS // DAY_MINUTES
            lo = int(np.searchsorted(rec.start, day * DAY_MINUTES * MINUTE_MS, side="left"))
            hi = int(np.searchsorted(rec.start, (day + 1) * DAY_MINUTES * MINUTE_MS, side="left"))
            rng = rng_for(self.seed, rec.symbol, "expand-day", day)
            for j in range(lo, hi):
                self._expanded[j] = expand_candle(
                    int(rec.open[j]),
                    int(rec.high[j]),
                    int(rec.low[j]),
                    int(rec.close[j]),
                    int(rec.volume[j]),
                    k,
                    rng,
                )
            return self._expanded[i]
        rng = rng_for(self.seed, rec.symbol, "expand", int(rec.start[i]))
        hit = expand_candle(
            int(rec.open[i]),
            int(rec.high[i]),
            int(rec.low[i]),
            int(rec.close[i]),
            int(rec.volume[i]),
            minutes,
            rng,
        )
        self._expanded[i] = hit
        return hit

    def _continue(self) -> GeneratedSeries:
        if self._continuation is None:
            p = self.p
            universe = GeneratedUniverse(self.seed, self.end_minute // DAY_MINUTES, self.end_minute)
            sp: SeriesParams = series_params(p.vol_ann, 0.6, p.tail, universe.factor.params.vol_ann)
            idio = (
                Component(sp.idio, self.seed, p.symbol, universe.origin_day) if sp.idio is not None else None
            )
            last_close = int(self.rec.close[-1])
            self._continuation = GeneratedSeries(
                symbol=p.symbol,
                seed=self.seed,
                factor=universe.factor,
                idio=idio,
                params=sp,
                aux=self.aux,
                origin_day=universe.origin_day,
                anchor_minute=self.end_minute,
                anchor_ticks=last_close,
                tick=float(p.tick),
                qty_step=float(p.qty_step),
                mean_volume=self.mean_volume_steps * float(p.qty_step),
            )
        return self._continuation

    def block(self, day: int) -> DayBlock:
        """The DayBlock of `day`: recorded minutes, flat before the recording, generated after it."""
        hit = self._cache.get(day)
        if hit is not None:
            return hit
        a = day * DAY_MINUTES
        b = a + DAY_MINUTES
        if b <= self.first_minute:
            raise ValueError(f"{self.p.symbol}: day {day} is before the recording")
        o = np.zeros(DAY_MINUTES, dtype=np.int64)
        h, lo, c, v = (np.zeros(DAY_MINUTES, dtype=np.int64) for _ in range(4))
        first = max(0, self.first_minute - a)
        rec_end = min(DAY_MINUTES, self.end_minute - a)
        if rec_end > first:
            so, sh, sl, sc, sv = self._source_minutes(a + first, a + rec_end)
            o[first:rec_end], h[first:rec_end], lo[first:rec_end], c[first:rec_end], v[first:rec_end] = (
                so,
                sh,
                sl,
                sc,
                sv,
            )
        if rec_end < DAY_MINUTES:
            cont = self._continue().block(day)
            k = max(rec_end, 0)
            o[k:], h[k:], lo[k:], c[k:], v[k:] = (
                cont.open[k:],
                cont.high[k:],
                cont.low[k:],
                cont.close[k:],
                cont.volume[k:],
            )
        if first > 0:
            # Before the recording: flat at the first open (never served: `first` marks the start).
            o[:first] = h[:first] = lo[:first] = c[:first] = o[first]
        r = np.zeros(DAY_MINUTES)
        r[1:] = np.log(np.maximum(c[1:], 1) / np.maximum(c[:-1], 1))
        park = np.log(np.maximum(h, 1) / np.maximum(lo, 1)) / math.sqrt(4 * math.log(2))
        sigma = _smooth(park, 10.0, self.sigma_ref)
        vrel = v / self.mean_volume_steps
        b_, e_, oi, ratio = self.aux.day(day, r, vrel)
        blk = DayBlock(
            day=day,
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            turnover=typical_turnover(o, h, lo, c, v),
            sigma=sigma,
            premium=b_,
            index_noise=e_,
            open_interest=oi,
            buy_ratio=ratio,
            first=first,
            mean_volume=max(1.0, float(v[first:].mean()) if first < DAY_MINUTES else 1.0),
        )
        self._blocks += 1
        if len(self._cache) >= self._cache_days:
            self._cache.pop(next(iter(self._cache)))
        self._cache[day] = blk
        return blk


def _smooth(x: np.ndarray, tau: float, start: float) -> np.ndarray:
    """EMA of x with time constant tau from `start`, floored at 20 % of it (flat minutes stay sane)."""
    a = 1.0 - math.exp(-1.0 / tau)
    out = np.empty_like(x)
    acc = start
    for i, v in enumerate(x.tolist()):
        acc += a * (v - acc)
        out[i] = acc
    return np.maximum(out, 0.2 * start)


__all__ = ["Recording", "Replay", "ReplaySeries", "expand_candle", "load_replay"]
