"""Builders of the domain objects the trading tests feed the pure cores (no test doubles: real types)."""

from __future__ import annotations

from decimal import Decimal

from asym.analytics.types import EnhancedData
from asym.domain import (
    CoinBalance,
    ExecType,
    Execution,
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
    StopOrderType,
    TimeInForce,
    WalletBalance,
)
from asym.signals.schema import Action, EntryType, Signal, TakeProfit, Usage
from asym.trading import AccountView, Exposure, MarketView, Mode, TargetLeg, TradeIntent

D = Decimal
NOW = 1_750_000_000_000
"""A fixed 'now' (2025-06-15 15:06:40 UTC)."""


def btc(**kw: object) -> Instrument:
    """BTCUSDT with Bybit's real filters (market_instruments_info_linear.json)."""
    fields: dict[str, object] = {
        "symbol": "BTCUSDT",
        "base_coin": "BTC",
        "price_scale": 2,
        "tick_size": D("0.10"),
        "min_price": D("0.10"),
        "max_price": D("1999999.80"),
        "qty_step": D("0.001"),
        "min_order_qty": D("0.001"),
        "max_order_qty": D("1190.000"),
        "max_mkt_order_qty": D("500.000"),
        "min_notional": D(5),
        "max_leverage": D("100.00"),
        "upper_funding_rate": D("0.00375"),
        "lower_funding_rate": D("-0.00375"),
    }
    fields.update(kw)
    return Instrument(**fields)  # type: ignore[arg-type]


def doge(**kw: object) -> Instrument:
    """A cheap coin: tick 0.00001, whole-coin steps, 5 USDT minimum order value."""
    fields: dict[str, object] = {
        "symbol": "DOGEUSDT",
        "base_coin": "DOGE",
        "price_scale": 5,
        "tick_size": D("0.00001"),
        "min_price": D("0.00001"),
        "max_price": D("19.99998"),
        "qty_step": D(1),
        "min_order_qty": D(1),
        "max_order_qty": D(4_000_000),
        "max_mkt_order_qty": D(1_000_000),
        "min_notional": D(5),
        "max_leverage": D(50),
        "upper_funding_rate": D("0.02"),
        "lower_funding_rate": D("-0.02"),
    }
    fields.update(kw)
    return Instrument(**fields)  # type: ignore[arg-type]


def enhanced(
    symbol: str = "BTCUSDT",
    ts: int = NOW - 10_000,
    score: float | None = 0.3,
    flags: tuple[str, ...] = (),
    mark: Decimal = D(50_000),
) -> EnhancedData:
    """Enhanced data with only the fields risk reads filled in meaningfully."""
    return EnhancedData(
        symbol=symbol,
        timestamp=ts,
        last_price=mark,
        mark_price=mark,
        index_price=mark,
        bid_price=None,
        ask_price=None,
        volume_24h=None,
        turnover_24h=None,
        funding_rate=D("0.0001"),
        next_funding_time=None,
        open_interest=None,
        liquidity_score=0.8,
        liquidation_risk=None,
        funding_sentiment=None,
        oi_sentiment=None,
        market_risk_score=score,
        spread_pct=0.01,
        nearby_liquidations=None,
        order_book_depth=25,
        technical_indicators=None,
        quality_flags=flags,
    )


def market(**kw: object) -> MarketView:
    """A MarketView around `enhanced(**kw)`."""
    return MarketView(data=enhanced(**kw))  # type: ignore[arg-type]


def account(
    equity: str | Decimal = "10000",
    available: str | Decimal | None = None,
    exposures: tuple[Exposure, ...] = (),
    mode: Mode = Mode.NORMAL,
) -> AccountView:
    """An account view (available defaults to equity)."""
    eq = D(equity)
    return AccountView(
        equity=eq,
        available_balance=D(available) if available is not None else eq,
        mode=mode,
        exposures=exposures,
    )


def intent(
    *,
    symbol: str = "BTCUSDT",
    side: Side = Side.BUY,
    entry_type: EntryType = EntryType.LIMIT,
    entry: str = "50000.05",
    stop: str = "49499.95",
    targets: tuple[tuple[str, str], ...] = (("52000.07", "1"),),
    leverage: str = "5",
    rr: str = "3.0",
    key: str = "sig-1",
) -> TradeIntent:
    """A trade intent; defaults are the docs' worked example (LONG BTC limit 50000.05, stop 49499.95)."""
    return TradeIntent(
        symbol=symbol,
        side=side,
        entry_type=entry_type,
        entry_price=D(entry),
        stop_loss=D(stop),
        take_profits=tuple(TargetLeg(price=D(p), fraction=D(f)) for p, f in targets),
        leverage=D(leverage),
        signal_id=key,
        model_id="rules",
        reward_risk=D(rr),
    )


def signal(
    *,
    action: Action = Action.LONG,
    entry_type: EntryType = EntryType.MARKET,
    entry: str | None = "50000",
    stop: str | None = "49000",
    targets: tuple[tuple[str, str], ...] = (("53000", "0.5"), ("55000", "0.5")),
    leverage: str | None = "3",
    latency_ms: float = 120.0,
    data_timestamp: int = NOW - 5_000,
) -> Signal:
    """A validated-looking signal as the signal layer emits it."""
    trade = action in (Action.LONG, Action.SHORT)
    return Signal(
        symbol="BTCUSDT",
        action=action,
        entry_type=entry_type if trade else None,
        entry_price=D(entry) if trade and entry is not None else None,
        mark_price=D(50_000),
        stop_loss=D(stop) if trade and stop is not None else None,
        take_profits=tuple(TakeProfit(price=D(p), fraction=D(f), reward_risk=D(3)) for p, f in targets)
        if trade
        else (),
        confidence=0.7,
        leverage=D(leverage) if trade and leverage is not None else None,
        horizon_hours=24.0 if trade else None,
        reward_risk=D("3.5") if trade else None,
        stop_atr=1.5,
        rationale="test",
        model_id="rules",
        prompt_version="v1",
        latency_ms=latency_ms,
        usage=Usage(),
        data_timestamp=data_timestamp,
    )


def order(
    link: str,
    status: OrderStatus,
    *,
    cum: str = "0",
    qty: str = "1",
    updated: int = NOW,
    side: Side = Side.BUY,
    symbol: str = "BTCUSDT",
    order_id: str = "oid-1",
    reduce_only: bool = False,
    price: str = "50000",
    order_type: OrderType = OrderType.LIMIT,
    trigger_price: str | None = None,
    stop_order_type: StopOrderType = StopOrderType.NONE,
) -> Order:
    """A venue order snapshot; cum value at `price`, fee 0.055 % of it."""
    c = D(cum)
    return Order(
        order_id=order_id,
        order_link_id=link,
        symbol=symbol,
        side=side,
        order_type=order_type,
        price=D(price),
        qty=D(qty),
        time_in_force=TimeInForce.GTC,
        status=status,
        cum_exec_qty=c,
        cum_exec_value=c * D(price),
        cum_exec_fee=c * D(price) * D("0.00055"),
        avg_price=D(price) if c > 0 else None,
        leaves_qty=D(qty) - c if status.is_open else D(0),
        reduce_only=reduce_only,
        created_time=NOW - 60_000,
        updated_time=updated,
        trigger_price=D(trigger_price) if trigger_price is not None else None,
        stop_order_type=stop_order_type,
    )


def fill(
    exec_id: str,
    qty: str,
    price: str,
    *,
    side: Side = Side.BUY,
    link: str = "",
    order_id: str = "oid-1",
    symbol: str = "BTCUSDT",
    fee: str | None = None,
    ts: int = NOW,
    exec_type: ExecType = ExecType.TRADE,
) -> Execution:
    """One execution; fee defaults to 0.055 % of the value (taker)."""
    value = D(qty) * D(price)
    return Execution(
        exec_id=exec_id,
        order_id=order_id,
        order_link_id=link,
        symbol=symbol,
        side=side,
        price=D(price),
        qty=D(qty),
        value=value,
        fee=D(fee) if fee is not None else value * D("0.00055"),
        fee_rate=D("0.00055"),
        is_maker=False,
        exec_type=exec_type,
        ts=ts,
    )


def position(
    symbol: str = "BTCUSDT",
    side: Side | None = Side.BUY,
    size: str = "0.1",
    avg: str = "50000",
    mark: str = "50000",
    stop: str | None = None,
    tp: str | None = None,
) -> Position:
    """A venue position."""
    s = D(size)
    return Position(
        symbol=symbol,
        side=side,
        size=s,
        avg_price=D(avg),
        mark_price=D(mark),
        leverage=D(5),
        position_value=s * D(avg),
        unrealised_pnl=D(0),
        cum_realised_pnl=D(0),
        liq_price=None,
        take_profit=D(tp) if tp is not None else None,
        stop_loss=D(stop) if stop is not None else None,
        position_im=D(0),
        position_mm=D(0),
        updated_time=NOW,
    )


def wallet(balance: str) -> WalletBalance:
    """A wallet holding `balance` USDT."""
    b = D(balance)
    coin = CoinBalance(
        coin="USDT",
        wallet_balance=b,
        equity=b,
        unrealised_pnl=D(0),
        cum_realised_pnl=D(0),
        total_position_im=D(0),
        total_order_im=D(0),
        available=b,
    )
    return WalletBalance(
        total_equity=b,
        total_wallet_balance=b,
        total_margin_balance=b,
        total_available_balance=b,
        total_initial_margin=D(0),
        total_maintenance_margin=D(0),
        coins=(coin,),
        ts=NOW,
    )
