"""Builds each symbol's model (base series, live context) lazily, for generated and replayed markets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from asym.sim.market.book import BookParams
from asym.sim.market.generator import Component, factor_params, series_params
from asym.sim.market.instruments import SymbolProfile
from asym.sim.market.liquidations import crowd_params_for, liquidations_per_day_for
from asym.sim.market.live import SymbolContext
from asym.sim.market.seeding import symbol_key
from asym.sim.market.series import AuxModel, BaseSeries, GeneratedSeries, default_aux

BTC_TURNOVER = 8.3e9
IDIO_CACHE_DAYS = 10


def rel_turnover(daily_turnover: float) -> float:
    """Turnover relative to BTC's."""
    return max(daily_turnover, 1.0) / BTC_TURNOVER


def _unit(symbol: str, salt: str) -> float:
    return (symbol_key(symbol + "/" + salt) % 1_000_003) / 1_000_003


@dataclass(frozen=True, slots=True)
class Sizing:
    """Turnover-derived scales of a symbol."""

    mean_volume: float
    """Mean 1m volume, base coin."""
    oi_base: float
    spread_ticks: int
    level_size: float
    mean_notional: float


def sizing(p: SymbolProfile, price: float, daily_turnover: float) -> Sizing:
    """Volume, open interest, spread and book depth scales from the symbol's turnover and price."""
    tick = float(p.tick)
    step = float(p.qty_step)
    rel = daily_turnover / BTC_TURNOVER
    if p.rank < 6:
        spread = 1
    else:
        bps = min(15.0, 0.5 * math.sqrt(3e8 / max(daily_turnover, 1.0)))
        spread = max(1, round(price * bps * 1e-4 / tick))
    level_usd = 50_000.0 * rel**0.7
    return Sizing(
        mean_volume=daily_turnover / 1440.0 / price,
        oi_base=(0.7 if p.rank == 0 else 0.4 + 0.6 * _unit(p.symbol, "oi")) * daily_turnover / price,
        spread_ticks=spread,
        level_size=max(1.0, level_usd / price / step),
        mean_notional=max(300.0, 10_000.0 * rel**0.3),
    )


def context_for(
    p: SymbolProfile,
    seed: int,
    *,
    generated: bool,
    sigma_ref: float,
    range_k: float,
    price: float,
    daily_turnover: float,
) -> SymbolContext:
    """The live model's static context of a symbol."""
    s = sizing(p, price, daily_turnover)
    key = symbol_key(p.symbol) ^ (seed * 0x9E3779B97F4A7C15 & ((1 << 63) - 1))
    crowd = crowd_params_for(
        daily_turnover=daily_turnover,
        max_leverage=float(p.max_leverage),
        mean_notional=s.mean_notional,
        liquidations_per_day=liquidations_per_day_for(p.base_coin, daily_turnover),
    )
    return SymbolContext(
        symbol=p.symbol,
        key=key,
        tick=float(p.tick),
        qty_step=float(p.qty_step),
        generated=generated,
        sigma_ref=sigma_ref,
        range_k=range_k,
        # About 250 trades a minute for BTC, ~15 for a $3M/day alt (real Bybit has more, smaller ones).
        avg_trade_value=max(
            p.avg_trade_value, daily_turnover / 1440.0 / (250.0 * rel_turnover(daily_turnover) ** 0.35)
        ),
        crowd=crowd,
        book=BookParams(key=key, spread_ticks=s.spread_ticks, level_size=s.level_size),
        funding_cap=float(p.funding_cap),
        seq_base=40_000_000_000 + symbol_key(p.symbol) % 10_000_000_000,
    )


class GeneratedUniverse:
    """Lazily built generated series sharing one market factor (BTC's returns)."""

    def __init__(self, seed: int, origin_day: int, anchor_minute: int) -> None:
        self.seed = seed
        self.origin_day = origin_day
        self.anchor_minute = anchor_minute
        self._factor: Component | None = None

    @property
    def factor(self) -> Component:
        """The market factor (created on first use)."""
        if self._factor is None:
            self._factor = Component(factor_params(), self.seed, "#factor", self.origin_day)
        return self._factor

    def build(self, p: SymbolProfile) -> tuple[BaseSeries, SymbolContext]:
        """Series and context of one generated symbol."""
        factor = self.factor
        sp = series_params(p.vol_ann, p.corr_btc, p.tail, factor.params.vol_ann)
        # A symbol's own chunks are kept for a few days only (the factor, shared by all, keeps 64).
        idio = (
            Component(sp.idio, self.seed, p.symbol, self.origin_day, cache_days=IDIO_CACHE_DAYS)
            if sp.idio is not None
            else None
        )
        price = float(p.base_price)
        s = sizing(p, price, p.daily_turnover)
        aux = AuxModel(
            default_aux(p.vol_ann, s.oi_base, p.rank, lambda salt: _unit(p.symbol, salt)),
            self.seed,
            p.symbol,
            self.origin_day,
        )
        series = GeneratedSeries(
            symbol=p.symbol,
            seed=self.seed,
            factor=factor,
            idio=idio,
            params=sp,
            aux=aux,
            origin_day=self.origin_day,
            anchor_minute=self.anchor_minute,
            anchor_ticks=int(p.base_price / p.tick),
            tick=float(p.tick),
            qty_step=float(p.qty_step),
            mean_volume=s.mean_volume,
        )
        ctx = context_for(
            p,
            self.seed,
            generated=True,
            sigma_ref=series.sigma_ref,
            range_k=sp.range_k,
            price=price,
            daily_turnover=p.daily_turnover,
        )
        return series, ctx
