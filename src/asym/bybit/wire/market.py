"""Wire structs of the public market endpoints (/v5/market/*). Money stays a string here."""

from __future__ import annotations

import msgspec


class LeverageFilter(msgspec.Struct, rename="camel"):
    """instruments-info leverageFilter."""

    min_leverage: str = ""
    max_leverage: str = ""
    leverage_step: str = ""


class PriceFilter(msgspec.Struct, rename="camel"):
    """instruments-info priceFilter."""

    min_price: str = ""
    max_price: str = ""
    tick_size: str = ""


class LotSizeFilter(msgspec.Struct, rename="camel"):
    """instruments-info lotSizeFilter (derivatives, plus the spot-only fields)."""

    max_order_qty: str = ""
    min_order_qty: str = ""
    qty_step: str = ""
    max_mkt_order_qty: str = ""
    min_notional_value: str = ""
    post_only_max_order_qty: str = ""
    base_precision: str = ""
    quote_precision: str = ""
    min_order_amt: str = ""
    max_order_amt: str = ""
    max_limit_order_qty: str = ""
    max_market_order_qty: str = ""


class InstrumentItem(msgspec.Struct, rename="camel"):
    """One instrument (linear/inverse fields; spot/option items decode with their extra fields)."""

    symbol: str
    status: str = ""
    base_coin: str = ""
    quote_coin: str = ""
    settle_coin: str = ""
    contract_type: str = ""
    options_type: str = ""
    symbol_type: str = ""
    launch_time: str = "0"
    delivery_time: str = "0"
    delivery_fee_rate: str = ""
    price_scale: str = ""
    leverage_filter: LeverageFilter | None = None
    price_filter: PriceFilter | None = None
    lot_size_filter: LotSizeFilter | None = None
    unified_margin_trade: bool = False
    funding_interval: int = 0
    upper_funding_rate: str = ""
    lower_funding_rate: str = ""
    copy_trading: str = ""
    is_pre_listing: bool = False
    margin_trading: str = ""


class InstrumentsResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/instruments-info."""

    category: str = ""
    items: list[InstrumentItem] = msgspec.field(default_factory=list, name="list")
    next_page_cursor: str = ""


class KlineResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/kline and the mark/index/premium variants: rows of strings, newest first."""

    symbol: str = ""
    category: str = ""
    items: list[list[str]] = msgspec.field(default_factory=list, name="list")


class OrderbookResult(msgspec.Struct):
    """GET /v5/market/orderbook: bids descending, asks ascending."""

    s: str = ""
    b: list[tuple[str, str]] = msgspec.field(default_factory=list)
    a: list[tuple[str, str]] = msgspec.field(default_factory=list)
    ts: int = 0
    u: int = 0
    seq: int = 0
    cts: int = 0


class TickerItem(msgspec.Struct, rename="camel"):
    """One ticker of GET /v5/market/tickers (linear/inverse fields; all strings, "" when not applicable)."""

    symbol: str
    last_price: str = ""
    index_price: str = ""
    mark_price: str = ""
    prev_price24h: str = msgspec.field(default="", name="prevPrice24h")
    price24h_pcnt: str = ""
    high_price24h: str = msgspec.field(default="", name="highPrice24h")
    low_price24h: str = msgspec.field(default="", name="lowPrice24h")
    prev_price1h: str = msgspec.field(default="", name="prevPrice1h")
    open_interest: str = ""
    open_interest_value: str = ""
    turnover24h: str = ""
    volume24h: str = ""
    funding_rate: str = ""
    next_funding_time: str = ""
    bid1_price: str = ""
    bid1_size: str = ""
    ask1_price: str = ""
    ask1_size: str = ""
    funding_interval_hour: str = ""
    funding_cap: str = ""
    delivery_time: str = ""
    basis: str = ""
    basis_rate: str = ""
    usd_index_price: str = ""


class TickersResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/tickers."""

    category: str = ""
    items: list[TickerItem] = msgspec.field(default_factory=list, name="list")


class FundingItem(msgspec.Struct, rename="camel"):
    """One settled funding rate."""

    symbol: str
    funding_rate: str
    funding_rate_timestamp: str


class FundingHistoryResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/funding/history."""

    category: str = ""
    items: list[FundingItem] = msgspec.field(default_factory=list, name="list")


class OpenInterestItem(msgspec.Struct, rename="camel"):
    """One open-interest point."""

    open_interest: str
    timestamp: str
    single_open_interest: str = ""


class OpenInterestResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/open-interest (cursor-paged)."""

    symbol: str = ""
    category: str = ""
    items: list[OpenInterestItem] = msgspec.field(default_factory=list, name="list")
    next_page_cursor: str = ""


class RecentTradeItem(msgspec.Struct, rename="camel"):
    """One public trade of GET /v5/market/recent-trade."""

    exec_id: str
    symbol: str
    price: str
    size: str
    side: str
    time: str
    is_block_trade: bool = False
    is_rpi_trade: bool = msgspec.field(default=False, name="isRPITrade")
    seq: str = ""


class RecentTradeResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/recent-trade."""

    category: str = ""
    items: list[RecentTradeItem] = msgspec.field(default_factory=list, name="list")


class AccountRatioItem(msgspec.Struct, rename="camel"):
    """One long/short account ratio point."""

    symbol: str
    buy_ratio: str
    sell_ratio: str
    timestamp: str


class AccountRatioResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/account-ratio (cursor-paged)."""

    items: list[AccountRatioItem] = msgspec.field(default_factory=list, name="list")
    next_page_cursor: str = ""


class RiskLimitItem(msgspec.Struct, rename="camel"):
    """One risk-limit tier."""

    id: int
    symbol: str
    risk_limit_value: str
    maintenance_margin: str
    initial_margin: str
    max_leverage: str
    is_lowest_risk: int = 0
    mm_deduction: str = ""


class RiskLimitResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/risk-limit (cursor-paged)."""

    category: str = ""
    items: list[RiskLimitItem] = msgspec.field(default_factory=list, name="list")
    next_page_cursor: str = ""
