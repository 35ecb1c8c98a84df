"""Drivers: move a market model and the matching engine from one instant to the next.

`BarDriver` walks `BarMarket`'s candle paths for the symbols the engine holds orders or positions in,
in time order across symbols, and refines each leg with a point at every price where something would
happen (an untriggered order's trigger, a resting limit price, the position's liquidation price): a
continuous path crosses those prices, so the engine sees them as a 1-second simulation would, at a
fraction of the cost. After every instant the engine reacts (`on_market`): triggers, maker fills, funding,
liquidation.

`StepDriver` advances any `MarketModel` (e.g. the simulator's replay `Market`) in fixed steps (1 s by
default), optionally replacing the model's own funding settlements with recorded ones.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from asym.backtest.bars import BarMarket, PathPoint
from asym.domain import FundingRate, OrderStatus, OrderType
from asym.sim.engine import Engine
from asym.sim.types import FundingSettlement, MarketEvents, MarketModel

EventHook = Callable[[MarketEvents], None]
_Item = tuple[int, int, str, PathPoint | None, bool]
"""(time, tie-breaker, symbol, point to push or None, whether the point ends a leg)."""


class Driver(Protocol):
    """Moves market and engine forward."""

    def run(self, after: int, upto: int) -> None:
        """Everything that happens in (after, upto], the engine reacting at each instant."""
        ...


def watch_prices(engine: Engine, uid: str, symbol: str) -> list[int]:
    """Prices (ticks) where the account's orders or position would react on `symbol`."""
    out: set[int] = set()
    for o in engine.orders(uid, symbol=symbol, order_id="", order_link_id="", open_only=True):
        if o.status is OrderStatus.UNTRIGGERED and o.trigger_price:
            out.add(o.trigger_price)
        elif o.order_type is OrderType.LIMIT and o.status.is_open:
            out.add(o.price)
    for p in engine.positions(uid, symbol):
        if p.size and p.liq_price:
            out.add(p.liq_price)
    return sorted(out)


class BarDriver:
    """Drives a `BarMarket` (candle paths, refined at the prices that matter)."""

    def __init__(
        self, market: BarMarket, engine: Engine, uid: str, on_events: EventHook | None = None
    ) -> None:
        self.market = market
        self.engine = engine
        self.uid = uid
        self.on_events = on_events
        self.instants = 0
        """How many instants the engine reacted to (a cost figure for benchmarks)."""

    def _base_points(self, symbol: str, after: int, upto: int) -> deque[PathPoint]:
        s = self.market.series[symbol]
        i = max(0, s.candle_at(after + 1))
        out: deque[PathPoint] = deque()
        n = len(s.start)
        while i < n and int(s.start[i]) < upto:
            for p in s.points(i):
                if after < p.ts <= upto:
                    out.append(p)
            i += 1
        return out

    def _leg(self, heap: list[_Item], seq: list[int], symbol: str, now: int, todo: deque[PathPoint]) -> None:
        """Schedule the next base point of `symbol`, preceded by refined points on the way to it."""
        if not todo:
            return
        nxt = todo.popleft()
        cur = self.market._price(symbol, now)[0]
        lo, hi = min(cur, nxt.price), max(cur, nxt.price)
        inside = [w for w in watch_prices(self.engine, self.uid, symbol) if lo < w < hi]
        inside.sort(key=lambda w: abs(w - cur))
        span = nxt.ts - now
        last_ts = now
        for w in inside:
            frac = abs(w - cur) / abs(nxt.price - cur)
            ts = min(max(now + int(span * frac), last_ts + 1), nxt.ts)
            last_ts = ts
            seq[0] += 1
            heapq.heappush(heap, (ts, seq[0], symbol, PathPoint(ts, w, nxt.size), False))
        seq[0] += 1
        heapq.heappush(heap, (nxt.ts, seq[0], symbol, nxt, True))

    def run(self, after: int, upto: int) -> None:
        """Drive (after, upto]."""
        market, engine = self.market, self.engine
        active = sorted(engine.active_symbols())
        if not active or upto <= after:
            market.advance(max(upto, after), [])
            return
        heap: list[_Item] = []
        seq = [0]
        todo = {sym: self._base_points(sym, after, upto) for sym in active}
        for sym in active:
            self._leg(heap, seq, sym, after, todo[sym])
            s = market.series[sym]
            for k in range(bisect_right(s.funding_ts, after), bisect_right(s.funding_ts, upto)):
                seq[0] += 1
                heapq.heappush(heap, (s.funding_ts[k], seq[0], sym, None, False))
        seq[0] += 1
        heapq.heappush(heap, (upto, seq[0], "", None, False))
        while heap:
            ts = heap[0][0]
            ended: list[str] = []
            while heap and heap[0][0] == ts:
                _, _, sym, point, leg_end = heapq.heappop(heap)
                if point is not None:
                    market.push(sym, point)
                if leg_end:
                    ended.append(sym)
            events = market.advance(ts, active)
            engine.on_market(events, ts)
            self.instants += 1
            if self.on_events is not None:
                self.on_events(events)
            for sym in ended:
                self._leg(heap, seq, sym, ts, todo[sym])


class StepDriver:
    """Drives any MarketModel in fixed steps; recorded funding replaces the model's own when given."""

    def __init__(
        self,
        market: MarketModel,
        engine: Engine,
        step_ms: int = 1000,
        funding: Mapping[str, Sequence[FundingRate]] | None = None,
        on_events: EventHook | None = None,
    ) -> None:
        if step_ms < 1:
            raise ValueError("step_ms must be >= 1")
        self.market = market
        self.engine = engine
        self.step_ms = step_ms
        self.funding = {k: sorted(v, key=lambda f: f.ts) for k, v in (funding or {}).items()}
        self.on_events = on_events
        self.instants = 0

    def _next_settlement(self, symbols: list[str], after: int) -> int:
        """The first recorded settlement after `after` of `symbols` (a step ends there: exact mark)."""
        best = 1 << 62
        for sym in symbols:
            rates = self.funding.get(sym, ())
            k = bisect_right(rates, after, key=lambda f: f.ts)
            if k < len(rates):
                best = min(best, rates[k].ts)
        return best

    def _recorded(self, symbols: list[str], after: int, upto: int) -> list[FundingSettlement]:
        out: list[FundingSettlement] = []
        for sym in symbols:
            for f in self.funding.get(sym, ()):
                if after < f.ts <= upto:
                    out.append(
                        FundingSettlement(symbol=sym, ts=f.ts, rate=f.rate, mark=self.market.ticker(sym).mark)
                    )
        return out

    def run(self, after: int, upto: int) -> None:
        """Drive (after, upto] in steps of `step_ms` (the last step ends at `upto`)."""
        t = after
        while t < upto:
            active = sorted(self.engine.active_symbols())
            nxt = min(upto, t + self.step_ms, self._next_settlement(active, t))
            events = self.market.advance(nxt, active)
            if self.funding:
                events = MarketEvents(
                    trades=events.trades,
                    liquidations=events.liquidations,
                    fundings=self._recorded(active, t, nxt),
                )
            self.engine.on_market(events, nxt)
            self.instants += 1
            if self.on_events is not None:
                self.on_events(events)
            t = nxt


__all__ = ["BarDriver", "Driver", "StepDriver", "watch_prices"]
