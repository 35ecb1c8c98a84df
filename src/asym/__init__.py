"""asym: the asymmetric trading system for Bybit USDT perpetual futures."""

__version__ = "0.1.0"
