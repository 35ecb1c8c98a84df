"""Builds the immutable views the server formats (SimPosition, SimWallet) from engine state and marks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from asym.sim.engine import formulas as f
from asym.sim.engine.accounts import Account, PositionState
from asym.sim.engine.types import SimCoin, SimPosition, SimWallet
from asym.sim.types import SimInstrument

MARGIN_QUANTUM = Decimal("1e-8")


def q8(value: Decimal) -> Decimal:
    """A derived margin figure rounded up (away from zero) to 8 decimals, as Bybit prints them."""
    return value.quantize(MARGIN_QUANTUM, ROUND_UP)


@dataclass(frozen=True, slots=True)
class PositionFigures:
    """Margins and P&L of one position at one mark price."""

    value: Decimal
    upl: Decimal
    im: Decimal
    mm: Decimal
    tier: f.Tier


def figures(inst: SimInstrument, pos: PositionState, mark: int, tier_of: f.Tier) -> PositionFigures:
    """Position value (at entry), UPL (at mark), IM (value / leverage) and MM (mark value x MM rate)."""
    size = inst.qty.to_decimal(pos.size)
    value = size * pos.avg
    mark_d = inst.price.to_decimal(mark)
    upl = f.unrealised_pnl(pos.side, pos.avg, mark_d, size)
    im = q8(f.initial_margin(value, pos.leverage)) if pos.size else f.ZERO
    mm = q8(f.maintenance_margin(size * mark_d, tier_of)) if pos.size else f.ZERO
    return PositionFigures(value, upl, im, mm, tier_of)


def position_view(inst: SimInstrument, pos: PositionState, mark: int, fig: PositionFigures) -> SimPosition:
    """The SimPosition of `pos` (flat positions report side None, size 0)."""
    liq = bust = None
    if pos.size and pos.side is not None:
        size = inst.qty.to_decimal(pos.size)
        liq = f.liquidation_price(pos.side, pos.avg, size, pos.leverage, fig.tier, inst.price.step)
        bust = f.bankruptcy_price(pos.side, pos.avg, pos.leverage, inst.price.step)
    return SimPosition(
        symbol=pos.symbol,
        side=pos.side if pos.size else None,
        size=pos.size,
        avg_price=pos.avg if pos.size else f.ZERO,
        leverage=pos.leverage,
        mark_price=mark,
        position_value=fig.value,
        unrealised_pnl=fig.upl,
        cur_realised_pnl=pos.cur_realised,
        cum_realised_pnl=pos.cum_realised,
        position_im=fig.im,
        position_mm=fig.mm,
        liq_price=liq,
        bust_price=bust,
        take_profit=pos.take_profit,
        stop_loss=pos.stop_loss,
        tp_trigger_by=pos.tp_trigger_by,
        sl_trigger_by=pos.sl_trigger_by,
        created_time=pos.created_time,
        updated_time=pos.updated_time,
        seq=pos.seq,
        position_status=pos.status,
        risk_id=fig.tier.risk_id,
        risk_limit_value=fig.tier.limit_value,
    )


def wallet_view(
    acct: Account, upl: Decimal, position_im: Decimal, position_mm: Decimal, order_im: Decimal
) -> SimWallet:
    """The unified wallet: equity = wallet + UPL, available = margin balance - IM (never below 0)."""
    wallet = acct.wallet
    equity = wallet + upl
    total_im = position_im + order_im
    available = max(f.ZERO, equity - total_im)
    coin = SimCoin(
        coin="USDT",
        wallet_balance=wallet,
        equity=equity,
        unrealised_pnl=upl,
        cum_realised_pnl=acct.realised_total - acct.fees_total - acct.funding_total,
        total_order_im=order_im,
        total_position_im=position_im,
        total_position_mm=position_mm,
        available=available,
    )
    return SimWallet(
        total_equity=equity,
        total_wallet_balance=wallet,
        total_margin_balance=equity,
        total_available_balance=available,
        total_perp_upl=upl,
        total_initial_margin=total_im,
        total_maintenance_margin=position_mm,
        account_im_rate=f.rate(total_im, equity),
        account_mm_rate=f.rate(position_mm, equity),
        coins=(coin,),
    )
