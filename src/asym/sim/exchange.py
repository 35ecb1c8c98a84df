"""The simulated exchange: the market model and the matching engine composed under one clock.

`SimExchange.sync()` advances the market to the clock's time (collecting events only of the symbols that
matter: subscribed on a WebSocket, or with open orders/positions), feeds what happened to the engine,
drains the account's private events and hands everything to the listeners (the WebSocket publishers).
It does no I/O; the aiohttp server calls it before answering and on its publish timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from asym.sim.clock import AcceleratedClock, Clock, wall_ms
from asym.sim.config import SimConfig
from asym.sim.engine.types import AccountEvents, TradingEngine
from asym.sim.types import MarketEvents, MarketModel, SimInstrument, TradeEvent

ACCOUNT_UID = "1000001"
"""The uid of the funded account behind config.api_key (Bybit uids are numeric strings)."""

MIN_SYNC_INTERVAL_S = 0.002
"""Real-time clocks: REST requests within 2 ms of the last sync reuse it (cheap bursts)."""


@dataclass(slots=True)
class SyncResult:
    """What happened between two syncs: public market events and the account's private events."""

    now_ms: int
    market: MarketEvents = field(default_factory=MarketEvents)
    account: AccountEvents = field(default_factory=AccountEvents)


Listener = Callable[[SyncResult], None]


class SimExchange:
    """Market + engine under a clock; the one object the server talks to."""

    def __init__(
        self,
        config: SimConfig,
        clock: Clock | None = None,
        *,
        market: MarketModel | None = None,
        engine: TradingEngine | None = None,
        min_sync_interval_s: float | None = None,
    ) -> None:
        self.config = config
        own_clock = clock is None
        if clock is None:
            start_ms = config.start_ms
            if market is None:
                # Replay runs start at the recording (after enough history), not at wall time.
                from asym.sim.market import default_start_ms

                start_ms = default_start_ms(config, wall_ms())
            clock = AcceleratedClock(config.speed, start_ms)
        self.clock: Clock = clock
        start = self.clock.now_ms()
        if market is None:
            from asym.sim.market import Market

            market = Market(config, start)
        market_start = getattr(market, "start_ms", start)
        if own_clock and market_start != start:
            # The market moved the start (a start_ms outside a replay): run the clock from the market's.
            self.clock = AcceleratedClock(config.speed, market_start)
            start = market_start
        if engine is None:
            from asym.sim.engine import Engine

            engine = Engine(market)
        self.market: MarketModel = market
        self.engine: TradingEngine = engine
        self.uid = ACCOUNT_UID
        self.engine.open_account(self.uid, Decimal(config.balance_usdt))
        self._instruments = {i.symbol: i for i in market.instruments()}
        self._listeners: list[Listener] = []
        self._subscribed: dict[str, int] = {}
        self._collecting: set[str] = set()
        self._now = max(start, market.now_ms())
        self.sync_count = 0
        # On a real-time clock, syncs closer than this (wall) are skipped: a burst of requests shares one
        # advance. A manual clock moves only when told to, so every sync there is honoured.
        if min_sync_interval_s is None:
            min_sync_interval_s = MIN_SYNC_INTERVAL_S if isinstance(clock, AcceleratedClock) else 0.0
        self.min_sync_interval_s = min_sync_interval_s
        self._last_sync_mono = -1e18

    # --- instruments -------------------------------------------------------------------------------

    def instruments(self) -> list[SimInstrument]:
        """Every listed instrument in a stable order."""
        return self.market.instruments()

    def instrument(self, symbol: str) -> SimInstrument | None:
        """The instrument of `symbol`, or None when it is not listed."""
        return self._instruments.get(symbol)

    # --- which symbols are advanced ------------------------------------------------------------------
    #
    # Reads (books, tickers, candles, trades) are computed by the model at its current time whether or
    # not a symbol's events were collected, so only symbols whose EVENTS matter are advanced on sync:
    # those subscribed on a WebSocket (trades, liquidations to publish) and those the engine holds orders
    # or positions in (fills, triggers, funding).

    def touch(self, symbol: str) -> None:
        """`symbol` is about to be traded: start collecting its events from now on (see `_activate`)."""
        self._activate(symbol)

    def subscribe(self, symbol: str) -> None:
        """A WebSocket topic of `symbol` was subscribed (reference counted)."""
        self._activate(symbol)
        self._subscribed[symbol] = self._subscribed.get(symbol, 0) + 1

    def unsubscribe(self, symbol: str) -> None:
        """A WebSocket topic of `symbol` was unsubscribed."""
        n = self._subscribed.get(symbol, 0) - 1
        if n <= 0:
            self._subscribed.pop(symbol, None)
        else:
            self._subscribed[symbol] = n

    def _activate(self, symbol: str) -> None:
        if symbol in self._collecting or symbol not in self._instruments:
            return
        # Events of a symbol nobody listened to pile up in the model until collected. That backlog is
        # history (published to nobody, older than any order about to be placed): drop it, so neither the
        # publishers nor the engine ever see stale trades when the symbol joins the syncs.
        self.market.advance(self._now, [symbol])
        self._collecting.add(symbol)

    def active_symbols(self) -> list[str]:
        """Symbols advanced on sync: subscribed, or with orders/positions in the engine."""
        active = set(self._subscribed)
        active.update(self.engine.active_symbols())
        return sorted(active)

    # --- time --------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Market time of the last sync."""
        return self._now

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` with every SyncResult (the WebSocket hub)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling `listener`."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def sync(self) -> SyncResult:
        """Advance the market to the clock, let the engine react, dispatch public and private events."""
        if self.min_sync_interval_s:
            mono = time.monotonic()
            if mono - self._last_sync_mono < self.min_sync_interval_s:
                return SyncResult(now_ms=self._now)
            self._last_sync_mono = mono
        now = self.clock.now_ms()
        if now <= self._now:
            return self.flush()
        self._now = now
        symbols = self.active_symbols()
        self._collecting = set(symbols)
        events = self.market.advance(now, symbols)
        self.engine.on_market(events, now)
        own = self._own_trades()
        if own:
            # The account's taker fills printed on the tape: publish them with the market's trades.
            events = MarketEvents(
                trades=[*events.trades, *own], liquidations=events.liquidations, fundings=events.fundings
            )
        result = SyncResult(now_ms=now, market=events, account=self.engine.drain_events(self.uid))
        self.sync_count += 1
        self._dispatch(result)
        return result

    def flush(self) -> SyncResult:
        """Dispatch the account's pending private events (after a write) without advancing the market."""
        account = self.engine.drain_events(self.uid)
        own = self._own_trades()
        result = SyncResult(now_ms=self._now, market=MarketEvents(trades=own), account=account)
        if account or own:
            self._dispatch(result)
        return result

    def _own_trades(self) -> list[TradeEvent]:
        drain = getattr(self.engine, "drain_public_trades", None)
        return list(drain()) if drain is not None else []

    def _dispatch(self, result: SyncResult) -> None:
        for listener in self._listeners:
            listener(result)
