"""Wire structs of the WebSocket streams: one frame struct for every message, then per-topic payloads.

A frame is decoded once with `data` kept raw (msgspec.Raw); the topic's handler decodes `data` with its
own typed decoder, so no message is parsed into generic dicts on the hot path.
"""

from __future__ import annotations

from typing import Any

import msgspec

NULL_RAW = msgspec.Raw(b"null")
"""The raw JSON `null`: a frame without `data`."""


class WsFrame(msgspec.Struct, rename="camel"):
    """Any inbound message: a topic push, an op reply (subscribe/auth/pong) or a COMMAND_RESP."""

    topic: str = ""
    type: str = ""
    ts: int = 0
    cts: int = 0
    cs: int = 0
    data: msgspec.Raw = NULL_RAW
    op: str = ""
    success: bool | None = None
    ret_msg: str = msgspec.field(default="", name="ret_msg")
    req_id: str | int | None = msgspec.field(default=None, name="req_id")
    conn_id: str = msgspec.field(default="", name="conn_id")
    creation_time: int = 0
    id: str = ""
    args: list[Any] | None = None
    ret_code: int | None = None


class WsBookData(msgspec.Struct):
    """orderbook.{depth}.{symbol} data: changed levels only for deltas."""

    s: str
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    u: int
    seq: int = 0


class WsTrade(msgspec.Struct):
    """publicTrade.{symbol} item."""

    ts: int = msgspec.field(name="T")
    symbol: str = msgspec.field(name="s")
    side: str = msgspec.field(name="S")
    size: str = msgspec.field(name="v")
    price: str = msgspec.field(name="p")
    trade_id: str = msgspec.field(name="i")
    tick_direction: str = msgspec.field(default="", name="L")
    block_trade: bool = msgspec.field(default=False, name="BT")
    seq: int = 0


class WsKline(msgspec.Struct):
    """kline.{interval}.{symbol} item."""

    start: int
    end: int
    interval: str
    open: str
    close: str
    high: str
    low: str
    volume: str
    turnover: str
    confirm: bool
    timestamp: int = 0


class WsLiquidation(msgspec.Struct):
    """allLiquidation.{symbol} item; `side` is the liquidated position's side."""

    ts: int = msgspec.field(name="T")
    symbol: str = msgspec.field(name="s")
    side: str = msgspec.field(name="S")
    size: str = msgspec.field(name="v")
    price: str = msgspec.field(name="p")


class WsLegacyLiquidation(msgspec.Struct, rename="camel"):
    """liquidation.{symbol} (deprecated topic) data object."""

    updated_time: int
    symbol: str
    side: str
    size: str
    price: str


class WsOptionAckData(msgspec.Struct, rename="camel"):
    """COMMAND_RESP data of option/spread subscribe acks."""

    success_topics: list[str] = msgspec.field(default_factory=list)
    fail_topics: list[str] = msgspec.field(default_factory=list)
