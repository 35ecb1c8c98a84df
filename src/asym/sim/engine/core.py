"""The engine's shared state and mechanics: lookups, events, fills, position bookkeeping and margins.

`Engine` (engine.py) adds the commands and `MarketReactions` (reactions.py) the market-driven part on
top of this core. Pure: time comes in as `now_ms`, prices from the market model, ids from a seeded counter.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from decimal import ROUND_CEILING, Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Any, TypeVar, cast

from asym.domain import (
    ExecType,
    OrderStatus,
    OrderType,
    RiskLimitTier,
    Side,
    StopOrderType,
    TimeInForce,
    TriggerBy,
)
from asym.sim.engine import formulas as f
from asym.sim.engine.accounts import DEFAULT_LEVERAGE, Account, OrderState, PositionState
from asym.sim.engine.ids import IdGen
from asym.sim.engine.matching import LiquidityTracker, crosses, protection_price, walk
from asym.sim.engine.snapshots import PositionFigures, figures, position_view, q8, wallet_view
from asym.sim.engine.types import SimExecution, SimOrder, SimPosition, SimWallet
from asym.sim.types import BookView, MarketModel, SimInstrument, SimRejection, TickerView, TradeEvent

MARKET_PROTECTION_PCT = 5
"""Market orders run as IOC limits at mark +- this % (the order price Bybit reports)."""
BOOK_DEPTH = 50
MAX_BOOK_DEPTH = 500

_CTX = Context(prec=64, traps=[InvalidOperation, DivisionByZero, Overflow])
_F = TypeVar("_F", bound=Callable[..., Any])


def exact(fn: _F) -> _F:
    """Run `fn` in a 64-digit Decimal context so sums and products of money never round."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with localcontext(_CTX):
            return fn(*args, **kwargs)

    return cast(_F, wrapper)


def snapshot(order: SimOrder) -> SimOrder:
    """A copy of an order that later changes to the live object cannot alter."""
    return dataclasses.replace(order)


def hit(direction: int, trigger: int, price: int) -> bool:
    """True when `price` reached `trigger` in `direction` (1 rise: price >= trigger; 2 fall: <=)."""
    return price >= trigger if direction == 1 else price <= trigger


class EngineCore:
    """State and mechanics shared by the command and market-reaction halves of the engine."""

    def __init__(self, market: MarketModel, seed: int = 0) -> None:
        self.market = market
        self._ids = IdGen(seed)
        self._accounts: dict[str, Account] = {}
        self._seq = 0
        self._priority = 0
        self._liquidity = LiquidityTracker()
        self._instruments: dict[str, SimInstrument] = {}
        self._tier_tables: dict[str, list[RiskLimitTier]] = {}
        self._resting: dict[str, dict[str, OrderState]] = {}
        """symbol -> open Limit orders of every account that can fill (New / PartiallyFilled)."""
        self._conditional: dict[str, dict[str, OrderState]] = {}
        """symbol -> Untriggered orders of every account (conditionals and position TP/SL)."""
        self._holders: dict[str, set[str]] = {}
        """symbol -> uids holding a non-zero position."""
        self._public_trades: list[TradeEvent] = []

    # ---- lookups -------------------------------------------------------------------------------

    def _account(self, uid: str) -> Account:
        acct = self._accounts.get(uid)
        if acct is None:
            raise SimRejection(10001, f"unknown account {uid!r}")
        return acct

    def _inst(self, symbol: str) -> SimInstrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            try:
                inst = self.market.instrument(symbol)
            except KeyError:
                raise SimRejection(10001, "params error: symbol invalid") from None
            self._instruments[symbol] = inst
        return inst

    def _tier(self, inst: SimInstrument, value: Decimal) -> f.Tier:
        table = self._tier_tables.get(inst.symbol)
        if table is None:
            getter = getattr(self.market, "risk_limits", None)
            table = sorted(getter(inst.symbol), key=lambda t: t.risk_limit_value) if getter else []
            self._tier_tables[inst.symbol] = table
        return f.tier_for(table, value, inst.info.max_leverage)

    def _default_leverage(self, inst: SimInstrument) -> Decimal:
        return min(DEFAULT_LEVERAGE, inst.info.max_leverage)

    def _position(self, acct: Account, inst: SimInstrument) -> PositionState:
        return acct.position(inst.symbol, self._default_leverage(inst))

    def _ticker(self, symbol: str) -> TickerView:
        return self.market.ticker(symbol)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _next_priority(self) -> int:
        self._priority += 1
        return self._priority

    def _reducible(self, acct: Account, symbol: str, side: Side) -> int:
        """How much an order on `side` can reduce the symbol's position (0 when it would increase it)."""
        pos = acct.positions.get(symbol)
        if pos is None or pos.size == 0 or pos.side is not side.opposite:
            return 0
        return pos.size

    # ---- events --------------------------------------------------------------------------------

    def _emit_order(self, acct: Account, order: SimOrder) -> None:
        # Every change of an order is emitted, so this is also where the symbol's margin legs go stale.
        acct.order_legs.pop(order.symbol, None)
        acct.events.orders.append(snapshot(order))

    def _emit_position(self, acct: Account, symbol: str) -> None:
        acct.events.positions.append(self._position_view(acct, symbol))

    # ---- order registry ------------------------------------------------------------------------

    def _register(self, acct: Account, ost: OrderState) -> None:
        order = ost.order
        acct.order_legs.pop(order.symbol, None)
        acct.open_orders[order.order_id] = ost
        acct.orders_by_symbol.setdefault(order.symbol, {})[order.order_id] = ost
        acct.created_index[order.order_id] = ost.priority
        if order.order_link_id:
            acct.link_counts[order.order_link_id] = acct.link_counts.get(order.order_link_id, 0) + 1
            acct.link_last[order.order_link_id] = order
        self._index(ost)

    def _index(self, ost: OrderState) -> None:
        order = ost.order
        if order.status is OrderStatus.UNTRIGGERED:
            self._conditional.setdefault(order.symbol, {})[order.order_id] = ost
        elif order.order_type is OrderType.LIMIT and order.status.is_open:
            self._resting.setdefault(order.symbol, {})[order.order_id] = ost

    def _unindex(self, ost: OrderState) -> None:
        oid, sym = ost.order.order_id, ost.order.symbol
        for table in (self._conditional, self._resting):
            bucket = table.get(sym)
            if bucket is not None and bucket.pop(oid, None) is not None and not bucket:
                del table[sym]

    def _close_order(
        self,
        acct: Account,
        ost: OrderState,
        status: OrderStatus,
        now: int,
        cancel_type: str | None = None,
        reject_reason: str | None = None,
    ) -> SimOrder:
        """Make an order final (Filled / Cancelled / Rejected), move it to the closed list, emit it."""
        order = ost.order
        order.status = status
        order.updated_time = now
        if cancel_type is not None:
            order.cancel_type = cancel_type
        if reject_reason is not None:
            order.reject_reason = reject_reason
        self._unindex(ost)
        acct.open_orders.pop(order.order_id, None)
        bucket = acct.orders_by_symbol.get(order.symbol)
        if bucket is not None:
            bucket.pop(order.order_id, None)
            if not bucket:
                del acct.orders_by_symbol[order.symbol]
        if len(acct.closed_orders) == acct.closed_orders.maxlen:
            acct.created_index.pop(acct.closed_orders[0].order_id, None)
        acct.closed_orders.append(order)
        self._emit_order(acct, order)
        pos = acct.positions.get(order.symbol)
        if pos is not None:
            if pos.tp_order_id == order.order_id:
                pos.tp_order_id, pos.take_profit, pos.tp_trigger_by = None, None, None
            if pos.sl_order_id == order.order_id:
                pos.sl_order_id, pos.stop_loss, pos.sl_trigger_by = None, None, None
        acct.wallet_dirty = True
        return order

    # ---- fills ---------------------------------------------------------------------------------

    def _fill(
        self,
        acct: Account,
        order: SimOrder,
        price: int,
        qty: int,
        is_maker: bool,
        now: int,
        tk: TickerView,
        exec_type: ExecType = ExecType.TRADE,
    ) -> None:
        """Apply one fill: order progress, position (avg / realised / flip), fee, wallet, execution."""
        inst = self._inst(order.symbol)
        pos = self._position(acct, inst)
        price_d = inst.price.to_decimal(price)
        qty_d = inst.qty.to_decimal(qty)
        value = price_d * qty_d
        fee_rate = f.MAKER_FEE_RATE if is_maker else f.TAKER_FEE_RATE
        fee = f.fee(value, fee_rate)
        pnl = f.ZERO
        closed = 0
        was_flat = pos.size == 0
        if pos.size and pos.side is order.side.opposite:
            closed = min(qty, pos.size)
            pnl = f.closed_pnl(pos.side, pos.avg, price_d, inst.qty.to_decimal(closed))
            pos.size -= closed
            opened = qty - closed
            if pos.size == 0:
                pos.side, pos.avg = None, f.ZERO
            if opened:
                pos.side, pos.size, pos.avg = order.side, opened, price_d
        else:
            old = inst.qty.to_decimal(pos.size)
            pos.avg = price_d if was_flat else f.average_price(pos.avg, old, price_d, qty_d)
            pos.side = order.side
            pos.size += qty
        if was_flat:
            pos.cur_realised = f.ZERO
            pos.created_time = now
        pos.cur_realised += pnl - fee
        pos.cum_realised += pnl - fee
        seq = self._next_seq()
        pos.seq, pos.updated_time = seq, now
        acct.wallet += pnl - fee
        acct.realised_total += pnl
        acct.fees_total += fee
        acct.wallet_dirty = True
        self._track_holder(acct, pos)
        order.cum_exec_qty += qty
        order.cum_exec_value += value
        order.cum_exec_fee += fee
        order.updated_time = now
        order.status = OrderStatus.FILLED if order.cum_exec_qty >= order.qty else OrderStatus.PARTIALLY_FILLED
        execution = SimExecution(
            exec_id=self._ids.next("exec"),
            order_id=order.order_id,
            order_link_id=order.order_link_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            order_price=order.price,
            order_qty=order.qty,
            leaves_qty=order.qty - order.cum_exec_qty,
            exec_price=price,
            exec_qty=qty,
            exec_value=value,
            exec_fee=fee,
            fee_rate=fee_rate,
            exec_type=exec_type,
            is_maker=is_maker,
            exec_time=now,
            closed_size=closed,
            mark_price=tk.mark,
            index_price=tk.index,
            seq=seq,
            stop_order_type=order.stop_order_type,
            create_type=order.create_type,
            exec_pnl=pnl,
        )
        acct.executions.append(execution)
        acct.events.executions.append(execution)

    def _track_holder(self, acct: Account, pos: PositionState) -> None:
        holders = self._holders.setdefault(pos.symbol, set())
        if pos.size:
            holders.add(acct.uid)
        else:
            holders.discard(acct.uid)
            if not holders:
                del self._holders[pos.symbol]

    def _take(self, acct: Account, ost: OrderState, limit: int, now: int, tk: TickerView) -> int:
        """Walk the book as a taker up to `limit`; returns the filled quantity."""
        order = ost.order
        want = order.qty - order.cum_exec_qty
        if order.reduce_only:
            want = min(want, self._reducible(acct, order.symbol, order.side))
        if want <= 0:
            return 0
        fills, book = self._walk(order.symbol, order.side, limit, want)
        total = 0
        for price, q in fills:
            self._liquidity.consume(book, order.side, price, q)
            self._fill(acct, order, price, q, False, now, tk)
            self._public_trades.append(
                TradeEvent(order.symbol, self._ids.next("trade"), price, q, order.side, now, self._seq)
            )
            total += q
        return total

    def _book_upto(self, symbol: str, side: Side, limit: int) -> tuple[BookView, list[tuple[int, int]]]:
        """The book and the levels a `side` taker may hit: BOOK_DEPTH levels, or MAX_BOOK_DEPTH when the
        limit price reaches past the first ones (building deep books is costly for the market)."""
        book = self.market.book(symbol, BOOK_DEPTH)
        raw = book.asks if side is Side.BUY else book.bids
        if len(raw) >= BOOK_DEPTH and crosses(side, raw[-1][0], limit):
            book = self.market.book(symbol, MAX_BOOK_DEPTH)
        return book, self._liquidity.levels(book, side)

    def _walk(self, symbol: str, side: Side, limit: int, want: int) -> tuple[list[tuple[int, int]], BookView]:
        """Fills a taker would get now up to `limit` (after liquidity the accounts already took)."""
        book, levels = self._book_upto(symbol, side, limit)
        return walk(levels, side, limit, want), book

    def _best_opposite(self, symbol: str, side: Side, limit: int) -> int | None:
        """Best price a `side` taker could hit now up to `limit`, None when nothing is inside it."""
        _, levels = self._book_upto(symbol, side, limit)
        return levels[0][0] if levels else None

    def _after_fills(self, acct: Account, ost: OrderState, prev_side: Side | None, now: int) -> None:
        """Close or re-emit the order, keep the position's TP/SL and reduce-only orders consistent."""
        order = ost.order
        if order.status is OrderStatus.FILLED:
            self._close_order(acct, ost, OrderStatus.FILLED, now)
        else:
            self._emit_order(acct, order)
        self._position_changed(acct, order.symbol, prev_side, now)
        pos = acct.positions[order.symbol]
        if (
            (order.take_profit or order.stop_loss)
            and not order.reduce_only
            and pos.size
            and pos.side is order.side
        ):
            self._set_position_tpsl(
                acct, pos, order.take_profit, order.stop_loss, order.tp_trigger_by, order.sl_trigger_by, now
            )
        self._emit_position(acct, order.symbol)

    def _position_changed(self, acct: Account, symbol: str, prev_side: Side | None, now: int) -> None:
        """After a size change: drop TP/SL of a closed/flipped position, shrink/cancel reduce-only orders."""
        pos = acct.positions[symbol]
        if prev_side is not None and (pos.size == 0 or pos.side is not prev_side):
            for oid in (pos.tp_order_id, pos.sl_order_id):
                if oid is not None and oid in acct.open_orders:
                    self._close_order(
                        acct, acct.open_orders[oid], OrderStatus.CANCELLED, now, "CancelByTpSlTsClear"
                    )
            pos.take_profit = pos.stop_loss = None
            pos.tp_trigger_by = pos.sl_trigger_by = None
            pos.tp_order_id = pos.sl_order_id = None
        for ost in list(acct.orders_by_symbol.get(symbol, {}).values()):
            order = ost.order
            if not order.reduce_only or order.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                continue
            room = self._reducible(acct, symbol, order.side)
            if room == 0:
                self._close_order(acct, ost, OrderStatus.CANCELLED, now, "CancelByReduceOnly")
            elif order.qty - order.cum_exec_qty > room:
                order.qty = order.cum_exec_qty + room
                order.updated_time = now
                self._emit_order(acct, order)

    # ---- position TP/SL ------------------------------------------------------------------------

    def _set_position_tpsl(
        self,
        acct: Account,
        pos: PositionState,
        take_profit: int | None,
        stop_loss: int | None,
        tp_by: TriggerBy | None,
        sl_by: TriggerBy | None,
        now: int,
    ) -> bool:
        """Create, move or remove (0) the position's TP/SL stop orders; True when anything changed."""
        changed = False
        for kind, price, by in (
            (StopOrderType.TAKE_PROFIT, take_profit, tp_by or TriggerBy.LAST),
            (StopOrderType.STOP_LOSS, stop_loss, sl_by or TriggerBy.LAST),
        ):
            if price is None:
                continue
            is_tp = kind is StopOrderType.TAKE_PROFIT
            oid = pos.tp_order_id if is_tp else pos.sl_order_id
            ost = acct.open_orders.get(oid) if oid else None
            if price == 0:
                if ost is not None:
                    self._close_order(acct, ost, OrderStatus.CANCELLED, now, "CancelByUser")
                    changed = True
                continue
            if ost is not None:
                if ost.order.trigger_price == price and ost.order.trigger_by is by:
                    continue
                ost.order.trigger_price, ost.order.trigger_by, ost.order.updated_time = price, by, now
                self._emit_order(acct, ost.order)
            else:
                ost = self._new_stop_order(acct, pos, kind, price, by, now)
            if is_tp:
                pos.take_profit, pos.tp_trigger_by, pos.tp_order_id = price, by, ost.order.order_id
            else:
                pos.stop_loss, pos.sl_trigger_by, pos.sl_order_id = price, by, ost.order.order_id
            changed = True
        return changed

    def _new_stop_order(
        self, acct: Account, pos: PositionState, kind: StopOrderType, price: int, by: TriggerBy, now: int
    ) -> OrderState:
        assert pos.side is not None
        is_tp = kind is StopOrderType.TAKE_PROFIT
        rises = is_tp == (pos.side is Side.BUY)
        order = SimOrder(
            order_id=self._ids.next("order"),
            order_link_id="",
            symbol=pos.symbol,
            side=pos.side.opposite,
            order_type=OrderType.MARKET,
            price=0,
            qty=0,
            time_in_force=TimeInForce.IOC,
            status=OrderStatus.UNTRIGGERED,
            created_time=now,
            updated_time=now,
            reduce_only=True,
            close_on_trigger=True,
            trigger_price=price,
            trigger_direction=1 if rises else 2,
            trigger_by=by,
            tpsl_mode="Full",
            stop_order_type=kind,
            create_type="CreateByTakeProfit" if is_tp else "CreateByStopLoss",
            last_price_on_created=self._ticker(pos.symbol).last,
        )
        ost = OrderState(order, acct.uid, self._next_priority(), close_all=True)
        self._register(acct, ost)
        self._emit_order(acct, order)
        return ost

    # ---- margins and views ---------------------------------------------------------------------

    def _legs(self, acct: Account, symbol: str) -> tuple[int, int, int, int]:
        """(buy qty, buy notional, sell qty, sell notional) of the symbol's margin-bearing open orders, in
        steps and tick x step units (integers: cheap to sum), cached until an order of the symbol changes."""
        legs = acct.order_legs.get(symbol)
        if legs is None:
            bq = bn = sq = sn = 0
            for ost in acct.orders_by_symbol.get(symbol, {}).values():
                o = ost.order
                if o.reduce_only or o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                    continue
                leaves = o.qty - o.cum_exec_qty
                if o.side is Side.BUY:
                    bq, bn = bq + leaves, bn + leaves * o.price
                else:
                    sq, sn = sq + leaves, sn + leaves * o.price
            legs = (bq, bn, sq, sn)
            acct.order_legs[symbol] = legs
        return legs

    def _order_im(self, acct: Account, symbol: str, extra: tuple[Side, int, int] | None = None) -> Decimal:
        """Margin the symbol's open orders reserve (+ a hypothetical order): value beyond what merely
        reduces the position, x (1/leverage + taker fee). Reduce-only and untriggered orders reserve none."""
        inst = self._inst(symbol)
        pos = self._position(acct, inst)
        bq, bn, sq, sn = self._legs(acct, symbol)
        if extra is not None:
            side, leaves, price = extra
            if side is Side.BUY:
                bq, bn = bq + leaves, bn + leaves * price
            else:
                sq, sn = sq + leaves, sn + leaves * price
        unit = inst.price.step * inst.qty.step
        bv, sv = bn * unit, sn * unit
        if pos.size and pos.side is Side.BUY and sq:
            sv = _beyond(sv, sq, pos.size)
        elif pos.size and pos.side is Side.SELL and bq:
            bv = _beyond(bv, bq, pos.size)
        return q8(f.order_cost(bv, pos.leverage) + f.order_cost(sv, pos.leverage))

    def _margin_totals(self, acct: Account) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(UPL, position IM, position MM, order IM) over the account."""
        upl = pim = pmm = oim = f.ZERO
        for symbol, pos in acct.positions.items():
            if not pos.size:
                continue
            inst = self._inst(symbol)
            mark = self._ticker(symbol).mark
            fig = self._figures(inst, pos, mark)
            upl += fig.upl
            pim += fig.im
            pmm += fig.mm
        for symbol in acct.orders_by_symbol:
            oim += self._order_im(acct, symbol)
        return upl, pim, pmm, oim

    def _available(self, acct: Account) -> Decimal:
        upl, pim, _, oim = self._margin_totals(acct)
        return acct.wallet + upl - pim - oim

    def _require_margin(self, acct: Account, required: Decimal) -> None:
        """110007 when `required` (extra IM + fee) exceeds the available balance."""
        if required > 0 and required > self._available(acct):
            raise SimRejection(110007, "ab not enough for new order")

    def _figures(self, inst: SimInstrument, pos: PositionState, mark: int) -> PositionFigures:
        size = inst.qty.to_decimal(pos.size)
        return figures(inst, pos, mark, self._tier(inst, size * inst.price.to_decimal(mark)))

    def _position_view(self, acct: Account, symbol: str) -> SimPosition:
        inst = self._inst(symbol)
        pos = self._position(acct, inst)
        mark = self._ticker(symbol).mark
        return position_view(inst, pos, mark, self._figures(inst, pos, mark))

    def _wallet_view(self, acct: Account) -> SimWallet:
        upl, pim, pmm, oim = self._margin_totals(acct)
        return wallet_view(acct, upl, pim, pmm, oim)

    def _protection(self, inst: SimInstrument, side: Side, mark: int) -> int:
        return protection_price(
            side,
            mark,
            -int(-inst.info.min_price // inst.price.step),
            int(inst.info.max_price // inst.price.step),
            MARKET_PROTECTION_PCT,
        )


def _beyond(value: Decimal, qty: int, exempt: int) -> Decimal:
    """The share of `value` (of `qty`) beyond the `exempt` quantity that only reduces the position."""
    return (value * (qty - min(qty, exempt)) / qty).quantize(Decimal("1e-8"), ROUND_CEILING)
