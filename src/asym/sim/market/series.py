"""A symbol's 1m base series, one UTC day at a time: OHLC in ticks, volume in qty steps, turnover, the
minute sigma, and the auxiliary series (premium, index noise, open interest, long/short ratio).

`DayBlock` is the common currency of generated and replayed symbols; the live part of the market
(`asym.sim.market.live`) continues from it minute by minute.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from asym.sim.market.generator import (
    CHAIN_BLOCK,
    DAY_MINUTES,
    Component,
    SeriesParams,
    ar1,
    bridge_extremes,
    bridge_weights,
    minute_volume,
)
from asym.sim.market.seeding import rng_for

AuxArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class DayBlock:
    """1,440 minutes of one symbol starting at UTC midnight `day * 86_400_000`.

    Minutes before `first` (replay data that starts mid-day) are not part of the market. The auxiliary
    series (premium, index noise, open interest, buy ratio) may be given as arrays or as `aux`, a function
    computing all four on first access: candles alone (trade klines, the 24 h window) never pay for them."""

    __slots__ = (
        "_aux",
        "_buy_ratio",
        "_index_noise",
        "_open_interest",
        "_premium",
        "close",
        "day",
        "first",
        "high",
        "low",
        "mean_volume",
        "open",
        "sigma",
        "turnover",
        "volume",
    )

    def __init__(
        self,
        *,
        day: int,
        open: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
        turnover: np.ndarray,
        sigma: np.ndarray,
        premium: np.ndarray | None = None,
        index_noise: np.ndarray | None = None,
        open_interest: np.ndarray | None = None,
        buy_ratio: np.ndarray | None = None,
        first: int = 0,
        mean_volume: float = 1.0,
        aux: Callable[[], AuxArrays] | None = None,
    ) -> None:
        self.day = day
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        """Qty steps (int64)."""
        self.turnover = turnover
        """Ticks x steps (int64): turnover = turnover * tick * step."""
        self.sigma = sigma
        """Per-minute sd of log returns (float64), seasonality included."""
        self.first = first
        self.mean_volume = mean_volume
        """Mean volume (steps) of the day's minutes (for relative activity)."""
        missing = premium is None or index_noise is None or open_interest is None or buy_ratio is None
        if aux is None and missing:
            raise ValueError("a DayBlock needs its auxiliary series or a function computing them")
        self._aux = aux
        self._premium = premium
        self._index_noise = index_noise
        self._open_interest = open_interest
        self._buy_ratio = buy_ratio

    @property
    def aux_ready(self) -> bool:
        """Whether the auxiliary series exist (computing them costs about a third of a generated day)."""
        return self._aux is None

    def _realize(self) -> None:
        if self._aux is not None:
            self._premium, self._index_noise, self._open_interest, self._buy_ratio = self._aux()
            self._aux = None

    @property
    def premium(self) -> np.ndarray:
        """Premium b = mark/index - 1 at each minute's close."""
        self._realize()
        assert self._premium is not None
        return self._premium

    @property
    def index_noise(self) -> np.ndarray:
        """e: last/index - 1 = b + e (the index's own noise around the premium)."""
        self._realize()
        assert self._index_noise is not None
        return self._index_noise

    @property
    def open_interest(self) -> np.ndarray:
        """Base coin at each minute's close (float64)."""
        self._realize()
        assert self._open_interest is not None
        return self._open_interest

    @property
    def buy_ratio(self) -> np.ndarray:
        """Share of accounts long at each minute's close."""
        self._realize()
        assert self._buy_ratio is not None
        return self._buy_ratio


def typical_turnover(
    o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """Exact integer turnover (ticks x steps) of candles without trades: volume x (o+h+l+c)//4."""
    return v * ((o + h + lo + c) // 4)


@dataclass(frozen=True, slots=True)
class AuxParams:
    """Premium, index noise, open interest and long/short ratio of one symbol."""

    premium_mean: float
    premium_day_sd: float
    premium_sd: float
    premium_tau: float
    premium_return_coupling: float
    index_noise_sd: float
    oi_base: float
    """Typical open interest, base coin."""
    oi_sd: float
    ratio_mean_logit: float
    ratio_sd: float
    ratio_return_coupling: float


def default_aux(vol_ann: float, oi_base: float, rank: int, unit: Callable[[str], float]) -> AuxParams:
    """Aux parameters scaled by the symbol's volatility: calibrated on BTC's 2025 funding (premium mostly
    around -0.045 %, so that funding sits just under the 0.01 % interest rate, as on Bybit)."""
    scale = math.sqrt(vol_ann / 0.335)
    mean = -0.00045 if rank == 0 else -0.00065 + 0.0004 * unit("premium")
    return AuxParams(
        premium_mean=mean,
        premium_day_sd=0.00006 * scale,
        premium_sd=0.00012 * scale,
        premium_tau=60.0,
        premium_return_coupling=0.05,
        index_noise_sd=0.00003 * scale,
        oi_base=oi_base,
        oi_sd=0.04 * scale,
        ratio_mean_logit=0.2 if rank == 0 else 0.3 + 0.8 * unit("ratio"),
        ratio_sd=0.12,
        ratio_return_coupling=4.0,
    )


class AuxModel:
    """Day chunks of the auxiliary series; day-start values come from a daily chain and every day's path
    is bridged to the next day's start so nothing jumps at midnight."""

    def __init__(self, params: AuxParams, seed: int, symbol: str, origin_day: int) -> None:
        self.p = params
        self.seed = seed
        self.symbol = symbol
        self.origin_day = origin_day
        self._chain: list[tuple[float, float, float]] = []
        self._m = 0.0

    def start(self, day: int) -> tuple[float, float, float]:
        """(premium, log OI deviation, ratio logit deviation) at 00:00 of `day`."""
        i = day - self.origin_day
        if i < 0:
            raise ValueError(f"day {day} is before the aux origin of {self.symbol}")
        p = self.p
        while len(self._chain) <= i:
            # One generator per block of CHAIN_BLOCK days, keyed by the block's first day.
            rng = rng_for(self.seed, self.symbol, "aux-daily", self.origin_day + len(self._chain))
            z = rng.standard_normal((CHAIN_BLOCK, 4))
            for j in range(CHAIN_BLOCK):
                self._m = 0.9 * self._m + math.sqrt(1 - 0.81) * p.premium_day_sd * float(z[j, 0])
                prem = p.premium_mean + self._m + p.premium_sd * float(z[j, 1])
                self._chain.append((prem, p.oi_sd * float(z[j, 2]), p.ratio_sd * float(z[j, 3])))
        return self._chain[i]

    def _premium(self, day: int, r: np.ndarray, sd_r: float, rng: np.random.Generator) -> np.ndarray:
        p = self.p
        n = r.size
        b0 = self.start(day)[0]
        b1 = self.start(day + 1)[0]
        # Premium: OU around the mean, pushed by returns (perps lead the index in moves).
        phi = math.exp(-1.0 / p.premium_tau)
        u = math.sqrt(1 - phi * phi) * p.premium_sd * rng.standard_normal(n)
        u += p.premium_return_coupling * p.premium_sd * (r / sd_r) * (1 - phi)
        return p.premium_mean + _bridged(ar1(b0 - p.premium_mean, phi, u), b1 - p.premium_mean, p.premium_tau)

    def premium(self, day: int, r: np.ndarray) -> np.ndarray:
        """The premium of `day` alone (equal to `day(...)[0]`, without the other series)."""
        rng = rng_for(self.seed, self.symbol, "aux-day", day)
        return self._premium(day, r, max(float(np.std(r)), 1e-9), rng)

    def day(self, day: int, r: np.ndarray, volume_rel: np.ndarray) -> AuxArrays:
        """(premium, index_noise, open_interest, buy_ratio) for `day` given its minute log returns and
        volume relative to the mean."""
        p = self.p
        rng = rng_for(self.seed, self.symbol, "aux-day", day)
        n = r.size
        _, o0, q0 = self.start(day)
        _, o1, q1 = self.start(day + 1)
        sd_r = max(float(np.std(r)), 1e-9)
        b = self._premium(day, r, sd_r, rng)
        phi_e = math.exp(-1.0 / 5.0)
        e = ar1(0.0, phi_e, math.sqrt(1 - phi_e * phi_e) * p.index_noise_sd * rng.standard_normal(n))
        # Open interest: log deviation moved by volume (busy minutes open and close positions).
        phi_o = math.exp(-1.0 / 720.0)
        u_o = (
            math.sqrt(1 - phi_o * phi_o)
            * p.oi_sd
            * np.sqrt(np.maximum(volume_rel, 0.05))
            * rng.standard_normal(n)
        )
        oi = p.oi_base * np.exp(_bridged(ar1(o0, phi_o, u_o), o1, 720.0))
        # Long/short account ratio: crowds buy dips (contrarian to the price move).
        phi_q = math.exp(-1.0 / 360.0)
        u_q = math.sqrt(1 - phi_q * phi_q) * p.ratio_sd * rng.standard_normal(n)
        u_q -= p.ratio_return_coupling * p.ratio_sd * (r / sd_r) * math.sqrt(1 - phi_q * phi_q)
        q = _bridged(ar1(q0, phi_q, u_q), q1, 360.0)
        ratio = 1.0 / (1.0 + np.exp(-(p.ratio_mean_logit + q)))
        return b, e, oi, ratio


def _bridged(x: np.ndarray, x_end: float, tau: float) -> np.ndarray:
    """Correct an AR path to end at x_end, the correction acting over the last ~tau steps."""
    return x + (x_end - x[-1]) * bridge_weights(x.size, tau)


class BaseSeries:
    """Interface of a symbol's base 1m series (generated or replayed)."""

    first_minute: int
    sigma_ref: float
    """Typical (calm) per-minute sigma of log returns."""

    def block(self, day: int) -> DayBlock:
        """The DayBlock of `day` (deterministic, cached)."""
        raise NotImplementedError

    def premium(self, day: int) -> np.ndarray:
        """The minute premiums of `day` (what funding needs; equal to `block(day).premium`)."""
        return self.block(day).premium

    @property
    def blocks_generated(self) -> int:
        """How many day blocks were computed (laziness checks)."""
        raise NotImplementedError


class GeneratedSeries(BaseSeries):
    """A generated symbol: r = beta * r_factor + r_idio per minute, prices anchored so that the open of
    `anchor_minute` equals `anchor_price` (in ticks)."""

    def __init__(
        self,
        *,
        symbol: str,
        seed: int,
        factor: Component,
        idio: Component | None,
        params: SeriesParams,
        aux: AuxModel,
        origin_day: int,
        anchor_minute: int,
        anchor_ticks: int,
        tick: float,
        qty_step: float,
        mean_volume: float,
        cache_days: int = 5,
    ) -> None:
        self.symbol = symbol
        self.seed = seed
        self.factor = factor
        self.idio = idio
        self.params = params
        self.aux = aux
        self.origin_day = origin_day
        self.first_minute = origin_day * DAY_MINUTES
        self.tick = tick
        self.qty_step = qty_step
        self.mean_volume = mean_volume
        self.sigma_ref = math.hypot(
            params.beta * factor.params.sigma_minute, idio.params.sigma_minute if idio else 0.0
        )
        self._day_log: list[float] = []  # log price at 00:00 of origin_day + i, before anchoring
        self._cache: OrderedDict[int, DayBlock] = OrderedDict()
        self._premiums: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_days = cache_days
        self._blocks = 0
        anchor_day = anchor_minute // DAY_MINUTES
        r, _ = self._returns(anchor_day)
        at_anchor = self._day_start_log(anchor_day) + float(
            r[: anchor_minute - anchor_day * DAY_MINUTES].sum()
        )
        self._shift = math.log(anchor_ticks * tick) - at_anchor

    @property
    def blocks_generated(self) -> int:
        """How many day blocks were computed (laziness checks)."""
        return self._blocks

    def premium(self, day: int) -> np.ndarray:
        """The minute premiums of `day`: from the cached block when its auxiliary series exist, else
        from the day's returns alone (funding history over weeks never builds those days' candles)."""
        blk = self._cache.get(day)
        if blk is not None and blk.aux_ready:
            return blk.premium
        hit = self._premiums.get(day)
        if hit is None:
            hit = self.aux.premium(day, self._returns(day)[0])
            self._premiums[day] = hit
            if len(self._premiums) > self._cache_days:
                self._premiums.popitem(last=False)
        return hit

    def _returns(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        rf, sf = self.factor.day(day)
        beta = self.params.beta
        if self.idio is None:
            return beta * rf, beta * sf
        ri, si = self.idio.day(day)
        return beta * rf + ri, np.hypot(beta * sf, si)

    def _day_total(self, day: int) -> float:
        total = self.params.beta * self.factor.day_total_return(day)
        if self.idio is not None:
            total += self.idio.day_total_return(day)
        return total

    def _day_start_log(self, day: int) -> float:
        i = day - self.origin_day
        if i < 0:
            raise ValueError(f"{self.symbol}: day {day} is before the start of its history")
        if not self._day_log:
            self._day_log.append(0.0)
        while len(self._day_log) <= i:
            d = self.origin_day + len(self._day_log) - 1
            self._day_log.append(self._day_log[-1] + self._day_total(d))
        return self._day_log[i]

    def block(self, day: int) -> DayBlock:
        """The DayBlock of `day` (deterministic, cached)."""
        hit = self._cache.get(day)
        if hit is not None:
            self._cache.move_to_end(day)
            return hit
        r, sig = self._returns(day)
        rng = rng_for(self.seed, self.symbol, "ohlcv", day)
        # Log price at every minute boundary; the last one is the next day's start exactly, so the close of
        # 23:59 equals the open of 00:00 (and every close equals the next open) in ticks.
        start = self._day_start_log(day) + self._shift
        bounds = start + np.concatenate(([0.0], np.cumsum(r)))
        bounds[-1] = self._day_start_log(day + 1) + self._shift
        log_open = bounds[:-1]
        hi, lo = bridge_extremes(r, sig * self.params.range_k, rng)
        inv_tick = 1.0 / self.tick
        edge = np.rint(np.exp(bounds) * inv_tick).astype(np.int64)
        o = edge[:-1]
        c = edge[1:]
        h = np.maximum(np.rint(np.exp(log_open + hi) * inv_tick).astype(np.int64), np.maximum(o, c))
        lw = np.minimum(np.rint(np.exp(log_open + lo) * inv_tick).astype(np.int64), np.minimum(o, c))
        np.maximum(lw, 1, out=lw)
        np.maximum(o, 1, out=o)
        np.maximum(c, 1, out=c)
        vol = minute_volume(r, sig, self.mean_volume, self.sigma_ref, rng)
        v = np.maximum(np.rint(vol / self.qty_step), 0).astype(np.int64)
        aux = self.aux
        blk = DayBlock(
            day=day,
            open=o,
            high=h,
            low=lw,
            close=c,
            volume=v,
            turnover=typical_turnover(o, h, lw, c, v),
            sigma=sig,
            mean_volume=max(1.0, float(v.mean())),
            aux=lambda: aux.day(day, r, vol / self.mean_volume),
        )
        self._blocks += 1
        self._cache[day] = blk
        if len(self._cache) > self._cache_days:
            self._cache.popitem(last=False)
        return blk


__all__ = [
    "AuxModel",
    "AuxParams",
    "BaseSeries",
    "DayBlock",
    "GeneratedSeries",
    "default_aux",
    "typical_turnover",
]
