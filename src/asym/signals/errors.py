"""Errors of the signal layer, inside asym's one exception tree; each carries a RejectionCode."""

from __future__ import annotations

from asym.errors import AsymError, DataError
from asym.signals.schema import RejectionCode


class ModelOutputError(DataError):
    """A model's answer could not be read as a reply object (empty, malformed, schema violation)."""

    def __init__(self, code: RejectionCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class ModelCallError(AsymError):
    """A model could not be called successfully (after retries, or the circuit is open)."""

    def __init__(self, code: RejectionCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
