"""A second exchange's public prices, through ccxt, to cross-validate the venue's own.

A price that disagrees with the rest of the market is the one error the venue's own sources cannot catch
(last, mark, index, book and candles all come from the same venue). When configured, each cycle fetches
the second exchange's tickers once (one `fetch_tickers` call) alongside the venue's own tickers, and each
symbol listed there gets a `last~<name>` cross-check.

ccxt is optional (`pip install 'asym[reference]'`) and imported only when a reference is built. Its
unified tickers carry floats; `Decimal(repr(x))` gives back the shortest decimal that the exchange's
string rounds to, which is exact for every price a venue quotes with fewer than 16 significant digits.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from asym.errors import ConfigError, RetryableError
from asym.logging import get_logger

log = get_logger("reference")


class ReferenceConfig(BaseModel):
    """Which second exchange to compare with, and how long to wait for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exchange: str = Field(description="ccxt exchange id, e.g. binanceusdm, okx, bybit")
    name: str | None = Field(None, description="source name in quality events (default: the exchange id)")
    url: str | None = Field(
        None, description="replace scheme and host of the exchange's REST URLs (a proxy or a simulator)"
    )
    timeout_s: float = Field(5.0, gt=0, description="the fetch is abandoned after this; the cycle goes on")
    max_age_ms: int = Field(60_000, ge=0, description="reference tickers older than this are not compared")

    @property
    def source(self) -> str:
        """The name this reference appears under in prices, events and flags."""
        return self.name or self.exchange


def rehost(node: Any, base: str) -> Any:
    """`node` (ccxt's `urls['api']` tree) with every http(s) URL moved to `base`'s scheme and host."""
    if isinstance(node, str) and node.startswith(("http://", "https://")):
        b, u = urlsplit(base), urlsplit(node)
        return urlunsplit((b.scheme, b.netloc, u.path, u.query, u.fragment))
    if isinstance(node, dict):
        return {k: rehost(v, base) for k, v in node.items()}
    return node


def linear_usdt_index(markets: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Venue symbol (e.g. BTCUSDT) -> ccxt symbol of the same linear USDT perpetual on the reference.

    Matched by the exchange's own market id first (most list perpetuals as BASEUSDT), then by base+quote.
    """
    by_id: dict[str, str] = {}
    by_pair: dict[str, str] = {}
    for m in markets.values():
        if not (m.get("swap") and m.get("linear") and m.get("settle") == "USDT" and m.get("quote") == "USDT"):
            continue
        if m.get("active") is False:
            continue
        by_id.setdefault(str(m.get("id")), str(m["symbol"]))
        by_pair.setdefault(f"{m.get('base')}USDT", str(m["symbol"]))
    return by_pair | by_id


def ticker_prices(
    tickers: Mapping[str, Mapping[str, Any]],
    index: Mapping[str, str],
    symbols: Sequence[str],
    now_ms: int,
    max_age_ms: int,
) -> dict[str, Decimal]:
    """Last prices by venue symbol from ccxt's unified tickers; missing, non-positive, non-finite or older
    than `max_age_ms` prices are left out (the reference is not our data: it is never repaired)."""
    out: dict[str, Decimal] = {}
    for symbol in symbols:
        t = tickers.get(index.get(symbol, ""))
        if t is None:
            continue
        last = t.get("last")
        if not _positive_number(last):
            continue
        ts = t.get("timestamp")
        if isinstance(ts, int | float) and now_ms - ts > max_age_ms:
            continue
        out[symbol] = Decimal(repr(last))
    return out


def ccxt_module() -> Any:
    """`ccxt.async_support`, or a ConfigError saying how to install it."""
    try:
        import ccxt.async_support as ccxt_async
    except ImportError:
        raise ConfigError("a reference exchange needs ccxt: pip install 'asym[reference]'") from None
    return ccxt_async


def check_exchange(exchange: str) -> None:
    """ConfigError unless `exchange` is a ccxt exchange id (checked when the configuration is built)."""
    if exchange not in getattr(ccxt_module(), "exchanges", ()):
        raise ConfigError(f"unknown ccxt exchange id {exchange!r}")


def reference_config(exchange: str | None, url: str | None = None) -> ReferenceConfig | None:
    """The `--reference EXCHANGE [--reference-url URL]` options as a config (None without a reference);
    ConfigError for a URL without an exchange or an exchange ccxt does not know."""
    if exchange is None:
        if url is not None:
            raise ConfigError("--reference-url needs --reference")
        return None
    check_exchange(exchange)
    return ReferenceConfig(exchange=exchange, url=url)


def _positive_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and x > 0


class CcxtReference:
    """Last prices of the venue's perpetuals on a second exchange (ccxt, async)."""

    def __init__(self, config: ReferenceConfig) -> None:
        ccxt_async = ccxt_module()
        check_exchange(config.exchange)
        factory = getattr(ccxt_async, config.exchange)
        self.config = config
        self.name = config.source
        options: dict[str, Any] = {"enableRateLimit": True, "timeout": int(config.timeout_s * 1000)}
        if config.exchange == "bybit":
            options["options"] = {"fetchMarkets": {"types": ["linear"]}}
        self._ex = factory(options)
        if config.url is not None:
            self._ex.urls["api"] = rehost(self._ex.urls["api"], config.url)
        self._ccxt = ccxt_async
        self._index: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"CcxtReference({self.config.exchange!r}, name={self.name!r})"

    async def prices(self, symbols: Sequence[str], now_ms: int) -> dict[str, Decimal]:
        """Last price per venue symbol listed on the reference; RetryableError when it cannot be read."""
        try:
            async with asyncio.timeout(self.config.timeout_s):
                if self._index is None:
                    self._index = linear_usdt_index(await self._ex.load_markets())
                wanted = [self._index[s] for s in symbols if s in self._index]
                if not wanted:
                    return {}
                tickers = await self._ex.fetch_tickers(wanted)
        except (TimeoutError, OSError, self._ccxt.BaseError) as exc:
            raise RetryableError(f"reference {self.name}: {type(exc).__name__}: {exc}"[:300]) from None
        return ticker_prices(tickers, self._index, symbols, now_ms, self.config.max_age_ms)

    async def close(self) -> None:
        """Close ccxt's HTTP session."""
        await self._ex.close()
