"""Pure trade economics: funding events over a horizon and net reward/risk after fees and funding.

Per unit of position, for entry E, stop S, target T, entry fee fe, exit fee fx, stop slippage sl and
expected adverse funding f (fraction of notional over the horizon):

    risk   = |E - S| + fe*E + fx*S + sl*S + f*E
    reward = |T - E| - fe*E - fx*T - f*E
    R:R    = sum_i(w_i * reward_i) / risk        (w_i = share of the position closed at target i)
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from asym.signals.config import ValidationConfig
from asym.signals.schema import Action

_HOUR_MS = 3_600_000


class Costs(msgspec.Struct, frozen=True, kw_only=True):
    """Cost rates of one trade: fees, stop slippage and adverse funding over the horizon (fractions)."""

    entry_fee: Decimal
    exit_fee: Decimal
    stop_slippage: Decimal
    funding: Decimal


def funding_events(
    horizon_hours: Decimal, interval_hours: int, now_ms: int, next_funding_ms: int | None
) -> int:
    """How many funding settlements fall in (now, now + horizon]; ceil(horizon/interval) if unknown."""
    interval_ms = interval_hours * _HOUR_MS
    horizon_ms = int(horizon_hours * _HOUR_MS)
    if next_funding_ms is None or now_ms <= 0:
        return -(-horizon_ms // interval_ms)
    first = next_funding_ms
    if first <= now_ms:
        # A stale next-funding time: move it forward to the first settlement after now.
        first += ((now_ms - first) // interval_ms + 1) * interval_ms
    end = now_ms + horizon_ms
    if first > end:
        return 0
    return 1 + (end - first) // interval_ms


def adverse_funding(action: Action, rate: Decimal | None, events: int, cfg: ValidationConfig) -> Decimal:
    """Expected funding the position PAYS over the horizon as a fraction of notional (never a credit)."""
    if rate is None or not rate.is_finite():
        # Unknown funding is assumed to be against us.
        per_event = abs(cfg.unknown_funding_rate)
    else:
        # Positive rate: longs pay shorts. Received funding is not counted: rates change within hours.
        per_event = rate if action is Action.LONG else -rate
    return max(Decimal(0), per_event) * events


def costs_for(action: Action, rate: Decimal | None, events: int, cfg: ValidationConfig) -> Costs:
    """The cost rates of a LONG/SHORT under `cfg` with `events` funding settlements."""
    return Costs(
        entry_fee=cfg.entry_fee_rate,
        exit_fee=cfg.exit_fee_rate,
        stop_slippage=cfg.stop_slippage_rate,
        funding=adverse_funding(action, rate, events, cfg),
    )


def net_risk(entry: Decimal, stop: Decimal, c: Costs) -> Decimal:
    """Loss per unit when the stop fills, including both fees, slippage and funding."""
    return abs(entry - stop) + c.entry_fee * entry + (c.exit_fee + c.stop_slippage) * stop + c.funding * entry


def net_reward(entry: Decimal, target: Decimal, c: Costs) -> Decimal:
    """Gain per unit when `target` fills, after both fees and funding (may be <= 0)."""
    return abs(target - entry) - c.entry_fee * entry - c.exit_fee * target - c.funding * entry


def reward_risk(
    entry: Decimal, stop: Decimal, targets: Sequence[Decimal], fractions: Sequence[Decimal], c: Costs
) -> tuple[Decimal, list[Decimal]]:
    """(fraction-weighted net R:R, per-target net R:R); prices must already be on the correct sides."""
    risk = net_risk(entry, stop, c)
    per = [net_reward(entry, t, c) / risk for t in targets]
    return sum((w * r for w, r in zip(fractions, per, strict=True)), Decimal(0)), per


def target_distance_for(action: Action, entry: Decimal, stop: Decimal, c: Costs, rr: Decimal) -> Decimal:
    """The distance |T - E| of a single target whose net R:R is exactly `rr`."""
    risk = net_risk(entry, stop, c)
    fixed = (c.entry_fee + c.exit_fee + c.funding) * entry
    # reward = D*(1 -/+ fx) - (fe + fx + f)*E  with T = E +/- D  (long: minus, short: plus)
    slope = Decimal(1) - c.exit_fee if action is Action.LONG else Decimal(1) + c.exit_fee
    return (rr * risk + fixed) / slope
