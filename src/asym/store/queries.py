"""Typed reads: each function takes a DuckDB connection (a `Database.cursor()`) and returns domain objects.

Time ranges are half-open, `start <= t < end`, in epoch ms, on the table's time column; results come
in time order. Decimals come back exact and canonical (no trailing zeros).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb

from asym.domain import (
    Candle,
    Category,
    Execution,
    FundingRate,
    Interval,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    Ticker,
    WalletBalance,
)
from asym.store import tables as tb
from asym.store.codec import TableSpec, from_arrow
from asym.store.records import DecisionRecord, OrderIntent, SignalRecord

if TYPE_CHECKING:
    from asym.analytics.types import EnhancedData
    from asym.market.quality import QualityEvent

Conn = duckdb.DuckDBPyConnection


def _select(
    conn: Conn,
    spec: TableSpec,
    filters: dict[str, Any],
    start: int | None = None,
    end: int | None = None,
    *,
    extra: str = "",
    order: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    where, params = [], []
    for col, val in filters.items():
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val.value if hasattr(val, "value") else val)
    if start is not None:
        where.append(f"{spec.time_col} >= ?")
        params.append(start)
    if end is not None:
        where.append(f"{spec.time_col} < ?")
        params.append(end)
    if extra:
        where.append(extra)
    sql = f"SELECT {', '.join(spec.names)} FROM {spec.name}"
    sql += (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {order or spec.time_col}"
    sql += f" LIMIT {int(limit)}" if limit is not None else ""
    return from_arrow(spec, conn.sql(sql, params=params).to_arrow_table())


def _decode(spec: TableSpec, rows: list[dict[str, Any]]) -> list[Any]:
    return [spec.decode(r) for r in rows]


def _mkt(symbol: str, venue: str, category: Category) -> dict[str, Any]:
    return {"venue": venue, "category": category, "symbol": symbol}


def candles(
    conn: Conn,
    symbol: str,
    interval: Interval,
    *,
    start: int | None = None,
    end: int | None = None,
    venue: str = "bybit",
    category: Category = Category.LINEAR,
) -> list[Candle]:
    """Candles of one series in time order."""
    f = _mkt(symbol, venue, category) | {"interval": interval}
    return _decode(tb.CANDLES, _select(conn, tb.CANDLES, f, start, end))


def candle_starts(
    conn: Conn,
    symbol: str,
    interval: Interval,
    *,
    start: int | None = None,
    end: int | None = None,
    venue: str = "bybit",
    category: Category = Category.LINEAR,
    confirmed_only: bool = True,
) -> list[int]:
    """Start times present (for gap detection and backfill: feed them to `find_candle_gaps`)."""
    sql = "SELECT start FROM candles WHERE venue = ? AND category = ? AND symbol = ? AND interval = ?"
    params: list[Any] = [venue, category.value, symbol, interval.value]
    for cond, val in (("start >= ?", start), ("start < ?", end)):
        if val is not None:
            sql += f" AND {cond}"
            params.append(val)
    sql += " AND confirmed" if confirmed_only else ""
    return [int(r[0]) for r in conn.execute(sql + " ORDER BY start", params).fetchall()]


def books(
    conn: Conn,
    symbol: str,
    *,
    start: int | None = None,
    end: int | None = None,
    venue: str = "bybit",
    category: Category = Category.LINEAR,
) -> list[OrderBook]:
    """Order-book snapshots (top N levels as stored)."""
    return _decode(
        tb.BOOKS, _select(conn, tb.BOOKS, _mkt(symbol, venue, category), start, end, order="ts, update_id")
    )


def tickers(
    conn: Conn, symbol: str, *, start: int | None = None, end: int | None = None, venue: str = "bybit"
) -> list[Ticker]:
    """Ticker snapshots."""
    return _decode(tb.TICKERS, _select(conn, tb.TICKERS, {"venue": venue, "symbol": symbol}, start, end))


def funding(
    conn: Conn, symbol: str, *, start: int | None = None, end: int | None = None, venue: str = "bybit"
) -> list[FundingRate]:
    """Settled funding rates."""
    return _decode(tb.FUNDING, _select(conn, tb.FUNDING, {"venue": venue, "symbol": symbol}, start, end))


def open_interest(
    conn: Conn, symbol: str, *, start: int | None = None, end: int | None = None, venue: str = "bybit"
) -> list[OpenInterest]:
    """Open-interest history."""
    return _decode(
        tb.OPEN_INTEREST, _select(conn, tb.OPEN_INTEREST, {"venue": venue, "symbol": symbol}, start, end)
    )


def long_short(
    conn: Conn, symbol: str, *, start: int | None = None, end: int | None = None, venue: str = "bybit"
) -> list[LongShortRatio]:
    """Long/short account-ratio history."""
    return _decode(
        tb.LONG_SHORT, _select(conn, tb.LONG_SHORT, {"venue": venue, "symbol": symbol}, start, end)
    )


def liquidations(
    conn: Conn,
    symbol: str | None = None,
    *,
    start: int | None = None,
    end: int | None = None,
    venue: str = "bybit",
) -> list[Liquidation]:
    """Public liquidations (all symbols when `symbol` is None)."""
    return _decode(
        tb.LIQUIDATIONS, _select(conn, tb.LIQUIDATIONS, {"venue": venue, "symbol": symbol}, start, end)
    )


def enhanced(
    conn: Conn, symbol: str, *, start: int | None = None, end: int | None = None
) -> list[EnhancedData]:
    """Enhanced-data snapshots of one symbol."""
    return _decode(tb.ENHANCED, _select(conn, tb.ENHANCED, {"symbol": symbol}, start, end))


def latest_enhanced(conn: Conn, symbol: str) -> EnhancedData | None:
    """The newest enhanced snapshot of a symbol, or None."""
    rows = _select(conn, tb.ENHANCED, {"symbol": symbol}, order="ts DESC", limit=1)
    return tb.ENHANCED.decode(rows[0]) if rows else None


def quality_events(
    conn: Conn,
    *,
    symbol: str | None = None,
    kind: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[QualityEvent]:
    """Stored quality events, optionally of one symbol and/or kind."""
    return _decode(tb.QUALITY, _select(conn, tb.QUALITY, {"symbol": symbol, "kind": kind}, start, end))


_OPEN = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OrderStatus if s.is_open))


def orders(conn: Conn, *, symbol: str | None = None, open_only: bool = False) -> list[Order]:
    """Orders (their latest state), oldest first."""
    rows = _select(
        conn, tb.ORDERS, {"symbol": symbol}, extra=_OPEN if open_only else "", order="created_time"
    )
    return _decode(tb.ORDERS, rows)


def order_by_link_id(conn: Conn, order_link_id: str) -> Order | None:
    """The order with this orderLinkId, or None."""
    rows = _select(conn, tb.ORDERS, {"order_link_id": order_link_id}, order="updated_time DESC", limit=1)
    return tb.ORDERS.decode(rows[0]) if rows else None


def intents(conn: Conn, *, start: int | None = None, end: int | None = None) -> list[OrderIntent]:
    """Order intents (what asym meant to send), oldest first."""
    return _decode(tb.INTENTS, _select(conn, tb.INTENTS, {}, start, end))


def pending_intents(conn: Conn) -> list[OrderIntent]:
    """Intents with no order recorded under their orderLinkId: look these up at the venue after a restart."""
    extra = "order_link_id NOT IN (SELECT order_link_id FROM orders)"
    return _decode(tb.INTENTS, _select(conn, tb.INTENTS, {}, extra=extra))


def executions(
    conn: Conn,
    *,
    symbol: str | None = None,
    order_id: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[Execution]:
    """Fills and funding payments, in time order."""
    rows = _select(
        conn, tb.EXECUTIONS, {"symbol": symbol, "order_id": order_id}, start, end, order="ts, exec_id"
    )
    return _decode(tb.EXECUTIONS, rows)


def positions(conn: Conn, *, open_only: bool = False) -> list[Position]:
    """The current position per (category, symbol, position_idx)."""
    rows = _select(
        conn, tb.POSITIONS, {}, extra="size <> 0" if open_only else "", order="symbol, position_idx"
    )
    return _decode(tb.POSITIONS, rows)


def position_history(
    conn: Conn, symbol: str, *, start: int | None = None, end: int | None = None
) -> list[Position]:
    """Every recorded state of one symbol's position."""
    return _decode(tb.POSITION_HISTORY, _select(conn, tb.POSITION_HISTORY, {"symbol": symbol}, start, end))


def equity(
    conn: Conn, account: str = "main", *, start: int | None = None, end: int | None = None
) -> list[WalletBalance]:
    """The equity history of one account."""
    return [p.balance for p in _decode(tb.EQUITY, _select(conn, tb.EQUITY, {"account": account}, start, end))]


def decisions(
    conn: Conn, *, symbol: str | None = None, start: int | None = None, end: int | None = None
) -> list[DecisionRecord]:
    """Trading decisions with their reasons."""
    return _decode(tb.DECISIONS, _select(conn, tb.DECISIONS, {"symbol": symbol}, start, end))


def signals(
    conn: Conn,
    *,
    symbol: str | None = None,
    accepted: bool | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[SignalRecord]:
    """Signals and rejections."""
    return _decode(
        tb.SIGNALS, _select(conn, tb.SIGNALS, {"symbol": symbol, "accepted": accepted}, start, end)
    )


def row_counts(conn: Conn) -> dict[str, int]:
    """Rows per table (for monitoring)."""
    out = {}
    for name in tb.ALL_TABLES:
        row = conn.execute(f"SELECT count(*) FROM {name}").fetchone()
        out[name] = int(row[0]) if row else 0
    return out


__all__ = [
    "books",
    "candle_starts",
    "candles",
    "decisions",
    "enhanced",
    "equity",
    "executions",
    "funding",
    "intents",
    "latest_enhanced",
    "liquidations",
    "long_short",
    "open_interest",
    "order_by_link_id",
    "orders",
    "pending_intents",
    "position_history",
    "positions",
    "quality_events",
    "row_counts",
    "signals",
    "tickers",
]
