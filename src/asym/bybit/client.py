"""`BybitClient`: asym's Bybit V5 client, implementing `asym.domain.venue.Venue` for mainnet, testnet,
demo and any V5-compatible base URL (the local simulator).

    async with BybitClient("http://127.0.0.1:8080", Credentials(key, secret)) as bybit:
        book = await bybit.get_orderbook("BTCUSDT", 50)
        ack = await bybit.place_order(OrderRequest(..., order_link_id="sig-42-entry"))
        async for ob in await bybit.stream_orderbook("BTCUSDT", 50): ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

import aiohttp

from asym.bybit.auth import Credentials
from asym.bybit.cache import TtlCache
from asym.bybit.env import Endpoints, Environment, resolve_endpoints
from asym.bybit.metrics import ClientObserver, NullObserver
from asym.bybit.rest_market import MarketApi
from asym.bybit.rest_trading import TradingApi
from asym.bybit.retry import RetryPolicy
from asym.bybit.streams import ConflatedStream, QueueStream, StreamHub
from asym.bybit.transport import RestTransport, TransportConfig
from asym.bybit.ws import WsConfig
from asym.domain import (
    Candle,
    Category,
    Execution,
    Instrument,
    Interval,
    Liquidation,
    Order,
    OrderBook,
    Position,
    PublicTrade,
    RiskLimitTier,
    Ticker,
    WalletBalance,
)
from asym.errors import ConfigError, InvalidRequestError


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything tunable about the client."""

    transport: TransportConfig = field(default_factory=TransportConfig)
    ws: WsConfig = field(default_factory=WsConfig)
    instrument_ttl_s: float = 300.0
    risk_limit_ttl_s: float = 300.0
    resolve: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=8, base_s=0.2, deadline_s=30.0)
    )
    """How long to keep resolving a write whose outcome is unknown (lookups and safe re-sends)."""
    sync_time: bool = True
    """Measure the server clock offset at start (needed for signed requests)."""


def data_only_config() -> ClientConfig:
    """The configuration of a process that never places orders (`asym collect`, `record`, `demo`): no
    share of the IP window is held back for orders, so data gets all of it. A process that trades keeps
    the default 10 % reserve; a 500-symbol first cycle takes 8-16 % longer with it (`asym bench collect`,
    two runs: 27.0 and 27.6 s against 25.0 and 23.8 s)."""
    return ClientConfig(transport=TransportConfig(trade_reserve=0.0))


class BybitClient(MarketApi, TradingApi):
    """The Bybit V5 client (REST + WebSocket), implementing the Venue protocol in domain types."""

    def __init__(
        self,
        venue: str | Environment | Endpoints = Environment.MAINNET,
        credentials: Credentials | None = None,
        config: ClientConfig | None = None,
        observer: ClientObserver | None = None,
    ) -> None:
        self.endpoints = venue if isinstance(venue, Endpoints) else resolve_endpoints(venue)
        self.config = cfg = config or ClientConfig()
        self.observer: ClientObserver = observer or NullObserver()
        self.credentials = credentials
        self._t = RestTransport(self.endpoints, credentials, cfg.transport, self.observer)
        self._instrument_cache: TtlCache[tuple[Instrument, ...]] = TtlCache(cfg.instrument_ttl_s)
        self._risk_cache: TtlCache[tuple[RiskLimitTier, ...]] = TtlCache(cfg.risk_limit_ttl_s)
        self._resolve_policy = cfg.resolve
        self._hub: StreamHub | None = None
        self._started = False

    @classmethod
    def from_env(
        cls,
        venue: str | Environment | Endpoints = Environment.MAINNET,
        config: ClientConfig | None = None,
        observer: ClientObserver | None = None,
    ) -> BybitClient:
        """A client with keys from BYBIT_API_KEY/BYBIT_API_SECRET (or BYBIT_KEY_FILE); public if unset."""
        return cls(venue, Credentials.from_env(), config, observer)

    # ------------------------------------------------------------ lifecycle

    async def start(self, session: aiohttp.ClientSession | None = None) -> BybitClient:
        """Open the pooled session and measure the server-time offset."""
        if not self._started:
            await self._t.start(session, sync_time=self.config.sync_time)
            self._started = True
        return self

    async def close(self) -> None:
        """Close streams and the session."""
        if self._hub is not None:
            await self._hub.close()
            self._hub = None
        await self._t.close()
        self._started = False

    async def __aenter__(self) -> BybitClient:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def transport(self) -> RestTransport:
        """The REST transport (rate limiter state, time offset)."""
        return self._t

    @property
    def hub(self) -> StreamHub:
        """The WebSocket stream hub (created on first use)."""
        if self._hub is None:
            if not self._started:
                raise ConfigError("client not started: use `async with BybitClient(...)`")
            self._hub = StreamHub(
                self._t.session,
                self.endpoints.ws_public_url,
                self.endpoints.ws_private_url,
                self.credentials,
                self.config.ws,
                self.observer,
                wall_ms=self._t.now_ms,
            )
        return self._hub

    def __repr__(self) -> str:
        auth = "with keys" if self.credentials is not None else "public"
        return f"BybitClient({self.endpoints.environment.value} {self.endpoints.rest_url}, {auth})"

    # ------------------------------------------------------------ streams (Venue)

    @staticmethod
    def _linear(category: Category) -> None:
        if category is not Category.LINEAR:
            raise InvalidRequestError("streams are implemented for the linear category only")

    async def stream_orderbook(
        self, symbol: str, depth: int = 50, category: Category = Category.LINEAR
    ) -> ConflatedStream[OrderBook]:
        """A live order book (never yields an out-of-sync book; `latest()` is None while out of sync)."""
        self._linear(category)
        return await self.hub.orderbook(symbol, depth)

    async def stream_ticker(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> ConflatedStream[Ticker]:
        """A live merged ticker."""
        self._linear(category)
        return await self.hub.ticker(symbol)

    async def stream_trades(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> QueueStream[PublicTrade]:
        """Public trades."""
        self._linear(category)
        return await self.hub.trades(symbol)

    async def stream_klines(
        self, symbol: str, interval: Interval, category: Category = Category.LINEAR
    ) -> QueueStream[Candle]:
        """Kline updates."""
        self._linear(category)
        return await self.hub.klines(symbol, interval)

    async def stream_liquidations(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> QueueStream[Liquidation]:
        """Public liquidations."""
        self._linear(category)
        return await self.hub.liquidations(symbol)

    async def stream_orders(self) -> QueueStream[Order]:
        """Own order updates (never dropped)."""
        return await self.hub.orders()

    async def stream_executions(self) -> QueueStream[Execution]:
        """Own fills (never dropped)."""
        return await self.hub.executions()

    async def stream_positions(self) -> QueueStream[Position]:
        """Own positions (never dropped)."""
        return await self.hub.positions()

    async def stream_wallet(self) -> QueueStream[WalletBalance]:
        """Own wallet updates (never dropped)."""
        return await self.hub.wallet()
