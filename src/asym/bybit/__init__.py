"""asym's Bybit V5 client: the one place that speaks Bybit's wire protocol (REST + WebSocket).

Everything above it uses `asym.domain.venue.Venue` and domain types; see docs/client.md.
"""

from asym.bybit.auth import Credentials, Secret
from asym.bybit.client import BybitClient, ClientConfig
from asym.bybit.env import Endpoints, Environment, resolve_endpoints
from asym.bybit.metrics import ClientObserver, CountingObserver, NullObserver
from asym.bybit.orderbook import Apply, BookState, OrderBookMachine, StaleBookError
from asym.bybit.ratelimit import Priority
from asym.bybit.retry import ReconnectPolicy, RetryPolicy
from asym.bybit.transport import TransportConfig
from asym.bybit.ws import WsConfig

__all__ = [
    "Apply",
    "BookState",
    "BybitClient",
    "ClientConfig",
    "ClientObserver",
    "CountingObserver",
    "Credentials",
    "Endpoints",
    "Environment",
    "NullObserver",
    "OrderBookMachine",
    "Priority",
    "ReconnectPolicy",
    "RetryPolicy",
    "Secret",
    "StaleBookError",
    "TransportConfig",
    "WsConfig",
    "resolve_endpoints",
]
