"""The `rules` model: deterministic, network-free signals from the enhanced data.

A point score from trend, RSI extremes, funding crowding, OI build-up and liquidation clusters decides the
direction; gates (risk, liquidity, spread, volatility, account) force HOLD. Stops sit 1.5 ATR away (2 ATR
for cluster setups), the first target at >= 3R and far enough that the net R:R after fees and funding
clears the validator's minimum. Every rule and threshold is in docs/signals.md. Pure functions only.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from asym.analytics.types import EnhancedData
from asym.domain import Interval, LiquidationRisk, Side
from asym.signals.config import RuleConfig, ValidationConfig
from asym.signals.economics import costs_for, funding_events, target_distance_for
from asym.signals.schema import Action, ModelReply, SignalInput
from asym.signals.validation import open_side, reference_price, usable_atr

RULES_VERSION = "rules-v1"
_SIG_DIGITS = 8
_HOUR_MS = 3_600_000
_SUFFIX_MS = {"m": 60_000, "h": _HOUR_MS, "d": 24 * _HOUR_MS, "w": 7 * 24 * _HOUR_MS}


def interval_hours(interval: str | None) -> float:
    """Candle length in hours from Bybit notation ('5', '60', 'D') or '5m'/'1h'/'4h'/'1d'; 1.0 if unknown."""
    if not interval:
        return 1.0
    try:
        return Interval(interval).ms / _HOUR_MS
    except ValueError:
        pass
    unit = _SUFFIX_MS.get(interval[-1:].lower())
    if unit is not None and interval[:-1].isdigit() and int(interval[:-1]) > 0:
        return int(interval[:-1]) * unit / _HOUR_MS
    return 1.0


def _round_away(x: Decimal, up: bool) -> Decimal:
    """Round to 8 significant digits away from the entry (up or down), so risk is never understated."""
    quantum = Decimal(1).scaleb(x.adjusted() - _SIG_DIGITS + 1)
    q = x.quantize(quantum, rounding=ROUND_CEILING if up else ROUND_FLOOR)
    # Drop trailing zeros without switching to exponent notation (100, not 1E+2).
    return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()


def score(data: EnhancedData, cfg: RuleConfig) -> tuple[int, list[str], bool]:
    """(direction score, contributing reasons, whether a liquidation-cluster setup contributed)."""
    ti = data.technical_indicators
    rsi = ti.rsi_14 if ti is not None and ti.rsi_14 is not None and math.isfinite(ti.rsi_14) else None
    trend = ti.ema_trend if ti is not None else None
    parts: list[tuple[str, int]] = []
    if trend == "UP":
        parts.append(("trend UP", 2))
    elif trend == "DOWN":
        parts.append(("trend DOWN", -2))
    if rsi is not None and rsi <= cfg.rsi_oversold:
        parts.append((f"RSI {rsi:.0f} oversold", 1))
    elif rsi is not None and rsi >= cfg.rsi_overbought:
        parts.append((f"RSI {rsi:.0f} overbought", -1))
    fs = data.funding_sentiment
    if fs is not None and fs.pressure in ("STRONG", "EXTREME"):
        if fs.direction == "LONGS_PAY":
            parts.append(("crowded longs pay funding", -1))
        elif fs.direction == "SHORTS_PAY":
            parts.append(("crowded shorts pay funding", 1))
    oi = data.oi_sentiment
    if oi is not None and oi.label == "LONG_BUILDUP":
        parts.append(("OI long build-up", 1))
    elif oi is not None and oi.label == "SHORT_BUILDUP":
        parts.append(("OI short build-up", -1))
    setup = _cluster_setup(data, rsi, trend, cfg)
    if setup is not None:
        parts.append(setup)
    total = sum(p for _, p in parts)
    return total, [f"{name} {p:+d}" for name, p in parts], setup is not None


def _cluster_setup(
    data: EnhancedData, rsi: float | None, trend: str | None, cfg: RuleConfig
) -> tuple[str, int] | None:
    """Fade or ride a one-sided liquidation cluster near the price; None when there is no such setup."""
    nl = data.nearby_liquidations
    if nl is None or nl.count < cfg.cluster_min_count:
        return None
    longs, shorts = nl.long_notional, nl.short_notional
    if not (longs.is_finite() and shorts.is_finite()):
        return None
    dominance = Decimal(repr(cfg.cluster_dominance))
    if longs > 0 and longs >= dominance * shorts:
        # Longs were flushed: exhausted selling is faded once RSI is low; otherwise ride a downtrend.
        if rsi is not None and rsi <= cfg.fade_rsi_long:
            return ("fade long-liquidation flush", 2)
        return ("ride long-liquidation cascade", -1) if trend == "DOWN" else None
    if shorts > 0 and shorts >= dominance * longs:
        if rsi is not None and rsi >= cfg.fade_rsi_short:
            return ("fade short squeeze", -2)
        return ("ride short squeeze", 1) if trend == "UP" else None
    return None


def _hold(reason: str, conf: float = 0.0) -> ModelReply:
    return ModelReply(
        action=Action.HOLD.value, confidence=Decimal(repr(round(conf, 3))), rationale=reason[:300]
    )


def _gate(inp: SignalInput, price: Decimal | None, atr: Decimal | None, cfg: RuleConfig) -> str | None:
    d, r = inp.data, inp.risk
    if r.mode.lower() == "halted":
        return "trading halted"
    if not r.equity.is_finite() or r.equity <= 0:
        return "no equity"
    if (
        r.daily_pnl.is_finite()
        and r.daily_pnl < 0
        and -r.daily_pnl / r.equity * 100 >= Decimal(repr(cfg.max_daily_loss_pct))
    ):
        return "daily loss limit reached"
    if price is None:
        return "no usable price"
    if atr is None:
        return "ATR unavailable"
    atr_frac = atr / price
    if atr_frac < Decimal(repr(cfg.min_atr_frac)) or atr_frac > Decimal(repr(cfg.max_atr_frac)):
        return f"ATR {float(atr_frac):.4%} of price outside the tradable range"
    if d.market_risk_score is not None and (
        not math.isfinite(d.market_risk_score) or d.market_risk_score >= cfg.max_market_risk
    ):
        return f"market risk {d.market_risk_score} too high"
    if d.liquidity_score is not None and (
        not math.isfinite(d.liquidity_score) or d.liquidity_score < cfg.min_liquidity
    ):
        return f"liquidity {d.liquidity_score} too thin"
    if d.spread_pct is not None and (not math.isfinite(d.spread_pct) or d.spread_pct > cfg.max_spread_pct):
        return f"spread {d.spread_pct} % too wide"
    if d.liquidation_risk is LiquidationRisk.EXTREME:
        return "liquidation risk EXTREME"
    return None


def rule_reply(inp: SignalInput, vcfg: ValidationConfig, cfg: RuleConfig) -> ModelReply:
    """The rule model's answer for one asset (a reply the validator accepts by construction)."""
    data = inp.data
    price = reference_price(data)
    atr = usable_atr(data)
    total, reasons, cluster = score(data, cfg)
    direction = (
        Action.LONG if total >= cfg.entry_score else Action.SHORT if total <= -cfg.entry_score else None
    )
    why = f"score {total:+d} [{', '.join(reasons) or 'no factors'}]"
    side = open_side(inp.position)
    if side is not None:
        mrs = data.market_risk_score
        if data.liquidation_risk is LiquidationRisk.EXTREME or (
            mrs is not None and math.isfinite(mrs) and mrs >= cfg.close_market_risk
        ):
            return ModelReply(
                action=Action.CLOSE.value, confidence=Decimal("1"), rationale=f"risk exit; {why}"
            )
        if direction is not None and (direction is Action.LONG) != (side is Side.BUY):
            return ModelReply(
                action=Action.CLOSE.value,
                confidence=Decimal("0.5"),
                rationale=f"signal against position; {why}",
            )
        return _hold(f"position open; {why}")
    gate = _gate(inp, price, atr, cfg)
    if gate is not None:
        return _hold(f"{gate}; {why}")
    if direction is None:
        return _hold(f"no setup; {why}")
    assert price is not None and atr is not None
    return _trade(inp, direction, price, atr, total, cluster, why, vcfg, cfg)


def _trade(
    inp: SignalInput,
    action: Action,
    entry: Decimal,
    atr: Decimal,
    total: int,
    cluster: bool,
    why: str,
    vcfg: ValidationConfig,
    cfg: RuleConfig,
) -> ModelReply:
    data = inp.data
    is_long = action is Action.LONG
    lo = max(cfg.min_stop_atr, float(vcfg.min_stop_atr)) * 1.001
    hi = min(cfg.max_stop_atr, float(vcfg.max_stop_atr)) * 0.999
    mult = cfg.stop_atr + (cfg.cluster_stop_extra_atr if cluster else 0.0)
    mult = min(max(mult, lo), hi)
    raw = atr * Decimal(repr(mult))
    stop = _round_away(entry - raw if is_long else entry + raw, up=not is_long)
    if stop <= 0:
        return _hold(f"stop would be <= 0; {why}")
    distance = abs(entry - stop)

    hours = interval_hours(data.technical_indicators.interval if data.technical_indicators else None)
    horizon_f = min(max(hours * cfg.horizon_candles, cfg.min_horizon_hours), cfg.max_horizon_hours)
    horizon_f = min(max(horizon_f, float(vcfg.min_horizon_hours)), float(vcfg.max_horizon_hours))
    horizon = Decimal(repr(round(horizon_f, 4)))
    events = funding_events(horizon, vcfg.funding_interval_hours, data.timestamp, data.next_funding_time)
    rate = (
        data.funding_rate
        if data.funding_rate is not None
        else (data.funding_sentiment.rate if data.funding_sentiment is not None else None)
    )
    costs = costs_for(action, rate, events, vcfg)
    need = vcfg.min_reward_risk * Decimal(repr(cfg.rr_margin))
    d1 = max(
        Decimal(repr(cfg.min_target_r)) * distance, target_distance_for(action, entry, stop, costs, need)
    )
    max_d = Decimal(repr(cfg.max_target_atr)) * atr
    if d1 > max_d:
        return _hold(f"costs too high for the volatility (target {float(d1 / atr):.1f} ATR); {why}")
    targets = [d1]
    d2 = d1 * Decimal(repr(cfg.second_target_mult))
    if d2 <= max_d and (is_long or d2 < entry * Decimal("0.9")):
        targets.append(d2)
    if not is_long and d1 >= entry * Decimal("0.9"):
        return _hold(f"short target would be near zero; {why}")
    prices = [_round_away(entry + d if is_long else entry - d, up=is_long) for d in targets]

    stop_frac = distance / entry
    safety = max(Decimal(repr(cfg.leverage_stop_safety)), Decimal(1) / vcfg.liquidation_safety)
    lev_cap = math.floor(Decimal(1) / (safety * stop_frac + vcfg.maintenance_margin_rate))
    leverage = min(lev_cap, cfg.max_leverage, math.floor(vcfg.max_leverage))
    if leverage < vcfg.min_leverage:
        return _hold(f"stop too wide for the minimum leverage; {why}")

    mrs = data.market_risk_score if data.market_risk_score is not None else 0.5
    confidence = round(min(1.0, abs(total) / 6) * (1 - 0.5 * mrs), 3)
    conf = Decimal(repr(confidence))
    if conf < vcfg.min_confidence:
        return _hold(f"confidence {confidence} below minimum; {why}", confidence)
    fractions = [Decimal(1) / len(prices)] * len(prices)
    rationale = (
        f"{action.value} {why}; stop {mult:.2f} ATR{' beyond cluster' if cluster else ''}; "
        f"{len(prices)} target(s) from {float(d1 / distance):.2f}R gross"
    )
    return ModelReply(
        action=action.value,
        symbol=data.symbol,
        entry_type="market",
        stop_loss=stop,
        take_profit=prices,
        take_profit_fractions=fractions,
        confidence=conf,
        leverage=Decimal(leverage),
        horizon_hours=horizon,
        rationale=rationale[:300],
    )
