"""The simulator's matching engine and accounts: `Engine(market)` implements `TradingEngine`."""

from asym.sim.engine.engine import Engine
from asym.sim.engine.formulas import MAKER_FEE_RATE, TAKER_FEE_RATE

__all__ = ["MAKER_FEE_RATE", "TAKER_FEE_RATE", "Engine"]
