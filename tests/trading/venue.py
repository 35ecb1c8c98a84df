"""A synchronous venue for the trading cores' end-to-end tests: the simulator's real market model and
matching engine, reached through the real wire formats on both sides (asym.bybit builds the request body,
the simulator server's parser reads it; the server's wire writer emits account objects and asym.bybit
converts them into domain types). Only the sockets are left out; time is driven by the test."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from asym.bybit.convert import account as conv
from asym.bybit.wire.account import ExecutionItem, OrderItem, PositionItem, WalletAccount
from asym.domain import Execution, Instrument, Order, OrderRequest, Position, WalletBalance
from asym.sim.config import SimConfig
from asym.sim.engine import Engine
from asym.sim.engine.types import SimExecution, SimOrder, SimPosition, TradingStop
from asym.sim.market import Market
from asym.sim.server import wire_account
from asym.sim.server.params import Params
from asym.sim.server.rest_trade import parse_place
from asym.sim.types import SimInstrument
from asym.trading import SetStopLoss

UID = "trader"


class SimVenue:
    """One funded account on a seeded simulated market."""

    def __init__(self, start_ms: int, balance: Decimal, seed: int = 7, symbols: int = 3) -> None:
        self.market = Market(
            SimConfig.model_validate({"symbols": symbols, "seed": seed, "history_days": 1}), start_ms
        )
        self.engine = Engine(self.market, seed=seed)
        self.engine.open_account(UID, balance)
        self.now = start_ms
        self.engine.drain_events(UID)

    def inst(self, symbol: str) -> SimInstrument:
        return self.market.instrument(symbol)

    def instrument(self, symbol: str) -> Instrument:
        return self.inst(symbol).info

    def mark(self, symbol: str) -> Decimal:
        return self.inst(symbol).price.to_decimal(self.market.ticker(symbol).mark)

    # --- writes (the shell's job in production) ---------------------------------------------------------

    def place(self, req: OrderRequest) -> Order:
        inst = self.inst(req.symbol)
        cmd = parse_place(Params(conv.order_body(req)), inst)
        self.now += 1
        return self._order(self.engine.place_order(UID, cmd, self.now))

    def cancel(self, symbol: str, link: str) -> Order:
        self.now += 1
        return self._order(self.engine.cancel_order(UID, symbol, "", link, self.now))

    def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        self.engine.set_leverage(UID, symbol, leverage, self.now)

    def set_stop(self, a: SetStopLoss) -> None:
        inst = self.inst(a.symbol)
        self.engine.trading_stop(
            UID,
            TradingStop(
                symbol=a.symbol, stop_loss=inst.price.to_int(a.stop_loss), sl_trigger_by=a.trigger_by
            ),
            self.now,
        )

    def remove_stop(self, symbol: str) -> None:
        self.engine.trading_stop(UID, TradingStop(symbol=symbol, stop_loss=0), self.now)

    # --- time and reads ---------------------------------------------------------------------------------

    def run(self, seconds: int, symbol: str) -> None:
        for _ in range(seconds):
            self.now += 1000
            events = self.market.advance(self.now, sorted(self.engine.active_symbols() | {symbol}))
            self.engine.on_market(events, self.now)

    def drain(self) -> tuple[list[Order], list[Execution]]:
        ev = self.engine.drain_events(UID)
        return [self._order(o) for o in ev.orders], [self._execution(x) for x in ev.executions]

    def positions(self) -> list[Position]:
        return [self._position(p) for p in self.engine.positions(UID, None)]

    def open_orders(self) -> list[Order]:
        return [
            self._order(o)
            for o in self.engine.orders(UID, symbol=None, order_id="", order_link_id="", open_only=True)
        ]

    def wallet(self) -> WalletBalance:
        item = wire_account.wallet_item(self.engine.wallet(UID))
        return conv.wallet(msgspec.convert(item, WalletAccount), self.now)

    def count(self, link: str) -> int:
        return self.engine.order_count_by_link_id(UID, link)

    def _order(self, o: SimOrder) -> Order:
        return conv.order(
            msgspec.convert(wire_account.order_item(self.inst(o.symbol), o), OrderItem), "linear"
        )

    def _execution(self, x: SimExecution) -> Execution:
        item = wire_account.execution_item(self.inst(x.symbol), x)
        return conv.execution(msgspec.convert(item, ExecutionItem), "linear")

    def _position(self, p: SimPosition) -> Position:
        item = wire_account.position_item(self.inst(p.symbol), p)
        return conv.position(msgspec.convert(item, PositionItem), "linear")
