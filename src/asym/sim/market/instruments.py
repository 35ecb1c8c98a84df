"""The simulated linear USDT-perpetual universe: instruments with Bybit-like filters, the per-symbol model
profile the generator uses, and risk-limit tiers.

The universe does not depend on the seed (the same symbols, filters and reference prices for every run):
clients and tests can rely on BTCUSDT's tick being 0.10 whatever the seed; only the price paths vary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from asym.domain import Instrument, RiskLimitTier
from asym.sim.market.seeding import symbol_key
from asym.sim.types import SimInstrument
from asym.sim.units import Scale

# (base coin, reference price in USDT, annualised vol, 1m return correlation with BTC).
# Prices are mid-2025 levels; vol/correlation of BTC, ETH, SOL, BNB are the measured figures of
# asym.sim.market.calibration, the others are plausible values of the same family.
_MAJORS: list[tuple[str, str, float, float]] = [
    ("BTC", "104000", 0.335, 1.0),
    ("ETH", "2500", 0.672, 0.77),
    ("SOL", "150", 0.727, 0.745),
    ("BNB", "650", 0.306, 0.65),
    ("XRP", "2.2", 0.70, 0.70),
    ("DOGE", "0.17", 0.85, 0.72),
    ("ADA", "0.58", 0.80, 0.70),
    ("TRX", "0.27", 0.40, 0.45),
    ("LINK", "13.5", 0.80, 0.70),
    ("AVAX", "18.5", 0.85, 0.70),
    ("TON", "2.9", 0.70, 0.55),
    ("SUI", "2.9", 1.00, 0.65),
    ("DOT", "3.4", 0.80, 0.68),
    ("LTC", "86", 0.70, 0.66),
    ("BCH", "480", 0.70, 0.60),
    ("SHIB1000", "0.0118", 0.85, 0.66),
    ("NEAR", "2.2", 0.90, 0.66),
    ("APT", "4.6", 0.90, 0.64),
    ("UNI", "7.2", 0.95, 0.64),
    ("ICP", "4.9", 0.90, 0.60),
    ("ETC", "16.5", 0.80, 0.64),
    ("HBAR", "0.15", 0.95, 0.62),
    ("FIL", "2.4", 0.90, 0.63),
    ("ARB", "0.32", 1.00, 0.65),
    ("OP", "0.56", 1.00, 0.65),
    ("ATOM", "4.1", 0.85, 0.63),
    ("INJ", "10.5", 1.00, 0.62),
    ("IMX", "0.42", 1.05, 0.60),
    ("STX", "0.62", 1.05, 0.58),
    ("RENDER", "3.4", 1.10, 0.60),
    ("TIA", "1.45", 1.15, 0.58),
    ("SEI", "0.27", 1.15, 0.58),
    ("WIF", "0.82", 1.40, 0.58),
    ("FET", "0.70", 1.15, 0.60),
    ("AAVE", "255", 0.95, 0.60),
    ("MKR", "1850", 0.90, 0.50),
    ("LDO", "0.78", 1.05, 0.60),
    ("CRV", "0.58", 1.10, 0.58),
    ("GRT", "0.088", 1.00, 0.60),
    ("ALGO", "0.18", 0.90, 0.62),
    ("VET", "0.022", 0.90, 0.60),
    ("XLM", "0.24", 0.80, 0.62),
    ("1000PEPE", "0.0098", 1.30, 0.60),
    ("1000BONK", "0.0155", 1.40, 0.56),
    ("ENA", "0.27", 1.30, 0.60),
    ("ONDO", "0.78", 1.10, 0.55),
    ("JUP", "0.46", 1.10, 0.58),
    ("PYTH", "0.105", 1.10, 0.55),
    ("WLD", "0.95", 1.20, 0.56),
    ("TAO", "330", 1.10, 0.55),
    ("KAS", "0.072", 0.95, 0.45),
    ("ORDI", "7.6", 1.25, 0.55),
    ("SAND", "0.25", 0.95, 0.60),
    ("MANA", "0.28", 0.95, 0.60),
    ("AXS", "2.3", 0.95, 0.58),
    ("GALA", "0.0155", 1.05, 0.58),
    ("APE", "0.58", 1.10, 0.56),
    ("CHZ", "0.036", 1.00, 0.56),
    ("FLOW", "0.34", 0.95, 0.55),
    ("EGLD", "14.5", 0.95, 0.56),
    ("THETA", "0.72", 0.95, 0.55),
    ("XTZ", "0.53", 0.90, 0.55),
    ("EOS", "0.58", 0.95, 0.55),
    ("KAVA", "0.39", 0.95, 0.52),
    ("ZEC", "45", 1.00, 0.45),
    ("DASH", "20", 0.90, 0.50),
    ("NEO", "5.6", 0.90, 0.54),
    ("IOTA", "0.17", 0.95, 0.55),
    ("RUNE", "1.3", 1.15, 0.52),
    ("SNX", "0.62", 1.10, 0.54),
    ("COMP", "41", 1.00, 0.55),
    ("YFI", "5100", 0.95, 0.52),
    ("SUSHI", "0.62", 1.10, 0.54),
    ("1INCH", "0.19", 1.05, 0.56),
    ("ENS", "19.5", 1.05, 0.54),
    ("DYDX", "0.53", 1.10, 0.56),
    ("GMX", "13.2", 1.00, 0.48),
    ("BLUR", "0.085", 1.15, 0.52),
    ("PENDLE", "3.6", 1.20, 0.52),
    ("JTO", "1.75", 1.20, 0.52),
    ("STRK", "0.125", 1.15, 0.55),
    ("ZRO", "2.0", 1.10, 0.52),
    ("NOT", "0.0019", 1.30, 0.50),
    ("POPCAT", "0.33", 1.60, 0.48),
    ("MEW", "0.0028", 1.50, 0.48),
    ("BRETT", "0.045", 1.50, 0.48),
    ("TRUMP", "9.5", 1.30, 0.45),
    ("HYPE", "36", 1.10, 0.50),
    ("VIRTUAL", "1.75", 1.60, 0.48),
    ("FARTCOIN", "1.05", 1.70, 0.45),
    ("PNUT", "0.22", 1.60, 0.46),
    ("GOAT", "0.085", 1.70, 0.44),
    ("MOODENG", "0.15", 1.70, 0.44),
    ("MAGIC", "0.15", 1.20, 0.50),
    ("GMT", "0.045", 1.05, 0.54),
    ("ROSE", "0.026", 1.00, 0.54),
    ("ZIL", "0.0115", 0.95, 0.55),
    ("ONE", "0.0115", 0.95, 0.54),
    ("KSM", "15.5", 0.95, 0.55),
    ("CELO", "0.30", 1.00, 0.52),
    ("ANKR", "0.0165", 1.00, 0.54),
    ("MASK", "1.15", 1.10, 0.50),
]

# Bybit filters of the names clients most likely hard-code: tick, qty step, max qty, max market qty.
_KNOWN_FILTERS: dict[str, tuple[str, str, str, str]] = {
    "BTC": ("0.10", "0.001", "1190", "119"),
    "ETH": ("0.01", "0.01", "7240", "724"),
    "SOL": ("0.01", "0.1", "79770", "7977"),
    "BNB": ("0.01", "0.01", "3000", "600"),
    "XRP": ("0.0001", "1", "2490000", "249000"),
    "DOGE": ("0.00001", "1", "21000000", "2100000"),
}

DEFAULT_SYMBOL_COUNT = 50


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """Everything the market model needs to know about one symbol besides its instrument filters."""

    symbol: str
    base_coin: str
    rank: int
    """0 = BTC; the order of the universe."""
    base_price: Decimal
    tick: Decimal
    qty_step: Decimal
    max_order_qty: Decimal
    max_mkt_order_qty: Decimal
    max_leverage: Decimal
    funding_cap: Decimal
    vol_ann: float
    """Annualised volatility of 1m log returns (jumps included)."""
    corr_btc: float
    """Correlation of 1m returns with BTC's."""
    tail: float
    """Multiplier of the idiosyncratic jump intensity (1 = a typical alt)."""
    daily_turnover: float
    """Typical 24h turnover in USDT."""
    avg_trade_value: float
    """Mean public trade value in USDT."""
    launch_time: int


def _pow10(exp: int) -> Decimal:
    """10**exp as a plain Decimal (never '1E+1', which would leak onto the wire as such)."""
    return Decimal(10**exp) if exp >= 0 else Decimal(1).scaleb(exp)


def _plain(value: Decimal, step: Decimal) -> Decimal:
    """`value` written with the decimals of `step` (no exponent notation)."""
    exp = min(0, int(step.normalize().as_tuple().exponent))
    return value.quantize(Decimal(1).scaleb(exp))


def tick_for_price(price: Decimal, significant: int = 5) -> Decimal:
    """Bybit-like tick: a power of ten giving the price about `significant` significant digits."""
    exp = math.floor(math.log10(float(price)))
    return _pow10(max(exp - (significant - 1), -8))


def qty_step_for_price(price: Decimal, step_value: float = 5.0) -> Decimal:
    """Bybit-like qty step: a power of ten whose value is at most about `step_value` USDT."""
    exp = math.floor(math.log10(step_value / float(price)))
    return _pow10(max(min(exp, 3), -3))


def _unit(symbol: str, salt: str) -> float:
    """A seed-independent uniform number in [0, 1) for a symbol's static properties."""
    return (symbol_key(symbol + "/" + salt) % 1_000_003) / 1_000_003


def _round_to(value: Decimal, step: Decimal) -> Decimal:
    return _plain((value / step).to_integral_value() * step, step)


def _make_profile(rank: int, base: str, price: Decimal, vol: float, corr: float) -> SymbolProfile:
    symbol = f"{base}USDT"
    known = _KNOWN_FILTERS.get(base)
    if known is not None:
        tick, step, max_qty, max_mkt = (Decimal(x) for x in known)
    else:
        tick = tick_for_price(price, 6 if rank < 2 else 5)
        step = qty_step_for_price(price)
        # Limit orders up to about $25M (majors) .. $2M (small caps), market orders a fifth of that.
        cap_usd = 25e6 if rank < 20 else 8e6 if rank < 100 else 2e6
        max_qty = _round_to(Decimal(str(cap_usd)) / price, step).max(step * 1000)
        max_mkt = _round_to(max_qty / 5, step).max(step * 100)
    base_price = _round_to(price, tick)
    if rank < 2:
        lev, cap = Decimal(100), Decimal("0.005")
    elif rank < 10:
        lev, cap = Decimal(75), Decimal("0.005")
    elif rank < 40:
        lev, cap = Decimal(50), Decimal("0.01")
    elif rank < 100:
        lev, cap = Decimal(25), Decimal("0.02")
    else:
        lev, cap = (Decimal(25) if _unit(symbol, "lev") < 0.6 else Decimal("12.5")), Decimal("0.0375")
    # BTC's real figures (calibration.py); the rest fall with rank like a real exchange's long tail.
    turnover = 8.3e9 if rank == 0 else 3.2e9 / (rank**1.15) * (0.6 + 0.8 * _unit(symbol, "turnover"))
    avg_trade = (
        1500.0 if rank == 0 else max(150.0, 900.0 / (1 + rank / 10) * (0.7 + 0.6 * _unit(symbol, "trade")))
    )
    # Jump intensity of the idiosyncratic part: 1 for the calibrated majors, scattered around 1 for the rest.
    tail = 0.0 if rank == 0 else 1.0 if rank < 4 else 0.6 + 1.2 * _unit(symbol, "tail")
    launch = 1585526400000 + int(_unit(symbol, "launch") * 1.3e11) if rank > 0 else 1585526400000
    return SymbolProfile(
        symbol=symbol,
        base_coin=base,
        rank=rank,
        base_price=base_price,
        tick=tick,
        qty_step=step,
        max_order_qty=max_qty,
        max_mkt_order_qty=max_mkt,
        max_leverage=lev,
        funding_cap=cap,
        vol_ann=vol,
        corr_btc=corr,
        tail=tail,
        daily_turnover=turnover,
        avg_trade_value=avg_trade,
        launch_time=launch,
    )


def build_universe(count: int = DEFAULT_SYMBOL_COUNT) -> list[SymbolProfile]:
    """The first `count` symbols: BTC, ETH, SOL, BNB, XRP, DOGE ... then ALT<n>USDT names."""
    if count < 1:
        raise ValueError("a market needs at least one symbol")
    out: list[SymbolProfile] = []
    for rank, (base, price_s, vol, corr) in enumerate(_MAJORS[:count]):
        out.append(_make_profile(rank, base, Decimal(price_s), vol, corr))
    rank = len(out)
    while len(out) < count:
        name = f"ALT{rank + 1}"
        u = _unit(name, "price")
        raw = Decimal(str(round(10 ** (-3 + 4.7 * u), 10)))
        price = _round_to(raw, tick_for_price(raw))
        out.append(
            _make_profile(rank, name, price, 0.7 + 0.9 * _unit(name, "vol"), 0.35 + 0.3 * _unit(name, "corr"))
        )
        rank += 1
    return out


def make_instrument(p: SymbolProfile) -> SimInstrument:
    """The domain instrument with Bybit's filters, wrapped with its price/qty scales."""
    decimals = max(0, -p.tick.normalize().as_tuple().exponent)  # type: ignore[operator]
    info = Instrument(
        symbol=p.symbol,
        base_coin=p.base_coin,
        launch_time=p.launch_time,
        price_scale=decimals,
        tick_size=p.tick,
        min_price=p.tick,
        max_price=p.tick * 19_999_998,
        qty_step=p.qty_step,
        min_order_qty=p.qty_step,
        max_order_qty=p.max_order_qty,
        max_mkt_order_qty=p.max_mkt_order_qty,
        min_notional=Decimal(5),
        max_leverage=p.max_leverage,
        funding_interval_min=480,
        upper_funding_rate=p.funding_cap,
        lower_funding_rate=-p.funding_cap,
    )
    return SimInstrument(info=info, price=Scale(p.tick), qty=Scale(p.qty_step), base_price=p.base_price)


def risk_limit_tiers(p: SymbolProfile) -> list[RiskLimitTier]:
    """Bybit-style risk tiers: growing position-value caps, falling max leverage, mm deductions that keep
    the maintenance margin continuous across tiers (mmd_i = mmd_(i-1) + cap_(i-1) * (mmr_i - mmr_(i-1)))."""
    if p.rank == 0:
        first, n = Decimal(2_000_000), 10
    elif p.rank < 2:
        first, n = Decimal(1_000_000), 10
    elif p.rank < 10:
        first, n = Decimal(500_000), 8
    elif p.rank < 40:
        first, n = Decimal(200_000), 6
    else:
        first, n = Decimal(50_000), 5
    tiers: list[RiskLimitTier] = []
    prev_cap = Decimal(0)
    prev_mmr = Decimal(0)
    mmd = Decimal(0)
    lev = p.max_leverage
    for i in range(n):
        cap = first * (i + 1) if i < 4 else first * 4 * 2 ** (i - 3)
        imr = (Decimal(1) / lev).quantize(Decimal("0.0001"))
        mmr = (imr / 2).quantize(Decimal("0.0001"))
        if i > 0:
            mmd += prev_cap * (mmr - prev_mmr)
        tiers.append(
            RiskLimitTier(
                symbol=p.symbol,
                tier_id=i + 1,
                risk_limit_value=cap,
                maintenance_margin=mmr,
                initial_margin=imr,
                max_leverage=lev.quantize(Decimal("0.01")),
                mm_deduction=mmd.quantize(Decimal("0.0001")),
            )
        )
        prev_cap, prev_mmr = cap, mmr
        # Bybit halves-ish the leverage per tier, on round numbers.
        nxt = lev * Decimal("0.8") if lev > 10 else lev - 1
        lev = max(Decimal(1), nxt.quantize(Decimal("0.01")))
    return tiers
