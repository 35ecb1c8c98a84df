"""Sample domain objects for the store tests (every table gets realistic, exact values)."""

from __future__ import annotations

from decimal import Decimal

from asym.analytics.types import (
    EnhancedData,
    FundingSentiment,
    NearbyLiquidations,
    OiSentiment,
    TechnicalIndicators,
)
from asym.domain import (
    Candle,
    CoinBalance,
    ExecType,
    Execution,
    FundingRate,
    Interval,
    Liquidation,
    LiquidationRisk,
    LongShortRatio,
    OpenInterest,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Ticker,
    TimeInForce,
    WalletBalance,
)
from asym.market.quality import QualityEvent, QualityKind, Severity
from asym.store import DecisionRecord, OrderIntent, SignalRecord

D = Decimal
T0 = 1_750_000_000_000 - 1_750_000_000_000 % 60_000
M1 = 60_000


def candle(i: int = 0, *, symbol: str = "BTCUSDT", close: str = "104337.8", confirmed: bool = True) -> Candle:
    return Candle(
        symbol=symbol,
        interval=Interval.M1,
        start=T0 + i * M1,
        open=D("104217.5"),
        high=D("104402.7"),
        low=D("104200"),
        close=D(close),
        volume=D("477.605"),
        turnover=D("49832657.1234"),
        confirmed=confirmed,
    )


def book(i: int = 0, levels: int = 3) -> OrderBook:
    bids = tuple((D("100") - D("0.1") * k, D("1.5") + k) for k in range(levels))
    asks = tuple((D("100.1") + D("0.1") * k, D("2.25") + k) for k in range(levels))
    return OrderBook(symbol="BTCUSDT", bids=bids, asks=asks, ts=T0 + i, update_id=1000 + i, seq=77 + i)


def ticker(i: int = 0) -> Ticker:
    return Ticker(
        symbol="BTCUSDT",
        ts=T0 + i * 1000,
        last_price=D("104337.8"),
        mark_price=D("104340.12"),
        index_price=D("104351.07"),
        bid1_price=D("104337.7"),
        bid1_size=D("3.21"),
        ask1_price=D("104337.8"),
        ask1_size=D("0.5"),
        price_24h_pcnt=D("-0.012345"),
        volume_24h=D("87654.321"),
        turnover_24h=D("9140000123.4567"),
        open_interest=D("55555.5"),
        funding_rate=D("0.0001"),
        next_funding_time=T0 + 8 * 3_600_000,
        funding_interval_hours=8,
    )


def funding(i: int = 0, rate: str = "0.00012288") -> FundingRate:
    return FundingRate(symbol="BTCUSDT", rate=D(rate), ts=T0 + i * 8 * 3_600_000)


def open_interest(i: int = 0) -> OpenInterest:
    return OpenInterest(symbol="BTCUSDT", open_interest=D("55555.555"), ts=T0 + i * 300_000)


def long_short(i: int = 0) -> LongShortRatio:
    return LongShortRatio(
        symbol="BTCUSDT", buy_ratio=D("0.5123"), sell_ratio=D("0.4877"), ts=T0 + i * 300_000
    )


def liquidation(i: int = 0) -> Liquidation:
    return Liquidation(symbol="BTCUSDT", side=Side.BUY, price=D("103999.9"), size=D("0.123"), ts=T0 + i)


def quality_event(i: int = 0) -> QualityEvent:
    return QualityEvent(
        ts=T0 + i,
        symbol="BTCUSDT",
        source="book",
        field="bids[0].price",
        kind=QualityKind.CROSSED_BOOK,
        severity=Severity.ERROR,
        detail="best bid >= best ask",
        value="100.2",
    )


def enhanced(i: int = 0) -> EnhancedData:
    return EnhancedData(
        symbol="BTCUSDT",
        timestamp=T0 + i,
        last_price=D("104337.8"),
        mark_price=D("104340.12"),
        index_price=None,
        bid_price=D("104337.7"),
        ask_price=D("104337.8"),
        volume_24h=D("87654.321"),
        turnover_24h=None,
        funding_rate=D("0.0001"),
        next_funding_time=T0 + 1,
        open_interest=D("55555.5"),
        liquidity_score=0.8125,
        liquidation_risk=LiquidationRisk.MEDIUM,
        funding_sentiment=FundingSentiment(
            rate=D("0.0001"), direction="LONGS_PAY", zscore=1.25, pressure="MILD", annualized_pct=10.95
        ),
        oi_sentiment=OiSentiment(
            oi_change_pct=2.5, price_change_pct=-1.0, label="SHORT_BUILDUP", window_hours=4.0
        ),
        market_risk_score=0.41,
        spread_pct=0.0000958,
        nearby_liquidations=NearbyLiquidations(
            count=3,
            notional=D("12345.67"),
            long_count=2,
            long_notional=D("10000.5"),
            short_count=1,
            short_notional=D("2345.17"),
            band_pct=2.0,
            window_s=3600,
        ),
        order_book_depth=25,
        technical_indicators=TechnicalIndicators(
            rsi_14=55.5,
            atr_14=321.0,
            atr_pct=0.31,
            realized_vol_1h=None,
            realized_vol_24h=0.45,
            ema_fast=104000.0,
            ema_slow=103500.0,
            ema_trend="UP",
            bb_width=0.02,
            interval="60",
        ),
        quality_flags=("ticker_stale",),
    )


def request(link: str = "asym-1") -> OrderRequest:
    return OrderRequest(
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.010"),
        order_link_id=link,
        price=D("104000.5"),
        time_in_force=TimeInForce.GTC,
        take_profit=D("110000"),
        stop_loss=D("100000"),
    )


def intent(link: str = "asym-1", ts: int = T0) -> OrderIntent:
    return OrderIntent(request=request(link), ts=ts, decision_id="dec-1")


def order(link: str = "asym-1", *, status: OrderStatus = OrderStatus.NEW, updated: int = T0) -> Order:
    filled = status is OrderStatus.FILLED
    return Order(
        order_id=f"oid-{link}",
        order_link_id=link,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        price=D("104000.5"),
        qty=D("0.01"),
        time_in_force=TimeInForce.GTC,
        status=status,
        cum_exec_qty=D("0.01") if filled else D(0),
        cum_exec_value=D("1040.005") if filled else D(0),
        cum_exec_fee=D("0.5720028") if filled else D(0),
        avg_price=D("104000.5") if filled else None,
        leaves_qty=D(0) if filled else D("0.01"),
        reduce_only=False,
        created_time=T0,
        updated_time=updated,
        take_profit=D("110000"),
        stop_loss=D("100000"),
    )


def execution(i: int = 0) -> Execution:
    return Execution(
        exec_id=f"exec-{i}",
        order_id="oid-asym-1",
        order_link_id="asym-1",
        symbol="BTCUSDT",
        side=Side.BUY,
        price=D("104000.5"),
        qty=D("0.005"),
        value=D("520.0025"),
        fee=D("0.28600138"),
        fee_rate=D("0.00055"),
        is_maker=False,
        exec_type=ExecType.TRADE,
        ts=T0 + i,
    )


def position(updated: int = T0, size: str = "0.01") -> Position:
    return Position(
        symbol="BTCUSDT",
        side=Side.BUY if D(size) else None,
        size=D(size),
        avg_price=D("104000.5"),
        mark_price=D("104340.12"),
        leverage=D("5"),
        position_value=D("1040.005"),
        unrealised_pnl=D("3.3962"),
        cum_realised_pnl=D("-0.5720028"),
        liq_price=D("83200.4"),
        take_profit=None,
        stop_loss=D("100000"),
        position_im=D("208.001"),
        position_mm=D("5.2"),
        updated_time=updated,
    )


def wallet(ts: int = T0, equity: str = "10003.3962") -> WalletBalance:
    coin = CoinBalance(
        coin="USDT",
        wallet_balance=D("10000"),
        equity=D(equity),
        unrealised_pnl=D("3.3962"),
        cum_realised_pnl=D("-0.5720028"),
        total_position_im=D("208.001"),
        total_order_im=D(0),
        available=D("9795.3952"),
    )
    return WalletBalance(
        total_equity=D(equity),
        total_wallet_balance=D("10000"),
        total_margin_balance=D(equity),
        total_available_balance=D("9795.3952"),
        total_initial_margin=D("208.001"),
        total_maintenance_margin=D("5.2"),
        coins=(coin,),
        ts=ts,
    )


def decision(i: int = 0) -> DecisionRecord:
    return DecisionRecord(
        decision_id=f"dec-{i}",
        ts=T0 + i,
        symbol="BTCUSDT",
        action="OPEN_LONG",
        reasons=("signal_accepted", "risk_ok"),
        mode="paper",
        signal_id="sig-1",
        order_link_ids=("asym-1",),
        detail={"size_usd": "1040.005", "risk_pct": 0.5},
    )


def signal(i: int = 0, *, accepted: bool = True) -> SignalRecord:
    return SignalRecord(
        signal_id=f"sig-{i}",
        ts=T0 + i,
        symbol="BTCUSDT",
        model="rules",
        action="LONG",
        accepted=accepted,
        reason_code=None if accepted else "RR_TOO_LOW",
        reason=None if accepted else "reward/risk 1.8 < 2.5",
        entry=D("104000.5"),
        stop_loss=D("100000"),
        take_profit=(D("110000"), D("115000.25")),
        confidence=0.72,
        payload={"rationale": "trend up", "tokens": 0},
    )
