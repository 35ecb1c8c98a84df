"""A simulated crowd of leveraged positions per symbol, liquidated when the price path crosses their
liquidation prices, with forced flow that pushes the price further (cascades).

Isolated-margin arithmetic (Bybit): a long opened at E with leverage L is liquidated when the price
reaches E * (1 - 1/L + mmr) and closed at its bankruptcy price E * (1 - 1/L); a short at
E * (1 + 1/L - mmr), bankrupt at E * (1 + 1/L). Entries are spread over recent prices, so liquidation
prices cluster just outside the recent range; when the path runs through such a cluster the positions
are liquidated in batches (1 s of path each) and the net forced notional moves the rest of the path by
eta * notional / (mean minute turnover) minute-sigmas (bounded per batch and per minute), which can
trigger the next cluster.

Pure: state is numpy arrays; randomness only from the Generator passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVERAGES = np.array([5.0, 10.0, 20.0, 25.0, 50.0, 75.0, 100.0])
LEVERAGE_WEIGHTS = np.array([0.06, 0.18, 0.20, 0.16, 0.18, 0.10, 0.12])
BATCH_STEPS = 10
"""Liquidations are matched in 1 s batches (10 path steps of 100 ms) before their push is applied."""
RAMP_STEPS = 5
MAX_BATCHES = 120
OPEN_PER_LIQUIDATION = 8.0


@dataclass(frozen=True, slots=True)
class CrowdParams:
    """Size and behaviour of one symbol's crowd."""

    capacity: int
    open_rate: float
    """New positions per minute at mean volume."""
    close_hazard: float
    """Probability per minute that a position is closed voluntarily."""
    mean_notional: float
    """Mean position value in USDT."""
    max_leverage: float
    mmr: float
    minute_turnover: float
    """Mean turnover per minute in USDT (the depth that absorbs forced flow)."""
    push_eta: float = 3.0
    push_cap_batch: float = 3.0
    push_cap_minute: float = 10.0
    """Caps in minute-sigmas."""


@dataclass(frozen=True, slots=True)
class LiquidationBatch:
    """Liquidations of one minute: per event the path index, side (+1 long, -1 short), bankruptcy price
    (ticks), size (steps), plus the log push applied to the path and the path after the push."""

    index: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    path: np.ndarray
    push: float


def crowd_params_for(
    *, daily_turnover: float, max_leverage: float, mean_notional: float, liquidations_per_day: float
) -> CrowdParams:
    """Crowd parameters that produce about `liquidations_per_day` liquidations on a typical day."""
    hazard = 1.0 / 360.0
    # About one opened position in ten ends liquidated (calibrated by simulation, docs/simulator-market.md).
    open_rate = max(0.2, liquidations_per_day / 1440.0 * OPEN_PER_LIQUIDATION)
    capacity = int(min(6000, max(200, 1.5 * open_rate / hazard)))
    return CrowdParams(
        capacity=capacity,
        open_rate=open_rate,
        close_hazard=hazard,
        mean_notional=mean_notional,
        max_leverage=max_leverage,
        mmr=min(0.5 / max_leverage, 0.05),
        minute_turnover=daily_turnover / 1440.0,
    )


class Crowd:
    """The population: parallel arrays, dead slots reused by new positions."""

    def __init__(self, params: CrowdParams, tick: float, qty_step: float) -> None:
        self.p = params
        self.tick = tick
        self.qty_step = qty_step
        n = params.capacity
        self.alive = np.zeros(n, dtype=bool)
        self.side = np.zeros(n, dtype=np.int8)
        self.liq = np.zeros(n, dtype=np.float64)
        """Liquidation price in ticks (float)."""
        self.bust = np.zeros(n, dtype=np.int64)
        """Bankruptcy price in ticks."""
        self.size = np.zeros(n, dtype=np.int64)
        self.liquidated_total = 0

    @property
    def alive_count(self) -> int:
        """Open positions."""
        return int(self.alive.sum())

    def _draw(
        self, n: int, entries: np.ndarray, long_share: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, ...]:
        lev_mask = self.p.max_leverage >= LEVERAGES
        w = LEVERAGE_WEIGHTS * lev_mask
        lev = rng.choice(LEVERAGES, size=n, p=w / w.sum())
        side = np.where(rng.random(n) < long_share, 1, -1).astype(np.int8)
        inv = 1.0 / lev
        liq = entries * (1.0 - side * (inv - self.p.mmr))
        bust = np.rint(entries * (1.0 - side * inv)).astype(np.int64)
        s = 1.3
        notional = self.p.mean_notional * np.exp(s * rng.standard_normal(n) - 0.5 * s * s)
        size = np.maximum(1, np.rint(notional / (entries * self.tick) / self.qty_step)).astype(np.int64)
        return side, liq, np.maximum(bust, 1), size

    def add(self, entries: np.ndarray, long_share: float, rng: np.random.Generator) -> int:
        """Open positions at the given entry prices (ticks, float); returns how many fitted."""
        free = np.flatnonzero(~self.alive)[: entries.size]
        if free.size == 0:
            return 0
        entries = entries[: free.size]
        side, liq, bust, size = self._draw(free.size, entries, long_share, rng)
        self.side[free] = side
        self.liq[free] = liq
        self.bust[free] = bust
        self.size[free] = size
        self.alive[free] = True
        return int(free.size)

    def seed_from_history(
        self,
        opens: np.ndarray,
        lows: np.ndarray,
        highs: np.ndarray,
        long_share: float,
        rng: np.random.Generator,
    ) -> None:
        """Fill the crowd from recent 1m candles (oldest first): entries at random past minutes (recent ones
        likelier, as positions age out), keeping only positions the later path would not have liquidated."""
        n_min = opens.size
        if n_min == 0:
            return
        target = int(self.p.capacity * 0.8)
        # Suffix extremes: the lowest low / highest high from minute i to now.
        suf_low = np.minimum.accumulate(lows[::-1])[::-1]
        suf_high = np.maximum.accumulate(highs[::-1])[::-1]
        for _ in range(4):
            need = target - self.alive_count
            if need <= 0:
                break
            ages = np.minimum(
                n_min - 1, rng.exponential(1.0 / self.p.close_hazard, size=need * 2).astype(np.int64)
            )
            idx = n_min - 1 - ages
            entries = opens[idx].astype(np.float64)
            side, liq, bust, size = self._draw(idx.size, entries, long_share, rng)
            ok = np.where(side > 0, liq < suf_low[idx], liq > suf_high[idx])
            keep = np.flatnonzero(ok)[:need]
            free = np.flatnonzero(~self.alive)[: keep.size]
            keep = keep[: free.size]
            self.side[free] = side[keep]
            self.liq[free] = liq[keep]
            self.bust[free] = bust[keep]
            self.size[free] = size[keep]
            self.alive[free] = True

    def churn(self, path: np.ndarray, volume_rel: float, long_share: float, rng: np.random.Generator) -> None:
        """One minute of voluntary closes and new positions opened along `path`."""
        closing = self.alive & (rng.random(self.alive.size) < self.p.close_hazard)
        self.alive[closing] = False
        n_new = int(rng.poisson(self.p.open_rate * max(0.1, min(volume_rel, 10.0))))
        if n_new:
            at = rng.integers(0, path.size, size=n_new)
            self.add(path[at].astype(np.float64), long_share, rng)

    def liquidate(self, path: np.ndarray, sigma_log: float, push: bool) -> LiquidationBatch:
        """Run `path` (ticks, one point per 100 ms) through the crowd. With `push`, forced flow moves the
        rest of the path (generated markets); without, the path is left exactly as given (replay)."""
        n = path.size
        longs = self.alive & (self.side > 0)
        shorts = self.alive & (self.side < 0)
        top_long = float(self.liq.max(where=longs, initial=-np.inf))
        low_short = float(self.liq.min(where=shorts, initial=np.inf))
        if path.min() > top_long and path.max() < low_short:  # nobody reached (most minutes)
            empty = np.zeros(0, dtype=np.int64)
            return LiquidationBatch(index=empty, side=empty, price=empty, size=empty, path=path, push=0.0)
        work = path.astype(np.float64)
        idx_out: list[np.ndarray] = []
        side_out: list[np.ndarray] = []
        price_out: list[np.ndarray] = []
        size_out: list[np.ndarray] = []
        total_push = 0.0
        cap_minute = self.p.push_cap_minute * sigma_log
        pos = 0
        for _ in range(MAX_BATCHES):
            if pos >= n:
                break
            longs = self.alive & (self.side > 0)
            shorts = self.alive & (self.side < 0)
            if not longs.any() and not shorts.any():
                break
            seg = work[pos:]
            runmin = np.minimum.accumulate(seg)
            runmax = np.maximum.accumulate(seg)
            i_l = (
                int(np.searchsorted(-runmin, -self.liq[longs].max(), side="left"))
                if longs.any()
                else seg.size
            )
            i_s = (
                int(np.searchsorted(runmax, self.liq[shorts].min(), side="left"))
                if shorts.any()
                else seg.size
            )
            first = min(i_l, i_s)
            if first >= seg.size:
                break
            end = n if not push else min(n, pos + first + BATCH_STEPS)
            win_min = runmin[: end - pos]
            win_max = runmax[: end - pos]
            hit_l = np.flatnonzero(longs & (self.liq >= win_min[-1]))
            hit_s = np.flatnonzero(shorts & (self.liq <= win_max[-1]))
            at_l = pos + np.searchsorted(-win_min, -self.liq[hit_l], side="left")
            at_s = pos + np.searchsorted(win_max, self.liq[hit_s], side="left")
            hits = np.concatenate((hit_l, hit_s))
            at = np.concatenate((at_l, at_s))
            idx_out.append(at)
            side_out.append(self.side[hits].astype(np.int64))
            price_out.append(self.bust[hits])
            size_out.append(self.size[hits])
            self.alive[hits] = False
            self.liquidated_total += int(hits.size)
            if push and end < n:
                # Longs liquidated = forced sells (down), shorts = forced buys (up).
                notional_long = float((self.size[hit_l] * self.bust[hit_l]).sum()) * self.tick * self.qty_step
                notional_short = (
                    float((self.size[hit_s] * self.bust[hit_s]).sum()) * self.tick * self.qty_step
                )
                net = notional_short - notional_long
                move = self.p.push_eta * net / max(self.p.minute_turnover, 1.0) * sigma_log
                cap_b = self.p.push_cap_batch * sigma_log
                move = max(-cap_b, min(cap_b, move))
                move = max(-cap_minute - total_push, min(cap_minute - total_push, move))
                if move != 0.0:
                    ramp = np.minimum(1.0, np.arange(1, n - end + 1) / RAMP_STEPS)
                    work[end:] *= np.exp(move * ramp)
                    total_push += move
            pos = end
        if idx_out:
            index = np.concatenate(idx_out)
            order = np.argsort(index, kind="stable")
            batch = LiquidationBatch(
                index=index[order],
                side=np.concatenate(side_out)[order],
                price=np.concatenate(price_out)[order],
                size=np.concatenate(size_out)[order],
                path=np.maximum(1, np.rint(work)).astype(np.int64) if total_push else path,
                push=total_push,
            )
            return batch
        empty = np.zeros(0, dtype=np.int64)
        return LiquidationBatch(index=empty, side=empty, price=empty, size=empty, path=path, push=0.0)


def liquidations_per_day_for(symbol_base: str, daily_turnover: float) -> float:
    """Target liquidations per day: the measured medians where known, else scaled by turnover."""
    known = {"BTC": 2336.0, "ETH": 757.0, "SOL": 527.0, "DOGE": 109.0}
    if symbol_base in known:
        return known[symbol_base]
    return max(20.0, 2336.0 * math.sqrt(daily_turnover / 8.3e9))
