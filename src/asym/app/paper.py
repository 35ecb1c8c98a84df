"""Paper trading: live public data from a real venue, fills from the simulator's matching engine.

`--venue paper` (or `paper:testnet`, `paper:http://host:port`) opens two connections: a PUBLIC client of
the source venue (no keys: nothing can ever be sent there) for market data and public streams, and a local
simulator server whose market is a `MirrorMarket`: the source's live order books, tickers and public trades,
converted to the engine's integer grid. Orders go to that local engine, which matches them against the
mirrored book, triggers TP/SL on the mirrored mark and last price, and books fees and funding (at the
source's funding times and rates), exactly as the simulator does; private streams come from it too.

`PaperVenue` implements the `Venue` protocol over the two, so the session cannot tell it from a venue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient
from asym.bybit.metrics import ClientObserver
from asym.domain import (
    Candle,
    Category,
    ExecType,
    Execution,
    Instrument,
    Interval,
    Liquidation,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    PublicTrade,
    RiskLimitTier,
    Ticker,
    WalletBalance,
)
from asym.domain.enums import PeriodInterval
from asym.domain.market import FundingRate, LongShortRatio, OpenInterest
from asym.domain.venue import (
    AmendRequest,
    BatchResult,
    EventStream,
    KlinePrice,
    MarketStream,
    OrderAck,
    TradingStopRequest,
)
from asym.errors import DataError
from asym.logging import get_logger
from asym.sim.types import BookView, MarketEvents, SimInstrument, TickerView, TradeEvent
from asym.sim.units import Scale

log = get_logger("app.paper")
L = Category.LINEAR
BOOK_DEPTH = 50
READY_TIMEOUT_S = 10.0


def sim_instrument(info: Instrument, reference: Decimal | None = None) -> SimInstrument:
    """The engine's view of a venue instrument (prices in ticks, sizes in qty steps)."""
    return SimInstrument(
        info=info,
        price=Scale(info.tick_size),
        qty=Scale(info.qty_step),
        base_price=reference or info.min_price,
    )


class MirrorMarket:
    """A `asym.sim.types.MarketModel` that mirrors a live venue: the newest book and ticker of every fed
    symbol, and the public trades since the last advance (the engine fills resting orders on them)."""

    def __init__(self, instruments: Sequence[Instrument]) -> None:
        self._inst = {i.symbol: sim_instrument(i) for i in instruments}
        self._books: dict[str, BookView] = {}
        self._tickers: dict[str, TickerView] = {}
        self._trades: dict[str, list[TradeEvent]] = {}
        self._next_funding: dict[str, int] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self._now = 0
        self._seq = 0

    # --- feeding (from the source's streams) -----------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def ready_event(self, symbol: str) -> asyncio.Event:
        """Set once the symbol has a book and a ticker."""
        return self._ready.setdefault(symbol, asyncio.Event())

    def _check_ready(self, symbol: str) -> None:
        if symbol in self._books and symbol in self._tickers:
            self.ready_event(symbol).set()

    def feed_book(self, book: OrderBook) -> None:
        """A new in-sync book of the source."""
        inst = self._inst.get(book.symbol)
        if inst is None:
            return
        p, q = inst.price, inst.qty
        self._books[book.symbol] = BookView(
            symbol=book.symbol,
            bids=[(p.round_int(px), q.round_int(sz)) for px, sz in book.bids],
            asks=[(p.round_int(px), q.round_int(sz)) for px, sz in book.asks],
            update_id=self._next(),
            seq=self._seq,
            ts=book.ts,
            cts=book.ts,
        )
        self._check_ready(book.symbol)

    def feed_ticker(self, t: Ticker) -> None:
        """A new (merged) ticker of the source."""
        inst = self._inst.get(t.symbol)
        if inst is None or t.last_price is None:
            return
        p, q = inst.price, inst.qty
        last = p.round_int(t.last_price)

        def px(v: Decimal | None) -> int:
            return p.round_int(v) if v is not None else last

        info = inst.info
        self._tickers[t.symbol] = TickerView(
            symbol=t.symbol,
            ts=t.ts,
            last=last,
            mark=px(t.mark_price),
            index=px(t.index_price),
            bid1=px(t.bid1_price),
            bid1_size=q.round_int(t.bid1_size) if t.bid1_size is not None else 0,
            ask1=px(t.ask1_price),
            ask1_size=q.round_int(t.ask1_size) if t.ask1_size is not None else 0,
            prev_price_24h=px(t.prev_price_24h),
            high_24h=px(t.high_price_24h),
            low_24h=px(t.low_price_24h),
            prev_price_1h=px(t.prev_price_1h),
            volume_24h=t.volume_24h or Decimal(0),
            turnover_24h=t.turnover_24h or Decimal(0),
            open_interest=t.open_interest or Decimal(0),
            funding_rate=t.funding_rate or Decimal(0),
            next_funding_time=t.next_funding_time or 0,
            funding_interval_hours=t.funding_interval_hours or 8,
            funding_cap=info.upper_funding_rate,
            tick_direction="ZeroPlusTick",
            cs=self._next(),
        )
        if t.next_funding_time:
            self._next_funding.setdefault(t.symbol, t.next_funding_time)
        self._check_ready(t.symbol)

    def feed_trade(self, trade: PublicTrade) -> None:
        """A public trade of the source."""
        inst = self._inst.get(trade.symbol)
        if inst is None:
            return
        self._trades.setdefault(trade.symbol, []).append(
            TradeEvent(
                symbol=trade.symbol,
                trade_id=trade.trade_id,
                price=inst.price.round_int(trade.price),
                size=max(1, inst.qty.round_int(trade.size)),
                taker_side=trade.taker_side,
                ts=trade.ts,
                seq=self._next(),
            )
        )

    # --- MarketModel ---------------------------------------------------------------------------------

    def instruments(self) -> list[SimInstrument]:
        """Every instrument of the source (linear USDT)."""
        return list(self._inst.values())

    def instrument(self, symbol: str) -> SimInstrument:
        """One instrument; KeyError when unknown."""
        return self._inst[symbol]

    def advance(self, now_ms: int, symbols: list[str] | None = None) -> MarketEvents:
        """The trades fed since the last advance (up to `now_ms`) and the funding settlements due."""
        from asym.sim.types import FundingSettlement

        self._now = max(self._now, now_ms)
        out = MarketEvents()
        for sym in symbols if symbols is not None else list(self._trades):
            pending = self._trades.get(sym)
            if pending:
                due = [t for t in pending if t.ts <= now_ms]
                self._trades[sym] = [t for t in pending if t.ts > now_ms]
                out.trades.extend(due)
            nxt = self._next_funding.get(sym)
            tk = self._tickers.get(sym)
            if nxt and tk is not None and now_ms >= nxt:
                out.fundings.append(FundingSettlement(symbol=sym, ts=nxt, rate=tk.funding_rate, mark=tk.mark))
                self._next_funding[sym] = (
                    tk.next_funding_time if tk.next_funding_time > nxt else nxt + 8 * 3_600_000
                )
        out.trades.sort(key=lambda t: (t.ts, t.seq))
        return out

    def book(self, symbol: str, depth: int) -> BookView:
        """The newest mirrored book (empty until the source sent one)."""
        b = self._books.get(symbol)
        if b is None:
            if symbol not in self._inst:
                raise KeyError(symbol)
            return BookView(symbol=symbol, bids=[], asks=[], update_id=0, seq=0, ts=self._now, cts=self._now)
        if len(b.bids) <= depth and len(b.asks) <= depth:
            return b
        return BookView(b.symbol, b.bids[:depth], b.asks[:depth], b.update_id, b.seq, b.ts, b.cts)

    def ticker(self, symbol: str) -> TickerView:
        """The newest mirrored ticker; DataError before the source sent one."""
        t = self._tickers.get(symbol)
        if t is None:
            raise DataError(f"paper: no live ticker of {symbol} yet")
        return t

    def klines(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Not mirrored: market data is read from the source directly."""
        return []

    def recent_trades(self, symbol: str, limit: int) -> list[TradeEvent]:
        """Not mirrored."""
        return []

    def funding_history(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Not mirrored."""
        return []

    def open_interest_history(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Not mirrored."""
        return []

    def account_ratio(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Not mirrored."""
        return []

    def now_ms(self) -> int:
        """The time of the last advance."""
        return self._now


class PaperVenue:
    """The `Venue` of paper trading: market data from `source`, everything private from `local`."""

    def __init__(self, source: BybitClient, local: BybitClient, mirror: MirrorMarket) -> None:
        self.source = source
        self.local = local
        self.mirror = mirror
        self._feeds: dict[str, list[asyncio.Task[None]]] = {}
        self._streams: list[Any] = []

    async def mirror_symbol(self, symbol: str) -> None:
        """Follow the source's book, ticker and trades of `symbol` (once); wait until it has data."""
        if symbol not in self._feeds:
            book = await self.source.stream_orderbook(symbol, BOOK_DEPTH)
            ticker = await self.source.stream_ticker(symbol)
            trades = await self.source.stream_trades(symbol)
            self._streams += [book, ticker, trades]
            self._feeds[symbol] = [
                asyncio.create_task(self._pump(book, self.mirror.feed_book)),
                asyncio.create_task(self._pump(ticker, self.mirror.feed_ticker)),
                asyncio.create_task(self._pump(trades, self.mirror.feed_trade)),
            ]
        await asyncio.wait_for(self.mirror.ready_event(symbol).wait(), READY_TIMEOUT_S)

    @staticmethod
    async def _pump(stream: Any, feed: Any) -> None:
        async for item in stream:
            try:
                feed(item)
            except Exception as exc:  # one odd message must not stop the mirror
                log.warning("paper_feed_failed", error=f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        """Stop following the source."""
        tasks = [t for ts in self._feeds.values() for t in ts]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks)  # (a cancellation of close() itself is not swallowed)
        for s in self._streams:
            with contextlib.suppress(Exception):
                await s.aclose()

    # --- market data: the source --------------------------------------------------------------------------

    async def get_server_time(self) -> int:
        """The source's clock."""
        return await self.source.get_server_time()

    async def get_instruments(self, symbol: str | None = None, category: Category = L) -> list[Instrument]:
        """The source's instruments."""
        return await self.source.get_instruments(symbol, category)

    async def get_tickers(self, symbol: str | None = None, category: Category = L) -> list[Ticker]:
        """The source's tickers."""
        return await self.source.get_tickers(symbol, category)

    async def get_orderbook(self, symbol: str, depth: int = 25, category: Category = L) -> OrderBook:
        """The source's book."""
        return await self.source.get_orderbook(symbol, depth, category)

    async def get_klines(
        self,
        symbol: str,
        interval: Interval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        price: KlinePrice = KlinePrice.TRADE,
        category: Category = L,
    ) -> list[Candle]:
        """The source's candles."""
        return await self.source.get_klines(
            symbol, interval, start=start, end=end, limit=limit, price=price, category=category
        )

    async def get_funding_history(
        self,
        symbol: str,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = L,
    ) -> list[FundingRate]:
        """The source's funding history."""
        return await self.source.get_funding_history(
            symbol, start=start, end=end, limit=limit, category=category
        )

    async def get_open_interest(
        self,
        symbol: str,
        interval: PeriodInterval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 50,
        category: Category = L,
    ) -> list[OpenInterest]:
        """The source's open interest."""
        return await self.source.get_open_interest(
            symbol, interval, start=start, end=end, limit=limit, category=category
        )

    async def get_long_short_ratio(
        self,
        symbol: str,
        period: PeriodInterval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 50,
        category: Category = L,
    ) -> list[LongShortRatio]:
        """The source's long/short ratio."""
        return await self.source.get_long_short_ratio(
            symbol, period, start=start, end=end, limit=limit, category=category
        )

    async def get_recent_trades(
        self, symbol: str, limit: int = 500, category: Category = L
    ) -> list[PublicTrade]:
        """The source's recent trades."""
        return await self.source.get_recent_trades(symbol, limit, category)

    async def get_risk_limits(self, symbol: str, category: Category = L) -> list[RiskLimitTier]:
        """The source's risk limits."""
        return await self.source.get_risk_limits(symbol, category)

    async def stream_orderbook(
        self, symbol: str, depth: int = 50, category: Category = L
    ) -> MarketStream[OrderBook]:
        """The source's live book."""
        return await self.source.stream_orderbook(symbol, depth, category)

    async def stream_ticker(self, symbol: str, category: Category = L) -> MarketStream[Ticker]:
        """The source's live ticker."""
        return await self.source.stream_ticker(symbol, category)

    async def stream_trades(self, symbol: str, category: Category = L) -> EventStream[PublicTrade]:
        """The source's public trades."""
        return await self.source.stream_trades(symbol, category)

    async def stream_klines(
        self, symbol: str, interval: Interval, category: Category = L
    ) -> EventStream[Candle]:
        """The source's klines."""
        return await self.source.stream_klines(symbol, interval, category)

    async def stream_liquidations(self, symbol: str, category: Category = L) -> EventStream[Liquidation]:
        """The source's liquidations."""
        return await self.source.stream_liquidations(symbol, category)

    # --- trading: the local engine --------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> OrderAck:
        """Place on the local engine (once the symbol's live book is mirrored)."""
        await self.mirror_symbol(request.symbol)
        return await self.local.place_order(request)

    async def place_orders(self, requests: Sequence[OrderRequest]) -> list[BatchResult]:
        """Batch placement on the local engine."""
        for sym in {r.symbol for r in requests}:
            await self.mirror_symbol(sym)
        return await self.local.place_orders(requests)

    async def amend_order(self, request: AmendRequest) -> OrderAck:
        """Amend on the local engine."""
        return await self.local.amend_order(request)

    async def cancel_order(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        order_link_id: str | None = None,
        category: Category = L,
    ) -> OrderAck:
        """Cancel on the local engine."""
        return await self.local.cancel_order(
            symbol, order_id=order_id, order_link_id=order_link_id, category=category
        )

    async def cancel_all(self, symbol: str | None = None, category: Category = L) -> list[OrderAck]:
        """Cancel all on the local engine."""
        return await self.local.cancel_all(symbol, category)

    async def get_open_orders(self, symbol: str | None = None, category: Category = L) -> list[Order]:
        """Open orders of the local engine."""
        return await self.local.get_open_orders(symbol, category)

    async def get_order_by_link_id(
        self, order_link_id: str, symbol: str | None = None, category: Category = L
    ) -> Order | None:
        """An order of the local engine."""
        return await self.local.get_order_by_link_id(order_link_id, symbol, category)

    async def get_order_history(
        self,
        symbol: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = L,
    ) -> list[Order]:
        """Order history of the local engine."""
        return await self.local.get_order_history(
            symbol, start=start, end=end, limit=limit, category=category
        )

    async def get_positions(self, symbol: str | None = None, category: Category = L) -> list[Position]:
        """Positions on the local engine."""
        return await self.local.get_positions(symbol, category)

    async def get_wallet(self) -> WalletBalance:
        """The paper wallet."""
        return await self.local.get_wallet()

    async def get_executions(
        self,
        symbol: str | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        exec_type: ExecType | None = None,
        limit: int = 500,
        category: Category = L,
    ) -> list[Execution]:
        """Fills of the local engine."""
        return await self.local.get_executions(
            symbol, start=start, end=end, exec_type=exec_type, limit=limit, category=category
        )

    async def set_leverage(self, symbol: str, leverage: Decimal, category: Category = L) -> None:
        """Leverage on the local engine (the symbol is mirrored from now on)."""
        await self.mirror_symbol(symbol)
        await self.local.set_leverage(symbol, leverage, category)

    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        """TP/SL on the local engine."""
        await self.local.set_trading_stop(request)

    async def stream_orders(self) -> EventStream[Order]:
        """Own orders (local engine)."""
        return await self.local.stream_orders()

    async def stream_executions(self) -> EventStream[Execution]:
        """Own fills (local engine)."""
        return await self.local.stream_executions()

    async def stream_positions(self) -> EventStream[Position]:
        """Own positions (local engine)."""
        return await self.local.stream_positions()

    async def stream_wallet(self) -> EventStream[WalletBalance]:
        """Own wallet (local engine)."""
        return await self.local.stream_wallet()


@asynccontextmanager
async def open_paper(source: str, opts: Any, observer: ClientObserver | None = None) -> AsyncIterator[Any]:
    """A `TradingVenue` for paper trading on `source` (mainnet, testnet, demo or a URL): public data from
    there, fills from a local engine funded with `opts.balance`."""
    from asym.app.clock import DataClock
    from asym.app.venues import TradingVenue
    from asym.sim.config import SimConfig
    from asym.sim.engine import Engine
    from asym.sim.exchange import SimExchange
    from asym.sim.server.app import SimServer

    async with BybitClient(source, None, observer=observer) as public:
        instruments = [i for i in await public.get_instruments() if i.settle_coin == "USDT"]
        mirror = MirrorMarket(instruments)
        config = SimConfig(symbols=1, balance_usdt=opts.balance, rate_limits=False)
        exchange = SimExchange(config, market=mirror, engine=Engine(mirror))
        server = SimServer(config, exchange=exchange)
        await server.start("127.0.0.1", 0)
        venue: PaperVenue | None = None
        try:
            creds = Credentials(config.api_key, config.api_secret)
            async with BybitClient(server.rest_url, creds) as local:
                venue = PaperVenue(public, local, mirror)
                clock = DataClock(1.0)
                name = f"paper:{source}"
                yield TradingVenue(venue, name, "paper", clock.now_ms, data_clock=clock, simulator=server)
        finally:
            if venue is not None:
                await venue.close()
            await server.stop()


__all__ = ["MirrorMarket", "PaperVenue", "open_paper", "sim_instrument"]
