"""Recursive comparison of JSON shapes (keys and JSON types) against Bybit's example payloads."""

from __future__ import annotations

from typing import Any


def json_type(value: Any) -> str:
    """JSON type name of a decoded value (bool before number)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


MAP_KEYS = {"cumFeeDetail"}
"""Objects keyed by coin, not by field name: only their value types are compared."""


def shape_mismatches(example: Any, ours: Any, path: str = "$") -> list[str]:
    """Where `ours` lacks a key of `example` or has a different JSON type (recursive; lists by element)."""
    if json_type(example) != json_type(ours):
        return [f"{path}: {json_type(ours)} instead of {json_type(example)}"]
    out: list[str] = []
    if isinstance(example, dict):
        if path.rsplit(".", 1)[-1] in MAP_KEYS:
            for ex_v in example.values():
                out += [m for v in ours.values() for m in shape_mismatches(ex_v, v, path + ".*")]
            return out
        for key, value in example.items():
            if key not in ours:
                out.append(f"{path}.{key}: missing")
            else:
                out += shape_mismatches(value, ours[key], f"{path}.{key}")
    elif isinstance(example, list) and example and ours:
        for item in ours:
            out += shape_mismatches(example[0], item, f"{path}[]")
    return out
