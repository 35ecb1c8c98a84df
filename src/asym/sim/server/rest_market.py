"""Public market endpoints (`/v5/market/*`): instruments, klines, book, tickers, funding, OI, trades."""

from __future__ import annotations

import time
from typing import Any

from asym.domain import Interval, PeriodInterval, RiskLimitTier
from asym.sim.server.context import (
    UNKNOWN_SYMBOL,
    Ctx,
    Route,
    linear_symbol,
    make_cursor,
    offset_cursor,
    page,
    time_cursor,
)
from asym.sim.server.envelope import ApiError
from asym.sim.server.wire_market import (
    funding_item,
    kline_rows,
    kline_table_rows,
    open_interest_item,
    premium_rows,
    ratio_item,
    risk_limit_item,
    trade_item,
)
from asym.sim.types import PriceKind, SimInstrument

_INTERVALS = {i.value: i for i in Interval}
_PERIODS = {p.value: p for p in PeriodInterval}
MAX_BOOK_DEPTH = 500
"""The market model keeps 500 levels per side; deeper requests get all of them."""


def server_time(ctx: Ctx) -> dict[str, str]:
    """GET /v5/market/time (wall clock: clients use it to sync the timestamps they sign)."""
    ns = time.time_ns()
    return {"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)}


def instruments_info(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/instruments-info (linear lists instruments; the others answer empty lists)."""
    p = ctx.params
    category = p.category()
    if category == "spot":
        return {"category": "spot", "list": []}
    limit = p.integer("limit", 500, lo=1, hi=1000) or 500
    if category != "linear":
        offset_cursor(p.string("cursor"))
        return {"category": category, "list": [], "nextPageCursor": ""}
    symbol = p.string("symbol")
    status = p.string("status", "Trading")
    base = p.string("baseCoin")
    items = ctx.caches.instrument_items
    if symbol or status != "Trading" or base:
        items = [
            it
            for it in items
            if (not symbol or it["symbol"] == symbol)
            and it["status"] == status
            and (not base or it["baseCoin"] == base)
        ]
    start = offset_cursor(p.string("cursor"))
    chunk = items[start : start + limit]
    nxt = make_cursor(start + limit) if start + limit < len(items) else ""
    return {"category": "linear", "list": chunk, "nextPageCursor": nxt}


def _interval(ctx: Ctx) -> Interval:
    raw = ctx.params.string("interval", required=True)
    interval = _INTERVALS.get(raw)
    if interval is None:
        raise ApiError(10001, "params error: interval invalid")
    return interval


def _time_range(ctx: Ctx, start_name: str, end_name: str) -> tuple[int | None, int | None]:
    start = ctx.params.integer(start_name, None, lo=0)
    end = ctx.params.integer(end_name, None, lo=0)
    if start is not None and end is not None and start > end:
        raise ApiError(10001, f"params error: {start_name} must be before {end_name}")
    return start, end


def _kline(ctx: Ctx, kind: str) -> dict[str, Any]:
    category = ctx.params.category(default="linear")
    inst = linear_symbol(ctx, category, message=UNKNOWN_SYMBOL)
    interval = _interval(ctx)
    start, end = _time_range(ctx, "start", "end")
    limit = ctx.params.integer("limit", 200, lo=1, hi=1000) or 200
    market = ctx.exchange.market

    def build() -> list[list[str]]:
        table_fn = getattr(market, "kline_table", None)
        if table_fn is not None:  # integer columns: formatted without Decimals
            return kline_table_rows(inst, table_fn(inst.symbol, interval, start, end, limit, kind))
        rows = market.klines(inst.symbol, interval, start, end, limit, kind)
        if kind == PriceKind.PREMIUM:
            return premium_rows(rows)  # type: ignore[arg-type]
        return kline_rows(inst, rows, with_volume=kind == PriceKind.TRADE)  # type: ignore[arg-type]

    query = (inst.symbol, interval.value, start, end, limit, kind)
    return {"symbol": inst.symbol, "category": category, "list": ctx.caches.kline_list(query, build)}


def kline(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/kline."""
    return _kline(ctx, PriceKind.TRADE)


def mark_price_kline(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/mark-price-kline."""
    return _kline(ctx, PriceKind.MARK)


def index_price_kline(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/index-price-kline."""
    return _kline(ctx, PriceKind.INDEX)


def premium_index_price_kline(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/premium-index-price-kline."""
    return _kline(ctx, PriceKind.PREMIUM)


def orderbook(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/orderbook (linear: limit 1..1000, default 25; at most 500 levels exist)."""
    category = ctx.params.category()
    inst = linear_symbol(ctx, category)
    limit = ctx.params.integer("limit", 25, lo=1, hi=1000) or 25
    return ctx.caches.book(inst, min(limit, MAX_BOOK_DEPTH))


def tickers(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/tickers (one symbol or every linear symbol)."""
    category = ctx.params.category()
    symbol = ctx.params.string("symbol")
    if category != "linear":
        if symbol:
            raise ApiError(10001, UNKNOWN_SYMBOL)
        return {"category": category, "list": []}
    if symbol:
        inst = linear_symbol(ctx, category, message=UNKNOWN_SYMBOL)
        return {"category": "linear", "list": [ctx.caches.ticker(inst)]}
    return {"category": "linear", "list": ctx.caches.tickers()}


def _linear_or_inverse(ctx: Ctx) -> str:
    category = ctx.params.category()
    if category not in ("linear", "inverse"):
        raise ApiError(10001, "Illegal category")
    return category


def funding_history(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/funding/history (startTime alone is an error, as on Bybit)."""
    category = _linear_or_inverse(ctx)
    inst = linear_symbol(ctx, category)
    start, end = _time_range(ctx, "startTime", "endTime")
    if start is not None and end is None:
        raise ApiError(10001, "params error: endTime is required when startTime is given")
    limit = ctx.params.integer("limit", 200, lo=1, hi=200) or 200
    rows = ctx.exchange.market.funding_history(inst.symbol, start, end, limit)
    return {"category": category, "list": [funding_item(inst.symbol, r) for r in rows]}


def _period(ctx: Ctx, name: str) -> PeriodInterval:
    raw = ctx.params.string(name, required=True)
    period = _PERIODS.get(raw)
    if period is None:
        raise ApiError(10001, f"params error: {name} invalid")
    return period


def open_interest(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/open-interest (newest first, cursor walks back in time)."""
    category = _linear_or_inverse(ctx)
    inst = linear_symbol(ctx, category)
    period = _period(ctx, "intervalTime")
    start, end = _time_range(ctx, "startTime", "endTime")
    limit = ctx.params.integer("limit", 50, lo=1, hi=200) or 50
    before = time_cursor(ctx.params.string("cursor"))
    if before is not None:
        end = before - 1 if end is None else min(end, before - 1)
    rows = ctx.exchange.market.open_interest_history(inst.symbol, period, start, end, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = f"lasttime%3D{rows[-1].ts}" if more and rows else ""
    return {
        "symbol": inst.symbol,
        "category": category,
        "list": [open_interest_item(r) for r in rows],
        "nextPageCursor": nxt,
    }


def recent_trade(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/recent-trade (newest first)."""
    category = ctx.params.category()
    inst = linear_symbol(ctx, category)
    limit = ctx.params.integer("limit", 500, lo=1, hi=1000) or 500
    trades = ctx.exchange.market.recent_trades(inst.symbol, limit)
    return {"category": category, "list": [trade_item(inst, t) for t in trades]}


def account_ratio(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/account-ratio (long/short account ratio, newest first)."""
    category = _linear_or_inverse(ctx)
    inst = linear_symbol(ctx, category)
    period = _period(ctx, "period")
    start, end = _time_range(ctx, "startTime", "endTime")
    limit = ctx.params.integer("limit", 50, lo=1, hi=500) or 50
    before = time_cursor(ctx.params.string("cursor"))
    if before is not None:
        end = before - 1 if end is None else min(end, before - 1)
    rows = ctx.exchange.market.account_ratio(inst.symbol, period, start, end, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = f"lasttime%3D{rows[-1].ts}" if more and rows else ""
    return {"list": [ratio_item(inst.symbol, r) for r in rows], "nextPageCursor": nxt}


def _tiers(ctx: Ctx, inst: SimInstrument) -> list[RiskLimitTier]:
    fn = getattr(ctx.exchange.market, "risk_limits", None)
    if fn is not None:
        tiers: list[RiskLimitTier] = fn(inst.symbol)
        return tiers
    # The market model offers no tiers: one tier from the instrument's leverage filter.
    from decimal import Decimal

    max_lev = inst.info.max_leverage
    return [
        RiskLimitTier(
            symbol=inst.symbol,
            tier_id=1,
            risk_limit_value=Decimal("2000000"),
            maintenance_margin=Decimal("0.005"),
            initial_margin=(Decimal(1) / max_lev).quantize(Decimal("0.0001")),
            max_leverage=max_lev,
            mm_deduction=Decimal(0),
        )
    ]


RISK_LIMIT_SYMBOLS_PER_PAGE = 15


def risk_limit(ctx: Ctx) -> dict[str, Any]:
    """GET /v5/market/risk-limit (one symbol, or 15 symbols per page)."""
    category = _linear_or_inverse(ctx)
    if ctx.params.has("symbol"):
        inst = linear_symbol(ctx, category)
        tiers = _tiers(ctx, inst)
        return {
            "category": category,
            "list": [risk_limit_item(t, i == 0) for i, t in enumerate(tiers)],
            "nextPageCursor": "",
        }
    if category != "linear":
        return {"category": category, "list": [], "nextPageCursor": ""}
    insts, nxt = page(ctx.caches.instruments, ctx, RISK_LIMIT_SYMBOLS_PER_PAGE, RISK_LIMIT_SYMBOLS_PER_PAGE)
    out: list[dict[str, Any]] = []
    for inst in insts:
        out.extend(risk_limit_item(t, i == 0) for i, t in enumerate(_tiers(ctx, inst)))
    return {"category": category, "list": out, "nextPageCursor": nxt}


ROUTES = [
    Route("GET", "/v5/market/time", server_time, sync=False),
    Route("GET", "/v5/market/instruments-info", instruments_info, sync=False),
    Route("GET", "/v5/market/kline", kline),
    Route("GET", "/v5/market/mark-price-kline", mark_price_kline),
    Route("GET", "/v5/market/index-price-kline", index_price_kline),
    Route("GET", "/v5/market/premium-index-price-kline", premium_index_price_kline),
    Route("GET", "/v5/market/orderbook", orderbook),
    Route("GET", "/v5/market/tickers", tickers, all_symbols=True),
    Route("GET", "/v5/market/funding/history", funding_history),
    Route("GET", "/v5/market/open-interest", open_interest),
    Route("GET", "/v5/market/recent-trade", recent_trade),
    Route("GET", "/v5/market/account-ratio", account_ratio),
    Route("GET", "/v5/market/risk-limit", risk_limit, sync=False),
]
