"""Semantic validation: a parsed model reply becomes a `Signal` only if it is tradable and asymmetric.

Pure and deterministic. Every check and threshold is described in docs/signals.md; a failed check is a
`Rejection` with a machine-readable code, never an exception.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from asym.analytics.types import EnhancedData
from asym.domain import Position, Side
from asym.signals.config import ValidationConfig
from asym.signals.economics import costs_for, funding_events, reward_risk
from asym.signals.schema import (
    Action,
    EntryType,
    Meta,
    ModelReply,
    Rejection,
    RejectionCode,
    Signal,
    SignalInput,
    SignalOutcome,
    TakeProfit,
)

_MAX_MAGNITUDE = Decimal("1e15")
_FRACTION_TOLERANCE = Decimal("0.01")
_RR_QUANTUM = Decimal("0.0001")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class _Error(Exception):
    """Internal: carries a rejection code out of the nested checks."""

    def __init__(self, code: RejectionCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def reference_price(data: EnhancedData) -> Decimal | None:
    """The price a market entry is valued at: the mark, else the last price; None if neither is usable."""
    for p in (data.mark_price, data.last_price):
        if p is not None and p.is_finite() and p > 0:
            return p
    return None


def usable_atr(data: EnhancedData) -> Decimal | None:
    """ATR(14) as a Decimal when it is a finite positive number, else None."""
    ti = data.technical_indicators
    if ti is None or ti.atr_14 is None or not math.isfinite(ti.atr_14) or ti.atr_14 <= 0:
        return None
    return Decimal(repr(ti.atr_14))


def open_side(position: Position | None) -> Side | None:
    """The side of an open (non-zero) position, else None."""
    if position is None or position.side is None or not position.size.is_finite() or position.size <= 0:
        return None
    return position.side


def _check_number(name: str, value: Decimal | None, *, positive: bool) -> None:
    if value is None:
        return
    if not value.is_finite() or abs(value) >= _MAX_MAGNITUDE:
        raise _Error(RejectionCode.NON_FINITE_NUMBER, f"{name} is not a finite number of sane size: {value}")
    if positive and value <= 0:
        raise _Error(RejectionCode.NON_POSITIVE_NUMBER, f"{name} must be > 0, got {value}")


def _targets(reply: ModelReply) -> list[Decimal]:
    tp = reply.take_profit
    if tp is None:
        return []
    return list(tp) if isinstance(tp, list) else [tp]


def _clean_rationale(text: str, limit: int) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_reply(reply: ModelReply, inp: SignalInput, cfg: ValidationConfig, meta: Meta) -> SignalOutcome:
    """Check `reply` against the real market data of `inp`; a Signal if every rule holds, else a Rejection."""
    try:
        return _validate(reply, inp, cfg, meta)
    except _Error as r:
        return _rejection(inp, meta, r.code, r.detail)
    except (ArithmeticError, InvalidOperation) as exc:
        return _rejection(inp, meta, RejectionCode.NON_FINITE_NUMBER, f"arithmetic failed: {exc!r}")


def _rejection(inp: SignalInput, meta: Meta, code: RejectionCode, detail: str) -> Rejection:
    return Rejection(
        symbol=inp.data.symbol,
        model_id=meta.model_id,
        code=code,
        detail=detail,
        prompt_version=meta.prompt_version,
        latency_ms=meta.latency_ms,
        usage=meta.usage,
        data_timestamp=inp.data.timestamp,
    )


def _parse_enums(reply: ModelReply, symbol: str) -> tuple[Action, EntryType]:
    if reply.symbol is not None and reply.symbol.strip().upper() != symbol.upper():
        raise _Error(RejectionCode.SYMBOL_MISMATCH, f"reply is for {reply.symbol!r}, asked for {symbol!r}")
    try:
        action = Action(reply.action.strip().upper())
    except ValueError:
        raise _Error(RejectionCode.SCHEMA_VIOLATION, f"unknown action {reply.action[:20]!r}") from None
    try:
        entry_type = EntryType(reply.entry_type.strip().lower())
    except ValueError:
        raise _Error(
            RejectionCode.SCHEMA_VIOLATION, f"unknown entry_type {reply.entry_type[:20]!r}"
        ) from None
    return action, entry_type


def _check_numbers(reply: ModelReply) -> None:
    for name, value in (
        ("entry_price", reply.entry_price),
        ("stop_loss", reply.stop_loss),
        ("leverage", reply.leverage),
        ("horizon_hours", reply.horizon_hours),
    ):
        _check_number(name, value, positive=True)
    for i, t in enumerate(_targets(reply)):
        _check_number(f"take_profit[{i}]", t, positive=True)
    for i, f in enumerate(reply.take_profit_fractions or []):
        _check_number(f"take_profit_fractions[{i}]", f, positive=True)
    _check_number("confidence", reply.confidence, positive=False)


def _validate(reply: ModelReply, inp: SignalInput, cfg: ValidationConfig, meta: Meta) -> SignalOutcome:
    data = inp.data
    action, entry_type = _parse_enums(reply, data.symbol)
    _check_numbers(reply)
    confidence = reply.confidence if reply.confidence is not None else Decimal(0)
    if not Decimal(0) <= confidence <= Decimal(1):
        raise _Error(RejectionCode.CONFIDENCE_OUT_OF_RANGE, f"confidence {confidence} outside [0, 1]")
    rationale = _clean_rationale(reply.rationale, cfg.max_rationale_chars)
    mark = reference_price(data)
    common: dict[str, Any] = {
        "symbol": data.symbol,
        "mark_price": mark,
        "confidence": float(confidence),
        "rationale": rationale,
        "model_id": meta.model_id,
        "prompt_version": meta.prompt_version,
        "latency_ms": meta.latency_ms,
        "usage": meta.usage,
        "data_timestamp": data.timestamp,
    }
    flat: dict[str, Any] = {
        "entry_type": None,
        "entry_price": None,
        "stop_loss": None,
        "take_profits": (),
        "leverage": None,
        "horizon_hours": None,
        "reward_risk": None,
        "stop_atr": None,
    }
    if action is Action.HOLD:
        return Signal(action=action, **flat, **common)
    side = open_side(inp.position)
    if action is Action.CLOSE:
        if side is None:
            raise _Error(RejectionCode.NO_POSITION, "CLOSE with no open position")
        return Signal(action=action, **flat, **common)
    return _validate_trade(reply, inp, cfg, action, entry_type, confidence, side, mark, common)


def _validate_trade(
    reply: ModelReply,
    inp: SignalInput,
    cfg: ValidationConfig,
    action: Action,
    entry_type: EntryType,
    confidence: Decimal,
    side: Side | None,
    mark: Decimal | None,
    common: dict[str, Any],
) -> Signal:
    data = inp.data
    is_long = action is Action.LONG
    for name, value in (
        ("confidence", reply.confidence),
        ("stop_loss", reply.stop_loss),
        ("leverage", reply.leverage),
        ("horizon_hours", reply.horizon_hours),
    ):
        if value is None:
            raise _Error(RejectionCode.MISSING_FIELD, f"{action} needs {name}")
    targets = _targets(reply)
    if not targets:
        raise _Error(RejectionCode.MISSING_FIELD, f"{action} needs take_profit")
    stop, leverage, horizon = reply.stop_loss, reply.leverage, reply.horizon_hours
    assert stop is not None and leverage is not None and horizon is not None
    if mark is None:
        raise _Error(RejectionCode.NO_REFERENCE_PRICE, "no finite positive mark or last price in the data")
    if side is not None and (side is Side.BUY) == is_long and not cfg.allow_add_to_position:
        raise _Error(RejectionCode.POSITION_CONFLICT, f"{action} while a {side} position is already open")

    atr = usable_atr(data)
    entry = _entry_price(reply, entry_type, is_long, mark, atr, cfg)
    fractions = _fractions(reply, len(targets), cfg)
    _check_sides(is_long, entry, stop, targets)
    # Nearest target first, each keeping its own fraction.
    pairs = sorted(zip(targets, fractions, strict=True), key=lambda p: abs(p[0] - entry))
    targets, fractions = [p[0] for p in pairs], [p[1] for p in pairs]

    distance = abs(entry - stop)
    stop_atr = _check_stop_distance(distance, entry, atr, cfg)
    if not cfg.min_leverage <= leverage <= cfg.max_leverage:
        raise _Error(
            RejectionCode.LEVERAGE_OUT_OF_RANGE,
            f"leverage {leverage} outside [{cfg.min_leverage}, {cfg.max_leverage}]",
        )
    liq_fraction = (Decimal(1) / leverage - cfg.maintenance_margin_rate) * cfg.liquidation_safety
    if distance / entry > liq_fraction:
        raise _Error(
            RejectionCode.STOP_BEYOND_LIQUIDATION,
            f"stop {distance / entry:.4%} from entry but liquidation at {leverage}x is only "
            f"~{liq_fraction / cfg.liquidation_safety:.4%} away (safety {cfg.liquidation_safety})",
        )
    if not cfg.min_horizon_hours <= horizon <= cfg.max_horizon_hours:
        raise _Error(
            RejectionCode.HORIZON_OUT_OF_RANGE,
            f"horizon {horizon} h outside [{cfg.min_horizon_hours}, {cfg.max_horizon_hours}]",
        )
    events = funding_events(horizon, cfg.funding_interval_hours, data.timestamp, data.next_funding_time)
    rate = data.funding_rate if data.funding_rate is not None else _sentiment_rate(data)
    costs = costs_for(action, rate, events, cfg)
    rr, per = reward_risk(entry, stop, targets, fractions, costs)
    for t, r in zip(targets, per, strict=True):
        if r <= 0:
            raise _Error(
                RejectionCode.TARGET_UNPROFITABLE,
                f"target {t} does not cover fees and funding (net R:R {r:.4f})",
            )
    if rr < cfg.min_reward_risk:
        raise _Error(
            RejectionCode.REWARD_RISK_BELOW_MIN,
            f"net reward/risk {rr:.4f} after fees and {events} funding event(s) < {cfg.min_reward_risk}",
        )
    if confidence < cfg.min_confidence:
        raise _Error(RejectionCode.LOW_CONFIDENCE, f"confidence {confidence} < {cfg.min_confidence}")
    return Signal(
        action=action,
        entry_type=entry_type,
        entry_price=entry,
        stop_loss=stop,
        take_profits=tuple(
            TakeProfit(price=t, fraction=f, reward_risk=r.quantize(_RR_QUANTUM, rounding="ROUND_DOWN"))
            for t, f, r in zip(targets, fractions, per, strict=True)
        ),
        leverage=leverage,
        horizon_hours=float(horizon),
        reward_risk=rr.quantize(_RR_QUANTUM, rounding="ROUND_DOWN"),
        stop_atr=stop_atr,
        **common,
    )


def _sentiment_rate(data: EnhancedData) -> Decimal | None:
    fs = data.funding_sentiment
    return fs.rate if fs is not None else None


def _entry_price(
    reply: ModelReply,
    entry_type: EntryType,
    is_long: bool,
    mark: Decimal,
    atr: Decimal | None,
    cfg: ValidationConfig,
) -> Decimal:
    if entry_type is EntryType.MARKET:
        # The model's own entry_price is ignored: a market order fills near the mark, not where it says.
        return mark
    limit = reply.entry_price
    if limit is None:
        raise _Error(RejectionCode.MISSING_FIELD, "limit entry needs entry_price")
    if (is_long and limit > mark) or (not is_long and limit < mark):
        raise _Error(
            RejectionCode.LIMIT_THROUGH_MARK,
            f"limit {limit} is through the mark {mark}: it would fill at market; use a market entry",
        )
    gap = abs(limit - mark)
    if atr is not None:
        if gap > cfg.max_limit_distance_atr * atr:
            raise _Error(
                RejectionCode.LIMIT_TOO_FAR,
                f"limit {limit} is {gap / atr:.2f} ATR from mark {mark} (max {cfg.max_limit_distance_atr})",
            )
    elif gap / mark * 100 > cfg.max_limit_distance_pct:
        raise _Error(
            RejectionCode.LIMIT_TOO_FAR,
            f"limit {limit} is {gap / mark:.3%} from mark {mark} (max {cfg.max_limit_distance_pct} %)",
        )
    return limit


def _fractions(reply: ModelReply, n: int, cfg: ValidationConfig) -> list[Decimal]:
    if n > cfg.max_targets:
        raise _Error(RejectionCode.TOO_MANY_TARGETS, f"{n} take-profit levels (max {cfg.max_targets})")
    given = reply.take_profit_fractions
    if given is None:
        return [Decimal(1) / n] * n
    if len(given) != n:
        raise _Error(RejectionCode.BAD_TARGET_FRACTIONS, f"{len(given)} fractions for {n} targets")
    total = sum(given, Decimal(0))
    if abs(total - 1) > _FRACTION_TOLERANCE:
        raise _Error(RejectionCode.BAD_TARGET_FRACTIONS, f"fractions sum to {total}, not 1")
    return [f / total for f in given]


def _check_sides(is_long: bool, entry: Decimal, stop: Decimal, targets: list[Decimal]) -> None:
    if (is_long and stop >= entry) or (not is_long and stop <= entry):
        where = "below" if is_long else "above"
        raise _Error(
            RejectionCode.STOP_WRONG_SIDE, f"stop {stop} must be {where} the entry {entry} for this side"
        )
    for t in targets:
        if (is_long and t <= entry) or (not is_long and t >= entry):
            where = "above" if is_long else "below"
            raise _Error(
                RejectionCode.TARGET_WRONG_SIDE, f"target {t} must be {where} the entry {entry} for this side"
            )


def _check_stop_distance(
    distance: Decimal, entry: Decimal, atr: Decimal | None, cfg: ValidationConfig
) -> float | None:
    if atr is not None:
        in_atr = distance / atr
        if in_atr < cfg.min_stop_atr:
            raise _Error(
                RejectionCode.STOP_TOO_TIGHT, f"stop {in_atr:.3f} ATR from entry (min {cfg.min_stop_atr})"
            )
        if in_atr > cfg.max_stop_atr:
            raise _Error(
                RejectionCode.STOP_TOO_WIDE, f"stop {in_atr:.3f} ATR from entry (max {cfg.max_stop_atr})"
            )
        return round(float(in_atr), 4)
    pct = distance / entry * 100
    if pct < cfg.min_stop_pct:
        raise _Error(
            RejectionCode.STOP_TOO_TIGHT, f"stop {pct:.4f} % from entry (min {cfg.min_stop_pct} %; no ATR)"
        )
    if pct > cfg.max_stop_pct:
        raise _Error(
            RejectionCode.STOP_TOO_WIDE, f"stop {pct:.4f} % from entry (max {cfg.max_stop_pct} %; no ATR)"
        )
    return None
