"""Conversion of market-data wire structs into domain types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from asym.bybit.convert.common import (
    DEC_CACHE,
    ZERO,
    dec,
    dec0,
    ms,
    opt_dec,
    opt_ms,
    parse_category,
    parse_side,
)
from asym.bybit.wire.market import (
    AccountRatioItem,
    FundingItem,
    InstrumentItem,
    OpenInterestItem,
    OrderbookResult,
    RecentTradeItem,
    RiskLimitItem,
    TickerItem,
)
from asym.bybit.wire.ws import WsKline, WsLegacyLiquidation, WsLiquidation, WsTrade
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
    PublicTrade,
    RiskLimitTier,
    Ticker,
)
from asym.errors import DataError

K = TypeVar("K")
V = TypeVar("V")


def instrument(item: InstrumentItem, category: str) -> Instrument:
    """A linear/inverse instrument; DataError for other categories (asym trades perpetuals)."""
    cat = parse_category(category)
    if cat not in (Category.LINEAR, Category.INVERSE):
        raise DataError(f"instrument {item.symbol}: category {cat} is not supported by the domain Instrument")
    pf, lf, lev = item.price_filter, item.lot_size_filter, item.leverage_filter
    if pf is None or lf is None or lev is None:
        raise DataError(f"instrument {item.symbol}: missing price/lot-size/leverage filter")
    tick = dec(pf.tick_size, "tickSize")
    if item.price_scale.isdigit():
        scale = int(item.price_scale)
    else:
        exponent = tick.normalize().as_tuple().exponent
        scale = max(0, -int(exponent))
    return Instrument(
        symbol=item.symbol,
        category=cat,
        base_coin=item.base_coin,
        quote_coin=item.quote_coin,
        settle_coin=item.settle_coin or item.quote_coin,
        status=item.status,
        contract_type=item.contract_type,
        launch_time=ms(item.launch_time, "launchTime"),
        price_scale=scale,
        tick_size=tick,
        min_price=dec(pf.min_price, "minPrice"),
        max_price=dec(pf.max_price, "maxPrice"),
        qty_step=dec(lf.qty_step, "qtyStep"),
        min_order_qty=dec(lf.min_order_qty, "minOrderQty"),
        max_order_qty=dec(lf.max_order_qty, "maxOrderQty"),
        max_mkt_order_qty=dec(lf.max_mkt_order_qty or lf.max_order_qty, "maxMktOrderQty"),
        min_notional=dec0(lf.min_notional_value, "minNotionalValue"),
        min_leverage=dec(lev.min_leverage or "1", "minLeverage"),
        max_leverage=dec(lev.max_leverage, "maxLeverage"),
        leverage_step=dec(lev.leverage_step or "0.01", "leverageStep"),
        funding_interval_min=item.funding_interval or 480,
        upper_funding_rate=dec0(item.upper_funding_rate, "upperFundingRate"),
        lower_funding_rate=dec0(item.lower_funding_rate, "lowerFundingRate"),
    )


# Closed candles come back unchanged poll after poll (a collector re-reads 200 candles to get one new).
# Candle is frozen, so converted objects are reused, in two layers per series (symbol, interval, category):
# * the last response: when the new rows are the old ones shifted by k new candles, one C-level list
#   comparison proves the closed part unchanged and only the k + 1 newest rows are converted;
# * start string -> (row, candle): any other identical row is a lookup instead of 7 Decimals and a struct.
# Both layers keep at most CACHED_SERIES series (the most recently converted): a collector of 500 symbols
# x 2 intervals re-reads each series once per cycle, and holding every series' rows and Candles between
# cycles would cost about 300 MB for little gain; a trader polling a few series keeps all of its own.
_CANDLE_CACHE: dict[tuple[str, str, str], dict[str, tuple[list[str], Candle]]] = {}
_CANDLE_CACHE_MAX = 1_000
"""Rows kept per series."""
CACHED_SERIES = 32
_LAST: dict[tuple[str, str, str], tuple[list[list[str]], list[Candle], int]] = {}


def clear_caches() -> None:
    """Forget every interned Decimal and Candle (benchmarks of the cold path; memory pressure)."""
    _CANDLE_CACHE.clear()
    _LAST.clear()
    DEC_CACHE.clear()


def candles(
    rows: list[list[str]], symbol: str, interval: Interval, category: Category, now_ms: int | None = None
) -> list[Candle]:
    """Kline rows (newest first on the wire) as Candles oldest first. Rows without volume/turnover (mark,
    index, premium klines) get zero volume and turnover. A candle still open at `now_ms` is unconfirmed;
    every candle older than the newest row has closed."""
    series_key = (symbol, interval.value, category.value)
    out = _from_last(rows, series_key, interval, now_ms)
    if out is None:
        out = []
        todo = rows
    else:
        todo = rows[: len(rows) - len(out)]  # the newest rows not covered by the last response
    append = out.append
    horizon = None if now_ms is None else now_ms - interval.ms
    # A candle older than the newest one in the response has closed, whatever the local clock says (an
    # accelerated simulator's market time runs ahead of the wall clock that signing follows); only the
    # newest candle needs the clock.
    try:
        newest_start = int(rows[0][0]) if rows else None
    except (ValueError, IndexError):
        newest_start = None
    series = _CANDLE_CACHE.pop(series_key, None)
    if series is None or len(series) > _CANDLE_CACHE_MAX:
        series = {}
    _put_recent(_CANDLE_CACHE, series_key, series)
    for row in reversed(todo):
        try:
            start = int(row[0])
        except (ValueError, IndexError):
            raise DataError(f"kline row of {symbol}: start is not an integer: {row[:1]!r}") from None
        confirmed = horizon is None or start <= horizon or (newest_start is not None and start < newest_start)
        hit = series.get(row[0])
        if hit is not None and hit[0] == row and hit[1].confirmed is confirmed:
            append(hit[1])
            continue
        candle = _candle(row, start, symbol, interval, category, confirmed)
        series[row[0]] = (row, candle)
        append(candle)
    if now_ms is not None and interval is not Interval.MONTH:
        _put_recent(_LAST, series_key, (rows, out, now_ms))
    return out


def _put_recent(cache: dict[K, V], key: K, value: V) -> None:
    """Store `value` as the most recent entry of a dict kept in recency order; evict the oldest entry
    beyond `CACHED_SERIES`."""
    cache.pop(key, None)
    cache[key] = value
    if len(cache) > CACHED_SERIES:
        del cache[next(iter(cache))]


def _from_last(
    rows: list[list[str]], key: tuple[str, str, str], interval: Interval, now_ms: int | None
) -> list[Candle] | None:
    """The oldest candles of `rows`, reused from the last response of the series when provably identical
    (the rows match exactly and were already closed then); None when nothing can be reused."""
    last = _LAST.get(key)
    if last is None or now_ms is None or not rows:
        return None
    old_rows, old_candles, old_now = last
    if now_ms < old_now or not old_rows:
        return None
    try:
        delta = int(rows[0][0]) - int(old_rows[0][0])
    except (ValueError, IndexError):
        return None
    span = interval.ms
    if delta < 0 or delta % span:
        return None
    shift = delta // span  # new candles since the last response
    n, m = len(rows), len(old_rows)
    keep = n - shift - 1  # rows below the new ones and the old newest (which may have changed/closed)
    if keep <= 0 or keep + 1 > m or len(old_candles) != m or not old_candles[m - 2].confirmed:
        return None  # (reused candles must all have been closed: confirmation only goes one way)
    if rows[shift + 1 :] != old_rows[1 : keep + 1]:
        return None
    return old_candles[m - 1 - keep : m - 1]


def _candle(
    row: list[str], start: int, symbol: str, interval: Interval, category: Category, confirmed: bool
) -> Candle:
    n = len(row)
    if n < 5:
        raise DataError(f"kline row of {symbol}: expected >= 5 values, got {n}")
    return Candle(
        symbol=symbol,
        interval=interval,
        start=start,
        open=dec(row[1], "open"),
        high=dec(row[2], "high"),
        low=dec(row[3], "low"),
        close=dec(row[4], "close"),
        volume=dec(row[5], "volume") if n > 5 else ZERO,
        turnover=dec(row[6], "turnover") if n > 6 else ZERO,
        confirmed=confirmed,
        category=category,
    )


def ws_candle(k: WsKline, symbol: str, category: Category) -> Candle:
    """A kline WS item."""
    try:
        interval = Interval(k.interval)
    except ValueError:
        raise DataError(f"kline of {symbol}: unknown interval {k.interval!r}") from None
    return Candle(
        symbol=symbol,
        interval=interval,
        start=k.start,
        open=dec(k.open, "open"),
        high=dec(k.high, "high"),
        low=dec(k.low, "low"),
        close=dec(k.close, "close"),
        volume=dec(k.volume, "volume"),
        turnover=dec(k.turnover, "turnover"),
        confirmed=k.confirm,
        category=category,
    )


def _levels(raw: list[tuple[str, str]]) -> tuple[tuple[Decimal, Decimal], ...]:
    g = DEC_CACHE.get  # hot loop: cache lookups inlined, `dec` (validating) only on a miss or a zero
    return tuple((g(p) or dec(p, "book price"), g(s) or dec(s, "book size")) for p, s in raw)


def orderbook(r: OrderbookResult, category: Category) -> OrderBook:
    """A REST order-book snapshot."""
    return OrderBook(
        symbol=r.s, bids=_levels(r.b), asks=_levels(r.a), ts=r.ts, update_id=r.u, seq=r.seq, category=category
    )


def ticker(t: TickerItem, ts: int, category: Category) -> Ticker:
    """A REST ticker (fields the venue left empty are None)."""
    if not t.last_price:
        raise DataError(f"ticker {t.symbol}: lastPrice missing")
    fih = t.funding_interval_hour
    return Ticker(
        symbol=t.symbol,
        ts=ts,
        last_price=dec(t.last_price, "lastPrice"),
        mark_price=opt_dec(t.mark_price, "markPrice"),
        index_price=opt_dec(t.index_price, "indexPrice"),
        bid1_price=opt_dec(t.bid1_price, "bid1Price"),
        bid1_size=opt_dec(t.bid1_size, "bid1Size"),
        ask1_price=opt_dec(t.ask1_price, "ask1Price"),
        ask1_size=opt_dec(t.ask1_size, "ask1Size"),
        prev_price_24h=opt_dec(t.prev_price24h, "prevPrice24h"),
        price_24h_pcnt=opt_dec(t.price24h_pcnt, "price24hPcnt"),
        high_price_24h=opt_dec(t.high_price24h, "highPrice24h"),
        low_price_24h=opt_dec(t.low_price24h, "lowPrice24h"),
        prev_price_1h=opt_dec(t.prev_price1h, "prevPrice1h"),
        volume_24h=opt_dec(t.volume24h, "volume24h"),
        turnover_24h=opt_dec(t.turnover24h, "turnover24h"),
        open_interest=opt_dec(t.open_interest, "openInterest"),
        open_interest_value=opt_dec(t.open_interest_value, "openInterestValue"),
        funding_rate=opt_dec(t.funding_rate, "fundingRate"),
        next_funding_time=opt_ms(t.next_funding_time),
        funding_interval_hours=int(fih) if fih.isdigit() else None,
        category=category,
    )


def ticker_from_fields(fields: dict[str, Any], ts: int, category: Category) -> Ticker:
    """A ticker from merged WS snapshot+delta fields (camelCase keys, string values)."""
    g = fields.get

    def s(key: str) -> str:
        v = g(key)
        return "" if v is None else str(v)

    symbol = s("symbol")
    if not symbol:
        raise DataError("ticker: symbol missing")
    item = TickerItem(
        symbol=symbol,
        last_price=s("lastPrice"),
        index_price=s("indexPrice"),
        mark_price=s("markPrice"),
        prev_price24h=s("prevPrice24h"),
        price24h_pcnt=s("price24hPcnt"),
        high_price24h=s("highPrice24h"),
        low_price24h=s("lowPrice24h"),
        prev_price1h=s("prevPrice1h"),
        open_interest=s("openInterest"),
        open_interest_value=s("openInterestValue"),
        turnover24h=s("turnover24h"),
        volume24h=s("volume24h"),
        funding_rate=s("fundingRate"),
        next_funding_time=s("nextFundingTime"),
        bid1_price=s("bid1Price"),
        bid1_size=s("bid1Size"),
        ask1_price=s("ask1Price"),
        ask1_size=s("ask1Size"),
        funding_interval_hour=s("fundingIntervalHour"),
    )
    return ticker(item, ts, category)


def funding_rate(f: FundingItem, category: Category) -> FundingRate:
    """A settled funding rate."""
    return FundingRate(
        symbol=f.symbol,
        rate=dec(f.funding_rate, "fundingRate"),
        ts=ms(f.funding_rate_timestamp, "fundingRateTimestamp"),
        category=category,
    )


def open_interest(o: OpenInterestItem, symbol: str, category: Category) -> OpenInterest:
    """One open-interest point."""
    return OpenInterest(
        symbol=symbol,
        open_interest=dec(o.open_interest, "openInterest"),
        ts=ms(o.timestamp),
        category=category,
    )


def long_short_ratio(r: AccountRatioItem, category: Category) -> LongShortRatio:
    """One long/short account-ratio point."""
    return LongShortRatio(
        symbol=r.symbol,
        buy_ratio=dec(r.buy_ratio, "buyRatio"),
        sell_ratio=dec(r.sell_ratio, "sellRatio"),
        ts=ms(r.timestamp),
        category=category,
    )


def recent_trade(t: RecentTradeItem, category: Category) -> PublicTrade:
    """One REST public trade."""
    return PublicTrade(
        symbol=t.symbol,
        trade_id=t.exec_id,
        price=dec(t.price, "price"),
        size=dec(t.size, "size"),
        taker_side=parse_side(t.side),
        ts=ms(t.time, "time"),
        category=category,
    )


def ws_trade(t: WsTrade, category: Category) -> PublicTrade:
    """One WS public trade."""
    return PublicTrade(
        symbol=t.symbol,
        trade_id=t.trade_id,
        price=dec(t.price, "p"),
        size=dec(t.size, "v"),
        taker_side=parse_side(t.side, "S"),
        ts=t.ts,
        category=category,
    )


def ws_liquidation(x: WsLiquidation | WsLegacyLiquidation, category: Category) -> Liquidation:
    """One public liquidation (allLiquidation item or the legacy object)."""
    ts = x.ts if isinstance(x, WsLiquidation) else x.updated_time
    return Liquidation(
        symbol=x.symbol,
        side=parse_side(x.side),
        price=dec(x.price, "price"),
        size=dec(x.size, "size"),
        ts=ts,
        category=category,
    )


def risk_tier(r: RiskLimitItem) -> RiskLimitTier:
    """One risk-limit tier."""
    return RiskLimitTier(
        symbol=r.symbol,
        tier_id=r.id,
        risk_limit_value=dec(r.risk_limit_value, "riskLimitValue"),
        maintenance_margin=dec(r.maintenance_margin, "maintenanceMargin"),
        initial_margin=dec(r.initial_margin, "initialMargin"),
        max_leverage=dec(r.max_leverage, "maxLeverage"),
        mm_deduction=dec0(r.mm_deduction, "mmDeduction"),
    )
