"""Market objects of the simulator core -> Bybit V5 JSON values (dicts/lists of strings, numbers, bools).

Pure formatting. Prices and sizes are written with the instrument's tick/step decimals (`Scale.to_str`,
cached), so the same price is always the same string on REST and on every WebSocket topic.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from asym.domain import RiskLimitTier
from asym.sim.types import (
    BookView,
    FundingRow,
    KlineRow,
    LiquidationEvent,
    OpenInterestRow,
    PremiumRow,
    RatioRow,
    SimInstrument,
    TickerView,
    TradeEvent,
)

_Q2 = Decimal("0.01")
_Q4 = Decimal("0.0001")
_Q6 = Decimal("0.000001")
_Q8 = Decimal("0.00000001")


def dec(value: Decimal) -> str:
    """A Decimal as Bybit writes a computed value: plain notation, no exponent, no trailing zeros."""
    s = format(value, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s


def fixed(value: Decimal, quantum: Decimal) -> str:
    """A Decimal rounded to `quantum` and written with exactly that many decimals."""
    return format(value.quantize(quantum, rounding=ROUND_HALF_EVEN), "f")


def qty_dec(inst: SimInstrument, value: Decimal) -> str:
    """A base-coin amount with the instrument's qty decimals."""
    return fixed(value, Decimal(1).scaleb(-inst.qty.decimals))


def instrument_item(inst: SimInstrument, symbol_id: int) -> dict[str, Any]:
    """One linear instruments-info item."""
    info = inst.info
    p = inst.price
    q = inst.qty
    return {
        "symbol": info.symbol,
        "symbolId": symbol_id,
        "contractType": info.contract_type,
        "status": info.status,
        "baseCoin": info.base_coin,
        "quoteCoin": info.quote_coin,
        "launchTime": str(info.launch_time),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(info.price_scale),
        "leverageFilter": {
            "minLeverage": dec(info.min_leverage),
            "maxLeverage": fixed(info.max_leverage, _Q2),
            "leverageStep": dec(info.leverage_step),
        },
        "priceFilter": {
            "minPrice": p.to_str(p.round_int(info.min_price)),
            "maxPrice": p.to_str(p.round_int(info.max_price)),
            "tickSize": p.to_str(1),
        },
        "lotSizeFilter": {
            "maxOrderQty": q.to_str(q.round_int(info.max_order_qty)),
            "minOrderQty": q.to_str(q.round_int(info.min_order_qty)),
            "qtyStep": q.to_str(1),
            "postOnlyMaxOrderQty": q.to_str(q.round_int(info.max_order_qty)),
            "maxMktOrderQty": q.to_str(q.round_int(info.max_mkt_order_qty)),
            "minNotionalValue": dec(info.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": info.funding_interval_min,
        "settleCoin": info.settle_coin,
        "copyTrading": "both",
        "upperFundingRate": dec(info.upper_funding_rate),
        "lowerFundingRate": dec(info.lower_funding_rate),
        "displayName": "",
        "forbidUplWithdrawal": False,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "isPreListing": False,
        "preListingInfo": None,
        "symbolType": "",
    }


def ticker_item(inst: SimInstrument, t: TickerView) -> dict[str, Any]:
    """One linear REST tickers item (all strings)."""
    p = inst.price.to_str
    mark_d = inst.price.to_decimal(t.mark)
    if t.prev_price_24h:
        pcnt = fixed((Decimal(t.last) - Decimal(t.prev_price_24h)) / Decimal(t.prev_price_24h), _Q6)
    else:
        pcnt = "0"
    return {
        "symbol": t.symbol,
        "lastPrice": p(t.last),
        "indexPrice": p(t.index),
        "markPrice": p(t.mark),
        "prevPrice24h": p(t.prev_price_24h),
        "price24hPcnt": pcnt,
        "highPrice24h": p(t.high_24h),
        "lowPrice24h": p(t.low_24h),
        "prevPrice1h": p(t.prev_price_1h),
        "openInterest": qty_dec(inst, t.open_interest),
        "openInterestValue": fixed(t.open_interest * mark_d, _Q2),
        "turnover24h": fixed(t.turnover_24h, _Q4),
        "volume24h": qty_dec(inst, t.volume_24h),
        "fundingRate": dec(t.funding_rate),
        "nextFundingTime": str(t.next_funding_time),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": inst.qty.to_str(t.ask1_size),
        "bid1Price": p(t.bid1),
        "ask1Price": p(t.ask1),
        "bid1Size": inst.qty.to_str(t.bid1_size),
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": str(t.funding_interval_hours),
        "basisRateYear": "",
        "fundingCap": dec(t.funding_cap),
    }


WS_TICKER_FIELDS = (
    "tickDirection",
    "price24hPcnt",
    "lastPrice",
    "prevPrice24h",
    "highPrice24h",
    "lowPrice24h",
    "prevPrice1h",
    "markPrice",
    "indexPrice",
    "openInterest",
    "openInterestValue",
    "turnover24h",
    "volume24h",
    "fundingIntervalHour",
    "fundingCap",
    "nextFundingTime",
    "fundingRate",
    "bid1Price",
    "bid1Size",
    "ask1Price",
    "ask1Size",
    "preOpenPrice",
    "preQty",
    "curPreListingPhase",
)


def ws_ticker_data(inst: SimInstrument, t: TickerView) -> dict[str, str]:
    """The full `tickers.{symbol}` data object (snapshot); deltas carry the changed subset."""
    rest = ticker_item(inst, t)
    data = {"symbol": t.symbol, "tickDirection": t.tick_direction}
    for key in WS_TICKER_FIELDS[1:]:
        data[key] = rest[key]
    return data


def book_levels(inst: SimInstrument, levels: list[tuple[int, int]]) -> list[list[str]]:
    """[[price, size], ...] strings."""
    ps = inst.price.to_str
    qs = inst.qty.to_str
    return [[ps(px), qs(sz)] for px, sz in levels]


def book_result(inst: SimInstrument, book: BookView) -> dict[str, Any]:
    """The REST orderbook result."""
    return {
        "s": book.symbol,
        "b": book_levels(inst, book.bids),
        "a": book_levels(inst, book.asks),
        "ts": book.ts,
        "u": book.update_id,
        "seq": book.seq,
        "cts": book.cts,
    }


def kline_rows(inst: SimInstrument, rows: list[KlineRow], with_volume: bool) -> list[list[str]]:
    """Kline rows `[start, open, high, low, close(, volume, turnover)]`, newest first as given."""
    p = inst.price.to_str
    if with_volume:
        return [
            [
                str(r.start),
                p(r.open),
                p(r.high),
                p(r.low),
                p(r.close),
                qty_dec(inst, r.volume),
                fixed(r.turnover, _Q4),
            ]
            for r in rows
        ]
    return [[str(r.start), p(r.open), p(r.high), p(r.low), p(r.close)] for r in rows]


def premium_rows(rows: list[PremiumRow]) -> list[list[str]]:
    """Premium-index kline rows (rates with 6 decimals)."""
    return [
        [str(r.start), fixed(r.open, _Q6), fixed(r.high, _Q6), fixed(r.low, _Q6), fixed(r.close, _Q6)]
        for r in rows
    ]


def funding_item(symbol: str, row: FundingRow) -> dict[str, str]:
    """One funding/history item."""
    return {"symbol": symbol, "fundingRate": dec(row.rate), "fundingRateTimestamp": str(row.ts)}


def open_interest_item(row: OpenInterestRow) -> dict[str, str]:
    """One open-interest item (linear: base coin, 8 decimals as Bybit writes it)."""
    return {"openInterest": fixed(row.open_interest, _Q8), "timestamp": str(row.ts)}


def trade_item(inst: SimInstrument, t: TradeEvent) -> dict[str, Any]:
    """One recent-trade item."""
    return {
        "execId": t.trade_id,
        "symbol": t.symbol,
        "price": inst.price.to_str(t.price),
        "size": inst.qty.to_str(t.size),
        "side": str(t.taker_side),
        "time": str(t.ts),
        "isBlockTrade": False,
        "isRPITrade": False,
        "seq": str(t.seq),
    }


def ratio_item(symbol: str, row: RatioRow) -> dict[str, str]:
    """One account-ratio item."""
    return {
        "symbol": symbol,
        "buyRatio": dec(row.buy_ratio),
        "sellRatio": dec(row.sell_ratio),
        "timestamp": str(row.ts),
    }


def risk_limit_item(tier: RiskLimitTier, lowest: bool) -> dict[str, Any]:
    """One risk-limit tier."""
    return {
        "id": tier.tier_id,
        "symbol": tier.symbol,
        "riskLimitValue": dec(tier.risk_limit_value),
        "maintenanceMargin": dec(tier.maintenance_margin),
        "initialMargin": dec(tier.initial_margin),
        "isLowestRisk": 1 if lowest else 0,
        "maxLeverage": fixed(tier.max_leverage, _Q2),
        "mmDeduction": dec(tier.mm_deduction),
    }


def ws_trade(inst: SimInstrument, t: TradeEvent) -> dict[str, Any]:
    """One `publicTrade` entry."""
    return {
        "T": t.ts,
        "s": t.symbol,
        "S": str(t.taker_side),
        "v": inst.qty.to_str(t.size),
        "p": inst.price.to_str(t.price),
        "L": t.tick_direction,
        "i": t.trade_id,
        "BT": False,
        "RPI": False,
        "seq": t.seq,
    }


def ws_liquidation(inst: SimInstrument, ev: LiquidationEvent) -> dict[str, Any]:
    """One `allLiquidation` entry (S = side of the liquidated position)."""
    return {
        "T": ev.ts,
        "s": ev.symbol,
        "S": str(ev.side),
        "v": inst.qty.to_str(ev.size),
        "p": inst.price.to_str(ev.price),
    }
