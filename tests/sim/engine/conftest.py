"""Fixtures of the engine tests: a scripted market, an engine with one funded account, helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from asym.domain import OrderType, Side, TimeInForce
from asym.sim.engine import Engine
from asym.sim.engine.types import AccountEvents, PlaceOrder, SimOrder, SimPosition, SimWallet
from asym.sim.types import FundingSettlement, MarketEvents, TradeEvent

from .scripted import ScriptedMarket

UID = "u1"
DEPOSIT = Decimal(100_000)
_PRICE_FIELDS = ("price", "take_profit", "stop_loss", "trigger_price", "tp_limit_price", "sl_limit_price")


@dataclass
class Harness:
    """Drives an Engine over a ScriptedMarket with decimal-string prices and quantities."""

    m: ScriptedMarket
    e: Engine
    uid: str = UID
    now: int = 1_700_000_000_000
    log: list[AccountEvents] = field(default_factory=list)

    def place(
        self,
        side: Side | str,
        qty: str,
        price: str | None = None,
        *,
        symbol: str = "BTCUSDT",
        order_type: OrderType | None = None,
        tif: TimeInForce | None = None,
        **kw: Any,
    ) -> SimOrder:
        """Place an order; Limit when a price is given, else Market."""
        for name in _PRICE_FIELDS:
            if name in kw and isinstance(kw[name], str):
                kw[name] = self.m.p(symbol, kw[name])
        cmd = PlaceOrder(
            symbol=symbol,
            side=Side(side),
            order_type=order_type or (OrderType.LIMIT if price is not None else OrderType.MARKET),
            qty=self.m.q(symbol, qty),
            price=self.m.p(symbol, price) if price is not None else None,
            time_in_force=tif,
            **kw,
        )
        self.now += 1
        return self.e.place_order(self.uid, cmd, self.now)

    def tick(
        self, trades: Iterable[TradeEvent] = (), fundings: Iterable[FundingSettlement] = (), dt: int = 1000
    ) -> None:
        """Advance time and let the engine react to the given market events and current prices."""
        self.now += dt
        self.e.on_market(MarketEvents(trades=list(trades), fundings=list(fundings)), self.now)

    def pos(self, symbol: str = "BTCUSDT") -> SimPosition:
        return self.e.positions(self.uid, symbol)[0]

    def wallet(self) -> SimWallet:
        return self.e.wallet(self.uid)

    def drain(self) -> AccountEvents:
        return self.e.drain_events(self.uid)

    def order(self, order_id: str) -> SimOrder:
        (found,) = self.e.orders(self.uid, symbol=None, order_id=order_id, order_link_id="", open_only=False)
        return found

    def px(self, symbol: str, ticks: int | None) -> Decimal | None:
        """Ticks back to a Decimal price."""
        return None if ticks is None else self.m.instrument(symbol).price.to_decimal(ticks)


@pytest.fixture
def market() -> ScriptedMarket:
    return ScriptedMarket()


@pytest.fixture
def h(market: ScriptedMarket) -> Harness:
    engine = Engine(market, seed=1)
    engine.open_account(UID, DEPOSIT)
    return Harness(market, engine)
