"""The simulator core's contract: what the market model, the matching engine and the server exchange.

Three parts, each pure and free of I/O, with time injected as market milliseconds:

* `asym.sim.market` (MarketModel): instruments, prices, books, public trades, tickers, history,
  funding, open interest, long/short ratio, liquidations of a simulated crowd;
* `asym.sim.engine` (TradingEngine): accounts, order validation, matching against the market's book,
  TP/SL and conditional orders, positions, fees, funding payments, liquidation of the account;
* `asym.sim.server`: the aiohttp shell that speaks Bybit V5 and calls the two above.

Prices are integer ticks and sizes integer qty steps (see `asym.sim.units.Scale`); values that are
not on a grid (turnover, balances, rates, P&L) are Decimal. Nothing here knows the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from asym.domain import Instrument, Interval, PeriodInterval, Side
from asym.sim.units import Scale


@dataclass(frozen=True, slots=True)
class SimInstrument:
    """An instrument with its scales; `price.to_str(ticks)` / `qty.to_str(steps)` give wire strings."""

    info: Instrument
    price: Scale
    qty: Scale
    base_price: Decimal
    """A realistic reference price (the market starts near it)."""

    @property
    def symbol(self) -> str:
        """The symbol, e.g. BTCUSDT."""
        return self.info.symbol


@dataclass(slots=True)
class BookView:
    """An L2 book at one instant, best levels first: bids descending, asks ascending (ticks, steps).

    `update_id` increases by one every time the book of the symbol changes (any depth);
    `seq` is a cross sequence that increases with every match (trade) and book change.
    """

    symbol: str
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]
    update_id: int
    seq: int
    ts: int
    cts: int


@dataclass(slots=True)
class TickerView:
    """All ticker fields of one symbol at one instant. Prices in ticks; other values Decimal."""

    symbol: str
    ts: int
    last: int
    mark: int
    index: int
    bid1: int
    bid1_size: int
    ask1: int
    ask1_size: int
    prev_price_24h: int
    high_24h: int
    low_24h: int
    prev_price_1h: int
    volume_24h: Decimal
    turnover_24h: Decimal
    open_interest: Decimal
    funding_rate: Decimal
    next_funding_time: int
    funding_interval_hours: int
    funding_cap: Decimal
    tick_direction: str
    cs: int
    """Cross sequence for the tickers stream."""


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One public trade of the simulated market (or of an account's order hitting the book)."""

    symbol: str
    trade_id: str
    price: int
    size: int
    taker_side: Side
    ts: int
    seq: int
    tick_direction: str = "ZeroPlusTick"


@dataclass(frozen=True, slots=True)
class LiquidationEvent:
    """A liquidation of a simulated crowd position. `side` is the liquidated position's side."""

    symbol: str
    side: Side
    price: int
    size: int
    ts: int


@dataclass(frozen=True, slots=True)
class KlineRow:
    """One candle: prices in ticks, volume in qty steps... as Decimal base coin, turnover Decimal quote."""

    start: int
    open: int
    high: int
    low: int
    close: int
    volume: Decimal
    turnover: Decimal


class PriceKind:
    """Which price series a kline request wants."""

    TRADE = "trade"
    MARK = "mark"
    INDEX = "index"
    PREMIUM = "premium"
    """Premium index: a rate (mark/index - 1), not a price; its klines are Decimal strings."""


@dataclass(frozen=True, slots=True)
class PremiumRow:
    """A premium-index candle: values are Decimal rates."""

    start: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(frozen=True, slots=True)
class FundingRow:
    """A settled funding rate at `ts` (settlement time)."""

    ts: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class OpenInterestRow:
    """Open interest (base coin) at `ts`."""

    ts: int
    open_interest: Decimal


@dataclass(frozen=True, slots=True)
class RatioRow:
    """Long/short account ratio at `ts`."""

    ts: int
    buy_ratio: Decimal
    sell_ratio: Decimal


@dataclass(frozen=True, slots=True)
class FundingSettlement:
    """A funding settlement that happened for `symbol` at `ts` with `rate`, at mark price `mark`."""

    symbol: str
    ts: int
    rate: Decimal
    mark: int


@dataclass(slots=True)
class MarketEvents:
    """Everything the market produced while advancing: in time order per symbol."""

    trades: list[TradeEvent] = field(default_factory=list)
    liquidations: list[LiquidationEvent] = field(default_factory=list)
    fundings: list[FundingSettlement] = field(default_factory=list)


class MarketModel(Protocol):
    """The simulated market (implemented in `asym.sim.market`). Deterministic for a seed: its state at
    market time t does not depend on how often or in what order it was sampled before t."""

    def instruments(self) -> list[SimInstrument]:
        """Every listed instrument, in a stable order."""
        ...

    def instrument(self, symbol: str) -> SimInstrument:
        """One instrument; KeyError when unknown."""
        ...

    def advance(self, now_ms: int, symbols: list[str] | None = None) -> MarketEvents:
        """Advance `symbols` (default: every symbol that is active) to `now_ms`; returns what happened.
        A symbol becomes active when any method below touches it."""
        ...

    def book(self, symbol: str, depth: int) -> BookView:
        """The current book, up to `depth` levels per side (1..500)."""
        ...

    def ticker(self, symbol: str) -> TickerView:
        """The current ticker."""
        ...

    def klines(
        self, symbol: str, interval: Interval, start: int | None, end: int | None, limit: int, kind: str
    ) -> list[KlineRow] | list[PremiumRow]:
        """Candles newest first; no start: the `limit` newest ending at or before `end` (or now);
        start given: the `limit` oldest at or after `start` (and at or before `end`). The newest
        candle may be open (its close is the current price). kind is a PriceKind value."""
        ...

    def recent_trades(self, symbol: str, limit: int) -> list[TradeEvent]:
        """Recent public trades, newest first."""
        ...

    def funding_history(
        self, symbol: str, start: int | None, end: int | None, limit: int
    ) -> list[FundingRow]:
        """Settled funding rates newest first (Bybit's funding/history rules)."""
        ...

    def open_interest_history(
        self, symbol: str, interval: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[OpenInterestRow]:
        """Open interest newest first, one row per interval boundary."""
        ...

    def account_ratio(
        self, symbol: str, period: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[RatioRow]:
        """Long/short account ratio newest first."""
        ...

    def now_ms(self) -> int:
        """The market time the model has been advanced to."""
        ...


class SimRejection(Exception):  # noqa: N818 - Bybit calls these rejections
    """A business rejection with Bybit's retCode and retMsg (the server answers HTTP 200 with it)."""

    def __init__(self, ret_code: int, ret_msg: str) -> None:
        super().__init__(f"{ret_code}: {ret_msg}")
        self.ret_code = ret_code
        self.ret_msg = ret_msg
