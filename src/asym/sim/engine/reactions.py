"""What the engine does when the market moves: triggers, maker fills, funding, liquidation.

Per symbol, market trades and funding settlements are replayed in time order: each trade first fires
LastPrice triggers it reaches, then fills resting limit orders it trades through (as maker, at the
order's price, bounded by the trade's size). After the trades, the final ticker fires Last/Mark/Index
triggers, resting orders the book now crosses fill against the crossing levels, and positions whose mark
reached the liquidation price are liquidated at the bankruptcy price.
"""

from __future__ import annotations

from asym.domain import ExecType, OrderStatus, OrderType, Side, StopOrderType, TimeInForce, TriggerBy
from asym.sim.engine.accounts import Account, OrderState, PositionState
from asym.sim.engine.core import hit
from asym.sim.engine.matching import walk
from asym.sim.engine.placement import OrderEntry, price_of
from asym.sim.engine.types import SimExecution, SimOrder
from asym.sim.types import FundingSettlement, MarketEvents, SimInstrument, TickerView, TradeEvent

_TPSL = (StopOrderType.TAKE_PROFIT, StopOrderType.STOP_LOSS)


class MarketReactions(OrderEntry):
    """on_market and everything it sets off."""

    def _on_market(self, events: MarketEvents, now: int) -> None:
        relevant = set(self._resting) | set(self._conditional) | set(self._holders)
        if not relevant:
            return
        per_symbol: dict[str, list[TradeEvent | FundingSettlement]] = {}
        for t in events.trades:
            if t.symbol in relevant:
                per_symbol.setdefault(t.symbol, []).append(t)
        for fs in events.fundings:
            if fs.symbol in relevant:
                per_symbol.setdefault(fs.symbol, []).append(fs)
        for symbol in sorted(relevant):
            tk = self._ticker(symbol)
            items = per_symbol.get(symbol)
            if items:
                self._replay(symbol, sorted(items, key=lambda e: e.ts), tk)
            self._after_advance(symbol, tk, now)

    def _replay(self, symbol: str, items: list[TradeEvent | FundingSettlement], tk: TickerView) -> None:
        bounds: tuple[int, int] | None = None
        for item in items:
            if isinstance(item, FundingSettlement):
                self._settle_funding(item, tk)
                continue
            conds = self._conditional.get(symbol)
            if conds:
                fired = [
                    o
                    for o in conds.values()
                    if o.order.trigger_by is TriggerBy.LAST
                    and hit(o.order.trigger_direction, o.order.trigger_price or 0, item.price)
                ]
                for ost in sorted(fired, key=lambda o: o.priority):
                    if ost.order.status is OrderStatus.UNTRIGGERED:
                        self._trigger(ost, item.ts, tk)
                        bounds = None
            resting = self._resting.get(symbol)
            if not resting:
                continue
            if bounds is None:
                bounds = _bounds(resting)
            if item.price <= bounds[0] or item.price >= bounds[1]:
                self._fill_on_trade(resting, item, tk)
                bounds = None

    def _fill_on_trade(self, resting: dict[str, OrderState], trade: TradeEvent, tk: TickerView) -> None:
        for side in (Side.BUY, Side.SELL):
            if side is Side.BUY:
                cands = [o for o in resting.values() if o.order.side is side and o.order.price >= trade.price]
                cands.sort(key=lambda o: (-o.order.price, o.priority))
            else:
                cands = [o for o in resting.values() if o.order.side is side and o.order.price <= trade.price]
                cands.sort(key=lambda o: (o.order.price, o.priority))
            budget = trade.size
            for ost in cands:
                if budget <= 0:
                    break
                if ost.order.status.is_open:
                    budget -= self._maker_fill(ost, budget, trade.ts, tk)

    def _maker_fill(self, ost: OrderState, most: int, now: int, tk: TickerView) -> int:
        """Fill up to `most` of a resting order at its own price as maker; returns the quantity filled."""
        acct = self._accounts[ost.uid]
        order = ost.order
        qty = min(order.qty - order.cum_exec_qty, most)
        if order.reduce_only:
            qty = min(qty, self._reducible(acct, order.symbol, order.side))
        if qty <= 0:
            return 0
        pos = acct.positions.get(order.symbol)
        prev_side = pos.side if pos is not None and pos.size else None
        self._fill(acct, order, order.price, qty, True, now, tk)
        self._after_fills(acct, ost, prev_side, now)
        return qty

    def _after_advance(self, symbol: str, tk: TickerView, now: int) -> None:
        conds = self._conditional.get(symbol)
        if conds:
            fired = [
                o
                for o in conds.values()
                if hit(
                    o.order.trigger_direction,
                    o.order.trigger_price or 0,
                    price_of(tk, o.order.trigger_by or TriggerBy.LAST),
                )
            ]
            for ost in sorted(fired, key=lambda o: o.priority):
                if ost.order.status is OrderStatus.UNTRIGGERED:
                    self._trigger(ost, now, tk)
        resting = self._resting.get(symbol)
        if resting:
            # The ticker's touch tells cheaply whether the book can cross any resting order at all.
            hi, lo = _bounds(resting)
            if (tk.ask1 and hi >= tk.ask1) or (tk.bid1 and lo <= tk.bid1):
                self._fill_on_touch(symbol, tk, now)
        holders = self._holders.get(symbol)
        if holders:
            for uid in sorted(holders):
                self._check_liquidation(self._accounts[uid], symbol, tk, now)

    def _fill_on_touch(self, symbol: str, tk: TickerView, now: int) -> None:
        """Resting orders the book now crosses fill, as maker at their price, against the crossing levels."""
        for side in (Side.BUY, Side.SELL):
            resting = self._resting.get(symbol)
            if not resting:
                return
            cands = [o for o in resting.values() if o.order.side is side]
            sign = -1 if side is Side.BUY else 1
            cands.sort(key=lambda o: (sign * o.order.price, o.priority))
            for ost in cands:
                order = ost.order
                if not order.status.is_open:
                    continue
                want = order.qty - order.cum_exec_qty
                if order.reduce_only:
                    want = min(want, self._reducible(self._accounts[ost.uid], symbol, side))
                book, levels = self._book_upto(symbol, side, order.price)
                fills = walk(levels, side, order.price, want)
                if not fills:
                    break
                for price, q in fills:
                    self._liquidity.consume(book, side, price, q)
                self._maker_fill(ost, sum(q for _, q in fills), now, tk)

    # ---- triggers ------------------------------------------------------------------------------

    def _trigger(self, ost: OrderState, now: int, tk: TickerView) -> None:
        """Untriggered -> Triggered, then run it as its order type (TP/SL close the whole position)."""
        acct = self._accounts[ost.uid]
        order = ost.order
        inst = self._inst(order.symbol)
        self._unindex(ost)
        order.status = OrderStatus.TRIGGERED
        order.updated_time = now
        self._emit_order(acct, order)
        if ost.close_all or order.reduce_only:
            room = self._reducible(acct, order.symbol, order.side)
            if room == 0:
                self._close_order(acct, ost, OrderStatus.CANCELLED, now, "CancelByReduceOnly")
                return
            if order.stop_order_type in _TPSL:
                order.qty = room
            elif ost.close_all:
                cap = (
                    inst.info.max_mkt_order_qty
                    if order.order_type is OrderType.MARKET
                    else inst.info.max_order_qty
                )
                order.qty = min(room, inst.qty.to_int(cap))
            else:
                order.qty = min(order.qty, room)
        else:
            ref = order.price if order.order_type is OrderType.LIMIT else tk.mark
            extra = self._order_im(acct, order.symbol, (order.side, order.qty, ref)) - self._order_im(
                acct, order.symbol
            )
            if extra > 0 and extra > self._available(acct):
                self._close_order(
                    acct, ost, OrderStatus.REJECTED, now, reject_reason="EC_InsufficientBalance"
                )
                return
        if order.order_type is OrderType.MARKET:
            order.price = self._protection(inst, order.side, tk.mark)
        else:
            order.status = OrderStatus.NEW
            self._emit_order(acct, order)
        self._run(acct, ost, now, tk)
        acct.wallet_dirty = True

    # ---- funding and liquidation ---------------------------------------------------------------

    def _settle_funding(self, fs: FundingSettlement, tk: TickerView) -> None:
        """Every holder pays (positive = paid) position value at the settlement mark x rate; longs pay
        when the rate is positive."""
        for uid in sorted(self._holders.get(fs.symbol, ())):
            acct = self._accounts[uid]
            inst = self._inst(fs.symbol)
            pos = acct.positions[fs.symbol]
            assert pos.side is not None
            value = inst.qty.to_decimal(pos.size) * inst.price.to_decimal(fs.mark)
            payment = value * fs.rate * pos.side.sign
            acct.wallet -= payment
            acct.funding_total += payment
            pos.cur_realised -= payment
            pos.cum_realised -= payment
            pos.updated_time = fs.ts
            execution = SimExecution(
                exec_id=self._ids.next("exec"),
                order_id=self._ids.next("order"),
                order_link_id="",
                symbol=fs.symbol,
                side=pos.side,
                order_type=None,
                order_price=0,
                order_qty=0,
                leaves_qty=0,
                exec_price=fs.mark,
                exec_qty=pos.size,
                exec_value=value,
                exec_fee=payment,
                fee_rate=fs.rate,
                exec_type=ExecType.FUNDING,
                is_maker=False,
                exec_time=fs.ts,
                closed_size=0,
                mark_price=fs.mark,
                index_price=tk.index,
                seq=self._next_seq(),
            )
            acct.executions.append(execution)
            acct.events.executions.append(execution)
            self._emit_position(acct, fs.symbol)
            acct.wallet_dirty = True

    def _check_liquidation(self, acct: Account, symbol: str, tk: TickerView, now: int) -> None:
        view = self._position_view(acct, symbol)
        if view.liq_price is None or view.side is None:
            return
        reached = tk.mark <= view.liq_price if view.side is Side.BUY else tk.mark >= view.liq_price
        if reached and view.bust_price is not None:
            self._liquidate(acct, self._inst(symbol), acct.positions[symbol], view.bust_price, tk, now)

    def _liquidate(
        self, acct: Account, inst: SimInstrument, pos: PositionState, bust: int, tk: TickerView, now: int
    ) -> None:
        """Cancel the symbol's orders, mark the position Liq, close it at the bankruptcy price (BustTrade)."""
        symbol = inst.symbol
        for ost in list(acct.orders_by_symbol.get(symbol, {}).values()):
            self._close_order(acct, ost, OrderStatus.CANCELLED, now, "CancelAllBeforeLiq")
        assert pos.side is not None
        pos.status = "Liq"
        self._emit_position(acct, symbol)
        order = SimOrder(
            order_id=self._ids.next("order"),
            order_link_id="",
            symbol=symbol,
            side=pos.side.opposite,
            order_type=OrderType.MARKET,
            price=bust,
            qty=pos.size,
            time_in_force=TimeInForce.IOC,
            status=OrderStatus.NEW,
            created_time=now,
            updated_time=now,
            reduce_only=True,
            close_on_trigger=True,
            create_type="CreateByLiq",
            last_price_on_created=tk.last,
        )
        ost = OrderState(order, acct.uid, self._next_priority())
        self._register(acct, ost)
        prev_side = pos.side
        self._fill(acct, order, bust, pos.size, False, now, tk, ExecType.BUST_TRADE)
        pos.status = "Normal"
        self._after_fills(acct, ost, prev_side, now)


def _bounds(resting: dict[str, OrderState]) -> tuple[int, int]:
    """(highest resting buy, lowest resting sell): a trade fills something only outside this band."""
    hi, lo = -1, 1 << 62
    for ost in resting.values():
        p = ost.order.price
        if ost.order.side is Side.BUY:
            hi = max(hi, p)
        else:
            lo = min(lo, p)
    return hi, lo
