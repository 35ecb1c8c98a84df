"""The `Venue` protocol: everything asym asks of an exchange, in domain types only.

The market and trading packages depend on this protocol, never on `asym.bybit` (which implements it for
Bybit V5 and the local simulator). Money is Decimal, identities are explicit (category, symbol), time is
epoch milliseconds. Errors are the `asym.errors.VenueError` tree.

Time series (klines, funding, open interest, ratios) come back oldest first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

import msgspec

from asym.domain.account import Execution, Order, OrderRequest, Position, WalletBalance
from asym.domain.enums import Category, ExecType, Interval, PeriodInterval, TriggerBy
from asym.domain.market import (
    Candle,
    FundingRate,
    Instrument,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    OrderBook,
    PublicTrade,
    RiskLimitTier,
    Ticker,
)

T_co = TypeVar("T_co", covariant=True)


class KlinePrice(StrEnum):
    """Which price series a kline request reads."""

    TRADE = "trade"
    MARK = "mark"
    INDEX = "index"
    PREMIUM_INDEX = "premium"


class OrderAck(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's acceptance of a write (create/amend/cancel): acceptance, not execution.

    `order` is set when the client had to resolve an unknown outcome by looking the order up (then it is
    the venue's full view of the order); `resolved` says that happened.
    """

    order_id: str
    order_link_id: str
    symbol: str
    category: Category = Category.LINEAR
    ts: int = 0
    resolved: bool = False
    order: Order | None = None


class AmendRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Change an open order (by order_id or order_link_id); None leaves a field as it is."""

    symbol: str
    order_id: str | None = None
    order_link_id: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    take_profit: Decimal | None = None
    """Decimal(0) removes the take-profit."""
    stop_loss: Decimal | None = None
    """Decimal(0) removes the stop-loss."""
    category: Category = Category.LINEAR


class TradingStopRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Exchange-side TP/SL on a whole position (tpslMode Full); None leaves unchanged, Decimal(0) removes."""

    symbol: str
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: TriggerBy | None = None
    sl_trigger_by: TriggerBy | None = None
    position_idx: int = 0
    category: Category = Category.LINEAR


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    """One item of a batch placement: the ack, or the error the venue gave for that item."""

    order_link_id: str
    ack: OrderAck | None = None
    ret_code: int = 0
    ret_msg: str = ""


@runtime_checkable
class MarketStream(Protocol[T_co]):
    """A conflated market-data stream: iteration yields the latest state (superseded updates are dropped).

    A state known to be out of sync (e.g. an order book after a sequence gap) is never yielded and
    `latest()` returns None for it until the venue resynchronised.
    """

    def latest(self) -> T_co | None:
        """The latest in-sync state, or None (not yet received, or out of sync)."""
        ...

    def __aiter__(self) -> AsyncIterator[T_co]:
        """Iterate over states as they change (waits for the next change)."""
        ...

    async def changed(self) -> bool:
        """Wait for the next change to an in-sync state; False once closed. Nothing is handed over, so an
        implementation that can tell "in sync" cheaply (the client's books) builds nothing."""
        ...

    async def aclose(self) -> None:
        """Stop the stream (unsubscribes when it was the last consumer)."""
        ...


@runtime_checkable
class EventStream(Protocol[T_co]):
    """A stream of events. Private events (orders, fills, positions, wallet) are never dropped; public
    events (trades, liquidations, klines) may drop the oldest when a slow consumer lets the buffer fill,
    counted in `dropped`. `reconnects` counts connection losses: events sent while disconnected are lost,
    so a consumer of private events should reconcile over REST when it changes."""

    dropped: int
    reconnects: int

    def __aiter__(self) -> AsyncIterator[T_co]:
        """Iterate over events in arrival order."""
        ...

    async def aclose(self) -> None:
        """Stop the stream."""
        ...


@runtime_checkable
class Venue(Protocol):
    """An exchange as asym sees it (implemented by `asym.bybit.BybitClient`)."""

    # ---------------------------------------------------------------- market data

    async def get_server_time(self) -> int:
        """The venue's clock, epoch ms."""
        ...

    async def get_instruments(self, symbol: str | None = None, category: Category = ...) -> list[Instrument]:
        """Tradable instruments (all pages), cached for a while."""
        ...

    async def get_tickers(self, symbol: str | None = None, category: Category = ...) -> list[Ticker]:
        """Tickers of one symbol or of the whole category."""
        ...

    async def get_orderbook(self, symbol: str, depth: int = 25, category: Category = ...) -> OrderBook:
        """An order-book snapshot of `depth` levels per side."""
        ...

    async def get_klines(
        self,
        symbol: str,
        interval: Interval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        price: KlinePrice = ...,
        category: Category = ...,
    ) -> list[Candle]:
        """Candles oldest first (the newest may be still open: confirmed False)."""
        ...

    async def get_funding_history(
        self,
        symbol: str,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = ...,
    ) -> list[FundingRate]:
        """Settled funding rates oldest first."""
        ...

    async def get_open_interest(
        self,
        symbol: str,
        interval: PeriodInterval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 50,
        category: Category = ...,
    ) -> list[OpenInterest]:
        """Open interest oldest first (follows the cursor until `limit` points)."""
        ...

    async def get_long_short_ratio(
        self,
        symbol: str,
        period: PeriodInterval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 50,
        category: Category = ...,
    ) -> list[LongShortRatio]:
        """Long/short account ratio oldest first."""
        ...

    async def get_recent_trades(
        self, symbol: str, limit: int = 500, category: Category = ...
    ) -> list[PublicTrade]:
        """Recent public trades, newest first (as the venue sends them)."""
        ...

    async def get_risk_limits(self, symbol: str, category: Category = ...) -> list[RiskLimitTier]:
        """Risk-limit tiers of a symbol, cached for a while."""
        ...

    # ---------------------------------------------------------------- trading

    async def place_order(self, request: OrderRequest) -> OrderAck:
        """Place an order; never creates a duplicate (orderLinkId), resolves unknown outcomes by lookup."""
        ...

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[BatchResult]:
        """Place several orders of one category in one request (per-item results, index-aligned)."""
        ...

    async def amend_order(self, request: AmendRequest) -> OrderAck:
        """Amend an open order."""
        ...

    async def cancel_order(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        order_link_id: str | None = None,
        category: Category = ...,
    ) -> OrderAck:
        """Cancel an open order (OrderNotFoundError when unknown or already final)."""
        ...

    async def cancel_all(self, symbol: str | None = None, category: Category = ...) -> list[OrderAck]:
        """Cancel every open order (of `symbol`, else of every USDT contract)."""
        ...

    async def get_open_orders(self, symbol: str | None = None, category: Category = ...) -> list[Order]:
        """Open orders (all pages)."""
        ...

    async def get_order_by_link_id(
        self, order_link_id: str, symbol: str | None = None, category: Category = ...
    ) -> Order | None:
        """The order carrying `order_link_id` (open or recently closed), or None."""
        ...

    async def get_order_history(
        self,
        symbol: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = ...,
    ) -> list[Order]:
        """Closed and open orders newest first, up to `limit`."""
        ...

    async def get_positions(self, symbol: str | None = None, category: Category = ...) -> list[Position]:
        """Positions: the symbol's (even flat), or every open one."""
        ...

    async def get_wallet(self) -> WalletBalance:
        """The unified wallet."""
        ...

    async def get_executions(
        self,
        symbol: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        exec_type: ExecType | None = None,
        limit: int = 500,
        category: Category = ...,
    ) -> list[Execution]:
        """Fills (and funding payments) newest first, up to `limit`."""
        ...

    async def set_leverage(self, symbol: str, leverage: Decimal, category: Category = ...) -> None:
        """Set the symbol's leverage (no error when unchanged)."""
        ...

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        """Set exchange-side TP/SL on a position (no error when unchanged)."""
        ...

    # ---------------------------------------------------------------- streams

    async def stream_orderbook(
        self, symbol: str, depth: int = 50, category: Category = ...
    ) -> MarketStream[OrderBook]:
        """A live order book (never yields an out-of-sync book)."""
        ...

    async def stream_ticker(self, symbol: str, category: Category = ...) -> MarketStream[Ticker]:
        """A live merged ticker."""
        ...

    async def stream_trades(self, symbol: str, category: Category = ...) -> EventStream[PublicTrade]:
        """Public trades."""
        ...

    async def stream_klines(
        self, symbol: str, interval: Interval, category: Category = ...
    ) -> EventStream[Candle]:
        """Kline updates (confirmed False while the candle is open)."""
        ...

    async def stream_liquidations(self, symbol: str, category: Category = ...) -> EventStream[Liquidation]:
        """Public liquidations."""
        ...

    async def stream_orders(self) -> EventStream[Order]:
        """Own order updates (never dropped)."""
        ...

    async def stream_executions(self) -> EventStream[Execution]:
        """Own fills (never dropped)."""
        ...

    async def stream_positions(self) -> EventStream[Position]:
        """Own position updates (never dropped)."""
        ...

    async def stream_wallet(self) -> EventStream[WalletBalance]:
        """Own wallet updates (never dropped)."""
        ...


__all__ = [
    "AmendRequest",
    "BatchResult",
    "EventStream",
    "KlinePrice",
    "MarketStream",
    "OrderAck",
    "TradingStopRequest",
    "Venue",
]
