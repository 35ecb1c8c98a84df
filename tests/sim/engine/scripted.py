"""A scripted MarketModel for the engine's tests.

This is a test double of a sibling component: `asym.sim.market.Market` is written in parallel by another
engineer, and the engine's arithmetic needs a market whose book and prices each test sets exactly. It
implements only what the engine uses (instrument, book, ticker, risk_limits); tests that run the engine
against the real Market live in test_real_market.py.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from asym.domain import Instrument, Interval, PeriodInterval, RiskLimitTier, Side
from asym.sim.types import (
    BookView,
    FundingRow,
    FundingSettlement,
    KlineRow,
    MarketEvents,
    OpenInterestRow,
    PremiumRow,
    RatioRow,
    SimInstrument,
    TickerView,
    TradeEvent,
)
from asym.sim.units import Scale

D = Decimal


def _instrument(
    symbol: str, tick: str, step: str, max_qty: str, max_mkt: str, max_lev: str, status: str = "Trading"
) -> SimInstrument:
    info = Instrument(
        symbol=symbol,
        base_coin=symbol.removesuffix("USDT"),
        status=status,
        price_scale=len(tick.split(".")[1]) if "." in tick else 0,
        tick_size=D(tick),
        min_price=D(tick),
        max_price=D("1999999.8") if D(tick) < 1 else D(1999999),
        qty_step=D(step),
        min_order_qty=D(step),
        max_order_qty=D(max_qty),
        max_mkt_order_qty=D(max_mkt),
        min_notional=D(5),
        max_leverage=D(max_lev),
        upper_funding_rate=D("0.005"),
        lower_funding_rate=D("-0.005"),
    )
    return SimInstrument(info=info, price=Scale(tick), qty=Scale(step), base_price=D(0))


class ScriptedMarket:
    """A market whose book, last/mark/index prices and events the test scripts."""

    def __init__(self) -> None:
        self._inst = {
            "BTCUSDT": _instrument("BTCUSDT", "0.1", "0.001", "100", "50", "100"),
            "ETHUSDT": _instrument("ETHUSDT", "0.01", "0.01", "1000", "500", "50"),
            "HALTUSDT": _instrument("HALTUSDT", "0.001", "1", "100000", "10000", "25", status="Settling"),
        }
        self._books: dict[str, BookView] = {}
        self._tickers: dict[str, TickerView] = {}
        self._update = 0
        self._now = 0
        for symbol, mid in (("BTCUSDT", "50000"), ("ETHUSDT", "2000"), ("HALTUSDT", "1")):
            self.quote(symbol, mid)

    # ---- scripting -----------------------------------------------------------------------------

    def p(self, symbol: str, price: str | Decimal) -> int:
        """Price in ticks."""
        return self._inst[symbol].price.to_int(price)

    def q(self, symbol: str, qty: str | Decimal) -> int:
        """Quantity in steps."""
        return self._inst[symbol].qty.to_int(qty)

    def set_book(
        self,
        symbol: str,
        bids: list[tuple[str, str]],
        asks: list[tuple[str, str]],
        *,
        move_prices: bool = True,
    ) -> None:
        """Replace the book (decimal strings, best first); by default last/mark/index move to the mid."""
        self._update += 1
        b = [(self.p(symbol, px), self.q(symbol, sz)) for px, sz in bids]
        a = [(self.p(symbol, px), self.q(symbol, sz)) for px, sz in asks]
        self._books[symbol] = BookView(symbol, b, a, self._update, self._update, self._now, self._now)
        if move_prices and b and a:
            mid = (b[0][0] + a[0][0]) // 2
            self.set_prices(symbol, last=mid, mark=mid, index=mid)

    def quote(self, symbol: str, mid: str, size: str | None = None, levels: int = 5) -> None:
        """A book one tick either side of `mid` with `levels` levels of `size` each, prices at `mid`."""
        inst = self._inst[symbol]
        m = self.p(symbol, mid)
        size = size or "1"
        bids = [(inst.price.to_str(m - 1 - i), size) for i in range(levels)]
        asks = [(inst.price.to_str(m + 1 + i), size) for i in range(levels)]
        self.set_book(symbol, bids, asks, move_prices=False)
        self.set_prices(symbol, last=m, mark=m, index=m)

    def set_prices(
        self, symbol: str, *, last: int | None = None, mark: int | None = None, index: int | None = None
    ) -> None:
        """Set ticker prices (ticks); unspecified ones keep their value."""
        old = self._tickers.get(symbol)
        book = self._books[symbol]
        last = last if last is not None else (old.last if old else 0)
        mark = mark if mark is not None else (old.mark if old else last)
        index = index if index is not None else (old.index if old else last)
        self._tickers[symbol] = TickerView(
            symbol=symbol, ts=self._now, last=last, mark=mark, index=index,
            bid1=book.bids[0][0] if book.bids else 0, bid1_size=book.bids[0][1] if book.bids else 0,
            ask1=book.asks[0][0] if book.asks else 0, ask1_size=book.asks[0][1] if book.asks else 0,
            prev_price_24h=last, high_24h=last, low_24h=last, prev_price_1h=last,
            volume_24h=D(0), turnover_24h=D(0), open_interest=D(0), funding_rate=D("0.0001"),
            next_funding_time=0, funding_interval_hours=8, funding_cap=D("0.005"),
            tick_direction="ZeroPlusTick", cs=self._update,
        )  # fmt: skip

    def set_mark(self, symbol: str, mark: str) -> None:
        """Move only the mark price."""
        self.set_prices(symbol, mark=self.p(symbol, mark))

    def trade(self, symbol: str, price: str, size: str, taker: Side = Side.SELL, ts: int = 0) -> TradeEvent:
        """A public trade event (not applied: pass it to the engine in MarketEvents)."""
        self._update += 1
        return TradeEvent(
            symbol, f"t{self._update}", self.p(symbol, price), self.q(symbol, size), taker, ts, self._update
        )

    def funding(self, symbol: str, rate: str, mark: str, ts: int = 0) -> FundingSettlement:
        """A funding settlement event."""
        return FundingSettlement(symbol, ts, D(rate), self.p(symbol, mark))

    # ---- MarketModel ---------------------------------------------------------------------------

    def instruments(self) -> list[SimInstrument]:
        return list(self._inst.values())

    def instrument(self, symbol: str) -> SimInstrument:
        return self._inst[symbol]

    def advance(self, now_ms: int, symbols: list[str] | None = None) -> MarketEvents:
        self._now = now_ms
        return MarketEvents()

    def book(self, symbol: str, depth: int) -> BookView:
        b = self._books[symbol]
        return BookView(symbol, b.bids[:depth], b.asks[:depth], b.update_id, b.seq, b.ts, b.cts)

    def ticker(self, symbol: str) -> TickerView:
        t = self._tickers[symbol]
        b = self._books[symbol]
        bid1, bid1_size = b.bids[0] if b.bids else (0, 0)
        ask1, ask1_size = b.asks[0] if b.asks else (0, 0)
        return dataclasses.replace(t, bid1=bid1, bid1_size=bid1_size, ask1=ask1, ask1_size=ask1_size)

    def now_ms(self) -> int:
        return self._now

    # Not used by the engine; present so that the double satisfies the MarketModel protocol.
    def klines(
        self, symbol: str, interval: Interval, start: int | None, end: int | None, limit: int, kind: str
    ) -> list[KlineRow] | list[PremiumRow]:
        return []

    def recent_trades(self, symbol: str, limit: int) -> list[TradeEvent]:
        return []

    def funding_history(
        self, symbol: str, start: int | None, end: int | None, limit: int
    ) -> list[FundingRow]:
        return []

    def open_interest_history(
        self, symbol: str, interval: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[OpenInterestRow]:
        return []

    def account_ratio(
        self, symbol: str, period: PeriodInterval, start: int | None, end: int | None, limit: int
    ) -> list[RatioRow]:
        return []

    def risk_limits(self, symbol: str) -> list[RiskLimitTier]:
        """BTC: 0.5 % MM up to 2M, then 1 % with a 10,000 deduction (continuous at 2M)."""
        if symbol != "BTCUSDT":
            return []
        return [
            RiskLimitTier(symbol=symbol, tier_id=1, risk_limit_value=D(2_000_000),
                          maintenance_margin=D("0.005"), initial_margin=D("0.01"), max_leverage=D(100),
                          mm_deduction=D(0)),
            RiskLimitTier(symbol=symbol, tier_id=2, risk_limit_value=D(4_000_000),
                          maintenance_margin=D("0.01"), initial_margin=D("0.02"), max_leverage=D(50),
                          mm_deduction=D(10_000)),
        ]  # fmt: skip
