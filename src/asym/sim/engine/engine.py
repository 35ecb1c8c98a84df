"""`Engine`: the simulator's accounts and matching, implementing `TradingEngine` (see types.py)."""

from __future__ import annotations

from decimal import Decimal

from asym.domain import OrderStatus, OrderType, StopOrderType, TriggerBy
from asym.sim.engine import validation as v
from asym.sim.engine.accounts import Account, OrderState
from asym.sim.engine.core import exact, snapshot
from asym.sim.engine.placement import price_of
from asym.sim.engine.reactions import MarketReactions
from asym.sim.engine.types import (
    AccountEvents,
    AmendOrder,
    PlaceOrder,
    SimExecution,
    SimOrder,
    SimPosition,
    SimWallet,
    TradingStop,
)
from asym.sim.types import MarketEvents, MarketModel, SimRejection, TradeEvent

_TPSL = (StopOrderType.TAKE_PROFIT, StopOrderType.STOP_LOSS)
_FILTERS = {
    "": lambda o: True,
    "Order": lambda o: o.stop_order_type is StopOrderType.NONE,
    "StopOrder": lambda o: o.stop_order_type is not StopOrderType.NONE,
    "tpslOrder": lambda o: o.stop_order_type in _TPSL,
}
MAX_CANCEL_ALL = 500


class Engine(MarketReactions):
    """Accounts, order validation, matching against a MarketModel's book, TP/SL and conditional orders,
    positions, fees, funding and liquidation. Pure and deterministic for a given seed."""

    def __init__(self, market: MarketModel, seed: int = 0) -> None:
        super().__init__(market, seed)

    # ---- accounts ------------------------------------------------------------------------------

    @exact
    def open_account(self, uid: str, balance_usdt: Decimal) -> None:
        """Create (or reset) a funded unified account."""
        if not isinstance(balance_usdt, Decimal) or not balance_usdt.is_finite() or balance_usdt < 0:
            raise SimRejection(10001, f"balance must be a non-negative Decimal, got {balance_usdt!r}")
        old = self._accounts.get(uid)
        if old is not None:
            for ost in old.open_orders.values():
                self._unindex(ost)
            for symbol in list(self._holders):
                self._holders[symbol].discard(uid)
                if not self._holders[symbol]:
                    del self._holders[symbol]
        acct = Account(uid, balance_usdt, balance_usdt)
        acct.wallet_dirty = True
        self._accounts[uid] = acct

    # ---- orders --------------------------------------------------------------------------------

    @exact
    def place_order(self, uid: str, cmd: PlaceOrder, now_ms: int) -> SimOrder:
        """Validate and accept an order; marketable parts execute against the book at once."""
        return self._place(uid, cmd, now_ms)

    @exact
    def amend_order(self, uid: str, cmd: AmendOrder, now_ms: int) -> SimOrder:
        """Amend qty / price / triggerPrice / TP/SL of an open order."""
        acct = self._account(uid)
        inst = self._inst(cmd.symbol)
        ost = self._find_open(acct, cmd.symbol, cmd.order_id, cmd.order_link_id)
        if ost is None or ost.order.status is OrderStatus.TRIGGERED:
            raise SimRejection(110001, "order not exists or too late to amend")
        order = ost.order
        tk = self._ticker(cmd.symbol)
        is_stop = order.stop_order_type in _TPSL
        untriggered = order.status is OrderStatus.UNTRIGGERED
        qty, price, trigger = order.qty, order.price, order.trigger_price
        tp, sl = order.take_profit, order.stop_loss
        if cmd.qty is not None and cmd.qty != order.qty:
            if is_stop:
                raise SimRejection(10001, "the qty of a position TP/SL order follows the position")
            if cmd.qty <= order.cum_exec_qty:
                raise SimRejection(
                    110064,
                    "The modified contract quantity cannot be less than or equal to the filled quantity.",
                )
            v.check_qty(inst, cmd.qty, order.order_type is OrderType.MARKET)
            qty = cmd.qty
            if order.reduce_only and not untriggered:
                qty = order.cum_exec_qty + min(
                    qty - order.cum_exec_qty, self._reducible(acct, order.symbol, order.side)
                )
        if cmd.price is not None and cmd.price != order.price:
            if order.order_type is OrderType.MARKET:
                raise SimRejection(10001, "the price of a Market order cannot be amended")
            v.check_price_filter(inst, cmd.price)
            if not untriggered:
                v.check_price_band(inst, order.side, cmd.price, tk.mark)
            price = cmd.price
        if cmd.trigger_price is not None and cmd.trigger_price != order.trigger_price:
            if not untriggered:
                raise SimRejection(10001, "triggerPrice can only be amended before the order triggers")
            v.check_price_filter(inst, cmd.trigger_price, "triggerPrice")
            by = order.trigger_by or order.tp_trigger_by
            assert by is not None
            v.check_trigger(inst, order.trigger_direction, cmd.trigger_price, price_of(tk, by), by)
            trigger = cmd.trigger_price
        for name, new, old in (("takeProfit", cmd.take_profit, tp), ("stopLoss", cmd.stop_loss, sl)):
            if new is not None and (new or None) != old and (is_stop or order.reduce_only):
                raise SimRejection(110057, f"{name} cannot be set on this order")
        if cmd.take_profit is not None:
            tp = cmd.take_profit or None
        if cmd.stop_loss is not None:
            sl = cmd.stop_loss or None
        if (qty, price, trigger, tp, sl) == (
            order.qty,
            order.price,
            order.trigger_price,
            order.take_profit,
            order.stop_loss,
        ):
            raise SimRejection(
                10001, "The order remains unchanged as the parameters entered match the existing ones."
            )
        if (tp, sl) != (order.take_profit, order.stop_loss) and (tp or sl):
            base = (
                trigger
                if untriggered and trigger
                else (price if order.order_type is OrderType.LIMIT else tk.last)
            )
            assert base is not None
            v.check_tpsl_side(inst, order.side, base, tp, sl, "OrderPrice")
        if not order.reduce_only and not is_stop:
            ref = price if order.order_type is OrderType.LIMIT else (trigger or tk.mark)
            v.check_notional(inst, qty, ref)
            if not untriggered:
                before = self._order_im(acct, order.symbol)
                old_qty, old_price = order.qty, order.price
                order.qty, order.price = qty, price
                acct.order_legs.pop(order.symbol, None)
                after = self._order_im(acct, order.symbol)
                order.qty, order.price = old_qty, old_price
                acct.order_legs.pop(order.symbol, None)
                self._require_margin(acct, after - before)
        repriced = price != order.price or qty > order.qty
        order.qty, order.price, order.trigger_price = qty, price, trigger
        if tp != order.take_profit:
            order.tp_trigger_by = (order.tp_trigger_by or TriggerBy.LAST) if tp else None
        if sl != order.stop_loss:
            order.sl_trigger_by = (order.sl_trigger_by or TriggerBy.LAST) if sl else None
        order.take_profit, order.stop_loss = tp, sl
        order.tpsl_mode = "Full" if (tp or sl or is_stop) else ""
        order.updated_time = now_ms
        if is_stop:
            pos = acct.positions[order.symbol]
            if order.stop_order_type is StopOrderType.TAKE_PROFIT:
                pos.take_profit = trigger
            else:
                pos.stop_loss = trigger
        self._emit_order(acct, order)
        if repriced and order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            ost.priority = self._next_priority()
            self._run(acct, ost, now_ms, tk)
        self._emit_position(acct, order.symbol)
        acct.wallet_dirty = True
        return snapshot(order)

    @exact
    def cancel_order(self, uid: str, symbol: str, order_id: str, order_link_id: str, now_ms: int) -> SimOrder:
        """Cancel an open order (110001 when unknown or final)."""
        acct = self._account(uid)
        self._inst(symbol)
        ost = self._find_open(acct, symbol, order_id, order_link_id)
        if ost is None:
            raise SimRejection(110001, "order not exists or too late to cancel")
        order = self._close_order(acct, ost, OrderStatus.CANCELLED, now_ms, "CancelByUser")
        self._emit_position(acct, symbol)
        return snapshot(order)

    @exact
    def cancel_all(
        self, uid: str, symbol: str | None, order_filter: str | None, now_ms: int
    ) -> list[SimOrder]:
        """Cancel open orders (of `symbol` when given; filter Order/StopOrder/tpslOrder/None = all)."""
        acct = self._account(uid)
        keep = _FILTERS.get(order_filter or "")
        if keep is None:
            raise SimRejection(10001, f"orderFilter {order_filter!r} invalid (Order, StopOrder, tpslOrder)")
        if symbol:
            self._inst(symbol)
        symbols = [symbol] if symbol else sorted(acct.orders_by_symbol)
        out: list[SimOrder] = []
        for sym in symbols:
            touched = False
            for ost in list(acct.orders_by_symbol.get(sym, {}).values()):
                if len(out) >= MAX_CANCEL_ALL:
                    break
                if keep(ost.order) and ost.order.status.is_open:
                    out.append(
                        snapshot(self._close_order(acct, ost, OrderStatus.CANCELLED, now_ms, "CancelByUser"))
                    )
                    touched = True
            if touched:
                self._emit_position(acct, sym)
        return out

    def _find_open(self, acct: Account, symbol: str, order_id: str, order_link_id: str) -> OrderState | None:
        if order_id:
            ost = acct.open_orders.get(order_id)
        elif order_link_id:
            last = acct.link_last.get(order_link_id)
            ost = acct.open_orders.get(last.order_id) if last is not None else None
        else:
            raise SimRejection(10001, "orderId or orderLinkId is required")
        if ost is None or ost.order.symbol != symbol:
            return None
        return ost

    # ---- queries -------------------------------------------------------------------------------

    @exact
    def orders(
        self, uid: str, *, symbol: str | None, order_id: str, order_link_id: str, open_only: bool
    ) -> list[SimOrder]:
        """Orders newest first: open ones, or (open_only False) also the recent closed ones; an id lookup
        ignores open_only (orderId wins over orderLinkId)."""
        acct = self._account(uid)
        found: list[SimOrder]
        if order_id:
            ost = acct.open_orders.get(order_id)
            hit = ost.order if ost else next((o for o in acct.closed_orders if o.order_id == order_id), None)
            found = [hit] if hit is not None else []
        elif order_link_id:
            last = acct.link_last.get(order_link_id)
            found = [last] if last is not None else []
        else:
            found = [s.order for s in acct.open_orders.values()]
            if not open_only:
                found.extend(acct.closed_orders)
        if symbol:
            found = [o for o in found if o.symbol == symbol]
        rank = acct.created_index
        found.sort(key=lambda o: (o.created_time, rank.get(o.order_id, 0)), reverse=True)
        return [snapshot(o) for o in found]

    def executions(
        self, uid: str, *, symbol: str | None, order_id: str, exec_type: str | None
    ) -> list[SimExecution]:
        """Fills and funding payments newest first."""
        acct = self._account(uid)
        return [
            e
            for e in reversed(acct.executions)
            if (not symbol or e.symbol == symbol)
            and (not order_id or e.order_id == order_id)
            and (not exec_type or e.exec_type.value == exec_type)
        ]

    @exact
    def positions(self, uid: str, symbol: str | None) -> list[SimPosition]:
        """The symbol's position (even flat), or every open one (by symbol)."""
        acct = self._account(uid)
        if symbol:
            self._inst(symbol)
            return [self._position_view(acct, symbol)]
        return [self._position_view(acct, s) for s in sorted(acct.positions) if acct.positions[s].size]

    @exact
    def wallet(self, uid: str) -> SimWallet:
        """The account's unified wallet now."""
        return self._wallet_view(self._account(uid))

    # ---- position settings ---------------------------------------------------------------------

    @exact
    def set_leverage(self, uid: str, symbol: str, leverage: Decimal, now_ms: int) -> None:
        """Set the symbol's leverage (110043 when unchanged, 10001 out of range, 110044 margin short)."""
        acct = self._account(uid)
        inst = self._inst(symbol)
        v.check_leverage(inst, leverage)
        pos = self._position(acct, inst)
        if pos.leverage == leverage:
            raise SimRejection(110043, "Set leverage has not been modified")
        old = pos.leverage
        pos.leverage = leverage
        if self._available(acct) < 0 and leverage < old:
            pos.leverage = old
            raise SimRejection(110044, "Available margin is insufficient for the new leverage")
        acct.leverage[symbol] = leverage
        pos.updated_time = now_ms
        self._emit_position(acct, symbol)
        acct.wallet_dirty = True

    @exact
    def trading_stop(self, uid: str, cmd: TradingStop, now_ms: int) -> None:
        """Set, move or remove (0) the open position's TP/SL (34040 when nothing changes)."""
        acct = self._account(uid)
        inst = self._inst(cmd.symbol)
        if cmd.position_idx != 0:
            raise SimRejection(10001, "position idx not match position mode")
        if cmd.tpsl_mode not in ("Full", ""):
            raise SimRejection(
                10001, f"tpslMode {cmd.tpsl_mode!r} is not supported by the simulator (use Full)"
            )
        pos = acct.positions.get(cmd.symbol)
        if pos is None or pos.size == 0 or pos.side is None:
            raise SimRejection(10001, "can not set tp/sl/ts for zero position")
        tk = self._ticker(cmd.symbol)
        if cmd.take_profit:
            current = price_of(tk, cmd.tp_trigger_by)
            v.check_tpsl_side(inst, pos.side, current, cmd.take_profit, None, cmd.tp_trigger_by.value)
        if cmd.stop_loss:
            current = price_of(tk, cmd.sl_trigger_by)
            v.check_tpsl_side(inst, pos.side, current, None, cmd.stop_loss, cmd.sl_trigger_by.value)
        changed = self._set_position_tpsl(
            acct, pos, cmd.take_profit, cmd.stop_loss, cmd.tp_trigger_by, cmd.sl_trigger_by, now_ms
        )
        if not changed:
            raise SimRejection(34040, "not modified")
        pos.updated_time = now_ms
        self._emit_position(acct, cmd.symbol)

    # ---- market and events ---------------------------------------------------------------------

    @exact
    def on_market(self, events: MarketEvents, now_ms: int) -> None:
        """Fill resting orders, fire triggers, pay funding and liquidate, after the market advanced."""
        self._on_market(events, now_ms)

    def active_symbols(self) -> set[str]:
        """Symbols with open orders or positions on any account (the market must keep them advanced)."""
        out = set(self._holders) | set(self._resting) | set(self._conditional)
        for acct in self._accounts.values():
            out.update(acct.orders_by_symbol)
        return out

    @exact
    def drain_events(self, uid: str) -> AccountEvents:
        """Private events of `uid` since the last drain (the wallet when anything touched it)."""
        acct = self._account(uid)
        events = acct.events
        if acct.wallet_dirty:
            events.wallet = self._wallet_view(acct)
            acct.wallet_dirty = False
        acct.events = AccountEvents()
        return events

    def order_count_by_link_id(self, uid: str, order_link_id: str) -> int:
        """How many orders ever carried this orderLinkId."""
        return self._account(uid).link_counts.get(order_link_id, 0)

    def drain_public_trades(self) -> list[TradeEvent]:
        """Trades the accounts' taker orders made against the book since the last call (for publishing)."""
        out, self._public_trades = self._public_trades, []
        return out
