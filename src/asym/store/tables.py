"""The specification of every table: columns, key, conflict policy, and domain object <-> row.

Column lists here must equal the migration SQL in `schema.py` (a test checks them against the live
database). Market-data tables carry the venue (default 'bybit') so a second exchange's data can be
stored side by side for cross-validation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from asym.domain import (
    Candle,
    CoinBalance,
    Execution,
    FundingRate,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    Ticker,
    WalletBalance,
)
from asym.store.codec import Ctx, TableSpec
from asym.store.records import DecisionRecord, EquityPoint, OrderIntent, SignalRecord

if TYPE_CHECKING:
    from asym.analytics.types import EnhancedData
    from asym.market.quality import QualityEvent

_json = msgspec.json.Encoder()


def _dumps(obj: object) -> str:
    return _json.encode(obj).decode()


def _attr_spec(
    name: str,
    cls: type,
    cols: Sequence[tuple[str, str]],
    key: Sequence[str],
    time_col: str,
    *,
    venue: bool = False,
    upsert: bool = False,
    version_col: str | None = None,
    where: str | None = None,
    decode: Callable[[dict[str, Any]], Any] | None = None,
) -> TableSpec:
    """A table whose columns are the object's attributes of the same names (plus the venue if asked)."""
    fields = tuple(n for n, _ in cols)
    if venue:
        cols = (("venue", "str"), *cols)

        def enc(o: Any, ctx: Ctx) -> tuple[Any, ...]:
            return (ctx.get("venue", "bybit"), *(getattr(o, f) for f in fields))
    else:

        def enc(o: Any, ctx: Ctx) -> tuple[Any, ...]:
            return tuple(getattr(o, f) for f in fields)

    if where is None and upsert and version_col:
        where = (
            f"excluded.{version_col} >= {name}.{version_col}"  # never let an older state overwrite a newer
        )
    dec = decode or (lambda r: msgspec.convert(r, cls))
    return TableSpec(
        name,
        tuple(cols),
        tuple(key),
        time_col,
        enc,
        dec,
        upsert=upsert,
        upsert_where=where,
        version_col=version_col,
    )


def _cols(spec: str) -> list[tuple[str, str]]:
    """'a b:dec c:int' -> [(a, str), (b, dec), (c, int)]."""
    out = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        out.append((name, kind or "str"))
    return out


_MKT = "category symbol ts:int"
_VKEY = ("venue", "category", "symbol", "ts")

CANDLES = _attr_spec(
    "candles",
    Candle,
    _cols(
        "category symbol interval start:int open:dec high:dec low:dec close:dec volume:dec turnover:dec "
        "confirmed:bool"
    ),
    ("venue", "category", "symbol", "interval", "start"),
    "start",
    venue=True,
    upsert=True,
    version_col="confirmed",
    # a confirmed candle is final: an open one never overwrites it; a confirmed re-collection replaces it
    where="excluded.confirmed OR NOT candles.confirmed",
)


def _enc_book(b: OrderBook, ctx: Ctx) -> tuple[Any, ...]:
    depth = int(ctx.get("depth", 25))
    bids = [{"price": p, "size": s} for p, s in b.bids[:depth]]
    asks = [{"price": p, "size": s} for p, s in b.asks[:depth]]
    return (ctx.get("venue", "bybit"), b.category, b.symbol, b.ts, b.update_id, b.seq, depth, bids, asks)


BOOKS = TableSpec(
    "book_snapshots",
    tuple(_cols("venue category symbol ts:int update_id:int seq:int depth:int32 bids:levels asks:levels")),
    ("venue", "category", "symbol", "ts", "update_id"),
    "ts",
    _enc_book,
    lambda r: msgspec.convert(r, OrderBook),
)
TICKERS = _attr_spec(
    "tickers",
    Ticker,
    _cols(
        f"{_MKT} last_price:dec mark_price:dec index_price:dec bid1_price:dec bid1_size:dec ask1_price:dec "
        "ask1_size:dec prev_price_24h:dec price_24h_pcnt:dec high_price_24h:dec low_price_24h:dec "
        "prev_price_1h:dec volume_24h:dec turnover_24h:dec open_interest:dec open_interest_value:dec "
        "funding_rate:dec next_funding_time:int funding_interval_hours:int32"
    ),
    _VKEY,
    "ts",
    venue=True,
)
FUNDING = _attr_spec("funding_rates", FundingRate, _cols(f"{_MKT} rate:dec"), _VKEY, "ts", venue=True)
OPEN_INTEREST = _attr_spec(
    "open_interest", OpenInterest, _cols(f"{_MKT} open_interest:dec"), _VKEY, "ts", venue=True
)
LONG_SHORT = _attr_spec(
    "long_short_ratio", LongShortRatio, _cols(f"{_MKT} buy_ratio:dec sell_ratio:dec"), _VKEY, "ts", venue=True
)
LIQUIDATIONS = _attr_spec(
    "liquidations",
    Liquidation,
    _cols(f"{_MKT} side price:dec size:dec"),
    (*_VKEY, "side", "price", "size"),
    "ts",
    venue=True,
)

_ENH_DEC = (
    "last_price",
    "mark_price",
    "index_price",
    "bid_price",
    "ask_price",
    "volume_24h",
    "turnover_24h",
    "funding_rate",
)


def _enc_enhanced(e: EnhancedData, ctx: Ctx) -> tuple[Any, ...]:
    risk = e.liquidation_risk.value if e.liquidation_risk is not None else None
    return (
        e.symbol,
        e.timestamp,
        *(getattr(e, f) for f in _ENH_DEC),
        e.next_funding_time,
        e.open_interest,
        e.liquidity_score,
        risk,
        e.market_risk_score,
        e.spread_pct,
        e.order_book_depth,
        list(e.quality_flags),
        _dumps(e),
    )


def _dec_enhanced(r: dict[str, Any]) -> EnhancedData:
    from asym.analytics.types import EnhancedData

    return msgspec.json.decode(r["data"], type=EnhancedData)


ENHANCED = TableSpec(
    "enhanced_snapshots",
    tuple(
        _cols(
            "symbol ts:int " + " ".join(f"{f}:dec" for f in _ENH_DEC) + " next_funding_time:int "
            "open_interest:dec liquidity_score:float liquidation_risk market_risk_score:float "
            "spread_pct:float order_book_depth:int32 quality_flags:strs data:json"
        )
    ),
    ("symbol", "ts"),
    "ts",
    _enc_enhanced,
    _dec_enhanced,
    upsert=True,
)


def _dec_quality(r: dict[str, Any]) -> QualityEvent:
    from asym.market.quality import QualityEvent

    return msgspec.convert(r, QualityEvent)


QUALITY = _attr_spec(
    "quality_events",
    object,
    _cols("ts:int symbol source field kind severity detail value"),
    ("ts", "symbol", "source", "field", "kind"),
    "ts",
    decode=_dec_quality,
)


def _enc_intent(i: OrderIntent, ctx: Ctx) -> tuple[Any, ...]:
    r = i.request
    return (
        r.order_link_id,
        i.ts,
        r.category,
        r.symbol,
        r.side,
        r.order_type,
        r.qty,
        r.price,
        i.decision_id,
        _dumps(r),
    )


INTENTS = TableSpec(
    "order_intents",
    tuple(
        _cols(
            "order_link_id ts:int category symbol side order_type qty:dec price:dec decision_id request:json"
        )
    ),
    ("order_link_id",),
    "ts",
    _enc_intent,
    lambda r: OrderIntent(
        request=msgspec.json.decode(r["request"], type=OrderRequest), ts=r["ts"], decision_id=r["decision_id"]
    ),
)
ORDERS = _attr_spec(
    "orders",
    Order,
    _cols(
        "order_id order_link_id category symbol side order_type price:dec qty:dec time_in_force status "
        "cum_exec_qty:dec cum_exec_value:dec cum_exec_fee:dec avg_price:dec leaves_qty:dec reduce_only:bool "
        "created_time:int updated_time:int take_profit:dec stop_loss:dec trigger_price:dec "
        "trigger_direction:int32 stop_order_type reject_reason cancel_type"
    ),
    ("order_id",),
    "updated_time",
    upsert=True,
    version_col="updated_time",
)
EXECUTIONS = _attr_spec(
    "executions",
    Execution,
    _cols(
        "exec_id order_id order_link_id category symbol side price:dec qty:dec value:dec fee:dec "
        "fee_rate:dec is_maker:bool exec_type ts:int closed_size:dec"
    ),
    ("exec_id",),
    "ts",
)
_POS = _cols(
    "category symbol position_idx:int32 side size:dec avg_price:dec mark_price:dec leverage:dec "
    "position_value:dec unrealised_pnl:dec cum_realised_pnl:dec liq_price:dec take_profit:dec "
    "stop_loss:dec position_im:dec position_mm:dec updated_time:int"
)
POSITIONS = _attr_spec(
    "positions",
    Position,
    _POS,
    ("category", "symbol", "position_idx"),
    "updated_time",
    upsert=True,
    version_col="updated_time",
)
POSITION_HISTORY = _attr_spec(
    "position_history", Position, _POS, ("category", "symbol", "position_idx", "updated_time"), "updated_time"
)

_EQ = (
    "total_equity",
    "total_wallet_balance",
    "total_margin_balance",
    "total_available_balance",
    "total_initial_margin",
    "total_maintenance_margin",
)


def _dec_equity(r: dict[str, Any]) -> EquityPoint:
    coins = msgspec.json.decode(r["coins"], type=tuple[CoinBalance, ...])
    bal = WalletBalance(**{f: r[f] for f in _EQ}, coins=coins, ts=r["ts"])
    return EquityPoint(account=r["account"], balance=bal)


EQUITY = TableSpec(
    "equity_history",
    tuple(_cols("account ts:int " + " ".join(f"{f}:dec" for f in _EQ) + " coins:json")),
    ("account", "ts"),
    "ts",
    lambda p, ctx: (p.account, p.balance.ts, *(getattr(p.balance, f) for f in _EQ), _dumps(p.balance.coins)),
    _dec_equity,
)
DECISIONS = TableSpec(
    "decisions",
    tuple(
        _cols("decision_id ts:int symbol action mode signal_id order_link_ids:strs reasons:strs detail:json")
    ),
    ("decision_id",),
    "ts",
    lambda d, ctx: (
        d.decision_id,
        d.ts,
        d.symbol,
        d.action,
        d.mode,
        d.signal_id,
        list(d.order_link_ids),
        list(d.reasons),
        _dumps(d.detail),
    ),
    lambda r: msgspec.convert({**r, "detail": msgspec.json.decode(r["detail"])}, DecisionRecord),
)
SIGNALS = TableSpec(
    "signals",
    tuple(
        _cols(
            "signal_id ts:int symbol model action accepted:bool reason_code reason entry:dec stop_loss:dec "
            "take_profit:decs confidence:float payload:json"
        )
    ),
    ("signal_id",),
    "ts",
    lambda s, ctx: (
        s.signal_id,
        s.ts,
        s.symbol,
        s.model,
        s.action,
        s.accepted,
        s.reason_code,
        s.reason,
        s.entry,
        s.stop_loss,
        list(s.take_profit),
        s.confidence,
        _dumps(s.payload),
    ),
    lambda r: msgspec.convert({**r, "payload": msgspec.json.decode(r["payload"])}, SignalRecord),
)

ALL_TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        CANDLES,
        BOOKS,
        TICKERS,
        FUNDING,
        OPEN_INTEREST,
        LONG_SHORT,
        LIQUIDATIONS,
        ENHANCED,
        QUALITY,
        INTENTS,
        ORDERS,
        EXECUTIONS,
        POSITIONS,
        POSITION_HISTORY,
        EQUITY,
        DECISIONS,
        SIGNALS,
    )
}
"""Every table by name."""

__all__ = ["ALL_TABLES"]
