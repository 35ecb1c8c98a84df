"""What a REST handler receives and returns, and the helpers every handler module shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asym.sim.server.envelope import ApiError
from asym.sim.server.params import Params
from asym.sim.types import SimInstrument

if TYPE_CHECKING:
    from asym.sim.exchange import SimExchange
    from asym.sim.server.caches import Caches


class Ctx:
    """One request as a handler sees it: parameters, the account uid (private routes) and the exchange."""

    __slots__ = ("caches", "exchange", "granted", "params", "path", "uid")

    def __init__(
        self, exchange: SimExchange, caches: Caches, params: Params, path: str, uid: str = ""
    ) -> None:
        self.exchange = exchange
        self.caches = caches
        self.params = params
        self.path = path
        self.uid = uid
        self.granted = 1
        """Units the per-endpoint limiter granted (batch endpoints: orders that may proceed)."""


@dataclass(slots=True)
class Reply:
    """A result with a non-default retMsg or retExtInfo (batch endpoints)."""

    result: Any
    ret_msg: str = "OK"
    ret_ext_info: Any = None


Handler = Callable[[Ctx], Any]


@dataclass(frozen=True, slots=True)
class Route:
    """One REST endpoint: method, path, handler and how the pipeline treats it."""

    method: str
    path: str
    handler: Handler
    private: bool = False
    write: bool = False
    """Order writes: faults may strike before or after the write is applied."""
    batch: bool = False
    """Rate-limited per order in `request` rather than per request."""
    sync: bool = True
    """Advance the exchange before the handler runs."""
    ret_msg: str = "OK"
    """Bybit's success retMsg varies by endpoint ("OK", "success", "")."""
    all_symbols: bool = False
    """Without a `symbol` it reads every symbol: cold ones are built first, yielding between them."""


UNKNOWN_SYMBOL = "Not supported symbols"
SYMBOL_INVALID = "params error: symbol invalid"


def linear_symbol(
    ctx: Ctx, category: str, *, message: str = SYMBOL_INVALID, required: bool = True
) -> SimInstrument:
    """The instrument named by `symbol` (only linear lists instruments; 10001 otherwise)."""
    symbol = ctx.params.string("symbol", required=required)
    inst = ctx.exchange.instrument(symbol) if category == "linear" else None
    if inst is None:
        raise ApiError(10001, message)
    return inst


def offset_cursor(raw: str) -> int:
    """Decode a cursor made by `make_cursor` (decoded or still percent-encoded); 0 when empty."""
    if not raw:
        return 0
    for prefix in ("offset=", "offset%3D", "offset%3d"):
        if raw.startswith(prefix) and raw[len(prefix) :].isdigit():
            return int(raw[len(prefix) :])
    raise ApiError(10001, "params error: cursor invalid")


def make_cursor(offset: int) -> str:
    """An opaque, already URL-encoded cursor like Bybit's (`offset%3D40`)."""
    return f"offset%3D{offset}"


def time_cursor(raw: str) -> int | None:
    """Decode a time cursor (`lasttime%3D<ms>`); None when empty."""
    if not raw:
        return None
    for prefix in ("lasttime=", "lasttime%3D", "lasttime%3d"):
        if raw.startswith(prefix) and raw[len(prefix) :].isdigit():
            return int(raw[len(prefix) :])
    raise ApiError(10001, "params error: cursor invalid")


def page(items: list[Any], ctx: Ctx, default_limit: int, max_limit: int) -> tuple[list[Any], str]:
    """Slice `items` by `limit` and `cursor`; the cursor is '' on the last page."""
    limit = ctx.params.integer("limit", default_limit, lo=1, hi=max_limit) or default_limit
    start = offset_cursor(ctx.params.string("cursor"))
    chunk = items[start : start + limit]
    nxt = make_cursor(start + limit) if start + limit < len(items) else ""
    return chunk, nxt
