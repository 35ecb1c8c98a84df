"""The risk engine: `evaluate` turns a `TradeIntent` into an accepted `OrderPlan` or a refusal, and always
returns every check it made (named, passed or failed, with the numbers) so the decision can be recorded.

Gates (mode, instrument, account, data freshness and quality, market risk, one position per symbol,
concurrent positions) are all evaluated even after one fails, so a refusal lists every reason. Sizing runs
when the prices are sane: the smallest of the quantity caps (risk budget, margin, symbol / total /
correlated exposure, venue maximum) wins, then the venue minimums and the reward/risk of the rounded plan
are checked. docs/trading.md describes every check and default.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Instrument, Side
from asym.errors import DataError
from asym.signals.schema import EntryType
from asym.trading.config import RiskConfig
from asym.trading.intents import TradeIntent
from asym.trading.modes import Mode
from asym.trading.orders import OrderTracker
from asym.trading.plan import OrderPlan, entry_request, tp_requests
from asym.trading.portfolio import Portfolio
from asym.trading.sizing import (
    floor_to_step,
    gain_per_unit,
    loss_per_unit,
    qty_for_margin,
    qty_for_notional,
    qty_for_risk,
    round_entry,
    round_stop,
    round_target,
    split_legs,
    worst_market_entry,
)
from asym.trading.views import AccountView, Exposure, MarketView

__all__ = [
    "RiskCheck",
    "RiskConfig",
    "RiskDecision",
    "account_view",
    "blocking_flags",
    "data_quality_share",
    "data_usable",
    "evaluate",
]

_ZERO = Decimal(0)


class RiskCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One named check with its outcome and the numbers it compared (as strings, exact)."""

    name: str
    passed: bool
    detail: str
    figures: dict[str, str] = msgspec.field(default_factory=dict)


class RiskDecision(msgspec.Struct, frozen=True, kw_only=True):
    """Accepted (with a plan) or refused; always with every check made."""

    accepted: bool
    intent: TradeIntent
    checks: tuple[RiskCheck, ...]
    plan: OrderPlan | None
    now_ms: int

    @property
    def failed(self) -> tuple[RiskCheck, ...]:
        """The checks that failed (empty when accepted)."""
        return tuple(c for c in self.checks if not c.passed)

    @property
    def reasons(self) -> tuple[str, ...]:
        """'name: detail' of every failed check."""
        return tuple(f"{c.name}: {c.detail}" for c in self.failed)

    def check(self, name: str) -> RiskCheck | None:
        """The check called `name`, if it was made."""
        return next((c for c in self.checks if c.name == name), None)


class _Checks:
    def __init__(self) -> None:
        self.items: list[RiskCheck] = []

    def add(self, name: str, passed: bool, detail: str, **figures: object) -> bool:
        self.items.append(
            RiskCheck(
                name=name, passed=passed, detail=detail, figures={k: str(v) for k, v in figures.items()}
            )
        )
        return passed

    @property
    def all_passed(self) -> bool:
        return all(c.passed for c in self.items)


def _finite_pos(v: Decimal) -> bool:
    return isinstance(v, Decimal) and v.is_finite() and v > 0


def evaluate(
    intent: TradeIntent,
    instrument: Instrument,
    account: AccountView,
    market: MarketView,
    cfg: RiskConfig,
    now_ms: int,
) -> RiskDecision:
    """Decide on one trade intent; pure and deterministic for the same inputs."""
    c = _Checks()
    c.add("mode", account.mode is Mode.NORMAL, f"mode is {account.mode.value}", mode=account.mode.value)
    inst_ok = _check_instrument(c, intent, instrument)
    bad_exposures = [e.symbol for e in account.exposures if not (e.notional.is_finite() and e.notional >= 0)]
    acct_ok = c.add(
        "account",
        _finite_pos(account.equity)
        and account.available_balance.is_finite()
        and account.available_balance >= 0
        and not bad_exposures,
        f"equity {account.equity} (must be > 0), available {account.available_balance} (must be >= 0)"
        + (f", unusable exposure notional for {', '.join(bad_exposures)}" if bad_exposures else ""),
        equity=account.equity,
        available=account.available_balance,
    )
    _check_market(c, intent, market, cfg, now_ms)
    if acct_ok:
        _check_book(c, intent, account, cfg)
    plan = None
    prices_ok = c.add(
        "intent_numbers",
        all(_finite_pos(v) for v in (intent.entry_price, intent.stop_loss, intent.leverage))
        and bool(intent.take_profits)
        and all(_finite_pos(t.price) and _finite_pos(t.fraction) for t in intent.take_profits),
        "entry, stop, leverage, targets and fractions must be finite and > 0",
    )
    if inst_ok and acct_ok and prices_ok:
        plan = _size(c, intent, instrument, account, cfg)
    accepted = c.all_passed and plan is not None
    return RiskDecision(
        accepted=accepted,
        intent=intent,
        checks=tuple(c.items),
        plan=plan if accepted else None,
        now_ms=now_ms,
    )


def _check_instrument(c: _Checks, intent: TradeIntent, inst: Instrument) -> bool:
    problems = []
    if inst.symbol != intent.symbol:
        problems.append(f"instrument is {inst.symbol}, intent is for {intent.symbol}")
    if inst.status != "Trading":
        problems.append(f"status {inst.status}")
    for name in (
        "tick_size",
        "qty_step",
        "min_order_qty",
        "max_order_qty",
        "max_mkt_order_qty",
        "max_leverage",
    ):
        if not _finite_pos(getattr(inst, name)):
            problems.append(f"{name} {getattr(inst, name)} is not > 0")
    if not inst.min_notional.is_finite() or inst.min_notional < 0:
        problems.append(f"min_notional {inst.min_notional} is negative")
    return c.add(
        "instrument",
        not problems,
        "; ".join(problems) or "tradable, filters sane",
        tick_size=inst.tick_size,
        qty_step=inst.qty_step,
        status=inst.status,
    )


def blocking_flags(data: EnhancedData, cfg: RiskConfig) -> list[str]:
    """The quality flags of `data` that make it unusable for a new position under `cfg`."""
    flags = data.quality_flags
    if not flags:
        return []
    if cfg.block_on_any_quality_flag:
        return list(flags)
    prefixes = cfg.blocking_quality_flags  # a tuple: str.startswith tests every prefix in C
    return [f for f in flags if f.startswith(prefixes)]


def data_usable(data: EnhancedData, cfg: RiskConfig, now_ms: int) -> bool:
    """True when `data` is fresh and carries no blocking flag (the gates `evaluate` applies)."""
    age = now_ms - data.timestamp
    return -cfg.max_clock_skew_ms <= age <= cfg.max_data_age_ms and not blocking_flags(data, cfg)


def data_quality_share(datas: Iterable[EnhancedData | None], cfg: RiskConfig, now_ms: int) -> float | None:
    """Share of watched assets whose data is usable (None counts as unusable); None when nothing is
    watched. This is `ModeInputs.data_quality`."""
    items = list(datas)
    if not items:
        return None
    return sum(1 for d in items if d is not None and data_usable(d, cfg, now_ms)) / len(items)


def _check_market(c: _Checks, intent: TradeIntent, market: MarketView, cfg: RiskConfig, now_ms: int) -> None:
    d = market.data
    if d is None or d.symbol != intent.symbol:
        why = "no enhanced data" if d is None else f"data is for {d.symbol}"
        c.add("market_data", False, why)
        return
    c.add("market_data", True, "enhanced data present", ts=d.timestamp)
    age = now_ms - d.timestamp
    c.add(
        "data_freshness",
        -cfg.max_clock_skew_ms <= age <= cfg.max_data_age_ms,
        f"data age {age} ms (allowed -{cfg.max_clock_skew_ms}..{cfg.max_data_age_ms})",
        age_ms=age,
        max_age_ms=cfg.max_data_age_ms,
    )
    blocking = blocking_flags(d, cfg)
    c.add(
        "data_quality",
        not blocking,
        f"blocking flags: {', '.join(blocking)}" if blocking else "no blocking quality flag",
        flags=",".join(d.quality_flags),
    )
    score = d.market_risk_score
    if score is None:
        c.add(
            "market_risk",
            not cfg.refuse_unknown_market_risk,
            "market_risk_score unknown",
            max_score=cfg.max_market_risk_score,
        )
    else:
        c.add(
            "market_risk",
            score <= cfg.max_market_risk_score,
            f"market_risk_score {score:.4f} (max {cfg.max_market_risk_score})",
            score=score,
            max_score=cfg.max_market_risk_score,
        )


def _check_book(c: _Checks, intent: TradeIntent, account: AccountView, cfg: RiskConfig) -> None:
    here = [e for e in account.exposures if e.symbol == intent.symbol]
    c.add(
        "existing_position",
        not here,
        f"{intent.symbol} already has a position or pending entry" if here else "no position in the symbol",
        held=sum((e.notional for e in here), _ZERO),
    )
    symbols = {e.symbol for e in account.exposures}
    c.add(
        "concurrent_positions",
        len(symbols | {intent.symbol}) <= cfg.max_concurrent_positions,
        f"{len(symbols)} symbols held or pending, max {cfg.max_concurrent_positions}",
        count=len(symbols),
        max=cfg.max_concurrent_positions,
    )


def _is_correlated(symbol: str, cfg: RiskConfig) -> bool:
    return symbol not in cfg.uncorrelated_symbols


def _beyond(side: Side, price: Decimal, ref: Decimal) -> bool:
    """True when `price` is on the profit side of `ref` for a position of `side`."""
    return price > ref if side is Side.BUY else price < ref


def _size(
    c: _Checks, intent: TradeIntent, inst: Instrument, account: AccountView, cfg: RiskConfig
) -> OrderPlan | None:
    side, tick, step = intent.side, inst.tick_size, inst.qty_step
    is_market = intent.entry_type is EntryType.MARKET
    entry_ref = intent.entry_price if is_market else round_entry(intent.entry_price, side, tick)
    worst = worst_market_entry(entry_ref, side, cfg.entry_slippage_rate) if is_market else entry_ref
    stop = round_stop(intent.stop_loss, side, tick)
    targets = tuple(round_target(t.price, side, tick) for t in intent.take_profits)
    ok = c.add(
        "stop_side",
        _beyond(side.opposite, stop, entry_ref) and _beyond(side.opposite, stop, worst) and stop > 0,
        f"stop {stop} must be {'below' if side is Side.BUY else 'above'} the entry {entry_ref} "
        f"(worst {worst})",
        stop=stop,
        entry=entry_ref,
        worst_entry=worst,
    )
    ok &= c.add(
        "target_side",
        all(_beyond(side, t, worst) for t in targets),
        f"targets {', '.join(map(str, targets))} must be beyond the worst entry {worst}",
        targets=",".join(map(str, targets)),
    )
    prices = [stop, *targets] + ([] if is_market else [entry_ref])
    ok &= c.add(
        "price_filter",
        all(inst.min_price <= p <= inst.max_price for p in prices),
        f"prices must lie in [{inst.min_price}, {inst.max_price}]",
    )
    lev = floor_to_step(min(intent.leverage, cfg.max_leverage, inst.max_leverage), inst.leverage_step)
    ok &= c.add(
        "leverage",
        lev >= inst.min_leverage and lev > 0,
        f"leverage {lev} (asked {intent.leverage}, caps {cfg.max_leverage} / {inst.max_leverage})",
        leverage=lev,
        asked=intent.leverage,
    )
    if not ok:
        return None
    stop_frac = abs(worst - stop) / worst
    liq_room = (1 / lev - cfg.maintenance_margin_rate) * cfg.liquidation_safety
    ok &= c.add(
        "liquidation_distance",
        stop_frac < liq_room,
        f"stop {stop_frac:.4%} from entry, liquidation room at {lev}x x safety is {liq_room:.4%}",
        stop_fraction=stop_frac,
        room=liq_room,
    )
    per_unit = loss_per_unit(worst, stop, side, cfg.taker_fee_rate, cfg.stop_slippage_rate)
    budget = account.equity * cfg.risk_per_trade
    caps = _caps(intent, inst, account, cfg, worst, per_unit, budget, lev, is_market)
    for name, (qty, detail, figures) in caps.items():
        c.add(name, qty >= inst.min_order_qty, detail, qty=qty, **figures)
    qty = min(q for q, _, _ in caps.values())
    binding = min(caps, key=lambda k: caps[k][0])
    ok &= c.add(
        "min_order_qty",
        qty >= inst.min_order_qty,
        f"qty {qty} (bound by {binding}) vs minimum {inst.min_order_qty}",
        qty=qty,
        binding=binding,
    )
    notional_ref = qty * entry_ref
    ok &= c.add(
        "min_notional",
        notional_ref >= inst.min_notional,
        f"order value {notional_ref} vs minimum {inst.min_notional}",
        notional=notional_ref,
    )
    if qty <= 0:
        return None
    fractions = tuple(t.fraction for t in intent.take_profits)
    legs = split_legs(qty, fractions, step, inst.min_order_qty, cfg.min_tp_leg_fraction)
    planned_rr = (
        sum(
            (
                leg / qty * gain_per_unit(worst, t, cfg.taker_fee_rate)
                for leg, t in zip(legs, targets, strict=True)
            ),
            _ZERO,
        )
        / per_unit
    )
    ok &= c.add(
        "reward_risk",
        planned_rr >= cfg.min_reward_risk and intent.reward_risk >= cfg.min_reward_risk,
        f"planned net R:R {planned_rr:.4f}, signal's {intent.reward_risk}, minimum {cfg.min_reward_risk}",
        planned=planned_rr,
        signal=intent.reward_risk,
        min=cfg.min_reward_risk,
    )
    risk_amount = qty * per_unit
    ok &= c.add(
        "risk_budget",
        risk_amount <= budget,
        f"loss at stop {risk_amount} vs budget {budget}",
        risk=risk_amount,
        budget=budget,
        per_unit=per_unit,
    )
    if not ok:
        return None
    key = intent.signal_id
    notional = qty * worst
    return OrderPlan(
        intent_key=key,
        symbol=intent.symbol,
        side=side,
        entry_type=intent.entry_type,
        leverage=lev,
        qty=qty,
        entry_price=entry_ref,
        worst_entry=worst,
        stop_loss=stop,
        take_profits=targets,
        tp_fractions=fractions,
        tp_quantities=tuple(legs),
        entry=entry_request(
            key=key,
            symbol=intent.symbol,
            side=side,
            entry_type=intent.entry_type,
            qty=qty,
            price=entry_ref,
            stop_loss=stop,
            final_target=targets[-1],
            cfg=cfg,
        ),
        exits=tp_requests(key, intent.symbol, side, targets, legs),
        risk_amount=risk_amount,
        notional=notional,
        margin=notional / lev,
        reward_risk=planned_rr,
    )


def _caps(
    intent: TradeIntent,
    inst: Instrument,
    account: AccountView,
    cfg: RiskConfig,
    worst: Decimal,
    per_unit: Decimal,
    budget: Decimal,
    lev: Decimal,
    is_market: bool,
) -> dict[str, tuple[Decimal, str, dict[str, object]]]:
    """Every quantity cap: name -> (largest qty it allows, detail, figures)."""
    step, eq = inst.qty_step, account.equity
    out: dict[str, tuple[Decimal, str, dict[str, object]]] = {}
    q = qty_for_risk(budget, per_unit, step)
    out["size_risk"] = (
        q,
        f"risk budget {budget} / loss per unit {per_unit}",
        {"budget": budget, "per_unit": per_unit},
    )
    usable = account.available_balance * cfg.margin_buffer
    q = qty_for_margin(usable, lev, worst, cfg.taker_fee_rate, step)
    out["size_margin"] = (
        q,
        f"margin at {lev}x plus entry fee within {usable}",
        {"usable": usable, "leverage": lev},
    )
    held_sym = sum((e.notional for e in account.exposures if e.symbol == intent.symbol), _ZERO)
    room = cfg.max_symbol_exposure * eq - held_sym
    q = qty_for_notional(room, worst, step) if room > 0 else _ZERO
    out["size_symbol_exposure"] = (
        q,
        f"symbol notional room {room}",
        {"room": room, "cap": cfg.max_symbol_exposure * eq},
    )
    gross = sum((e.notional for e in account.exposures), _ZERO)
    room = cfg.max_total_exposure * eq - gross
    q = qty_for_notional(room, worst, step) if room > 0 else _ZERO
    out["size_total_exposure"] = (q, f"total notional room {room}", {"room": room, "gross": gross})
    if _is_correlated(intent.symbol, cfg):
        same = sum(
            (
                e.notional
                for e in account.exposures
                if e.side is intent.side and _is_correlated(e.symbol, cfg)
            ),
            _ZERO,
        )
        room = cfg.max_correlated_exposure * eq - same
        q = qty_for_notional(room, worst, step) if room > 0 else _ZERO
        out["size_correlated_exposure"] = (
            q,
            f"same-direction BTC-correlated notional room {room}",
            {"room": room, "held": same},
        )
    venue_max = inst.max_mkt_order_qty if is_market else inst.max_order_qty
    q = floor_to_step(venue_max, step)
    out["size_venue_max"] = (
        q,
        f"venue maximum {'market' if is_market else 'limit'} order qty {venue_max}",
        {},
    )
    return out


def account_view(
    portfolio: Portfolio, tracker: OrderTracker, mode: Mode, available_balance: Decimal
) -> AccountView:
    """The account as risk sees it: equity from the portfolio, exposures of positions and live entries."""
    exposures: list[Exposure] = list(portfolio.exposures())
    for rec in tracker.live_entries():
        open_qty = rec.open_qty
        if open_qty <= 0:
            continue
        if rec.ref_price is None or rec.ref_price <= 0:
            raise DataError(f"live entry {rec.order_link_id} has no reference price to value its exposure")
        exposures.append(
            Exposure(symbol=rec.symbol, side=rec.side, notional=open_qty * rec.ref_price, pending=True)
        )
    return AccountView(
        equity=portfolio.equity, available_balance=available_balance, mode=mode, exposures=tuple(exposures)
    )
