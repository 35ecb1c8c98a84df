"""Account and trading methods of the client (private endpoints), with outcome-unknown resolution.

Every order carries an orderLinkId, so a write whose outcome is unknown (timeout, connection lost after
sending, 5xx / 10000 / 10016) is resolved, never blindly retried: look the order up by orderLinkId; if it
exists, that is the answer; if not, re-send (safe: the venue refuses a second order with the same
orderLinkId, 110072) and a 110072 on the re-send means it exists now: fetch and return it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from asym.bybit import endpoints as eps
from asym.bybit.convert import account as ca
from asym.bybit.paginate import collect
from asym.bybit.retry import RetryPolicy
from asym.bybit.transport import RestTransport
from asym.bybit.wire import account as wa
from asym.domain import (
    Category,
    ExecType,
    Execution,
    Order,
    OrderRequest,
    OrderType,
    Position,
    WalletBalance,
)
from asym.domain.venue import AmendRequest, BatchResult, OrderAck, TradingStopRequest
from asym.errors import (
    DataError,
    DuplicateOrderError,
    InvalidRequestError,
    OrderNotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RetryableError,
    VenueError,
)
from asym.logging import get_logger

T = TypeVar("T")
_log = get_logger("bybit.trading")


def _ack(r: wa.OrderAckResult | None, symbol: str, category: Category, ts: int) -> OrderAck:
    if r is None:
        raise DataError("order ack without result")
    return OrderAck(
        order_id=r.order_id, order_link_id=r.order_link_id, symbol=symbol, category=category, ts=ts
    )


def _resolved(order: Order) -> OrderAck:
    return OrderAck(
        order_id=order.order_id,
        order_link_id=order.order_link_id,
        symbol=order.symbol,
        category=order.category,
        ts=order.updated_time,
        resolved=True,
        order=order,
    )


def _same_order(o: Order, r: OrderRequest) -> bool:
    """Does the venue's order `o` carry what request `r` asked for?"""
    return (
        o.symbol == r.symbol
        and o.side is r.side
        and o.order_type is r.order_type
        and o.qty == r.qty
        and (r.price is None or r.order_type is not OrderType.LIMIT or o.price == r.price)
    )


def _settle_scope(symbol: str | None) -> dict[str, Any]:
    # Linear queries need symbol, baseCoin or settleCoin; asym trades USDT contracts.
    return {"symbol": symbol} if symbol else {"settleCoin": "USDT"}


class TradingApi:
    """Private endpoints. Needs `_t` (a started RestTransport with credentials) and `_resolve_policy`."""

    _t: RestTransport
    _resolve_policy: RetryPolicy

    # ---------------------------------------------------------------- queries

    async def get_order_by_link_id(
        self, order_link_id: str, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> Order | None:
        """The order with this orderLinkId: open or recently closed (order/realtime), else order/history."""
        ca.validate_order_link_id(order_link_id, eps.ORDER_REALTIME.path)
        for ep in (eps.ORDER_REALTIME, eps.ORDER_HISTORY):
            params = {"category": category.value, **_settle_scope(symbol), "orderLinkId": order_link_id}
            env = await self._t.get(ep, params, category=category.value, coalesce=False)
            r: wa.OrderListResult | None = env.result
            if r is not None:
                for item in r.items:
                    if item.order_link_id == order_link_id:
                        return ca.order(item, r.category or category.value)
        return None

    async def _orders(
        self, ep: eps.Endpoint, params: dict[str, Any], category: Category, limit: int | None
    ) -> list[Order]:
        async def page(cursor: str) -> tuple[Sequence[Order], str]:
            env = await self._t.get(ep, {**params, "cursor": cursor or None}, category=category.value)
            r: wa.OrderListResult | None = env.result
            if r is None:
                return [], ""
            return [ca.order(o, r.category or category.value) for o in r.items], r.next_page_cursor

        return await collect(page, limit=limit)

    async def get_open_orders(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Order]:
        """Open orders (all pages)."""
        params = {"category": category.value, **_settle_scope(symbol), "openOnly": 0, "limit": 50}
        return [o for o in await self._orders(eps.ORDER_REALTIME, params, category, None) if o.status.is_open]

    async def get_order_history(
        self,
        symbol: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = Category.LINEAR,
    ) -> list[Order]:
        """Orders newest first (Bybit: 7-day windows), up to `limit`."""
        params = {
            "category": category.value,
            **_settle_scope(symbol),
            "startTime": start,
            "endTime": end,
            "limit": 50,
        }
        return await self._orders(eps.ORDER_HISTORY, params, category, limit)

    async def get_positions(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Position]:
        """Positions: the symbol's (even when flat), or every open USDT position."""

        async def page(cursor: str) -> tuple[Sequence[Position], str]:
            params = {
                "category": category.value,
                **_settle_scope(symbol),
                "limit": 200,
                "cursor": cursor or None,
            }
            env = await self._t.get(eps.POSITION_LIST, params, category=category.value)
            r: wa.PositionListResult | None = env.result
            if r is None:
                return [], ""
            return [ca.position(p, r.category or category.value) for p in r.items], r.next_page_cursor

        return await collect(page)

    async def get_wallet(self) -> WalletBalance:
        """The unified trading account's wallet."""
        env = await self._t.get(eps.WALLET_BALANCE, {"accountType": "UNIFIED"})
        r: wa.WalletResult | None = env.result
        if r is None or not r.items:
            raise DataError("wallet-balance: no account in the answer")
        acct = next((a for a in r.items if a.account_type == "UNIFIED"), r.items[0])
        return ca.wallet(acct, env.time)

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
        """Fills (and funding payments) newest first, up to `limit`."""

        async def page(cursor: str) -> tuple[Sequence[Execution], str]:
            params = {
                "category": category.value,
                "symbol": symbol,
                "startTime": start,
                "endTime": end,
                "execType": exec_type.value if exec_type else None,
                "limit": 100,
                "cursor": cursor or None,
            }
            env = await self._t.get(eps.EXECUTION_LIST, params, category=category.value)
            r: wa.ExecutionListResult | None = env.result
            if r is None:
                return [], ""
            return [ca.execution(e, r.category or category.value) for e in r.items], r.next_page_cursor

        return await collect(page, limit=limit)

    async def get_account_info(self) -> wa.AccountInfoResult:
        """Account mode (unifiedMarginStatus, marginMode) as the wire struct."""
        env = await self._t.get(eps.ACCOUNT_INFO)
        if env.result is None:
            raise DataError("account/info: no result")
        return env.result

    async def get_api_key_info(self) -> wa.ApiKeyInfoResult:
        """The API key's permissions (user/query-api) as the wire struct."""
        env = await self._t.get(eps.API_KEY_INFO)
        if env.result is None:
            raise DataError("user/query-api: no result")
        return env.result

    # ---------------------------------------------------------------- writes

    async def _resolve(self, first: OutcomeUnknownError, step: Callable[[], Awaitable[T | None]]) -> T:
        """Run `step` (look up, then re-send if needed) until it returns an answer or the policy ends."""
        policy = self._resolve_policy
        loop = asyncio.get_running_loop()
        deadline = loop.time() + policy.deadline_s
        last: VenueError = first
        for attempt in range(policy.max_attempts):
            try:
                result = await step()
            except (OutcomeUnknownError, RetryableError, RateLimitedError) as exc:
                # Still not knowing is not an answer: keep resolving while the policy allows.
                last = exc
                result = None
            if result is not None:
                return result
            delay = policy.backoff(attempt + 1)
            if loop.time() + delay > deadline:
                break
            await asyncio.sleep(delay)
        raise OutcomeUnknownError(
            f"outcome still unknown after resolving: {last}",
            endpoint=first.endpoint,
            ret_code=first.ret_code,
            ret_msg=first.ret_msg,
            http_status=first.http_status,
        )

    async def place_order(self, request: OrderRequest) -> OrderAck:
        """Place an order. Exactly one order per orderLinkId, whatever happens on the network.

        Idempotent: placing the same request again (same orderLinkId, symbol, side, type, qty, price)
        returns the existing order (`resolved`); a different request reusing the id raises
        DuplicateOrderError.
        """
        body = ca.order_body(request)
        cat = request.category
        try:
            env = await self._t.post(eps.ORDER_CREATE, body, category=cat.value)
            return _ack(env.result, request.symbol, cat, env.time)
        except DuplicateOrderError:
            # Also what a transparent re-send (after a refusal the venue had in fact processed) returns.
            return await self._existing(request)
        except OutcomeUnknownError as exc:
            _log.warning("order create outcome unknown: resolving", order_link_id=request.order_link_id)
            self._t.observer.on_retry(eps.ORDER_CREATE.path, "resolve")
            return await self._resolve(exc, lambda: self._resolve_create(request, body))

    async def _existing(self, request: OrderRequest) -> OrderAck:
        """After 110072: the order with this orderLinkId, if it is the one `request` describes."""
        found = await self.get_order_by_link_id(request.order_link_id, request.symbol, request.category)
        if found is None or not _same_order(found, request):
            raise DuplicateOrderError(
                f"orderLinkId {request.order_link_id!r} is already used by another order",
                endpoint=eps.ORDER_CREATE.path,
                ret_code=110072,
            )
        return _resolved(found)

    async def _resolve_create(self, request: OrderRequest, body: dict[str, Any]) -> OrderAck | None:
        existing = await self.get_order_by_link_id(request.order_link_id, request.symbol, request.category)
        if existing is not None:
            if not _same_order(existing, request):
                raise DuplicateOrderError(
                    f"orderLinkId {request.order_link_id!r} is already used by another order",
                    endpoint=eps.ORDER_CREATE.path,
                    ret_code=110072,
                )
            return _resolved(existing)
        # Not there: it was never placed (or is not visible yet). Re-sending is safe: a second order
        # with this orderLinkId is refused by the venue (110072), which then means "it exists".
        try:
            env = await self._t.post(eps.ORDER_CREATE, body, category=request.category.value)
        except DuplicateOrderError:
            return None  # it exists now: the next round finds it
        return _ack(env.result, request.symbol, request.category, env.time)

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[BatchResult]:
        """Place up to 20 orders of one category in one request; results index-aligned with `requests`."""
        if not requests:
            return []
        cat = requests[0].category
        if any(r.category is not cat for r in requests) or len(requests) > 20:
            raise InvalidRequestError(
                "a batch holds 1-20 orders of one category", endpoint=eps.ORDER_CREATE_BATCH.path
            )
        items = [ca.order_body(r, with_category=False) for r in requests]
        try:
            env = await self._t.post(
                eps.ORDER_CREATE_BATCH, {"category": cat.value, "request": items}, category=cat.value
            )
        except OutcomeUnknownError:
            # Resolve each order on its own: look it up, place it if missing (never twice).
            return [await self._place_one(r) for r in requests]
        res: wa.BatchResult | None = env.result
        slots = res.items if res is not None else []
        ext = env.ret_ext_info.items if env.ret_ext_info is not None else []
        out = []
        for i, req in enumerate(requests):
            code = ext[i].code if i < len(ext) else 0
            msg = ext[i].msg if i < len(ext) else ""
            slot = slots[i] if i < len(slots) else None
            if code == 0 and slot is not None and slot.order_id:
                ack = OrderAck(
                    order_id=slot.order_id,
                    order_link_id=slot.order_link_id,
                    symbol=req.symbol,
                    category=cat,
                    ts=env.time,
                )
                out.append(BatchResult(order_link_id=req.order_link_id, ack=ack))
            else:
                out.append(
                    BatchResult(
                        order_link_id=req.order_link_id, ret_code=code or -1, ret_msg=msg or "no result"
                    )
                )
        return out

    async def _place_one(self, req: OrderRequest) -> BatchResult:
        try:
            ack = await self.place_order(req)
        except VenueError as exc:
            return BatchResult(order_link_id=req.order_link_id, ret_code=exc.ret_code or -1, ret_msg=str(exc))
        return BatchResult(order_link_id=req.order_link_id, ack=ack)

    async def amend_order(self, request: AmendRequest) -> OrderAck:
        """Amend an open order; an unknown outcome is resolved by comparing the order with the request."""
        body = ca.amend_body(request)
        cat = request.category
        try:
            env = await self._t.post(eps.ORDER_AMEND, body, category=cat.value)
            return _ack(env.result, request.symbol, cat, env.time)
        except OutcomeUnknownError as exc:
            return await self._resolve(exc, lambda: self._resolve_amend(request, body))

    async def _lookup(
        self, symbol: str, order_id: str | None, link_id: str | None, cat: Category
    ) -> Order | None:
        if link_id:
            return await self.get_order_by_link_id(link_id, symbol, cat)
        for ep in (eps.ORDER_REALTIME, eps.ORDER_HISTORY):
            env = await self._t.get(
                ep, {"category": cat.value, "symbol": symbol, "orderId": order_id}, coalesce=False
            )
            r: wa.OrderListResult | None = env.result
            for item in r.items if r is not None else []:
                if item.order_id == order_id:
                    return ca.order(item, r.category or cat.value) if r is not None else None
        return None

    async def _resolve_amend(self, r: AmendRequest, body: dict[str, Any]) -> OrderAck | None:
        order = await self._lookup(r.symbol, r.order_id, r.order_link_id, r.category)
        if order is None:
            raise OrderNotFoundError("order to amend does not exist", endpoint=eps.ORDER_AMEND.path)
        if (
            (r.qty is None or order.qty == r.qty)
            and (r.price is None or order.price == r.price)
            and (r.trigger_price is None or order.trigger_price == r.trigger_price)
        ):
            return _resolved(order)
        if not order.status.is_open:
            raise OrderNotFoundError(
                f"order is {order.status.value}: amend impossible", endpoint=eps.ORDER_AMEND.path
            )
        env = await self._t.post(eps.ORDER_AMEND, body, category=r.category.value)
        return _ack(env.result, r.symbol, r.category, env.time)

    async def cancel_order(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        order_link_id: str | None = None,
        category: Category = Category.LINEAR,
    ) -> OrderAck:
        """Cancel an open order. After an unknown outcome the ack is `resolved`; `order` holds its state."""
        if not order_id and not order_link_id:
            raise InvalidRequestError(
                "cancel needs order_id or order_link_id", endpoint=eps.ORDER_CANCEL.path
            )
        if order_link_id:
            ca.validate_order_link_id(order_link_id, eps.ORDER_CANCEL.path)
        body: dict[str, Any] = {"category": category.value, "symbol": symbol}
        if order_id:
            body["orderId"] = order_id
        else:
            body["orderLinkId"] = order_link_id
        try:
            env = await self._t.post(eps.ORDER_CANCEL, body, category=category.value)
            return _ack(env.result, symbol, category, env.time)
        except OutcomeUnknownError as exc:
            return await self._resolve(
                exc, lambda: self._resolve_cancel(symbol, order_id, order_link_id, category, body)
            )

    async def _resolve_cancel(
        self, symbol: str, order_id: str | None, link_id: str | None, cat: Category, body: dict[str, Any]
    ) -> OrderAck | None:
        order = await self._lookup(symbol, order_id, link_id, cat)
        if order is None:
            raise OrderNotFoundError("order to cancel does not exist", endpoint=eps.ORDER_CANCEL.path)
        if not order.status.is_open:
            return _resolved(order)
        try:
            env = await self._t.post(eps.ORDER_CANCEL, body, category=cat.value)
        except OrderNotFoundError:
            return None  # became final meanwhile: look again
        return _ack(env.result, symbol, cat, env.time)

    async def cancel_all(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[OrderAck]:
        """Cancel every open order of `symbol` (else all USDT contracts); re-sent if unknown."""
        body = {"category": category.value, **_settle_scope(symbol)}

        async def send() -> list[OrderAck]:
            env = await self._t.post(eps.ORDER_CANCEL_ALL, body, category=category.value)
            r: wa.CancelAllResult | None = env.result
            items = r.items if r is not None else []
            return [
                OrderAck(
                    order_id=i.order_id,
                    order_link_id=i.order_link_id,
                    symbol=symbol or "",
                    category=category,
                    ts=env.time,
                )
                for i in items
            ]

        try:
            return await send()
        except OutcomeUnknownError as exc:
            return await self._resolve(exc, send)

    async def set_leverage(
        self, symbol: str, leverage: Decimal, category: Category = Category.LINEAR
    ) -> None:
        """Set buy and sell leverage (110043 'not modified' counts as success). Idempotent."""
        if not leverage.is_finite() or leverage <= 0:
            raise InvalidRequestError(
                f"leverage must be positive, got {leverage}", endpoint=eps.SET_LEVERAGE.path
            )
        lev = ca.wire_decimal(leverage)
        body = {"category": category.value, "symbol": symbol, "buyLeverage": lev, "sellLeverage": lev}
        await self._idempotent(eps.SET_LEVERAGE, body, category)

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        """Set TP/SL on a position, tpslMode Full (34040 'not modified' counts as success). Idempotent."""
        body: dict[str, Any] = {
            "category": request.category.value,
            "symbol": request.symbol,
            "tpslMode": "Full",
            "positionIdx": request.position_idx,
        }
        if request.take_profit is not None:
            body["takeProfit"] = ca.wire_decimal(request.take_profit)
        if request.stop_loss is not None:
            body["stopLoss"] = ca.wire_decimal(request.stop_loss)
        if request.tp_trigger_by is not None:
            body["tpTriggerBy"] = request.tp_trigger_by.value
        if request.sl_trigger_by is not None:
            body["slTriggerBy"] = request.sl_trigger_by.value
        await self._idempotent(eps.TRADING_STOP, body, request.category)

    async def _idempotent(self, ep: eps.Endpoint, body: dict[str, Any], category: Category) -> None:
        async def send() -> bool:
            await self._t.post(ep, body, category=category.value)
            return True

        try:
            await send()
        except OutcomeUnknownError as exc:
            await self._resolve(exc, send)
