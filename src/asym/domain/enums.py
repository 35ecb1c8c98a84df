"""Enumerations shared by every part of asym (values equal Bybit's spelling where one exists)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Category(StrEnum):
    """Product category; asym trades `linear` (USDT perpetuals)."""

    LINEAR = "linear"
    INVERSE = "inverse"
    SPOT = "spot"
    OPTION = "option"


class Side(StrEnum):
    """Order side, or the side of a position (Buy = long, Sell = short)."""

    BUY = "Buy"
    SELL = "Sell"

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        """+1 for Buy (long), -1 for Sell (short)."""
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    """Order type."""

    MARKET = "Market"
    LIMIT = "Limit"


class TimeInForce(StrEnum):
    """Time in force."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class OrderStatus(StrEnum):
    """Order status as Bybit names it."""

    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    UNTRIGGERED = "Untriggered"
    TRIGGERED = "Triggered"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    DEACTIVATED = "Deactivated"
    PARTIALLY_FILLED_CANCELED = "PartiallyFilledCanceled"

    @property
    def is_open(self) -> bool:
        """True while the order can still fill or trigger."""
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED)


class TriggerDirection(IntEnum):
    """Conditional order trigger direction: 1 = price rises to the trigger, 2 = falls to it."""

    RISE = 1
    FALL = 2


class TriggerBy(StrEnum):
    """Price a trigger watches."""

    LAST = "LastPrice"
    MARK = "MarkPrice"
    INDEX = "IndexPrice"


class StopOrderType(StrEnum):
    """What kind of stop an order is ('' when it is not one)."""

    NONE = ""
    TAKE_PROFIT = "TakeProfit"
    STOP_LOSS = "StopLoss"
    STOP = "Stop"
    PARTIAL_TAKE_PROFIT = "PartialTakeProfit"
    PARTIAL_STOP_LOSS = "PartialStopLoss"
    TRAILING_STOP = "TrailingStop"


class ExecType(StrEnum):
    """Kind of execution (fill, funding payment, liquidation, ...)."""

    TRADE = "Trade"
    FUNDING = "Funding"
    BUST_TRADE = "BustTrade"
    ADL_TRADE = "AdlTrade"
    SETTLE = "Settle"


class Interval(StrEnum):
    """Kline interval in Bybit's notation."""

    M1 = "1"
    M3 = "3"
    M5 = "5"
    M15 = "15"
    M30 = "30"
    H1 = "60"
    H2 = "120"
    H4 = "240"
    H6 = "360"
    H12 = "720"
    D1 = "D"
    W1 = "W"
    MONTH = "M"

    @property
    def ms(self) -> int:
        """Length of one candle in milliseconds (a month counts as 30 days; its start is calendar-aligned)."""
        return _INTERVAL_MS[self]


_MINUTE = 60_000
_INTERVAL_MS: dict[Interval, int] = {
    Interval.M1: _MINUTE,
    Interval.M3: 3 * _MINUTE,
    Interval.M5: 5 * _MINUTE,
    Interval.M15: 15 * _MINUTE,
    Interval.M30: 30 * _MINUTE,
    Interval.H1: 60 * _MINUTE,
    Interval.H2: 120 * _MINUTE,
    Interval.H4: 240 * _MINUTE,
    Interval.H6: 360 * _MINUTE,
    Interval.H12: 720 * _MINUTE,
    Interval.D1: 1440 * _MINUTE,
    Interval.W1: 7 * 1440 * _MINUTE,
    Interval.MONTH: 30 * 1440 * _MINUTE,
}


class PeriodInterval(StrEnum):
    """Interval of open-interest and long/short-ratio history."""

    MIN5 = "5min"
    MIN15 = "15min"
    MIN30 = "30min"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"

    @property
    def ms(self) -> int:
        """Length in milliseconds."""
        return {"5min": 5, "15min": 15, "30min": 30, "1h": 60, "4h": 240, "1d": 1440}[self.value] * _MINUTE


class LiquidationRisk(StrEnum):
    """Bucketed liquidation risk of an asset."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    EXTREME = "EXTREME"
