"""Helpers shared by the signal-layer tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asym.domain import Position, Side
from asym.signals import RiskState, SignalInput
from asym.signals.testing import make_enhanced

KEY = "sk-test-9f8e7d6c5b4a-do-not-leak"


def make_input(position: Position | None = None, risk: RiskState | None = None, **kw: Any) -> SignalInput:
    """A SignalInput around make_enhanced(**kw)."""
    return SignalInput(
        data=make_enhanced(**kw), position=position, risk=risk or RiskState(equity=Decimal(10_000))
    )


def position(side: Side | None, size: str = "1", symbol: str = "BTCUSDT") -> Position:
    """An open (or flat) position."""
    return Position(
        symbol=symbol,
        side=side,
        size=Decimal(size),
        avg_price=Decimal(100),
        mark_price=Decimal(100),
        leverage=Decimal(3),
        position_value=Decimal(100),
        unrealised_pnl=Decimal(0),
        cum_realised_pnl=Decimal(0),
        liq_price=None,
        take_profit=None,
        stop_loss=None,
        position_im=Decimal(33),
        position_mm=Decimal(1),
        updated_time=0,
    )


def fast(base_url: str, **extra: Any) -> dict[str, Any]:
    """Provider overrides pointing at the test server with tiny backoffs."""
    return {"base_url": base_url, "backoff_base_s": 0.001, "backoff_max_s": 0.01, "timeout_s": 5.0, **extra}
