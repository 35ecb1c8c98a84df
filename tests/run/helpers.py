"""Builders and a controllable simulator for the trading-shell tests (real simulator, real sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from asym.analytics.types import EnhancedData
from asym.app.clock import SteppedClock
from asym.bybit.auth import Credentials
from asym.bybit.client import BybitClient
from asym.domain import Side
from asym.signals.schema import Action, EntryType, Signal, TakeProfit, Usage
from asym.sim.config import SimConfig
from asym.sim.server.app import SimServer
from asym.trading.session import SessionConfig, TradingSession

D = Decimal
START = 1_750_000_000_000


@dataclass
class Sim:
    """A simulator whose market time moves only when the test says so (same event loop)."""

    server: SimServer
    clock: SteppedClock
    client: BybitClient

    @property
    def exchange(self) -> Any:
        return self.server.exchange

    @property
    def uid(self) -> str:
        return str(self.server.exchange.uid)

    async def advance(self, ms: int, settle_s: float = 0.005) -> None:
        """Move market time forward, let the engine react and the WebSocket publish."""
        self.clock.advance(ms)
        self.exchange.sync()
        await asyncio.sleep(settle_s)

    def mark(self, symbol: str) -> Decimal:
        inst = self.exchange.instrument(symbol)
        return inst.price.to_decimal(self.exchange.market.ticker(symbol).mark)

    def link_count(self, link: str) -> int:
        return int(self.exchange.engine.order_count_by_link_id(self.uid, link))

    def wallet_balance(self) -> Decimal:
        return Decimal(self.exchange.engine.wallet(self.uid).total_wallet_balance)


@asynccontextmanager
async def manual_sim(**overrides: Any) -> AsyncIterator[Sim]:
    """A simulator on 127.0.0.1 with a paused clock, and a connected client."""
    fields: dict[str, Any] = {
        "symbols": 3,
        "seed": 11,
        "start_ms": START,
        "history_days": 2,
        "rate_limits": False,
        "balance_usdt": D(100_000),
    }
    fields.update(overrides)
    cfg = SimConfig(**fields)
    clock = SteppedClock(cfg.start_ms or START, 1.0)
    server = SimServer(cfg, clock=clock)
    await server.start("127.0.0.1", 0)
    try:
        async with BybitClient(server.rest_url, Credentials(cfg.api_key, cfg.api_secret)) as client:
            yield Sim(server, clock, client)
    finally:
        await server.stop()


def session_for(sim: Sim, config: SessionConfig | None = None, **kw: Any) -> TradingSession:
    """A session on the simulator's client and clock."""
    return TradingSession(sim.client, sim.clock.now_ms, config, venue_name=kw.pop("venue_name", "sim"), **kw)


def enhanced(
    symbol: str,
    ts: int,
    mark: Decimal,
    *,
    score: float | None = 0.3,
    flags: tuple[str, ...] = (),
    bid: Decimal | None = None,
    ask: Decimal | None = None,
) -> EnhancedData:
    """Enhanced data with the fields risk and the mode machine read."""
    return EnhancedData(
        symbol=symbol,
        timestamp=ts,
        last_price=mark,
        mark_price=mark,
        index_price=mark,
        bid_price=bid,
        ask_price=ask,
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


def signal(
    symbol: str,
    side: Side,
    mark: Decimal,
    *,
    stop_frac: str = "0.004",
    targets: tuple[tuple[str, str], ...] = (("0.02", "1"),),
    entry_type: EntryType = EntryType.MARKET,
    entry: Decimal | None = None,
    leverage: str = "5",
    data_ts: int = START,
    action: Action | None = None,
) -> Signal:
    """A validated-looking signal: stop and targets as fractions of the mark away from it."""
    sign = 1 if side is Side.BUY else -1
    ref = entry if entry is not None else mark
    stop = ref * (1 - sign * D(stop_frac))
    tps = tuple(
        TakeProfit(price=ref * (1 + sign * D(d)), fraction=D(f), reward_risk=D(3)) for d, f in targets
    )
    act = action or (Action.LONG if side is Side.BUY else Action.SHORT)
    trade = act in (Action.LONG, Action.SHORT)
    return Signal(
        symbol=symbol,
        action=act,
        entry_type=entry_type if trade else None,
        entry_price=ref if trade else None,
        mark_price=mark,
        stop_loss=stop if trade else None,
        take_profits=tps if trade else (),
        confidence=0.7,
        leverage=D(leverage) if trade else None,
        horizon_hours=24.0 if trade else None,
        reward_risk=D("3.5") if trade else None,
        stop_atr=1.5,
        rationale="test",
        model_id="test",
        prompt_version="t1",
        latency_ms=1.0,
        usage=Usage(),
        data_timestamp=data_ts,
    )


async def eventually(predicate: Any, timeout_s: float = 5.0, step_s: float = 0.01) -> None:
    """Wait until `predicate()` is true (private events arrive over the WebSocket); fail after the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(step_s)


def btc_instrument() -> Any:
    """BTCUSDT with Bybit's real filters (market_instruments_info_linear.json)."""
    from asym.domain import Instrument

    return Instrument(
        symbol="BTCUSDT",
        base_coin="BTC",
        price_scale=2,
        tick_size=D("0.10"),
        min_price=D("0.10"),
        max_price=D("1999999.80"),
        qty_step=D("0.001"),
        min_order_qty=D("0.001"),
        max_order_qty=D("1190.000"),
        max_mkt_order_qty=D("500.000"),
        min_notional=D(5),
        max_leverage=D("100.00"),
        upper_funding_rate=D("0.00375"),
        lower_funding_rate=D("-0.00375"),
    )


def file_size(path: str | Path) -> int:
    """Size of a file in bytes (0 when absent)."""
    p = Path(path)
    return p.stat().st_size if p.exists() else 0


async def guarded(coro: Any, timeout_s: float) -> Any:
    """Await `coro`; past the timeout, print the stack of every task (where it hangs) and fail."""
    task = asyncio.ensure_future(coro)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if task in done:
        return task.result()
    for t in asyncio.all_tasks():
        t.print_stack(limit=30)
    task.cancel()
    raise AssertionError(f"no result within {timeout_s} s (task stacks printed above)")


def venue_rounding_bound(fills: Any) -> Decimal:
    """How far a simulator account may be from the exact books: it rounds its average entry to 8 decimals
    after every opening fill but the first (one price is exact), which moves the value of a later close by
    at most 0.5e-8 per unit closed per rounding. 0 when every position opened at one price."""
    from asym.domain import ExecType

    bound = D(0)
    for sym in {x.symbol for x in fills}:
        xs = [x for x in fills if x.symbol == sym and x.exec_type is ExecType.TRADE]
        closed = sum((x.closed_size for x in xs), D(0))
        opening = sum(1 for x in xs if x.closed_size == 0)
        bound += closed * max(0, opening - 1) * D("0.000000005")
    return bound
