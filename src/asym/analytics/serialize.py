"""EnhancedData as JSON-ready builtins: exactly the documented keys, Decimals as strings, enums as names."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from asym.analytics.types import EnhancedData
from asym.errors import DataError

_ENCODER = msgspec.json.Encoder()


def to_json_dict(data: EnhancedData) -> dict[str, Any]:
    """A dict with one key per EnhancedData field (in field order); nested structs are dicts.

    Decimals become strings (exact), enums their value, tuples lists, missing values None (null).
    """
    out: dict[str, Any] = msgspec.to_builtins(data)
    out["quality_flags"] = list(out["quality_flags"])
    _check_finite(out, data.symbol)
    return out


def to_json_line(data: EnhancedData) -> bytes:
    """One compact JSON object (no newline) for `asym collect --json`."""
    return _ENCODER.encode(to_json_dict(data))


def _check_finite(value: Any, symbol: str, path: str = "") -> None:
    # compute_enhanced never emits NaN/inf; this guards hand-built snapshots (JSON has no NaN).
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"enhanced data of {symbol}: {path or 'value'} is {value}, not valid JSON")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, symbol, f"{path}.{k}" if path else k)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_finite(v, symbol, f"{path}[{i}]")
