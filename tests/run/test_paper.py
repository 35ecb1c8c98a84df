"""Paper trading: public data from a "real" venue (here a simulator standing in for Bybit, over real
sockets, with no keys), fills from the local matching engine mirroring that venue's live book."""

from __future__ import annotations

from decimal import Decimal

from asym.app.paper import open_paper
from asym.app.venues import SimOptions, parse_venue
from asym.domain import Side
from asym.signals.schema import Action
from asym.sim.server.testing import running_simulator
from asym.trading.config import RiskConfig
from asym.trading.order_states import OrderState
from asym.trading.session import SessionConfig, TradingSession

from .helpers import enhanced, signal, venue_rounding_bound

D = Decimal
SYM = "ETHUSDT"


def test_paper_venue_spec() -> None:
    assert parse_venue("paper") == ("paper", "mainnet")
    assert parse_venue("paper:testnet") == ("paper", "testnet")
    assert parse_venue("paper:http://127.0.0.1:9000") == ("paper", "http://127.0.0.1:9000")


async def test_paper_fills_against_the_live_book_and_never_touch_the_source() -> None:
    async with running_simulator(symbols=3, seed=4, rate_limits=False, history_days=1) as source:
        async with open_paper(source.rest_url, SimOptions(balance=D(50_000))) as tv:
            assert tv.name == f"paper:{source.rest_url}" and tv.kind == "paper"
            cfg = SessionConfig(risk=RiskConfig(risk_per_trade=D("0.001")), signal_mode_name="paper")
            session = TradingSession(tv.client, tv.clock, cfg, venue_name=tv.name)
            await session.start()
            assert session.books.start is not None and session.books.start.balance == D(50_000)
            (src_ticker,) = await tv.client.get_tickers(SYM)  # market data: from the source
            mark = src_ticker.mark_price or src_ticker.last_price
            now = tv.clock()
            report = await session.on_cycle([enhanced(SYM, now, mark)], [signal(SYM, Side.BUY, mark)], now)
            (link,) = report.entries
            src_book = await tv.client.get_orderbook(SYM, 5)
            await session.reconcile(tv.clock())
            rec = session.tracker.get(link)
            assert rec is not None and rec.state is OrderState.FILLED
            (plan,) = session.trades.plans.values()
            fills = [x for x in await tv.client.get_executions(SYM) if x.order_link_id == link]
            assert fills and sum(x.qty for x in fills) == plan.qty
            for x in fills:  # matched against the mirrored live book of the source
                assert src_book.best_bid is not None and src_book.best_ask is not None
                assert src_book.best_bid <= x.price <= src_book.best_ask * D("1.002"), (
                    x.price,
                    src_book.best_ask,
                )
            (pos,) = [p for p in await tv.client.get_positions(SYM) if p.size > 0]
            assert pos.stop_loss == plan.stop_loss
            now = tv.clock()
            close = signal(SYM, Side.BUY, mark, action=Action.CLOSE, data_ts=now)
            await session.on_cycle([enhanced(SYM, now, mark)], [close], now)
            await session.reconcile(tv.clock())
            assert session.books.held(SYM) == 0 and len(session.books.ledger.closed) == 1
            wallet = await tv.client.get_wallet()
            bound = venue_rounding_bound(await tv.client.get_executions(SYM))  # 0 for a one-price entry
            assert abs(session.portfolio.balance - wallet.total_wallet_balance) <= bound
            await session.close()
        # the source never saw an order: paper trading has no keys there
        ex = source.exchange
        assert ex.engine.orders(ex.uid, symbol=None, order_id="", order_link_id="", open_only=False) == []
