"""`CoreVenue`: the `Venue` protocol (asym.domain.venue) over the simulator core, in process, on a
simulated clock, so that `TradingSession` runs in a backtest exactly as it runs against a real venue.

Requests take the same path as over the network, without the sockets: asym.bybit builds the request body
(`order_body`), the simulator server's parser reads it (`parse_place`, `parse_amend`), the matching engine
(`asym.sim.engine.Engine`) executes it, the server's writers format the answer and asym.bybit converts it
into domain types. Business rejections become the `VenueError` classes asym.bybit raises for the same
retCodes (110072 on a re-sent orderLinkId resolves to the existing order, like `BybitClient`). Fees,
funding, slippage through the book and liquidation are the engine's.

Time moves only by `advance_to(t)`: the driver walks the market (and the engine reacts) up to t. The
account's private events since the last `drain()` are queued in arrival order and also pushed to the
private streams (`stream_orders`, ...), never dropped.

    venue = CoreVenue(BarMarket(data, calib_end_ms), SimClock(t0), balance=Decimal(10_000))
    await venue.place_order(request); venue.advance_to(t0 + 3_600_000); events = venue.drain()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from asym.backtest import convert
from asym.backtest.bars import BarMarket
from asym.backtest.clock import SimClock
from asym.backtest.driver import BarDriver, Driver, StepDriver
from asym.backtest.streams import LocalEventStream
from asym.backtest.venue_market import MarketDataApi
from asym.bybit.convert import account as ca
from asym.bybit.retcodes import Action, action_for, classify_retcode, make_error
from asym.domain import (
    Category,
    ExecType,
    Execution,
    FundingRate,
    Order,
    OrderRequest,
    OrderType,
    Position,
    TriggerBy,
    WalletBalance,
)
from asym.domain.venue import AmendRequest, BatchResult, EventStream, OrderAck, TradingStopRequest
from asym.errors import DuplicateOrderError, InvalidRequestError, VenueError
from asym.sim.engine import Engine
from asym.sim.engine.types import SimExecution, SimOrder, SimPosition, TradingStop
from asym.sim.server.envelope import ApiError
from asym.sim.server.params import Params
from asym.sim.server.rest_trade import parse_amend, parse_place
from asym.sim.types import MarketModel, SimRejection

UID = "backtest"


@dataclass(slots=True)
class AccountUpdates:
    """Private events since the last drain, in domain types."""

    orders: list[Order] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    wallet: WalletBalance | None = None

    def __bool__(self) -> bool:
        return bool(self.orders or self.executions or self.positions or self.wallet)


def _error(code: int, msg: str, endpoint: str, *, write: bool) -> VenueError | None:
    """The exception asym.bybit raises for (code, msg); None for 'not modified' answers."""
    rule = classify_retcode(code)
    if action_for(rule, write) is Action.NOOP:
        return None
    return make_error(rule, write=write, endpoint=endpoint, ret_code=code, ret_msg=msg)


def _same_order(o: Order, r: OrderRequest) -> bool:
    return (
        o.symbol == r.symbol
        and o.side is r.side
        and o.order_type is r.order_type
        and o.qty == r.qty
        and (r.price is None or r.order_type is not OrderType.LIMIT or o.price == r.price)
    )


class CoreVenue(MarketDataApi):
    """One funded account on a `MarketModel` + `Engine`, behind the Venue protocol."""

    def __init__(
        self,
        market: MarketModel,
        clock: SimClock,
        *,
        balance: Decimal,
        engine: Engine | None = None,
        driver: Driver | None = None,
        funding: Mapping[str, Sequence[FundingRate]] | None = None,
        step_ms: int = 1000,
        uid: str = UID,
    ) -> None:
        self.market = market
        self.clock = clock
        self.uid = uid
        self.engine = engine if engine is not None else Engine(market)
        self.engine.open_account(uid, balance)
        self.engine.drain_events(uid)
        self.market.advance(clock.now_ms(), [])
        if driver is None:
            if isinstance(market, BarMarket):
                driver = BarDriver(market, self.engine, uid, self._publish_market)
            else:
                driver = StepDriver(market, self.engine, step_ms, funding, self._publish_market)
        self.driver: Driver = driver
        self._pending = AccountUpdates()
        self._order_streams: list[LocalEventStream[Order]] = []
        self._exec_streams: list[LocalEventStream[Execution]] = []
        self._pos_streams: list[LocalEventStream[Position]] = []
        self._wallet_streams: list[LocalEventStream[WalletBalance]] = []
        self._init_market_streams()

    def __repr__(self) -> str:
        return f"CoreVenue(uid={self.uid!r}, now={self.clock.now_ms()})"

    # ---- time and events -------------------------------------------------------------------------

    def advance_to(self, t: int) -> None:
        """Move the market and the engine to `t` (everything in between happens), then the clock."""
        now = self.clock.now_ms()
        if t < now:
            raise ValueError(f"cannot go back in time ({t} < {now})")
        self.driver.run(now, t)
        self.clock.set(t)
        self._collect()
        self._publish_moved()

    def drain(self) -> AccountUpdates:
        """Private events since the last drain (what the private streams also carried)."""
        self._collect()
        out, self._pending = self._pending, AccountUpdates()
        return out

    def _collect(self) -> None:
        ev = self.engine.drain_events(self.uid)
        if not ev:
            return
        now = self.clock.now_ms()
        inst = self.market.instrument
        p = self._pending
        for o in ev.orders:
            d = convert.order(inst(o.symbol), o)
            p.orders.append(d)
            for s in self._order_streams:
                s.put(d)
        for x in ev.executions:
            e = convert.execution(inst(x.symbol), x)
            p.executions.append(e)
            for s2 in self._exec_streams:
                s2.put(e)
        for pos in ev.positions:
            dp = convert.position(inst(pos.symbol), pos)
            p.positions.append(dp)
            for s3 in self._pos_streams:
                s3.put(dp)
        if ev.wallet is not None:
            w = convert.wallet(ev.wallet, now)
            p.wallet = w
            for s4 in self._wallet_streams:
                s4.put(w)

    # ---- helpers --------------------------------------------------------------------------------

    def _order(self, o: SimOrder) -> Order:
        return convert.order(self.market.instrument(o.symbol), o)

    def _call(self, endpoint: str, write: bool, fn: Any, *args: Any) -> Any:
        """Run an engine command; rejections become asym.bybit's exceptions (None: 'not modified')."""
        try:
            return fn(*args)
        except (SimRejection, ApiError) as exc:
            err = _error(exc.ret_code, exc.ret_msg, endpoint, write=write)
            if err is None:
                return None
            raise err from None
        finally:
            if write:
                self._collect()

    def _ack(self, o: SimOrder, symbol: str) -> OrderAck:
        return OrderAck(
            order_id=o.order_id, order_link_id=o.order_link_id, symbol=symbol, ts=self.clock.now_ms()
        )

    # ---- orders ---------------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> OrderAck:
        """Place an order; a re-sent orderLinkId returns the existing order (resolved) when it matches."""
        ep = "/v5/order/create"
        if request.category is not Category.LINEAR:
            raise InvalidRequestError("only linear contracts are simulated", endpoint=ep)
        body = ca.order_body(request)
        inst = self._inst(request.symbol, ep)
        try:
            cmd = self._call(ep, True, parse_place, Params(body), inst)
            o: SimOrder = self._call(ep, True, self.engine.place_order, self.uid, cmd, self.clock.now_ms())
        except DuplicateOrderError:
            found = await self.get_order_by_link_id(request.order_link_id, request.symbol)
            if found is None or not _same_order(found, request):
                raise
            return OrderAck(
                order_id=found.order_id,
                order_link_id=found.order_link_id,
                symbol=found.symbol,
                ts=found.updated_time,
                resolved=True,
                order=found,
            )
        return self._ack(o, request.symbol)

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[BatchResult]:
        """Place several orders (per-item results, index-aligned)."""
        if len(requests) > 20 or len({r.category for r in requests}) > 1:
            raise InvalidRequestError(
                "a batch holds 1-20 orders of one category", endpoint="/v5/order/create-batch"
            )
        out: list[BatchResult] = []
        for r in requests:
            try:
                out.append(BatchResult(order_link_id=r.order_link_id, ack=await self.place_order(r)))
            except VenueError as exc:
                out.append(
                    BatchResult(
                        order_link_id=r.order_link_id, ret_code=exc.ret_code or -1, ret_msg=exc.ret_msg
                    )
                )
        return out

    async def amend_order(self, request: AmendRequest) -> OrderAck:
        """Amend an open order."""
        ep = "/v5/order/amend"
        inst = self._inst(request.symbol, ep)
        body = ca.amend_body(request)
        cmd = self._call(ep, True, parse_amend, Params(body), inst)
        o = self._call(ep, True, self.engine.amend_order, self.uid, cmd, self.clock.now_ms())
        return self._ack(o, request.symbol)

    async def cancel_order(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        order_link_id: str | None = None,
        category: Category = Category.LINEAR,
    ) -> OrderAck:
        """Cancel an open order (OrderNotFoundError when unknown or final)."""
        ep = "/v5/order/cancel"
        self._inst(symbol, ep)
        if not order_id and not order_link_id:
            raise InvalidRequestError("cancel needs order_id or order_link_id", endpoint=ep)
        o = self._call(
            ep,
            True,
            self.engine.cancel_order,
            self.uid,
            symbol,
            order_id or "",
            "" if order_id else (order_link_id or ""),
            self.clock.now_ms(),
        )
        return self._ack(o, symbol)

    async def cancel_all(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[OrderAck]:
        """Cancel every open order (of `symbol`)."""
        ep = "/v5/order/cancel-all"
        if symbol is not None:
            self._inst(symbol, ep)
        done = self._call(ep, True, self.engine.cancel_all, self.uid, symbol, None, self.clock.now_ms()) or []
        return [self._ack(o, o.symbol) for o in done]

    async def get_open_orders(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Order]:
        """Open orders, newest first."""
        orders = self.engine.orders(self.uid, symbol=symbol, order_id="", order_link_id="", open_only=True)
        return [self._order(o) for o in orders]

    async def get_order_by_link_id(
        self, order_link_id: str, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> Order | None:
        """The newest order carrying `order_link_id`, or None."""
        ca.validate_order_link_id(order_link_id, "/v5/order/realtime")
        found = self.engine.orders(
            self.uid, symbol=symbol, order_id="", order_link_id=order_link_id, open_only=False
        )
        return self._order(found[0]) if found else None

    async def get_order_history(
        self,
        symbol: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = Category.LINEAR,
    ) -> list[Order]:
        """Orders newest first (open and the recent closed ones)."""
        orders = self.engine.orders(self.uid, symbol=symbol, order_id="", order_link_id="", open_only=False)
        keep = [
            o
            for o in orders
            if (start is None or o.created_time >= start) and (end is None or o.created_time <= end)
        ]
        return [self._order(o) for o in keep[:limit]]

    # ---- account --------------------------------------------------------------------------------

    async def get_positions(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Position]:
        """The symbol's position (even flat) or every open one."""
        if symbol is not None:
            self._inst(symbol, "/v5/position/list")
        ps: list[SimPosition] = self.engine.positions(self.uid, symbol)
        return [convert.position(self.market.instrument(p.symbol), p) for p in ps]

    async def get_wallet(self) -> WalletBalance:
        """The unified wallet now."""
        return convert.wallet(self.engine.wallet(self.uid), self.clock.now_ms())

    async def get_executions(
        self,
        symbol: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        exec_type: ExecType | None = None,
        limit: int = 500,
        category: Category = Category.LINEAR,
    ) -> list[Execution]:
        """Fills and funding payments newest first."""
        xs: list[SimExecution] = self.engine.executions(
            self.uid, symbol=symbol, order_id="", exec_type=exec_type.value if exec_type else None
        )
        keep = [
            x for x in xs if (start is None or x.exec_time >= start) and (end is None or x.exec_time <= end)
        ]
        return [convert.execution(self.market.instrument(x.symbol), x) for x in keep[:limit]]

    async def set_leverage(
        self, symbol: str, leverage: Decimal, category: Category = Category.LINEAR
    ) -> None:
        """Set leverage ('not modified' is success)."""
        ep = "/v5/position/set-leverage"
        self._inst(symbol, ep)
        if not isinstance(leverage, Decimal) or not leverage.is_finite() or leverage <= 0:
            raise InvalidRequestError(f"leverage must be positive, got {leverage}", endpoint=ep)
        self._call(ep, True, self.engine.set_leverage, self.uid, symbol, leverage, self.clock.now_ms())

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        """Set TP/SL on the position ('not modified' is success)."""
        ep = "/v5/position/trading-stop"
        inst = self._inst(request.symbol, ep)

        def ticks(v: Decimal | None, name: str) -> int | None:
            if v is None:
                return None
            try:
                return inst.price.to_int(v)
            except ValueError:
                raise InvalidRequestError(
                    f"params error: {name} {v} is off the tick grid", endpoint=ep
                ) from None

        cmd = TradingStop(
            symbol=request.symbol,
            take_profit=ticks(request.take_profit, "takeProfit"),
            stop_loss=ticks(request.stop_loss, "stopLoss"),
            tp_trigger_by=request.tp_trigger_by or TriggerBy.LAST,
            sl_trigger_by=request.sl_trigger_by or TriggerBy.LAST,
            position_idx=request.position_idx,
        )
        self._call(ep, True, self.engine.trading_stop, self.uid, cmd, self.clock.now_ms())

    # ---- private streams --------------------------------------------------------------------------

    async def stream_orders(self) -> EventStream[Order]:
        """Own order updates (never dropped)."""
        s: LocalEventStream[Order] = LocalEventStream(self._order_streams.remove)
        self._order_streams.append(s)
        return s

    async def stream_executions(self) -> EventStream[Execution]:
        """Own fills and funding payments (never dropped)."""
        s: LocalEventStream[Execution] = LocalEventStream(self._exec_streams.remove)
        self._exec_streams.append(s)
        return s

    async def stream_positions(self) -> EventStream[Position]:
        """Own position updates (never dropped)."""
        s: LocalEventStream[Position] = LocalEventStream(self._pos_streams.remove)
        self._pos_streams.append(s)
        return s

    async def stream_wallet(self) -> EventStream[WalletBalance]:
        """Own wallet updates (never dropped)."""
        s: LocalEventStream[WalletBalance] = LocalEventStream(self._wallet_streams.remove)
        self._wallet_streams.append(s)
        return s


__all__ = ["UID", "AccountUpdates", "CoreVenue"]
