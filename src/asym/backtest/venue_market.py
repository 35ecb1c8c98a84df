"""Market-data half of `CoreVenue`: reads and public streams over a MarketModel at the clock's time."""

from __future__ import annotations

from asym.backtest import convert
from asym.backtest.clock import SimClock
from asym.backtest.streams import LocalEventStream, LocalMarketStream
from asym.domain import (
    Candle,
    Category,
    FundingRate,
    Instrument,
    Interval,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    OrderBook,
    PeriodInterval,
    PublicTrade,
    RiskLimitTier,
    Ticker,
)
from asym.domain.venue import EventStream, KlinePrice, MarketStream
from asym.errors import InvalidRequestError
from asym.sim.types import KlineRow, MarketEvents, MarketModel, PriceKind, SimInstrument

PUBLIC_BUFFER = 10_000
_KINDS = {
    KlinePrice.TRADE: PriceKind.TRADE,
    KlinePrice.MARK: PriceKind.MARK,
    KlinePrice.INDEX: PriceKind.INDEX,
    KlinePrice.PREMIUM_INDEX: PriceKind.PREMIUM,
}


def _linear(category: Category, endpoint: str) -> None:
    if category is not Category.LINEAR:
        raise InvalidRequestError(
            f"only linear contracts are simulated, not {category.value}", endpoint=endpoint
        )


class MarketDataApi:
    """Market data of a `MarketModel` in domain types, at `clock` time."""

    market: MarketModel
    clock: SimClock

    def _init_market_streams(self) -> None:
        self._books: list[LocalMarketStream[OrderBook]] = []
        self._tickers: list[LocalMarketStream[Ticker]] = []
        self._trade_streams: dict[str, list[LocalEventStream[PublicTrade]]] = {}
        self._liq_streams: dict[str, list[LocalEventStream[Liquidation]]] = {}
        self._kline_streams: dict[tuple[str, Interval], list[LocalEventStream[Candle]]] = {}
        self._kline_sent: dict[tuple[str, Interval], int] = {}

    def _inst(self, symbol: str, endpoint: str = "") -> SimInstrument:
        try:
            return self.market.instrument(symbol)
        except KeyError:
            raise InvalidRequestError(
                "params error: symbol invalid", endpoint=endpoint, ret_code=10001, ret_msg="symbol invalid"
            ) from None

    @property
    def records_open_interest(self) -> bool:
        """False for markets without open-interest data (their tickers say None, never 0)."""
        return bool(getattr(self.market, "records_open_interest", True))

    # ---- reads ----------------------------------------------------------------------------------

    async def get_server_time(self) -> int:
        """The simulated clock, epoch ms."""
        return self.clock.now_ms()

    async def get_instruments(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Instrument]:
        """Every instrument (or one)."""
        _linear(category, "/v5/market/instruments-info")
        if symbol is not None:
            return [self._inst(symbol, "/v5/market/instruments-info").info]
        return [i.info for i in self.market.instruments()]

    def ticker_now(self, symbol: str) -> Ticker:
        """The ticker of `symbol` now (synchronous; what `get_tickers` returns)."""
        inst = self._inst(symbol, "/v5/market/tickers")
        return convert.ticker(inst, self.market.ticker(symbol), open_interest=self.records_open_interest)

    def book_now(self, symbol: str, depth: int = 25) -> OrderBook:
        """The order book of `symbol` now (synchronous)."""
        inst = self._inst(symbol, "/v5/market/orderbook")
        return convert.book(inst, self.market.book(symbol, depth))

    async def get_tickers(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Ticker]:
        """Tickers of one symbol or of every one."""
        _linear(category, "/v5/market/tickers")
        names = [symbol] if symbol is not None else [i.symbol for i in self.market.instruments()]
        return [self.ticker_now(s) for s in names]

    async def get_orderbook(
        self, symbol: str, depth: int = 25, category: Category = Category.LINEAR
    ) -> OrderBook:
        """An order-book snapshot."""
        _linear(category, "/v5/market/orderbook")
        if not 1 <= depth <= 500:
            raise InvalidRequestError(f"depth must be 1..500, got {depth}", endpoint="/v5/market/orderbook")
        return self.book_now(symbol, depth)

    async def get_klines(
        self,
        symbol: str,
        interval: Interval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        price: KlinePrice = KlinePrice.TRADE,
        category: Category = Category.LINEAR,
    ) -> list[Candle]:
        """Candles oldest first (only closed candles up to now)."""
        _linear(category, "/v5/market/kline")
        inst = self._inst(symbol, "/v5/market/kline")
        if price is KlinePrice.PREMIUM_INDEX:
            raise InvalidRequestError(
                "premium-index klines are not simulated here", endpoint="/v5/market/kline"
            )
        rows = self.market.klines(symbol, interval, start, end, limit, _KINDS[price])
        now = self.clock.now_ms()
        return [
            convert.candle(inst, symbol, interval, r, now) for r in reversed(rows) if isinstance(r, KlineRow)
        ]

    async def get_funding_history(
        self,
        symbol: str,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = Category.LINEAR,
    ) -> list[FundingRate]:
        """Settled funding rates oldest first."""
        _linear(category, "/v5/market/funding/history")
        self._inst(symbol, "/v5/market/funding/history")
        rows = self.market.funding_history(symbol, start, end, limit)
        return [convert.funding_rate(symbol, r) for r in reversed(rows)]

    async def get_open_interest(
        self,
        symbol: str,
        interval: PeriodInterval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 50,
        category: Category = Category.LINEAR,
    ) -> list[OpenInterest]:
        """Open interest oldest first (empty when the market does not record it)."""
        _linear(category, "/v5/market/open-interest")
        self._inst(symbol, "/v5/market/open-interest")
        rows = self.market.open_interest_history(symbol, interval, start, end, limit)
        return [convert.open_interest(symbol, r) for r in reversed(rows)]

    async def get_long_short_ratio(
        self,
        symbol: str,
        period: PeriodInterval,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 50,
        category: Category = Category.LINEAR,
    ) -> list[LongShortRatio]:
        """Long/short account ratio oldest first (empty when not recorded)."""
        _linear(category, "/v5/market/account-ratio")
        self._inst(symbol, "/v5/market/account-ratio")
        rows = self.market.account_ratio(symbol, period, start, end, limit)
        return [convert.long_short(symbol, r) for r in reversed(rows)]

    async def get_recent_trades(
        self, symbol: str, limit: int = 500, category: Category = Category.LINEAR
    ) -> list[PublicTrade]:
        """Recent public trades, newest first."""
        _linear(category, "/v5/market/recent-trade")
        inst = self._inst(symbol, "/v5/market/recent-trade")
        return [convert.trade(inst, t) for t in self.market.recent_trades(symbol, limit)]

    async def get_risk_limits(self, symbol: str, category: Category = Category.LINEAR) -> list[RiskLimitTier]:
        """Risk-limit tiers (empty when the market has none)."""
        _linear(category, "/v5/market/risk-limit")
        self._inst(symbol, "/v5/market/risk-limit")
        getter = getattr(self.market, "risk_limits", None)
        return list(getter(symbol)) if getter is not None else []

    # ---- public streams ------------------------------------------------------------------------

    async def stream_orderbook(
        self, symbol: str, depth: int = 50, category: Category = Category.LINEAR
    ) -> MarketStream[OrderBook]:
        """The book, re-read after every move of the clock."""
        _linear(category, "orderbook")
        self._inst(symbol)
        s: LocalMarketStream[OrderBook] = LocalMarketStream(
            lambda: self.book_now(symbol, depth), self._books.remove
        )
        self._books.append(s)
        return s

    async def stream_ticker(self, symbol: str, category: Category = Category.LINEAR) -> MarketStream[Ticker]:
        """The ticker, re-read after every move of the clock."""
        _linear(category, "tickers")
        self._inst(symbol)
        s: LocalMarketStream[Ticker] = LocalMarketStream(
            lambda: self.ticker_now(symbol), self._tickers.remove
        )
        self._tickers.append(s)
        return s

    async def stream_trades(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> EventStream[PublicTrade]:
        """Public trades of the market (the path's prints)."""
        _linear(category, "publicTrade")
        self._inst(symbol)
        subs = self._trade_streams.setdefault(symbol, [])
        s: LocalEventStream[PublicTrade] = LocalEventStream(subs.remove, PUBLIC_BUFFER)
        subs.append(s)
        return s

    async def stream_klines(
        self, symbol: str, interval: Interval, category: Category = Category.LINEAR
    ) -> EventStream[Candle]:
        """Candles as they close."""
        _linear(category, "kline")
        self._inst(symbol)
        key = (symbol, interval)
        subs = self._kline_streams.setdefault(key, [])
        s: LocalEventStream[Candle] = LocalEventStream(subs.remove, PUBLIC_BUFFER)
        subs.append(s)
        self._kline_sent.setdefault(key, self.clock.now_ms() // interval.ms * interval.ms)
        return s

    async def stream_liquidations(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> EventStream[Liquidation]:
        """Public liquidations of the market (none for a candle replay)."""
        _linear(category, "allLiquidation")
        self._inst(symbol)
        subs = self._liq_streams.setdefault(symbol, [])
        s: LocalEventStream[Liquidation] = LocalEventStream(subs.remove, PUBLIC_BUFFER)
        subs.append(s)
        return s

    def _publish_market(self, events: MarketEvents) -> None:
        """Hand the market's events to the public streams (called by the driver)."""
        if self._trade_streams:
            for t in events.trades:
                for s in self._trade_streams.get(t.symbol, ()):
                    s.put(convert.trade(self.market.instrument(t.symbol), t))
        if self._liq_streams:
            for x in events.liquidations:
                inst = self.market.instrument(x.symbol)
                liq = Liquidation(
                    symbol=x.symbol,
                    side=x.side,
                    price=inst.price.to_decimal(x.price),
                    size=inst.qty.to_decimal(x.size),
                    ts=x.ts,
                )
                for ls in self._liq_streams.get(x.symbol, ()):
                    ls.put(liq)

    def _publish_moved(self) -> None:
        """The clock moved: wake book/ticker streams, emit closed candles."""
        for b in self._books:
            b.notify()
        for t in self._tickers:
            t.notify()
        now = self.clock.now_ms()
        for (symbol, interval), subs in self._kline_streams.items():
            if not subs:
                continue
            sent = self._kline_sent.get((symbol, interval), 0)
            rows = self.market.klines(symbol, interval, sent, now, 1000, PriceKind.TRADE)
            inst = self.market.instrument(symbol)
            for r in reversed(rows):
                if isinstance(r, KlineRow) and r.start >= sent and r.start + interval.ms <= now:
                    c = convert.candle(inst, symbol, interval, r, now)
                    for ks in subs:
                        ks.put(c)
                    sent = r.start + interval.ms
            self._kline_sent[(symbol, interval)] = sent


__all__ = ["MarketDataApi"]
