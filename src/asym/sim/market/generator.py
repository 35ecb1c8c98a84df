"""The stochastic 1m generator: GARCH(1,1)-like volatility clustering with Student-t innovations, jumps,
intraday/weekday seasonality, a slow daily volatility regime, and correlation to BTC through a shared
market factor (r_alt = beta * r_btc + r_idio).

Everything is generated per UTC day, lazily: a cheap sequential *daily chain* (regime vol, the day's
diffusive return, the day's jumps) makes each *day chunk* (1,440 minutes) an independent, deterministic
function of (seed, symbol, day), so any day can be produced without producing the days before it.
Minute returns of a day are drift-corrected to sum to the chain's daily return, which keeps prices
continuous across midnight. See docs/simulator-market.md for the equations and the calibration.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from asym.sim.market import calibration as cal
from asym.sim.market.seeding import rng_for

MINUTE_MS = 60_000
CHAIN_BLOCK = 32
"""Days of a daily chain drawn at once."""
DAY_MINUTES = 1440
DAY_MS = DAY_MINUTES * MINUTE_MS

_HOUR_VOL = np.asarray(cal.HOUR_ABS_RETURN_PROFILE, dtype=np.float64)
_HOUR_VOL = _HOUR_VOL / np.sqrt(np.mean(_HOUR_VOL**2))  # unit mean variance over the day
SEASON_VOL = np.repeat(_HOUR_VOL, 60)
"""Per-minute-of-day volatility multiplier (mean square 1)."""
_HOUR_VOLUME = np.asarray(cal.HOUR_VOLUME_PROFILE, dtype=np.float64)
SEASON_VOLUME = np.repeat(_HOUR_VOLUME / _HOUR_VOLUME.mean(), 60)
_WEEKDAY = np.asarray(cal.WEEKDAY_ABS_RETURN_PROFILE, dtype=np.float64)
WEEKDAY_VOL = _WEEKDAY / np.sqrt(np.mean(_WEEKDAY**2))


def weekday(day: int) -> int:
    """Weekday of an epoch day number, Monday = 0 (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


@dataclass(frozen=True, slots=True)
class ComponentParams:
    """Parameters of one return process (the market factor, or a symbol's idiosyncratic part)."""

    vol_ann: float
    """Annualised vol of the process, jumps included."""
    alpha: float = 0.05
    beta: float = 0.90
    nu: float = 8.0
    """Student-t degrees of freedom of the minute innovations."""
    jump_rate: float = 0.0007
    """Jumps per minute."""
    jump_min: float = 4.0
    jump_tail: float = 3.0
    jump_cap: float = 22.0
    """A jump is +-Pareto(jump_min, jump_tail) minute-sigmas, capped at jump_cap (rare, very large moves
    are what gives real 1m returns their excess kurtosis of 10-130)."""
    z_cap: float = 10.0
    """Student-t innovations are clipped at +-z_cap (the tails come from jumps, not from GARCH blow-ups)."""
    regime_rho: float = 0.8
    regime_sd: float = 0.2
    """Daily log-vol regime: AR(1) with this persistence and stationary sd."""
    sv_sd: float = 0.5
    sv_tau: float = 300.0
    """Intraday log-vol: Ornstein-Uhlenbeck with this stationary sd and time scale (minutes); the slow
    part of volatility clustering (|r| autocorrelation ~0.2 still at lag 60 on Bybit)."""

    @property
    def jump_var_per_minute(self) -> float:
        """Expected squared jump per minute, in units of the minute variance."""
        a, m, c = self.jump_tail, self.jump_min, self.jump_cap
        # E[J^2] of a Pareto(m, a) capped at c: integral of x^2 over the density plus the capped mass.
        if abs(a - 2.0) < 1e-9:
            body = 2.0 * m * m * math.log(c / m)
        else:
            body = a * m**a / (a - 2.0) * (m ** (2.0 - a) - c ** (2.0 - a))
        second = body + c * c * (m / c) ** a
        return self.jump_rate * second

    @property
    def sigma_minute(self) -> float:
        """Diffusive per-minute sd so that diffusion + jumps give `vol_ann`."""
        total = self.vol_ann / math.sqrt(cal.MINUTES_PER_YEAR)
        return total / math.sqrt(1.0 + self.jump_var_per_minute)


@dataclass(slots=True)
class _ChainDay:
    vol: float
    """Diffusive minute sigma of the day (regime x weekday)."""
    diff_return: float
    jump_minutes: np.ndarray
    jump_sizes: np.ndarray
    sv_start: float
    """Intraday log-vol state at 00:00 (stationary draw; the previous day's path is bridged to it)."""
    total_return: float
    """diff_return plus the day's jumps: the sum of the day's minute returns."""


class Component:
    """A daily chain plus lazily generated day chunks of minute log returns for one process."""

    def __init__(self, params: ComponentParams, seed: int, name: str, origin_day: int, cache_days: int = 64):
        self.params = params
        self.seed = seed
        self.name = name
        self.origin_day = origin_day
        self._h = 0.0
        self._chain: list[_ChainDay] = []
        self._chunks: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_days = cache_days
        self.chunks_generated = 0

    def chain(self, day: int) -> _ChainDay:
        """The daily chain entry of `day` (extends the chain sequentially from the origin)."""
        i = day - self.origin_day
        if i < 0:
            raise ValueError(f"day {day} is before the origin {self.origin_day} of {self.name}")
        while len(self._chain) <= i:
            self._extend()
        return self._chain[i]

    def _extend(self) -> None:
        """Append one block of CHAIN_BLOCK days (one generator per block, keyed by its first day)."""
        p = self.params
        n = CHAIN_BLOCK
        d0 = self.origin_day + len(self._chain)
        rng = rng_for(self.seed, self.name, "daily", d0)
        eps = rng.standard_normal(n)
        # The day's diffusive return: Student-t(6) scaled to the day's variance.
        t6 = rng.standard_t(6.0, size=n) * math.sqrt(4.0 / 6.0)
        counts = rng.poisson(p.jump_rate * DAY_MINUTES, size=n)
        total = int(counts.sum())
        minutes = rng.integers(0, DAY_MINUTES, size=total)
        mags = np.minimum(p.jump_min * (1.0 - rng.random(total)) ** (-1.0 / p.jump_tail), p.jump_cap)
        signs = np.where(rng.random(total) < 0.5, -1.0, 1.0)
        sv0 = p.sv_sd * rng.standard_normal(n)
        vols: list[float] = []
        for j, e in enumerate(eps.tolist()):
            self._h = p.regime_rho * self._h + math.sqrt(1 - p.regime_rho**2) * p.regime_sd * e
            vols.append(p.sigma_minute * math.exp(self._h - p.regime_sd**2) * WEEKDAY_VOL[weekday(d0 + j)])
        # Every day's jumps in minute order at once (a stable sort within each day, as day by day).
        day_of = np.repeat(np.arange(n), counts)
        order = np.lexsort((minutes, day_of))
        mins_all = minutes[order]
        sizes_all = signs[order] * mags[order] * np.asarray(vols)[day_of[order]] * SEASON_VOL[mins_all]
        cuts = np.cumsum(counts)[:-1]
        mins_days = np.split(mins_all, cuts)
        size_days = np.split(sizes_all, cuts)
        for j, (vol, t, sv) in enumerate(zip(vols, t6.tolist(), sv0.tolist(), strict=True)):
            diff_return = vol * math.sqrt(DAY_MINUTES) * t
            sizes = size_days[j]
            total_return = diff_return + float(sizes.sum())
            self._chain.append(_ChainDay(vol, diff_return, mins_days[j], sizes, sv, total_return))

    def day_total_return(self, day: int) -> float:
        """Sum of the minute log returns of `day`."""
        return self.chain(day).total_return

    def day(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(minute log returns, minute sigma) of `day`; cached, deterministic."""
        hit = self._chunks.get(day)
        if hit is not None:
            self._chunks.move_to_end(day)
            return hit
        c = self.chain(day)
        p = self.params
        rng = rng_for(self.seed, self.name, "day", day)
        z = rng.standard_t(p.nu, size=DAY_MINUTES) * math.sqrt((p.nu - 2.0) / p.nu)
        np.clip(z, -p.z_cap, p.z_cap, out=z)
        g = garch_multiplier(z, p.alpha, p.beta)
        x = ou_bridge(
            c.sv_start, self.chain(day + 1).sv_start, p.sv_tau, p.sv_sd, rng.standard_normal(DAY_MINUTES)
        )
        sig = c.vol * SEASON_VOL * np.exp(x - p.sv_sd**2) * np.sqrt(g)
        r = sig * z
        # Drift-correct the diffusive part to the chain's daily return (a tiny constant per minute).
        r += (c.diff_return - r.sum()) / DAY_MINUTES
        np.add.at(r, c.jump_minutes, c.jump_sizes)
        out = (r, sig)
        self._chunks[day] = out
        self.chunks_generated += 1
        if len(self._chunks) > self._cache_days:
            self._chunks.popitem(last=False)
        return out


def garch_multiplier(z: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Unit-mean GARCH(1,1) variance multiplier g for innovations z, starting at 1:
    g_t = (1 - alpha - beta) + (alpha * z_(t-1)^2 + beta) * g_(t-1), solved without a Python loop as
    g_t = A_t * (1 + omega * sum_(j<=t) 1/A_j) with A_t = prod_(i<t) a_i."""
    omega = 1.0 - alpha - beta
    a = alpha * z[:-1] ** 2 + beta
    log_a = np.concatenate(([0.0], np.cumsum(np.log(a))))
    # Re-centre to keep exp() in range; the formula is invariant to a common factor.
    inv = np.exp(-log_a)
    acc = np.cumsum(inv)
    acc = acc - inv[0]  # sum over j = 1..t
    return np.exp(log_a) * (1.0 + omega * acc)


@functools.lru_cache(maxsize=64)
def _powers(phi: float, n: int) -> np.ndarray:
    """phi^1 .. phi^n (read-only: shared by every series with this persistence)."""
    out = phi ** np.arange(1, n + 1, dtype=np.float64)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=64)
def bridge_weights(n: int, tau: float) -> np.ndarray:
    """Weights of the end correction of a bridged OU path over n steps (read-only, shared)."""
    t = np.arange(1, n + 1, dtype=np.float64)
    w = np.exp((t - n) / tau) * (1.0 - np.exp(-2.0 * t / tau)) / (1.0 - math.exp(-2.0 * n / tau))
    w.flags.writeable = False
    return w


def ar1(x0: float, phi: float, u: np.ndarray) -> np.ndarray:
    """x_t = phi * x_(t-1) + u_t for t = 0..n-1 (x_(-1) = x0), without a Python loop (needs phi^-n finite)."""
    powers = _powers(phi, u.size)
    return powers * (x0 + np.cumsum(u / powers))


def ou_bridge(x0: float, x_end: float, tau: float, sd: float, eps: np.ndarray) -> np.ndarray:
    """A stationary OU path (time scale tau, sd) from x0, corrected to reach x_end after the last step;
    the correction sinh(t/tau)/sinh(n/tau) only acts near the end, so the path stays an OU elsewhere."""
    phi = math.exp(-1.0 / tau)
    x = ar1(x0, phi, math.sqrt(1.0 - phi * phi) * sd * eps)
    return x + (x_end - x[-1]) * bridge_weights(eps.size, tau)


@dataclass(frozen=True, slots=True)
class SeriesParams:
    """How a symbol's returns are composed from the factor and its own process."""

    beta: float
    idio: ComponentParams | None
    range_k: float = 0.80
    """Intra-minute diffusion relative to the minute sigma (sets high/low vs close-to-close)."""


def series_params(vol_ann: float, corr_btc: float, tail: float, factor_vol: float) -> SeriesParams:
    """Beta and idiosyncratic vol from a symbol's total vol and its correlation with BTC."""
    if corr_btc >= 0.999:
        return SeriesParams(beta=vol_ann / factor_vol, idio=None, range_k=0.68)
    beta = corr_btc * vol_ann / factor_vol
    idio_vol = vol_ann * math.sqrt(max(1e-6, 1 - corr_btc**2))
    idio = ComponentParams(vol_ann=idio_vol, jump_rate=0.004 * max(tail, 0.05), jump_tail=2.0, jump_cap=35.0)
    return SeriesParams(beta=beta, idio=idio, range_k=0.85)


def factor_params() -> ComponentParams:
    """The market factor (= BTCUSDT's returns), calibrated to BTCUSDT 1m (calibration.TARGETS)."""
    return ComponentParams(vol_ann=cal.TARGETS["BTCUSDT"].vol_ann)


def bridge_extremes(
    r: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Max and min (log, relative to the open) of a Brownian bridge from 0 to r with vol sigma:
    max = (r + sqrt(r^2 - 2 s^2 ln U)) / 2 (exact law of a bridge's maximum); min likewise."""
    s2 = sigma * sigma
    u1 = rng.random(r.size)
    u2 = rng.random(r.size)
    hi = 0.5 * (r + np.sqrt(r * r - 2.0 * s2 * np.log1p(-u1)))
    lo = 0.5 * (r - np.sqrt(r * r - 2.0 * s2 * np.log1p(-u2)))
    return hi, lo


def minute_volume(
    r: np.ndarray, sigma: np.ndarray, mean_volume: float, sigma_ref: float, rng: np.random.Generator
) -> np.ndarray:
    """Minute volumes (base coin): intraday profile x vol regime x |r| response x lognormal noise.
    Calibrated so corr(volume, |r|) is about 0.5 as on Bybit."""
    x = np.abs(r) / np.maximum(sigma, 1e-12)
    regime = (sigma / (SEASON_VOL * sigma_ref)) ** 0.6
    noise = np.exp(0.55 * rng.standard_normal(r.size) - 0.5 * 0.55**2)
    v = mean_volume * SEASON_VOLUME * regime * (0.5 + 0.5 * x / 0.8) * noise
    return v
