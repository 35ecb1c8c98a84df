"""The REST envelope `{retCode, retMsg, result, retExtInfo, time}` and small shared results."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class ExtItem(msgspec.Struct, rename="camel"):
    """One per-item status of a batch request (retExtInfo.list[i])."""

    code: int = 0
    msg: str = ""


class RetExtInfo(msgspec.Struct, rename="camel"):
    """retExtInfo: `{}` normally, `{"list": [...]}` on batch endpoints."""

    items: list[ExtItem] = msgspec.field(default_factory=list, name="list")


class Envelope(msgspec.Struct, Generic[T], rename="camel"):
    """Every REST answer. `result` is None when the venue sent null/nothing; `time` is server ms."""

    ret_code: int
    ret_msg: str = ""
    result: T | None = None
    ret_ext_info: RetExtInfo | None = None
    time: int = 0


class BareEnvelope(msgspec.Struct, rename="camel"):
    """Only the status fields: used when a typed decode fails, to still read the error code."""

    ret_code: int
    ret_msg: str = ""
    time: int = 0


class EmptyResult(msgspec.Struct):
    """`result: {}` (set-leverage, trading-stop, ...)."""


class ServerTimeResult(msgspec.Struct, rename="camel"):
    """GET /v5/market/time."""

    time_second: str = ""
    time_nano: str = ""
