"""Order entry: validating a PlaceOrder, creating the order, and running it against the book."""

from __future__ import annotations

import re

from asym.domain import OrderStatus, OrderType, StopOrderType, TimeInForce, TriggerBy
from asym.sim.engine import validation as v
from asym.sim.engine.accounts import Account, OrderState
from asym.sim.engine.core import EngineCore, snapshot
from asym.sim.engine.matching import crosses
from asym.sim.engine.types import PlaceOrder, SimOrder
from asym.sim.types import SimInstrument, SimRejection, TickerView

MAX_OPEN_ORDERS = 500
MAX_CONDITIONAL_ORDERS = 10
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


def price_of(tk: TickerView, by: TriggerBy) -> int:
    """The ticker's price a trigger of kind `by` watches."""
    if by is TriggerBy.MARK:
        return tk.mark
    if by is TriggerBy.INDEX:
        return tk.index
    return tk.last


class OrderEntry(EngineCore):
    """place_order and the order-running path shared with triggered conditionals and amends."""

    def _place(self, uid: str, cmd: PlaceOrder, now: int) -> SimOrder:
        acct = self._account(uid)
        inst = self._inst(cmd.symbol)
        v.check_trading(inst)
        if cmd.position_idx != 0:
            raise SimRejection(10001, "position idx not match position mode")
        if cmd.order_link_id:
            if not _LINK_ID.match(cmd.order_link_id):
                raise SimRejection(10001, "orderLinkId must be 1-36 characters of [A-Za-z0-9_-]")
            if acct.link_counts.get(cmd.order_link_id):
                raise SimRejection(110072, "OrderLinkedID is duplicate")
        tk = self._ticker(cmd.symbol)
        is_market = cmd.order_type is OrderType.MARKET
        conditional = cmd.trigger_price is not None and cmd.trigger_price != 0
        # closeOnTrigger makes a close-only order: Bybit sets reduceOnly with it.
        reduce_only = cmd.reduce_only or cmd.close_on_trigger
        close_all = cmd.qty == 0 and cmd.close_on_trigger
        if is_market:
            tif = TimeInForce.IOC
            price = 0
        else:
            tif = cmd.time_in_force or TimeInForce.GTC
            if cmd.price is None or cmd.price == 0:
                raise SimRejection(10001, "price is required for a Limit order")
            price = cmd.price
            v.check_price_filter(inst, price)
        if not close_all:
            v.check_qty(inst, cmd.qty, is_market)
        self._check_tpsl_params(inst, cmd, tk, conditional)
        if conditional:
            assert cmd.trigger_price is not None
            v.check_price_filter(inst, cmd.trigger_price, "triggerPrice")
            if cmd.trigger_direction not in (1, 2):
                raise SimRejection(
                    10001, "triggerDirection must be 1 (rise) or 2 (fall) for a conditional order"
                )
            v.check_trigger(
                inst, cmd.trigger_direction, cmd.trigger_price, price_of(tk, cmd.trigger_by), cmd.trigger_by
            )
            stops = sum(
                1
                for s in acct.orders_by_symbol.get(cmd.symbol, {}).values()
                if s.order.stop_order_type is StopOrderType.STOP
            )
            if stops >= MAX_CONDITIONAL_ORDERS:
                raise SimRejection(110009, "The number of stop orders exceeds maximum limit allowed")
        else:
            active = sum(
                1
                for s in acct.orders_by_symbol.get(cmd.symbol, {}).values()
                if s.order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
            )
            if active >= MAX_OPEN_ORDERS:
                raise SimRejection(110020, "Not allowed to have more than 500 active orders")
        qty = cmd.qty
        if reduce_only and not conditional:
            room = self._reducible(acct, cmd.symbol, cmd.side)
            if room == 0:
                raise SimRejection(110017, "Reduce-only order: orderQty will be truncated to zero")
            cap = inst.qty.to_int(inst.info.max_mkt_order_qty if is_market else inst.info.max_order_qty)
            qty = min(room, cap) if close_all else min(qty, room)
        ref = price if not is_market else (cmd.trigger_price if conditional else tk.mark)
        assert ref is not None
        if not reduce_only:
            v.check_notional(inst, qty, ref)
            if not is_market and not conditional:
                v.check_price_band(inst, cmd.side, price, tk.mark)
            if not conditional:
                pos_im = self._order_im(acct, cmd.symbol)
                self._require_margin(acct, self._order_im(acct, cmd.symbol, (cmd.side, qty, ref)) - pos_im)
        has_tpsl = bool(cmd.take_profit) or bool(cmd.stop_loss)
        order = SimOrder(
            order_id=self._ids.next("order"),
            order_link_id=cmd.order_link_id,
            symbol=cmd.symbol,
            side=cmd.side,
            order_type=cmd.order_type,
            price=self._protection(inst, cmd.side, tk.mark) if is_market and not conditional else price,
            qty=qty,
            time_in_force=tif,
            status=OrderStatus.UNTRIGGERED if conditional else OrderStatus.NEW,
            created_time=now,
            updated_time=now,
            reduce_only=reduce_only,
            close_on_trigger=cmd.close_on_trigger,
            trigger_price=cmd.trigger_price if conditional else None,
            trigger_direction=(cmd.trigger_direction or 0) if conditional else 0,
            trigger_by=cmd.trigger_by if conditional else None,
            take_profit=cmd.take_profit or None,
            stop_loss=cmd.stop_loss or None,
            tp_trigger_by=cmd.tp_trigger_by if cmd.take_profit else None,
            sl_trigger_by=cmd.sl_trigger_by if cmd.stop_loss else None,
            tpsl_mode="Full" if has_tpsl else "",
            stop_order_type=StopOrderType.STOP if conditional else StopOrderType.NONE,
            last_price_on_created=tk.last,
        )
        ost = OrderState(order, uid, self._next_priority(), close_all=close_all and conditional)
        self._register(acct, ost)
        self._emit_order(acct, order)
        if not conditional:
            self._run(acct, ost, now, tk)
        self._emit_position(acct, cmd.symbol)
        acct.wallet_dirty = True
        return snapshot(order)

    def _check_tpsl_params(
        self, inst: SimInstrument, cmd: PlaceOrder, tk: TickerView, conditional: bool
    ) -> None:
        if not (cmd.take_profit or cmd.stop_loss):
            return
        if cmd.reduce_only or cmd.close_on_trigger:
            raise SimRejection(110057, "TP/SL cannot be attached to a reduce-only order")
        if cmd.tpsl_mode not in ("", "Full"):
            raise SimRejection(
                10001, f"tpslMode {cmd.tpsl_mode!r} is not supported by the simulator (use Full)"
            )
        if cmd.tp_order_type is not OrderType.MARKET or cmd.sl_order_type is not OrderType.MARKET:
            raise SimRejection(10001, "tpslMode Full requires Market tpOrderType/slOrderType")
        if conditional:
            assert cmd.trigger_price is not None
            base, name = cmd.trigger_price, "TriggerPrice"
        elif cmd.order_type is OrderType.LIMIT and cmd.price:
            base, name = cmd.price, "OrderPrice"
        else:
            base, name = tk.last, "LastPrice"
        v.check_tpsl_side(inst, cmd.side, base, cmd.take_profit, cmd.stop_loss, name)

    def _run(self, acct: Account, ost: OrderState, now: int, tk: TickerView) -> None:
        """Execute a live (New or just-triggered) order: market IOC walk, or limit by time in force."""
        order = ost.order
        pos = acct.positions.get(order.symbol)
        prev_side = pos.side if pos is not None and pos.size else None
        if order.order_type is OrderType.MARKET:
            filled = self._take(acct, ost, order.price, now, tk)
            if filled:
                self._after_fills(acct, ost, prev_side, now)
            if order.order_id in acct.open_orders:
                reason = None if order.cum_exec_qty else "EC_NoImmediateQtyToFill"
                self._close_order(acct, ost, OrderStatus.CANCELLED, now, reject_reason=reason)
            return
        best = self._best_opposite(order.symbol, order.side, order.price)
        marketable = best is not None and crosses(order.side, best, order.price)
        tif = order.time_in_force
        if tif is TimeInForce.POST_ONLY and marketable:
            self._close_order(
                acct, ost, OrderStatus.CANCELLED, now, reject_reason="EC_PostOnlyWillTakeLiquidity"
            )
            return
        if tif is TimeInForce.FOK:
            want = order.qty - order.cum_exec_qty
            if order.reduce_only:
                want = min(want, self._reducible(acct, order.symbol, order.side))
            fills, _ = self._walk(order.symbol, order.side, order.price, want)
            if want <= 0 or sum(q for _, q in fills) < order.qty - order.cum_exec_qty:
                self._close_order(
                    acct, ost, OrderStatus.CANCELLED, now, reject_reason="EC_CancelForNoFullFill"
                )
                return
        if marketable and self._take(acct, ost, order.price, now, tk):
            self._after_fills(acct, ost, prev_side, now)
        if order.order_id not in acct.open_orders:
            return
        if tif in (TimeInForce.IOC, TimeInForce.FOK):
            reason = None if order.cum_exec_qty else "EC_NoImmediateQtyToFill"
            self._close_order(acct, ost, OrderStatus.CANCELLED, now, reject_reason=reason)
        else:
            self._index(ost)
