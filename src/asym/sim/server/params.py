"""Request parameters: typed access to a GET query or a POST JSON body, with Bybit's 10001 answers.

Query values are strings; JSON values keep their types (Bybit wants decimals as strings, integers such as
positionIdx as numbers, reduceOnly as a boolean; digit strings and numbers are accepted where clients are
known to send either). `null` counts as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asym.sim.server.envelope import ApiError
from asym.sim.units import Scale

CATEGORIES = ("linear", "inverse", "spot", "option")


class Params:
    """Typed getters over one request's parameters; every problem raises ApiError(10001, text)."""

    __slots__ = ("_d",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._d = data

    def raw(self, name: str) -> Any:
        """The value as received (None when absent or null)."""
        return self._d.get(name)

    def has(self, name: str) -> bool:
        """True when the parameter is present and not null/empty."""
        v = self._d.get(name)
        return v is not None and v != ""

    def string(self, name: str, default: str = "", *, required: bool = False) -> str:
        """A string parameter."""
        v = self._d.get(name)
        if v is None or v == "":
            if required:
                raise ApiError(10001, f"params error: {name} is required")
            return default
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise ApiError(10001, f"params error: {name} invalid")
        return v if isinstance(v, str) else str(v)

    def integer(
        self, name: str, default: int | None = None, *, lo: int | None = None, hi: int | None = None
    ) -> int | None:
        """An integer parameter (number or digit string), checked against [lo, hi]."""
        v = self._d.get(name)
        if v is None or v == "":
            return default
        if isinstance(v, bool):
            raise ApiError(10001, f"params error: {name} invalid")
        if isinstance(v, int):
            n = v
        elif (isinstance(v, str) and (v.isdigit() or (v.startswith("-") and v[1:].isdigit()))) or (
            isinstance(v, float) and v.is_integer()
        ):
            n = int(v)
        else:
            raise ApiError(10001, f"params error: {name} invalid")
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise ApiError(10001, f"params error: {name} out of range")
        return n

    def boolean(self, name: str, default: bool = False) -> bool:
        """A boolean parameter (JSON bool, or true/false/1/0 as strings or numbers)."""
        v = self._d.get(name)
        if v is None or v == "":
            return default
        if isinstance(v, bool):
            return v
        if v in (1, "1", "true", "True"):
            return True
        if v in (0, "0", "false", "False"):
            return False
        raise ApiError(10001, f"params error: {name} invalid")

    def steps(
        self, name: str, scale: Scale, *, required: bool = False, allow_zero: bool = False
    ) -> int | None:
        """A decimal string converted to integer ticks/steps of `scale` (10001 when off the grid)."""
        v = self._d.get(name)
        if v is None or v == "":
            if required:
                raise ApiError(10001, f"params error: {name} is required")
            return None
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise ApiError(10001, f"params error: {name} invalid")
        text = v if isinstance(v, str) else repr(v)
        if len(text) > 40:
            raise ApiError(10001, f"params error: {name} invalid")
        try:
            n = scale.to_int(text)
        except (ValueError, ArithmeticError) as exc:
            # ArithmeticError: Scale.to_int lets decimal.InvalidOperation escape for huge exponents.
            raise ApiError(
                10001, f"params error: {name} invalid: {text} is not a multiple of {scale.step}"
            ) from exc
        if n < 0 or (n == 0 and not allow_zero):
            raise ApiError(10001, f"params error: {name} invalid")
        return n

    def category(self, *, default: str | None = None) -> str:
        """`category` (10001 'Illegal category' when missing or unknown)."""
        v = self._d.get("category")
        if v is None or v == "":
            if default is not None:
                return default
            raise ApiError(10001, "Illegal category")
        if not isinstance(v, str) or v not in CATEGORIES:
            raise ApiError(10001, "Illegal category")
        return v
