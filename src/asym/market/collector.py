"""The market-data collector: one cycle gathers, validates and enhances every symbol of the universe.

Cheapest path first: one tickers call covers every symbol; books come from the WebSocket stream when it is
in sync and fresh; candles, funding, open interest and long/short ratio are kept across cycles and only
what is new is fetched; liquidations come from the `allLiquidation` stream and are kept for a window.
A request that fails leaves its field missing and flagged; a cycle always completes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from asym.analytics import DEFAULT_CONFIG as ANALYTICS_DEFAULT
from asym.analytics import AnalyticsConfig, AssetInputs, CandleArrays, compute_enhanced
from asym.domain import (
    Candle,
    FundingRate,
    Instrument,
    Interval,
    Liquidation,
    LongShortRatio,
    OpenInterest,
    OrderBook,
    PublicTrade,
    Ticker,
)
from asym.domain.venue import EventStream, MarketStream, Venue
from asym.errors import AsymError
from asym.logging import get_logger
from asym.market.config import CollectorConfig
from asym.market.freshness import FreshnessTracker
from asym.market.liquidation_window import LiquidationWindow
from asym.market.quality import (
    QualityEvent,
    QualityKind,
    QualityReport,
    Severity,
    ValidationConfig,
)
from asym.market.reference import CcxtReference
from asym.market.results import (
    CycleResult,
    CycleSink,
    SymbolResult,
    expected_fields,
    observed_fields,
)
from asym.market.series import CandleSeries, Series, due, missing_count
from asym.market.validation import (
    DEFAULT_CONFIG as VALIDATION_DEFAULT,
)
from asym.market.validation import (
    check_book,
    check_candle,
    check_completeness,
    check_freshness,
    check_funding,
    check_open_interest,
    check_ticker,
    cross_validate,
    find_candle_gaps,
    outlier_events,
    snapshot_prices,
)

log = get_logger("collector")
T = TypeVar("T")

FUNDING_PERIOD_MS = 8 * 3_600_000


def wall_ms() -> int:
    """Wall-clock epoch milliseconds."""
    return int(time.time() * 1000)


@dataclass(slots=True)
class SymbolState:
    """What the collector keeps about one symbol between cycles."""

    candles: dict[Interval, CandleSeries]
    funding: Series[FundingRate]
    open_interest: Series[OpenInterest]
    long_short: Series[LongShortRatio]


class Collector:
    """Collects, validates and enhances market data for a universe of linear USDT perpetuals."""

    def __init__(
        self,
        venue: Venue,
        config: CollectorConfig | None = None,
        *,
        analytics: AnalyticsConfig = ANALYTICS_DEFAULT,
        validation: ValidationConfig = VALIDATION_DEFAULT,
        sink: CycleSink | None = None,
        clock: Callable[[], int] = wall_ms,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.venue = venue
        self.config = config or CollectorConfig()
        self.analytics = analytics
        self.validation = validation
        self.sink = sink
        self.clock = clock
        self.progress = progress
        self.freshness = FreshnessTracker(validation.freshness_ms)
        self.liquidations = LiquidationWindow(self.config.liquidation_window_s * 1000)
        self._state: dict[str, SymbolState] = {}
        self._instruments: dict[str, Instrument] = {}
        self._books: dict[str, MarketStream[OrderBook]] = {}
        self.last_trades: dict[str, PublicTrade] = {}
        """The newest public trade per symbol (from the `publicTrade` stream)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._streams: list[Any] = []
        self._cycle = 0
        self._requests = 0
        self._failures: Counter[str] = Counter()
        ref = self.config.reference
        self.reference = CcxtReference(ref) if ref is not None else None

    # ------------------------------------------------------------------ universe and streams

    async def universe(self) -> tuple[list[Instrument], dict[str, Ticker]]:
        """Trading linear USDT perpetuals (or the configured list), filtered by 24h turnover."""
        instruments = await self._call("instruments", self.venue.get_instruments())
        tickers = {t.symbol: t for t in await self._call("tickers", self.venue.get_tickers())}
        self._instruments = {i.symbol: i for i in instruments}
        wanted = set(self.config.symbols) if self.config.symbols else None
        if wanted is not None:
            unknown = wanted - self._instruments.keys()
            if unknown:
                log.warning("unknown_symbols", symbols=sorted(unknown))
        chosen = [
            i
            for i in instruments
            if i.status == "Trading"
            and i.settle_coin == "USDT"
            and i.contract_type == "LinearPerpetual"
            and (wanted is None or i.symbol in wanted)
        ]

        def turnover(i: Instrument) -> float:
            t = tickers.get(i.symbol)
            return float(t.turnover_24h) if t is not None and t.turnover_24h is not None else 0.0

        if self.config.min_turnover_24h > 0:
            floor = float(self.config.min_turnover_24h)
            chosen = [i for i in chosen if turnover(i) >= floor]
        chosen.sort(key=turnover, reverse=True)
        if self.config.max_symbols is not None:
            chosen = chosen[: self.config.max_symbols]
        return chosen, tickers

    async def start_streams(self, symbols: Sequence[str]) -> None:
        """Subscribe the real-time streams (books, tickers, liquidations, trades) of `symbols` not yet
        watched, `concurrency` symbols at a time (each subscription waits for the venue's ack)."""
        if not self.config.streams:
            return
        sem = asyncio.Semaphore(self.config.concurrency)

        async def one(symbol: str) -> None:
            async with sem:
                await self._start_symbol_streams(symbol)

        await asyncio.gather(*(one(s) for s in dict.fromkeys(symbols) if s not in self._books))

    async def _start_symbol_streams(self, symbol: str) -> None:
        # The four subscriptions at once: each waits for its own ack (one round trip, not four).
        opened = await asyncio.gather(
            self.venue.stream_orderbook(symbol, 50),
            self.venue.stream_ticker(symbol),
            self.venue.stream_liquidations(symbol),
            self.venue.stream_trades(symbol),
            return_exceptions=True,
        )
        book, ticker, liqs, trades = opened
        if (
            isinstance(book, BaseException)
            or isinstance(ticker, BaseException)
            or isinstance(liqs, BaseException)
            or isinstance(trades, BaseException)
        ):  # a dropped socket mid-subscribe must not end the cycle
            failed = next(o for o in opened if isinstance(o, BaseException))
            log.warning("stream_subscribe_failed", symbol=symbol, error=repr(failed))
            for stream in opened:
                if not isinstance(stream, BaseException):
                    with contextlib.suppress(Exception):
                        await stream.aclose()
            if not isinstance(failed, Exception):
                raise failed  # cancelled (or interrupted): not a venue failure
            return  # retried at the next cycle
        self._books[symbol] = book
        self._streams += [book, ticker, liqs, trades]
        now = self.clock()
        self.liquidations.watching(symbol, now)
        self.freshness.mark("trade", symbol, now)  # the trade stream's age counts from its subscription
        self._tasks.append(asyncio.create_task(self._follow_book(symbol, book)))
        self._tasks.append(asyncio.create_task(self._follow_ticker(symbol, ticker)))
        self._tasks.append(asyncio.create_task(self._follow_liquidations(symbol, liqs)))
        self._tasks.append(asyncio.create_task(self._follow_trades(symbol, trades)))

    async def _follow_book(self, symbol: str, stream: MarketStream[OrderBook]) -> None:
        # changed(), not iteration: the book itself is only built when a cycle reads it.
        while await stream.changed():
            self.freshness.mark("book", symbol, self.clock())

    async def _follow_ticker(self, symbol: str, stream: MarketStream[Ticker]) -> None:
        while await stream.changed():
            self.freshness.mark("ticker", symbol, self.clock())

    async def _follow_liquidations(self, symbol: str, stream: EventStream[Liquidation]) -> None:
        reconnects = stream.reconnects
        async for liq in stream:
            if stream.reconnects != reconnects:
                # Liquidations published while disconnected are lost: the window restarts.
                reconnects = stream.reconnects
                self.liquidations.watching(symbol, self.clock())
            self.liquidations.add(liq)
            self.freshness.mark("liquidation", symbol, self.clock())

    async def _follow_trades(self, symbol: str, stream: EventStream[PublicTrade]) -> None:
        async for trade in stream:
            self.last_trades[symbol] = trade
            self.freshness.mark("trade", symbol, self.clock())

    async def close(self) -> None:
        """Stop the streams."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # All at once: each close may wait for the venue's unsubscribe ack.
        await asyncio.gather(*(stream.aclose() for stream in self._streams), return_exceptions=True)
        self._tasks.clear()
        self._streams.clear()
        self._books.clear()
        if self.reference is not None:
            await self.reference.close()

    # ------------------------------------------------------------------ cycles

    async def run(self, cycles: int | None = None) -> AsyncIterator[CycleResult]:
        """Run cycles every `cycle_seconds` (forever when `cycles` is None), yielding each result."""
        n = 0
        while cycles is None or n < cycles:
            started = time.monotonic()
            yield await self.collect_once()
            n += 1
            if cycles is not None and n >= cycles:
                break
            await asyncio.sleep(max(0.0, self.config.cycle_seconds - (time.monotonic() - started)))

    async def collect_once(self) -> CycleResult:
        """One complete cycle over the universe; never raises for a symbol's failure."""
        self._cycle += 1
        self._requests = 0
        self._failures = Counter()
        started = self.clock()
        instruments, tickers = await self.universe()
        symbols = [i.symbol for i in instruments]
        # The second exchange's one call overlaps the subscriptions; every symbol needs its answer.
        reference = asyncio.create_task(self._reference_prices(symbols, started))
        try:
            await self.start_streams(symbols)
        except BaseException:
            reference.cancel()
            raise
        ref_prices = await reference
        sem = asyncio.Semaphore(self.config.concurrency)
        done = 0

        async def one(symbol: str) -> SymbolResult:
            nonlocal done
            async with sem:
                result = await self._collect_symbol(symbol, tickers.get(symbol), ref_prices)
            done += 1
            if self.progress is not None:
                self.progress(done, len(symbols))
            return result

        results = await asyncio.gather(*(one(s) for s in symbols))
        finished = self.clock()
        observed = {r.symbol: observed_fields(r.inputs, self.config) for r in results}
        fields = expected_fields(self.config)
        completeness, missing_events = check_completeness(symbols, fields, observed, ts=finished)
        if missing_events:
            by_symbol: dict[str, list[QualityEvent]] = {}
            for e in missing_events:
                by_symbol.setdefault(e.symbol, []).append(e)
            results = [replace(r, events=r.events + tuple(by_symbol.get(r.symbol, ()))) for r in results]
        cycle = CycleResult(
            cycle=self._cycle,
            started_ms=started,
            finished_ms=finished,
            universe=tuple(symbols),
            results=tuple(results),
            completeness=completeness,
            requests=self._requests,
            failures=dict(self._failures),
        )
        log.info(
            "cycle_done",
            cycle=cycle.cycle,
            symbols=len(symbols),
            seconds=round(cycle.duration_s, 3),
            requests=cycle.requests,
            completeness=round(completeness.ratio, 4),
            failures=sum(self._failures.values()),
        )
        if self.sink is not None:
            await self.sink.write_cycle(cycle)
        return cycle

    # ------------------------------------------------------------------ one symbol

    def _symbol_state(self, symbol: str) -> SymbolState:
        st = self._state.get(symbol)
        if st is None:
            cfg = self.config
            st = SymbolState(
                candles={iv: CandleSeries(n) for iv, n in cfg.candles.items()},
                funding=Series(lambda f: f.ts, cfg.funding_limit),
                open_interest=Series(lambda o: o.ts, cfg.oi_limit),
                long_short=Series(lambda r: r.ts, cfg.ls_limit),
            )
            self._state[symbol] = st
        return st

    async def _reference_prices(self, symbols: Sequence[str], now: int) -> dict[str, Decimal] | None:
        """The second exchange's last prices (empty when none is configured; None when it failed)."""
        if self.reference is None:
            return {}
        try:
            # Not through _call: `requests` counts the venue's requests (what its rate limit sees).
            return await self.reference.prices(symbols, now)
        except AsymError as exc:
            self._failures[f"reference:{type(exc).__name__}"] += 1
            log.warning("reference_failed", reference=self.reference.name, error=str(exc))
            return None

    async def _collect_symbol(
        self, symbol: str, ticker: Ticker | None, reference: dict[str, Decimal] | None
    ) -> SymbolResult:
        now = self.clock()
        st = self._symbol_state(symbol)
        events: list[QualityEvent] = []
        flags: list[str] = []
        if ticker is not None:
            events += check_ticker(ticker, self.validation)
            self.freshness.mark("ticker", symbol, ticker.ts)

        jobs: list[Awaitable[Any]] = [self._book(symbol, now)]
        jobs += [self._candles(symbol, iv, st.candles[iv], now) for iv in st.candles]
        jobs += [
            self._funding(symbol, st, now),
            self._open_interest(symbol, st, now),
            self._long_short(symbol, st, now),
        ]
        book, *rest = await asyncio.gather(*jobs)
        candle_results: list[tuple[list[Candle], list[QualityEvent], bool]] = rest[: len(st.candles)]
        funding_ok, oi_ok, ls_ok = rest[len(st.candles) :]

        if book is not None:
            events += check_book(book)
        new_candles: list[Candle] = []
        candles: dict[str, CandleArrays] = {}
        for iv, (fresh, cevents, ok) in zip(st.candles, candle_results, strict=True):
            new_candles += fresh
            events += cevents
            if ok or len(st.candles[iv]):
                candles[iv.value] = st.candles[iv].arrays
            if not ok:
                flags.append(f"candles_fetch_failed:{iv.value}")

        funding = (
            st.funding.items()
            if (funding_ok or not _stale(st.funding.newest, FUNDING_PERIOD_MS, now))
            else None
        )
        if funding is not None and funding:
            events += check_funding(funding[-1], self.validation)
        oi_period = self.config.oi_interval.ms
        oi = (
            st.open_interest.items()
            if (oi_ok or not _stale(st.open_interest.newest, oi_period, now))
            else None
        )
        if oi:
            events += check_open_interest(oi[-1])
        ls_period = self.config.ls_period.ms
        ls = st.long_short.items() if (ls_ok or not _stale(st.long_short.newest, ls_period, now)) else None
        for name, ok in (("funding", funding_ok), ("open_interest", oi_ok), ("long_short", ls_ok)):
            if not ok:
                flags.append(f"{name}_fetch_failed")

        liqs = self.liquidations.recent(symbol, now)
        if liqs is not None and not self.liquidations.covers_window(symbol, now):
            flags.append("liquidations_partial_window")
        trade_price = None
        if self.config.streams and symbol in self._books:
            events += check_freshness(
                "liquidation",
                symbol,
                self.freshness.last("liquidation", symbol) or now,
                now,
                self.validation,
                max_age_ms=self.config.liquidation_window_s * 1000,
            )
            trade_events = check_freshness(
                "trade", symbol, self.freshness.last("trade", symbol) or now, now, self.validation
            )
            events += trade_events
            trade = self.last_trades.get(symbol)
            if trade is not None and not trade_events:
                trade_price = trade.price  # the newest trade, while the stream is fresh

        first_series = next(iter(st.candles.values()), None)
        last_candle = first_series.open_candle if first_series is not None else None
        prices = snapshot_prices(
            ticker=ticker,
            book=book,
            candle=last_candle,
            external=None if trade_price is None else {"trade": trade_price},
        )
        events += cross_validate(symbol, now, prices, self.validation)
        if self.reference is not None:
            name = self.reference.name
            if reference is None:
                flags.append(f"reference_unavailable:{name}")
            elif ticker is not None and symbol in reference:
                pair = {"last": ticker.last_price, name: reference[symbol]}
                events += cross_validate(symbol, now, pair, self.validation, source="reference")

        report = QualityReport.from_events(events)
        inputs = AssetInputs(
            symbol=symbol,
            now_ms=now,
            ticker=ticker,
            book=book,
            candles=candles,
            funding_history=funding,
            open_interest_history=oi,
            long_short_history=ls,
            liquidations=liqs,
            quality_flags=tuple(flags) + report.flags_for(symbol),
        )
        enhanced = compute_enhanced(inputs, self.analytics)
        if self.sink is not None and new_candles:
            await self.sink.write_candles(new_candles)
        return SymbolResult(symbol, inputs, enhanced, tuple(events), len(new_candles))

    # ------------------------------------------------------------------ fetchers

    async def _call(self, what: str, aw: Awaitable[T]) -> T:
        self._requests += 1
        try:
            return await aw
        except AsymError as exc:
            self._failures[f"{what}:{type(exc).__name__}"] += 1
            raise

    async def _book(self, symbol: str, now: int) -> OrderBook | None:
        stream = self._books.get(symbol)
        if stream is not None:
            book = stream.latest()
            if book is not None and now - book.ts <= self.config.book_stream_max_age_ms:
                return _top(book, self.config.book_depth)
        try:
            book = await self._call("orderbook", self.venue.get_orderbook(symbol, self.config.book_depth))
        except (TimeoutError, AsymError) as exc:
            log.warning("book_failed", symbol=symbol, error=str(exc))
            return None
        self.freshness.mark("book", symbol, book.ts)
        return book

    async def _candles(
        self, symbol: str, interval: Interval, series: CandleSeries, now: int
    ) -> tuple[list[Candle], list[QualityEvent], bool]:
        page = min(series.maxlen + 1, 1000)
        newest = series.newest
        limit = missing_count(newest, interval.ms, now, page)
        fresh: list[Candle] = []
        events: list[QualityEvent] = []
        try:
            got = await self._call(
                "klines", self.venue.get_klines(symbol, interval, start=newest, limit=limit)
            )
            # A full refetch when more has passed since the last cycle than one page holds.
            if newest is not None and limit >= page and got and got[0].start > newest:
                got = await self._call("klines", self.venue.get_klines(symbol, interval, limit=page))
        except (TimeoutError, AsymError) as exc:
            log.warning("klines_failed", symbol=symbol, interval=interval.value, error=str(exc))
            return fresh, events, False
        for c in got:
            events += check_candle(c)
        series.merge(got)
        fresh += got
        # Backfill: a gap inside the kept series is fetched once; what stays missing is flagged.
        gaps = find_candle_gaps(series.arrays.start.tolist(), interval)
        if gaps:
            try:
                filled = await self._call(
                    "klines",
                    self.venue.get_klines(
                        symbol, interval, start=gaps[0], end=gaps[-1], limit=min(1000, len(gaps) + 1)
                    ),
                )
                series.merge(filled)
                fresh += filled
            except (TimeoutError, AsymError) as exc:
                log.warning("backfill_failed", symbol=symbol, interval=interval.value, error=str(exc))
            events += gap_events(
                symbol, interval, find_candle_gaps(series.arrays.start.tolist(), interval), now
            )
        a = series.arrays
        events += outlier_events(symbol, a.start, a.open, a.high, a.low, a.close, self.validation)
        return fresh, events, True

    async def _funding(self, symbol: str, st: SymbolState, now: int) -> bool:
        if not due(st.funding.newest, FUNDING_PERIOD_MS, now):
            return True
        try:
            got = await self._call(
                "funding", self.venue.get_funding_history(symbol, limit=self.config.funding_limit)
            )
        except (TimeoutError, AsymError) as exc:
            log.warning("funding_failed", symbol=symbol, error=str(exc))
            return False
        st.funding.merge(got)
        if got:
            self.freshness.mark("funding", symbol, got[-1].ts)
        return True

    async def _open_interest(self, symbol: str, st: SymbolState, now: int) -> bool:
        iv, cap = self.config.oi_interval, self.config.oi_limit
        return await self._periodic(
            "open_interest",
            symbol,
            st.open_interest,
            iv.ms,
            cap,
            now,
            lambda limit: self.venue.get_open_interest(symbol, iv, limit=limit),
        )

    async def _long_short(self, symbol: str, st: SymbolState, now: int) -> bool:
        iv, cap = self.config.ls_period, self.config.ls_limit
        return await self._periodic(
            "long_short",
            symbol,
            st.long_short,
            iv.ms,
            cap,
            now,
            lambda limit: self.venue.get_long_short_ratio(symbol, iv, limit=limit),
        )

    async def _periodic(
        self,
        what: str,
        symbol: str,
        series: Series[Any],
        period_ms: int,
        cap: int,
        now: int,
        fetch: Callable[[int], Awaitable[Sequence[Any]]],
    ) -> bool:
        """Bring a history series on a fixed period up to `now`: nothing when no new point is due, else only
        the missing points. False when the fetch failed (the caller flags it)."""
        if not due(series.newest, period_ms, now):
            return True
        try:
            got = await self._call(what, fetch(missing_count(series.newest, period_ms, now, cap)))
        except (TimeoutError, AsymError) as exc:
            log.warning(f"{what}_failed", symbol=symbol, error=str(exc))
            return False
        series.merge(got)
        return True


def gap_events(symbol: str, interval: Interval, missing: Sequence[int], now: int) -> list[QualityEvent]:
    """One CANDLE_GAP warning per missing candle that backfilling could not recover."""
    return [
        QualityEvent(
            ts=start,
            symbol=symbol,
            source="candle",
            field=f"candles_{interval.value}",
            kind=QualityKind.CANDLE_GAP,
            severity=Severity.WARNING,
            detail=f"candle {interval.value} starting {start} missing after backfill (checked at {now})",
            value=str(start),
        )
        for start in missing
    ]


def _top(book: OrderBook, depth: int) -> OrderBook:
    if len(book.bids) <= depth and len(book.asks) <= depth:
        return book
    return OrderBook(
        symbol=book.symbol,
        bids=book.bids[:depth],
        asks=book.asks[:depth],
        ts=book.ts,
        update_id=book.update_id,
        seq=book.seq,
        category=book.category,
    )


def _stale(newest: int | None, period_ms: int, now: int) -> bool:
    """A cached series is stale once it has missed more than one of its periods."""
    return newest is None or now - newest > 2 * period_ms
