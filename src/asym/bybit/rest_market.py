"""Market-data methods of the client (public endpoints), returning domain types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from asym.bybit import endpoints as eps
from asym.bybit.cache import TtlCache
from asym.bybit.convert import market as cm
from asym.bybit.endpoints import Endpoint
from asym.bybit.paginate import collect
from asym.bybit.transport import RestTransport
from asym.bybit.wire import market as wm
from asym.domain import (
    Candle,
    Category,
    FundingRate,
    Instrument,
    Interval,
    LongShortRatio,
    OpenInterest,
    OrderBook,
    PeriodInterval,
    PublicTrade,
    RiskLimitTier,
    Ticker,
)
from asym.domain.venue import KlinePrice
from asym.errors import DataError, InvalidRequestError

_KLINE_EP: dict[KlinePrice, Endpoint] = {
    KlinePrice.TRADE: eps.KLINE,
    KlinePrice.MARK: eps.MARK_PRICE_KLINE,
    KlinePrice.INDEX: eps.INDEX_PRICE_KLINE,
    KlinePrice.PREMIUM_INDEX: eps.PREMIUM_INDEX_KLINE,
}


def _result(env: Any, ep: Endpoint) -> Any:
    if env.result is None:
        raise DataError(f"{ep.path}: response has no result")
    return env.result


def _check_symbol(symbol: str, endpoint: str) -> None:
    if not symbol or not symbol.replace("-", "").isalnum():
        raise InvalidRequestError(f"invalid symbol {symbol!r}", endpoint=endpoint)


class MarketApi:
    """Public market endpoints. Needs `_t` (a started RestTransport) and the two TTL caches."""

    _t: RestTransport
    _instrument_cache: TtlCache[tuple[Instrument, ...]]
    _risk_cache: TtlCache[tuple[RiskLimitTier, ...]]

    async def get_server_time(self) -> int:
        """The venue's clock, epoch ms."""
        env = await self._t.get(eps.SERVER_TIME, coalesce=False)
        return int(env.time)

    async def get_instruments(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Instrument]:
        """Linear/inverse instruments with status Trading (all pages), cached for the TTL."""
        if symbol is not None:
            _check_symbol(symbol, eps.INSTRUMENTS.path)

        async def load() -> tuple[Instrument, ...]:
            async def page(cursor: str) -> tuple[Sequence[Instrument], str]:
                params = {
                    "category": category.value,
                    "symbol": symbol,
                    "limit": 1000,
                    "cursor": cursor or None,
                }
                env = await self._t.get(eps.INSTRUMENTS, params)
                r: wm.InstrumentsResult = _result(env, eps.INSTRUMENTS)
                cat = r.category or category.value
                return [cm.instrument(i, cat) for i in r.items], r.next_page_cursor

            return tuple(await collect(page))

        return list(await self._instrument_cache.get_or_load((category, symbol), load))

    async def get_tickers(
        self, symbol: str | None = None, category: Category = Category.LINEAR
    ) -> list[Ticker]:
        """Tickers of one symbol or the whole category."""
        if symbol is not None:
            _check_symbol(symbol, eps.TICKERS.path)
        env = await self._t.get(eps.TICKERS, {"category": category.value, "symbol": symbol})
        r: wm.TickersResult = _result(env, eps.TICKERS)
        ts = env.time
        return [cm.ticker(t, ts, category) for t in r.items]

    async def get_orderbook(
        self, symbol: str, depth: int = 25, category: Category = Category.LINEAR
    ) -> OrderBook:
        """An order-book snapshot (depth 1..1000 for linear)."""
        _check_symbol(symbol, eps.ORDERBOOK.path)
        if not 1 <= depth <= 1000:
            raise InvalidRequestError(f"depth must be in 1..1000, got {depth}", endpoint=eps.ORDERBOOK.path)
        env = await self._t.get(eps.ORDERBOOK, {"category": category.value, "symbol": symbol, "limit": depth})
        return cm.orderbook(_result(env, eps.ORDERBOOK), category)

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
        """Candles oldest first; the newest may be open (confirmed False). One request (limit <= 1000)."""
        ep = _KLINE_EP[price]
        _check_symbol(symbol, ep.path)
        if not 1 <= limit <= 1000:
            raise InvalidRequestError(f"limit must be in 1..1000, got {limit}", endpoint=ep.path)
        params = {
            "category": category.value,
            "symbol": symbol,
            "interval": interval.value,
            "start": start,
            "end": end,
            "limit": limit,
        }
        env = await self._t.get(ep, params)
        r: wm.KlineResult = _result(env, ep)
        return cm.candles(r.items, symbol, interval, category, now_ms=env.time or None)

    async def iter_klines(
        self,
        symbol: str,
        interval: Interval,
        start: int,
        end: int,
        *,
        price: KlinePrice = KlinePrice.TRADE,
        page: int = 1000,
        category: Category = Category.LINEAR,
    ) -> AsyncIterator[Candle]:
        """Every candle with start in [start, end], oldest first, walking forward page by page."""
        cursor = start
        while cursor <= end:
            batch = await self.get_klines(
                symbol, interval, start=cursor, end=end, limit=page, price=price, category=category
            )
            batch = [c for c in batch if cursor <= c.start <= end]
            if not batch:
                return
            for c in batch:
                yield c
            nxt = batch[-1].start + interval.ms
            if nxt <= cursor:
                return
            cursor = nxt

    async def get_funding_history(
        self,
        symbol: str,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int = 200,
        category: Category = Category.LINEAR,
    ) -> list[FundingRate]:
        """Settled funding rates oldest first (Bybit refuses startTime alone: end defaults to now)."""
        _check_symbol(symbol, eps.FUNDING_HISTORY.path)
        if start is not None and end is None:
            end = self._t.now_ms()
        params = {
            "category": category.value,
            "symbol": symbol,
            "startTime": start,
            "endTime": end,
            "limit": limit,
        }
        env = await self._t.get(eps.FUNDING_HISTORY, params)
        r: wm.FundingHistoryResult = _result(env, eps.FUNDING_HISTORY)
        out = [cm.funding_rate(f, category) for f in r.items]
        out.sort(key=lambda f: f.ts)
        return out

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
        """Open interest oldest first; follows the cursor until `limit` points."""
        _check_symbol(symbol, eps.OPEN_INTEREST.path)

        async def page(cursor: str) -> tuple[Sequence[OpenInterest], str]:
            params = {
                "category": category.value,
                "symbol": symbol,
                "intervalTime": interval.value,
                "startTime": start,
                "endTime": end,
                "limit": min(200, limit),
                "cursor": cursor or None,
            }
            env = await self._t.get(eps.OPEN_INTEREST, params)
            r: wm.OpenInterestResult = _result(env, eps.OPEN_INTEREST)
            return [cm.open_interest(o, symbol, category) for o in r.items], r.next_page_cursor

        out = await collect(page, limit=limit)
        out.sort(key=lambda o: o.ts)
        return out

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
        """Long/short account ratio oldest first; follows the cursor until `limit` points."""
        _check_symbol(symbol, eps.ACCOUNT_RATIO.path)

        async def page(cursor: str) -> tuple[Sequence[LongShortRatio], str]:
            params = {
                "category": category.value,
                "symbol": symbol,
                "period": period.value,
                "startTime": start,
                "endTime": end,
                "limit": min(500, limit),
                "cursor": cursor or None,
            }
            env = await self._t.get(eps.ACCOUNT_RATIO, params)
            r: wm.AccountRatioResult = _result(env, eps.ACCOUNT_RATIO)
            return [cm.long_short_ratio(x, category) for x in r.items], r.next_page_cursor

        out = await collect(page, limit=limit)
        out.sort(key=lambda x: x.ts)
        return out

    async def get_recent_trades(
        self, symbol: str, limit: int = 500, category: Category = Category.LINEAR
    ) -> list[PublicTrade]:
        """Recent public trades as the venue orders them (newest first)."""
        _check_symbol(symbol, eps.RECENT_TRADE.path)
        env = await self._t.get(
            eps.RECENT_TRADE, {"category": category.value, "symbol": symbol, "limit": limit}
        )
        r: wm.RecentTradeResult = _result(env, eps.RECENT_TRADE)
        return [cm.recent_trade(t, category) for t in r.items]

    async def get_risk_limits(self, symbol: str, category: Category = Category.LINEAR) -> list[RiskLimitTier]:
        """Risk-limit tiers of a symbol (all pages), cached for the TTL."""
        _check_symbol(symbol, eps.RISK_LIMIT.path)

        async def load() -> tuple[RiskLimitTier, ...]:
            async def page(cursor: str) -> tuple[Sequence[RiskLimitTier], str]:
                params = {"category": category.value, "symbol": symbol, "cursor": cursor or None}
                env = await self._t.get(eps.RISK_LIMIT, params)
                r: wm.RiskLimitResult = _result(env, eps.RISK_LIMIT)
                return [cm.risk_tier(x) for x in r.items if x.symbol == symbol], r.next_page_cursor

            return tuple(await collect(page))

        return list(await self._risk_cache.get_or_load((category, symbol), load))
