"""Market-data domain types: exact Decimal money, millisecond UTC timestamps, explicit (category, symbol)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from asym.domain.enums import Category, Interval, LiquidationRisk, Side

Level = tuple[Decimal, Decimal]
"""One order-book level: (price, size)."""


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable contract and its trading filters."""

    symbol: str
    category: Category = Category.LINEAR
    base_coin: str
    quote_coin: str = "USDT"
    settle_coin: str = "USDT"
    status: str = "Trading"
    contract_type: str = "LinearPerpetual"
    launch_time: int = 0
    price_scale: int
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    qty_step: Decimal
    min_order_qty: Decimal
    max_order_qty: Decimal
    max_mkt_order_qty: Decimal
    min_notional: Decimal
    min_leverage: Decimal = Decimal("1")
    max_leverage: Decimal
    leverage_step: Decimal = Decimal("0.01")
    funding_interval_min: int = 480
    upper_funding_rate: Decimal
    lower_funding_rate: Decimal


class Candle(msgspec.Struct, frozen=True, kw_only=True):
    """One OHLCV candle; `start` is the open time in ms. `confirmed` is False while the candle is open."""

    symbol: str
    interval: Interval
    start: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    turnover: Decimal
    confirmed: bool = True
    category: Category = Category.LINEAR


class OrderBook(msgspec.Struct, frozen=True, kw_only=True):
    """An L2 order-book snapshot: bids best (highest) first, asks best (lowest) first."""

    symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    ts: int
    update_id: int = 0
    seq: int = 0
    category: Category = Category.LINEAR

    @property
    def best_bid(self) -> Decimal | None:
        """Highest bid price, or None when the bid side is empty."""
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest ask price, or None when the ask side is empty."""
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        """Mid price, or None when a side is empty."""
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2


class Ticker(msgspec.Struct, frozen=True, kw_only=True):
    """Full ticker of a perpetual. Fields the venue did not provide are None, never zero."""

    symbol: str
    ts: int
    last_price: Decimal
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    bid1_price: Decimal | None = None
    bid1_size: Decimal | None = None
    ask1_price: Decimal | None = None
    ask1_size: Decimal | None = None
    prev_price_24h: Decimal | None = None
    price_24h_pcnt: Decimal | None = None
    high_price_24h: Decimal | None = None
    low_price_24h: Decimal | None = None
    prev_price_1h: Decimal | None = None
    volume_24h: Decimal | None = None
    turnover_24h: Decimal | None = None
    open_interest: Decimal | None = None
    open_interest_value: Decimal | None = None
    funding_rate: Decimal | None = None
    next_funding_time: int | None = None
    funding_interval_hours: int | None = None
    category: Category = Category.LINEAR


class PublicTrade(msgspec.Struct, frozen=True, kw_only=True):
    """One public trade; `taker_side` is the aggressor's side."""

    symbol: str
    trade_id: str
    price: Decimal
    size: Decimal
    taker_side: Side
    ts: int
    category: Category = Category.LINEAR


class Liquidation(msgspec.Struct, frozen=True, kw_only=True):
    """A public liquidation. `side` is the side of the position that was liquidated (Buy = a long)."""

    symbol: str
    side: Side
    price: Decimal
    size: Decimal
    ts: int
    category: Category = Category.LINEAR

    @property
    def notional(self) -> Decimal:
        """price x size in quote currency."""
        return self.price * self.size


class FundingRate(msgspec.Struct, frozen=True, kw_only=True):
    """A settled funding rate; `ts` is the settlement time."""

    symbol: str
    rate: Decimal
    ts: int
    category: Category = Category.LINEAR


class OpenInterest(msgspec.Struct, frozen=True, kw_only=True):
    """Open interest (both sides, base coin) at `ts`."""

    symbol: str
    open_interest: Decimal
    ts: int
    category: Category = Category.LINEAR


class LongShortRatio(msgspec.Struct, frozen=True, kw_only=True):
    """Share of accounts long (`buy_ratio`) and short (`sell_ratio`) at `ts`."""

    symbol: str
    buy_ratio: Decimal
    sell_ratio: Decimal
    ts: int
    category: Category = Category.LINEAR


class RiskLimitTier(msgspec.Struct, frozen=True, kw_only=True):
    """One risk-limit tier of a symbol."""

    symbol: str
    tier_id: int
    risk_limit_value: Decimal
    maintenance_margin: Decimal
    initial_margin: Decimal
    max_leverage: Decimal
    mm_deduction: Decimal


__all__ = [
    "Candle",
    "FundingRate",
    "Instrument",
    "Level",
    "Liquidation",
    "LiquidationRisk",
    "LongShortRatio",
    "OpenInterest",
    "OrderBook",
    "PublicTrade",
    "RiskLimitTier",
    "Ticker",
]
