"""Signal layer data: inputs (enhanced data, position, risk state), the model's raw reply, and outcomes.

An outcome is a validated `Signal` or a recorded `Rejection`; both encode to one JSON line with a `kind`
tag. Prices are Decimal (strings on the wire); confidence and horizon are statistics (float).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from asym.analytics.types import EnhancedData
from asym.domain import Position


class Action(StrEnum):
    """What a signal asks for."""

    LONG = "LONG"
    SHORT = "SHORT"
    HOLD = "HOLD"
    CLOSE = "CLOSE"


class EntryType(StrEnum):
    """How a LONG or SHORT enters: at the current mark (market) or at a resting limit price."""

    MARKET = "market"
    LIMIT = "limit"


class RejectionCode(StrEnum):
    """Machine-readable reason a model's answer was not turned into a signal."""

    # The model could not be used; a fallback chain tries its next member on these.
    MODEL_UNAVAILABLE = "model_unavailable"
    RATE_LIMITED = "rate_limited"
    CIRCUIT_OPEN = "circuit_open"
    AUTH_FAILED = "auth_failed"
    MODEL_REQUEST_REJECTED = "model_request_rejected"
    EMPTY_OUTPUT = "empty_output"
    MALFORMED_OUTPUT = "malformed_output"
    SCHEMA_VIOLATION = "schema_violation"
    # The answer parsed but is not a tradable, asymmetric signal.
    INVALID_INPUT = "invalid_input"
    SYMBOL_MISMATCH = "symbol_mismatch"
    NON_FINITE_NUMBER = "non_finite_number"
    NON_POSITIVE_NUMBER = "non_positive_number"
    MISSING_FIELD = "missing_field"
    NO_REFERENCE_PRICE = "no_reference_price"
    LIMIT_TOO_FAR = "limit_too_far"
    LIMIT_THROUGH_MARK = "limit_through_mark"
    STOP_WRONG_SIDE = "stop_wrong_side"
    TARGET_WRONG_SIDE = "target_wrong_side"
    TOO_MANY_TARGETS = "too_many_targets"
    BAD_TARGET_FRACTIONS = "bad_target_fractions"
    STOP_TOO_TIGHT = "stop_too_tight"
    STOP_TOO_WIDE = "stop_too_wide"
    STOP_BEYOND_LIQUIDATION = "stop_beyond_liquidation"
    TARGET_UNPROFITABLE = "target_unprofitable"
    REWARD_RISK_BELOW_MIN = "reward_risk_below_min"
    LEVERAGE_OUT_OF_RANGE = "leverage_out_of_range"
    CONFIDENCE_OUT_OF_RANGE = "confidence_out_of_range"
    LOW_CONFIDENCE = "low_confidence"
    HORIZON_OUT_OF_RANGE = "horizon_out_of_range"
    NO_POSITION = "no_position"
    POSITION_CONFLICT = "position_conflict"
    INTERNAL_ERROR = "internal_error"

    @property
    def is_model_failure(self) -> bool:
        """True when the model gave no usable answer (transport or parse failure): try the next model."""
        return self in MODEL_FAILURE_CODES


MODEL_FAILURE_CODES: frozenset[RejectionCode] = frozenset(
    {
        RejectionCode.MODEL_UNAVAILABLE,
        RejectionCode.RATE_LIMITED,
        RejectionCode.CIRCUIT_OPEN,
        RejectionCode.AUTH_FAILED,
        RejectionCode.MODEL_REQUEST_REJECTED,
        RejectionCode.EMPTY_OUTPUT,
        RejectionCode.MALFORMED_OUTPUT,
        RejectionCode.SCHEMA_VIOLATION,
    }
)


class RiskState(msgspec.Struct, frozen=True, kw_only=True):
    """The account's risk state as the signal layer sees it."""

    equity: Decimal
    open_positions: int = 0
    daily_pnl: Decimal = Decimal(0)
    mode: str = "paper"
    """Trading mode as the trading layer names it (e.g. live, demo, paper, backtest, halted)."""


class SignalInput(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a model sees for one asset."""

    data: EnhancedData
    position: Position | None = None
    risk: RiskState


class ModelReply(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The JSON object a model must answer with (strict: unknown fields are a schema violation).

    Numbers may be JSON numbers or strings; they decode to exact Decimals (NaN/inf are caught later).
    """

    action: str
    symbol: str | None = None
    entry_type: str = "market"
    entry_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: list[Decimal] | Decimal | None = None
    take_profit_fractions: list[Decimal] | None = None
    confidence: Decimal | None = None
    leverage: Decimal | None = None
    horizon_hours: Decimal | None = None
    rationale: str = ""


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens and money one model answer cost (cost None when the model's price is unknown)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    cost_usd: Decimal | None = Decimal(0)
    cached_response: bool = False
    """True when the answer came from the response cache (no call, no new cost)."""

    def __add__(self, other: Usage) -> Usage:
        """Sum of two usages (cost None if either is unknown)."""
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens + other.cached_prompt_tokens,
            cost_usd=cost,
            cached_response=self.cached_response and other.cached_response,
        )


ZERO_USAGE = Usage()


class Meta(msgspec.Struct, frozen=True, kw_only=True):
    """Where an answer came from: model, prompt version, latency, usage."""

    model_id: str
    prompt_version: str
    latency_ms: float = 0.0
    usage: Usage = ZERO_USAGE


class TakeProfit(msgspec.Struct, frozen=True, kw_only=True):
    """One target: its price, the share of the position closed there, and its net reward/risk."""

    price: Decimal
    fraction: Decimal
    reward_risk: Decimal


class Signal(msgspec.Struct, frozen=True, kw_only=True, tag="signal", tag_field="kind"):
    """A validated signal. For LONG/SHORT every price field is set and reward_risk >= the minimum."""

    symbol: str
    action: Action
    entry_type: EntryType | None
    entry_price: Decimal | None
    """The real entry: the mark for market entries, the limit price for limit entries."""
    mark_price: Decimal | None
    stop_loss: Decimal | None
    take_profits: tuple[TakeProfit, ...]
    confidence: float
    leverage: Decimal | None
    horizon_hours: float | None
    reward_risk: Decimal | None
    """Fraction-weighted net reward/risk after fees and expected adverse funding (None for HOLD/CLOSE)."""
    stop_atr: float | None
    """Stop distance in ATRs (None when ATR was unavailable or no stop)."""
    rationale: str
    model_id: str
    prompt_version: str
    latency_ms: float
    usage: Usage
    data_timestamp: int


class Rejection(msgspec.Struct, frozen=True, kw_only=True, tag="rejection", tag_field="kind"):
    """A model answer that was not turned into a signal, with the reason; never traded."""

    symbol: str
    model_id: str
    code: RejectionCode
    detail: str
    prompt_version: str = ""
    latency_ms: float = 0.0
    usage: Usage = ZERO_USAGE
    data_timestamp: int = 0
    raw_excerpt: str = ""
    """The first characters of the model's raw output, for diagnosis."""


SignalOutcome = Signal | Rejection

_encoder = msgspec.json.Encoder(decimal_format="string")
_decoder = msgspec.json.Decoder(SignalOutcome)


def to_json_line(outcome: SignalOutcome) -> str:
    """One JSON line (no newline) for a signal or rejection; Decimals as strings."""
    return _encoder.encode(outcome).decode()


def from_json_line(line: str | bytes) -> SignalOutcome:
    """Decode a line written by `to_json_line`."""
    return _decoder.decode(line)
