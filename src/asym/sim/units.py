"""Scaled-integer money for the simulator core: prices in ticks, sizes in qty steps, exact both ways."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class Scale:
    """Converts between Decimal (or wire string) and an integer count of `step`.

    The simulator keeps books, orders and fills as integers (fast and exact) and formats them with the
    step's number of decimals, so a price is always written the same way (clients compare level strings).
    """

    __slots__ = ("_cache", "decimals", "step")

    def __init__(self, step: Decimal | str) -> None:
        self.step = Decimal(step)
        if self.step <= 0:
            raise ValueError(f"step must be positive, got {step}")
        exponent = self.step.normalize().as_tuple().exponent
        self.decimals = max(0, -int(exponent))
        self._cache: dict[int, str] = {}

    def to_int(self, value: Decimal | str) -> int:
        """Exact count of steps; ValueError when `value` is not a number or not a multiple of the step."""
        try:
            d = Decimal(value)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"not a number: {value!r}") from exc
        if not d.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        q, r = divmod(d, self.step)
        if r != 0:
            raise ValueError(f"{value} is not a multiple of {self.step}")
        return int(q)

    def round_int(self, value: Decimal | float) -> int:
        """Nearest count of steps (for generated prices, never for user input)."""
        return int((Decimal(str(value)) / self.step).to_integral_value())

    def to_decimal(self, n: int) -> Decimal:
        """Decimal value of n steps, quantised to the step's decimals."""
        return (self.step * n).quantize(Decimal(1).scaleb(-self.decimals))

    def to_str(self, n: int) -> str:
        """Wire string of n steps with the step's decimals (cached: hot path)."""
        s = self._cache.get(n)
        if s is None:
            s = format(self.to_decimal(n), "f")
            if len(self._cache) < 200_000:
                self._cache[n] = s
        return s
