"""WebSocket wire details: frames, and Bybit's acks and pongs per stream kind (pure functions).

Acks and pongs differ per stream (examples `ws_pong_*.json`, `ws_subscribe_ack_*.json`):
linear/inverse echo `req_id` (`""` when none was sent), spot omits it when absent, option/spread answer
`COMMAND_RESP` / `op: pong`, private echoes `req_id` only when sent. The `req_id` is echoed verbatim with
its JSON type (ccxt sends numbers, pybit strings).
"""

from __future__ import annotations

import struct
from typing import Any

from asym.sim.server.envelope import encode

PUBLIC_KINDS = ("linear", "spot", "inverse", "option")
PRIVATE = "private"
_MISSING = object()


PUBLIC_ARGS_LIMIT = 21_000
"""Characters of subscribed topic names one public connection may carry (Bybit's limit)."""


def text_frame(payload: bytes) -> bytes:
    """One unmasked, final WebSocket text frame carrying `payload` (server -> client)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 65536:
        header = b"\x81\x7e" + struct.pack("!H", n)
    else:
        header = b"\x81\x7f" + struct.pack("!Q", n)
    return header + payload


def pong(kind: str, conn_id: str, req_id: Any, now_ms: int) -> bytes:
    """The answer to `{"op":"ping"}` on stream `kind`."""
    if kind == PRIVATE:
        msg: dict[str, Any] = {}
        if req_id is not _MISSING:
            msg["req_id"] = req_id
        msg.update({"op": "pong", "args": [str(now_ms)], "conn_id": conn_id})
        return encode(msg)
    if kind == "option":
        return encode({"args": [str(now_ms)], "op": "pong"})
    msg = {"success": True, "ret_msg": "pong", "conn_id": conn_id}
    if kind == "spot":
        if req_id is not _MISSING:
            msg["req_id"] = req_id
    else:
        msg["req_id"] = "" if req_id is _MISSING else req_id
    msg["op"] = "ping"
    return encode(msg)


def ack(
    kind: str,
    conn_id: str,
    req_id: Any,
    op: str,
    success: bool,
    ret_msg: str = "",
    topics: list[str] | None = None,
) -> bytes:
    """One (un)subscribe/auth acknowledgement for a whole request."""
    if kind == "option":
        ok = [] if not success else list(topics or [])
        failed = [] if success else list(topics or [])
        return encode(
            {
                "success": success,
                "conn_id": conn_id,
                "data": {"failTopics": failed, "successTopics": ok},
                "type": "COMMAND_RESP",
            }
        )
    if kind == PRIVATE:
        msg: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "op": op, "conn_id": conn_id}
        if req_id is not _MISSING:
            msg["req_id"] = req_id
        return encode(msg)
    if kind == "spot":
        msg = {"success": success, "ret_msg": ret_msg or (op if success else ""), "conn_id": conn_id}
        if req_id is not _MISSING:
            msg["req_id"] = req_id
        msg["op"] = op
        return encode(msg)
    return encode(
        {
            "success": success,
            "ret_msg": ret_msg,
            "conn_id": conn_id,
            "req_id": "" if req_id is _MISSING else req_id,
            "op": op,
        }
    )


def req_id_of(message: dict[str, Any]) -> Any:
    """The request's req_id exactly as sent, or a sentinel when absent."""
    return message.get("req_id", _MISSING)
