"""A small driver of the trading session against a running simulator, for the SIGKILL test.

    python kill_driver.py URL DB          # start (restart reconciliation), then one cycle: a LONG on every
                                          # symbol; prints "PLACING <link>" as each order leaves, "DONE" at
                                          # the end, and a JSON line with the session's tracked orders

Run it, kill -9 it while orders are in flight, run it again on the same DB: the second run recovers and
replays the same cycle (same signals, so the same orderLinkIds).
"""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from asym.app.venues import open_trading_venue
from asym.domain import OrderRequest, Side
from asym.domain.venue import OrderAck
from asym.store import Store, StoreConfig
from asym.trading.config import RiskConfig
from asym.trading.session import SessionConfig, TradingSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import enhanced, signal

DATA_TS = 1_750_000_000_000


class Announcing:
    """The venue, announcing every order as it leaves (so the test knows when to kill)."""

    def __init__(self, venue: Any) -> None:
        self._venue = venue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)

    async def place_order(self, request: OrderRequest) -> OrderAck:
        print(f"PLACING {request.order_link_id}", flush=True)
        return await self._venue.place_order(request)


def reference_marks(db: str, marks: dict[str, Decimal]) -> dict[str, Decimal]:
    """The same cycle after a restart must carry the same signals: their prices come from the marks the
    first run saw (the market moves far less than the 1 % stop between the runs)."""
    refs_file = Path(db + ".refs.json")
    if refs_file.exists():
        return {k: Decimal(v) for k, v in json.loads(refs_file.read_text()).items()}
    refs_file.write_text(json.dumps({k: str(v) for k, v in marks.items()}))
    return marks


async def main(url: str, db: str) -> None:
    async with open_trading_venue(url) as tv:
        store = await Store.open(StoreConfig(path=db))
        config = SessionConfig(risk=RiskConfig(risk_per_trade=Decimal("0.002"), max_concurrent_positions=10))
        session = TradingSession(Announcing(tv.client), tv.clock, config, store=store, venue_name=tv.name)
        report = await session.start()
        print(json.dumps({"restart_actions": [a for a, _ in report.actions]}), flush=True)
        tickers = {t.symbol: t for t in await tv.client.get_tickers()}
        marks: dict[str, Decimal] = {s: t.mark_price or t.last_price for s, t in tickers.items()}
        refs = reference_marks(db, marks)
        now = tv.clock()
        data, signals = [], []
        for sym in sorted(session.instruments):
            data.append(enhanced(sym, now, marks[sym]))
            targets = (("0.03", "0.5"), ("0.06", "0.5"))
            signals.append(
                signal(sym, Side.BUY, refs[sym], stop_frac="0.01", targets=targets, data_ts=DATA_TS)
            )
        await session.on_cycle(data, signals, now)
        await session.reconcile(tv.clock())
        print("DONE", flush=True)
        tracked = {r.order_link_id or f"#{r.order_id}": r.state.value for r in session.tracker.records()}
        print(json.dumps({"tracked": tracked, "mode": session.mode.value}), flush=True)
        await session.close()
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
