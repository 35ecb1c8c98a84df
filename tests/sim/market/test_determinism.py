"""State at market time t does not depend on how often the model was sampled before t."""

from __future__ import annotations

from asym.domain import Interval
from asym.sim.market import Market
from asym.sim.types import MarketEvents, PriceKind

from .conftest import START_MS, make_market

SYMBOLS = ["BTCUSDT", "SOLUSDT", "DOGEUSDT"]


def _snapshot(m: Market, symbol: str) -> tuple[object, ...]:
    book = m.book(symbol, 50)
    return (
        book.bids,
        book.asks,
        book.update_id,
        book.seq,
        book.cts,
        m.ticker(symbol),
        m.klines(symbol, Interval.M1, None, None, 5, PriceKind.TRADE),
        m.klines(symbol, Interval.M5, None, None, 3, PriceKind.MARK),
        m.recent_trades(symbol, 50),
    )


def _merge(into: MarketEvents, ev: MarketEvents) -> None:
    into.trades += ev.trades
    into.liquidations += ev.liquidations
    into.fundings += ev.fundings


def test_dense_and_sparse_sampling_agree() -> None:
    dense, sparse = make_market(), make_market()
    for s in SYMBOLS:  # both touch the symbols at the start
        dense.ticker(s)
        sparse.ticker(s)
    ev_dense, ev_sparse = MarketEvents(), MarketEvents()
    end = START_MS + 84_000
    checkpoints = 0
    for t in range(START_MS + 100, end + 1, 100):
        _merge(ev_dense, dense.advance(t))
        for s in SYMBOLS:
            dense.book(s, 50)
            dense.ticker(s)
        if (t - START_MS) % 7_000 == 0:
            _merge(ev_sparse, sparse.advance(t))
            for s in SYMBOLS:
                assert _snapshot(dense, s) == _snapshot(sparse, s), (s, t)
            checkpoints += 1
    _merge(ev_sparse, sparse.advance(end))
    assert checkpoints == 12
    # Events come in time order per symbol; the interleaving of symbols within one call is free.
    for s in SYMBOLS:
        assert [e for e in ev_dense.trades if e.symbol == s] == [e for e in ev_sparse.trades if e.symbol == s]
        assert [e for e in ev_dense.liquidations if e.symbol == s] == [
            e for e in ev_sparse.liquidations if e.symbol == s
        ]
    assert ev_dense.fundings == ev_sparse.fundings
    assert len(ev_dense.trades) > 100


def test_touch_order_and_late_activation_do_not_change_prices() -> None:
    early, late = make_market(), make_market()
    early.ticker("ETHUSDT")
    early.ticker("BTCUSDT")
    t = START_MS + 600_000
    early.advance(t)
    late.advance(t)  # nothing active yet: BTC and ETH are first built now, ten minutes in
    for s in ("BTCUSDT", "ETHUSDT"):
        assert early.ticker(s) == late.ticker(s)
        assert early.book(s, 200).bids == late.book(s, 200).bids
        assert early.klines(s, Interval.M1, None, None, 30, PriceKind.TRADE) == late.klines(
            s, Interval.M1, None, None, 30, PriceKind.TRADE
        )


def test_same_seed_same_market_other_seed_other_market() -> None:
    a, b, c = make_market(), make_market(), make_market(seed=8)
    ka = a.klines("BTCUSDT", Interval.H1, None, None, 48, PriceKind.TRADE)
    assert ka == b.klines("BTCUSDT", Interval.H1, None, None, 48, PriceKind.TRADE)
    assert ka != c.klines("BTCUSDT", Interval.H1, None, None, 48, PriceKind.TRADE)
    # The universe itself does not depend on the seed.
    assert [i.info for i in a.instruments()] == [i.info for i in c.instruments()]
