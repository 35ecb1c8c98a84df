"""The instrument universe, its filters and risk tiers, and a large market that stays lazy."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from asym.sim.config import SimConfig
from asym.sim.market import Market
from asym.sim.market.instruments import build_universe, risk_limit_tiers

from .conftest import START_MS


def test_universe_names_prices_and_filters() -> None:
    m = Market(SimConfig(symbols=520), START_MS)
    insts = m.instruments()
    names = [i.symbol for i in insts]
    assert len(names) == 520 and len(set(names)) == 520
    assert names[:6] == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"]
    assert all(n.endswith("USDT") for n in names)
    assert any(n.startswith("ALT") for n in names[100:]) and not any(n.startswith("ALT") for n in names[:100])
    by = {i.symbol: i for i in insts}
    assert 50_000 < by["BTCUSDT"].base_price < 200_000
    assert 1_000 < by["ETHUSDT"].base_price < 10_000
    assert 50 < by["SOLUSDT"].base_price < 500
    assert by["BTCUSDT"].info.tick_size == Decimal("0.10") and by["BTCUSDT"].info.qty_step == Decimal("0.001")
    for inst in insts:
        info = inst.info
        assert (
            info.symbol == inst.symbol
            and info.quote_coin == "USDT"
            and info.contract_type == "LinearPerpetual"
        )
        # Tick follows price (4-6 significant digits), the reference price is on the grid.
        digits = inst.base_price / info.tick_size
        assert 1_000 <= digits <= 10_000_000, (inst.symbol, digits)
        assert inst.base_price % info.tick_size == 0
        assert info.min_price == info.tick_size and info.max_price > inst.base_price * 10
        assert info.price_scale == inst.price.decimals
        # Qty step follows value; min qty is one step; market orders are capped lower than limit orders.
        assert info.min_order_qty == info.qty_step
        assert info.qty_step * inst.base_price <= 110  # BTC: 0.001 x 104,000
        assert info.max_mkt_order_qty < info.max_order_qty
        assert info.max_order_qty % info.qty_step == 0 and info.max_mkt_order_qty % info.qty_step == 0
        assert info.min_notional == Decimal(5)
        assert info.funding_interval_min == 480
        assert info.lower_funding_rate == -info.upper_funding_rate
        assert Decimal("0.005") <= info.upper_funding_rate <= Decimal("0.0375")
        assert Decimal(10) <= info.max_leverage <= Decimal(100)
        assert inst.price.step == info.tick_size and inst.qty.step == info.qty_step
    assert by["BTCUSDT"].info.max_leverage == by["ETHUSDT"].info.max_leverage == Decimal(100)
    assert by["SOLUSDT"].info.max_leverage < Decimal(100)
    assert by["ALT400USDT"].info.upper_funding_rate == Decimal("0.0375")
    assert by["BTCUSDT"].info.upper_funding_rate == Decimal("0.005")
    with pytest.raises(KeyError):
        m.instrument("NOPEUSDT")


def test_risk_limit_tiers() -> None:
    m = Market(SimConfig(symbols=150), START_MS)
    for symbol in ("BTCUSDT", "SOLUSDT", "ALT140USDT"):
        tiers = m.risk_limits(symbol)
        assert len(tiers) >= 5
        assert tiers[0].max_leverage == m.instrument(symbol).info.max_leverage
        assert [t.tier_id for t in tiers] == list(range(1, len(tiers) + 1))
        for a, b in itertools.pairwise(tiers):
            assert b.risk_limit_value > a.risk_limit_value
            assert b.max_leverage < a.max_leverage
            assert b.maintenance_margin > a.maintenance_margin and b.initial_margin > a.initial_margin
            # Maintenance margin is continuous where one tier hands over to the next.
            v = a.risk_limit_value
            assert float(v * a.maintenance_margin - a.mm_deduction) == pytest.approx(
                float(v * b.maintenance_margin - b.mm_deduction), abs=0.01
            )
        for t in tiers:
            assert t.symbol == symbol and float(t.initial_margin) == pytest.approx(
                float(1 / t.max_leverage), abs=1e-4
            )
    assert risk_limit_tiers(build_universe(1)[0])[0].risk_limit_value == Decimal(2_000_000)


def test_large_market_is_lazy() -> None:
    m = Market(SimConfig(symbols=1000), START_MS)
    assert len(m.instruments()) == 1000
    assert m.stats()["generated_symbols"] == 0 and m.stats()["day_blocks"] == 0
    m.advance(START_MS + 60_000)  # nothing active: nothing computed
    assert m.stats()["generated_symbols"] == 0 and m.stats()["live_minutes"] == 0
    m.ticker("ALT777USDT")
    m.book("ETHUSDT", 50)
    st = m.stats()
    assert st["generated_symbols"] == 2
    assert st["day_blocks"] <= 2 * 3  # today and yesterday (24 h window), per symbol
    assert m.active_symbols() == ["ETHUSDT", "ALT777USDT"]
    ev = m.advance(START_MS + 120_000)
    assert {e.symbol for e in ev.trades} <= {"ETHUSDT", "ALT777USDT"}
    assert m.stats()["generated_symbols"] == 2
