"""Actions the pure planners ask the execution shell to perform (they never perform anything themselves).

Each is a tagged msgspec struct with the reason it was planned, so a plan can be logged and stored as JSON
lines exactly as it was decided.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from asym.domain import Order, OrderRequest, Position, Side, TriggerBy


class PlaceOrder(msgspec.Struct, frozen=True, kw_only=True, tag="place_order", tag_field="kind"):
    """Send this request (its orderLinkId makes a repeat harmless: the venue answers 110072)."""

    request: OrderRequest
    reason: str


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True, tag="cancel_order", tag_field="kind"):
    """Cancel an open order by orderLinkId (or orderId when it has no link id)."""

    symbol: str
    order_link_id: str
    order_id: str = ""
    reason: str


class QueryOrder(msgspec.Struct, frozen=True, kw_only=True, tag="query_order", tag_field="kind"):
    """Look the order up by orderLinkId (open list, then history) before anything is retried."""

    symbol: str
    order_link_id: str
    reason: str


class SetStopLoss(msgspec.Struct, frozen=True, kw_only=True, tag="set_stop_loss", tag_field="kind"):
    """Put a full-position stop on an open position (Bybit: POST /v5/position/trading-stop, tpslMode Full)."""

    symbol: str
    position_side: Side
    stop_loss: Decimal
    trigger_by: TriggerBy
    reason: str


class ClosePosition(msgspec.Struct, frozen=True, kw_only=True, tag="close_position", tag_field="kind"):
    """Flatten a position with reduce-only market orders (split to the venue's market-order maximum)."""

    symbol: str
    position_side: Side
    qty: Decimal
    orders: tuple[OrderRequest, ...]
    reason: str


class AdoptOrder(msgspec.Struct, frozen=True, kw_only=True, tag="adopt_order", tag_field="kind"):
    """Take the venue's view of an order we know into the order tracker."""

    order: Order
    reason: str


class AdoptPosition(msgspec.Struct, frozen=True, kw_only=True, tag="adopt_position", tag_field="kind"):
    """Take the venue's position as the truth (it was unknown locally or differed)."""

    position: Position
    reason: str


class SyncExecutions(msgspec.Struct, frozen=True, kw_only=True, tag="sync_executions", tag_field="kind"):
    """Fetch executions since `since_ms` (REST) and feed them to the tracker and the portfolio, so that no
    fill made while we were away is lost."""

    since_ms: int
    reason: str


TradingAction = (
    PlaceOrder
    | CancelOrder
    | QueryOrder
    | SetStopLoss
    | ClosePosition
    | AdoptOrder
    | AdoptPosition
    | SyncExecutions
)

_encoder = msgspec.json.Encoder(decimal_format="string")
_decoder = msgspec.json.Decoder(TradingAction)


def action_to_json(action: TradingAction) -> str:
    """One JSON line (no newline) for an action; Decimals as strings."""
    return _encoder.encode(action).decode()


def action_from_json(line: str | bytes) -> TradingAction:
    """Decode a line written by `action_to_json`."""
    return _decoder.decode(line)
