"""Bybit's REST envelope and JSON encoding: one msgspec encoder, numbers and strings exactly as Bybit sends.

Every JSON answer is `{"retCode", "retMsg", "result", "retExtInfo", "time"}`; business errors travel with
HTTP 200, transport-level problems (401, 403, 404, 400) as plain HTTP statuses.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

ENCODER = msgspec.json.Encoder()
encode = ENCODER.encode
"""Encode a JSON-compatible value to bytes (one shared encoder: it reuses its internal buffer)."""

JSON_CONTENT_TYPE = "application/json"
_EMPTY: dict[str, Any] = {}


class ApiError(Exception):
    """A request that must be answered with Bybit's error envelope (HTTP 200) or a bare HTTP status."""

    def __init__(self, ret_code: int, ret_msg: str, *, http_status: int = 200, result: Any = None) -> None:
        super().__init__(f"{ret_code}: {ret_msg}")
        self.ret_code = ret_code
        self.ret_msg = ret_msg
        self.http_status = http_status
        self.result = result


def params_error(msg: str) -> ApiError:
    """A 10001 parameter error with Bybit's text."""
    return ApiError(10001, msg)


def envelope(result: Any, now_ms: int, ret_msg: str = "OK", ret_ext_info: Any = None) -> bytes:
    """Encode a success envelope."""
    return encode(
        {
            "retCode": 0,
            "retMsg": ret_msg,
            "result": result,
            "retExtInfo": _EMPTY if ret_ext_info is None else ret_ext_info,
            "time": now_ms,
        }
    )


def error_envelope(ret_code: int, ret_msg: str, now_ms: int, result: Any = None) -> bytes:
    """Encode an error envelope (result `{}` unless the endpoint fills it)."""
    return encode(
        {
            "retCode": ret_code,
            "retMsg": ret_msg,
            "result": _EMPTY if result is None else result,
            "retExtInfo": _EMPTY,
            "time": now_ms,
        }
    )


def json_response(body: bytes, headers: dict[str, str] | None = None, status: int = 200) -> web.Response:
    """An aiohttp response carrying already-encoded JSON."""
    return web.Response(body=body, status=status, content_type=JSON_CONTENT_TYPE, headers=headers)


def text_response(status: int, text: str) -> web.Response:
    """A bare HTTP status with a short text body (Bybit's 403/404/401 carry no envelope)."""
    return web.Response(status=status, text=text)
