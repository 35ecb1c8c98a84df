"""Scaled-integer money for the simulator core: prices in ticks, sizes in qty steps, exact both ways."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CACHE_LIMIT = 4096
"""Wire strings kept per Scale (the prices around the current one); the cache starts over when full, so
memory stays bounded however many distinct values (random book sizes) pass through."""


class Scale:
    """Converts between Decimal (or wire string) and an integer count of `step`.

    The simulator keeps books, orders and fills as integers (fast and exact) and formats them with the
    step's number of decimals, so a price is always written the same way (clients compare level strings).
    Wire strings are plain decimals, never exponent notation (a 1E-7 tick writes "0.0000001").
    """

    __slots__ = ("_cache", "_coef", "decimals", "step")

    def __init__(self, step: Decimal | str) -> None:
        try:
            self.step = Decimal(step)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"step must be a number, got {step!r}") from exc
        if not self.step.is_finite() or self.step <= 0:
            raise ValueError(f"step must be positive, got {step}")
        norm = self.step.normalize()
        exponent = int(norm.as_tuple().exponent)
        self.decimals = max(0, -exponent)
        # n steps = n * _coef units of 10^-decimals (exact: the normalised step has no more decimals).
        self._coef = int(norm.scaleb(self.decimals))
        self._cache: dict[int, str] = {}

    @property
    def coefficient(self) -> int:
        """One step in units of 10^-decimals (1 for a power of ten, e.g. 5 for a 0.5 step)."""
        return self._coef

    def to_int(self, value: Decimal | str) -> int:
        """Exact count of steps; ValueError when `value` is not a number or not a multiple of the step."""
        try:
            d = Decimal(value)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"not a number: {value!r}") from exc
        if not d.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        try:
            q, r = divmod(d, self.step)
        except InvalidOperation as exc:  # e.g. 1e400: the quotient has more digits than the context
            raise ValueError(f"out of range: {value!r}") from exc
        if r != 0:
            raise ValueError(f"{value} is not a multiple of {self.step}")
        return int(q)

    def round_int(self, value: Decimal | float) -> int:
        """Nearest count of steps (for generated prices, never for user input)."""
        return int((Decimal(str(value)) / self.step).to_integral_value())

    def to_decimal(self, n: int) -> Decimal:
        """Decimal value of n steps, quantised to the step's decimals."""
        return (self.step * n).quantize(Decimal(1).scaleb(-self.decimals))

    def _format(self, n: int) -> str:
        """Plain decimal string of n steps with the step's decimals (integer arithmetic, no Decimal)."""
        units = n * self._coef
        d = self.decimals
        if not d:
            return str(units)
        if units < 0:
            return "-" + self._format(-n)
        digits = str(units)
        if len(digits) <= d:
            digits = digits.rjust(d + 1, "0")
        return digits[:-d] + "." + digits[-d:]

    def to_str(self, n: int) -> str:
        """Wire string of n steps with the step's decimals (cached: hot path)."""
        s = self._cache.get(n)
        if s is None:
            s = self._format(n)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[n] = s
        return s

    def fresh_strs(self, ns: list[int], zero: str = "0") -> list[str]:
        """Wire strings of counts that seldom repeat (book sizes): integers directly, decimals through the
        cache (about half repeat); `zero` is written for 0 (a deleted book level)."""
        if self.decimals == 0 and self._coef == 1:
            return [zero if n == 0 else str(n) for n in ns]
        return self.strs(ns, zero)

    def strs(self, ns: list[int], zero: str | None = None) -> list[str]:
        """Wire strings of many counts at once (`zero`, when given, is written for 0: book deletions)."""
        get = self._cache.get
        fmt = self.to_str
        if zero is None:
            return [get(n) or fmt(n) for n in ns]
        return [zero if n == 0 else get(n) or fmt(n) for n in ns]
