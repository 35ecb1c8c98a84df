"""The signal layer: enhanced data -> model (rules | DeepSeek | OpenAI-compatible | consensus) -> strict
parse -> semantic validation -> `Signal` or `Rejection`. See docs/signals.md."""

from asym.signals.cache import CachedCompletion, FileCache, MemoryCache, ResponseCache, cache_key
from asym.signals.config import RuleConfig, SignalConfig, ValidationConfig
from asym.signals.costs import DEFAULT_PRICES, ModelPrice, ProviderUsage, UsageLedger
from asym.signals.generate import generate_signals
from asym.signals.models import ConsensusModel, FallbackModel, RulesModel, SignalModel
from asym.signals.prompt import PROMPT_VERSION, build_prompt
from asym.signals.schema import (
    Action,
    EntryType,
    ModelReply,
    Rejection,
    RejectionCode,
    RiskState,
    Signal,
    SignalInput,
    SignalOutcome,
    TakeProfit,
    Usage,
    from_json_line,
    to_json_line,
)
from asym.signals.spec import build_model, default_model_spec, parse_model_spec
from asym.signals.validation import validate_reply

__all__ = [
    "DEFAULT_PRICES",
    "PROMPT_VERSION",
    "Action",
    "CachedCompletion",
    "ConsensusModel",
    "EntryType",
    "FallbackModel",
    "FileCache",
    "MemoryCache",
    "ModelPrice",
    "ModelReply",
    "ProviderUsage",
    "Rejection",
    "RejectionCode",
    "ResponseCache",
    "RiskState",
    "RuleConfig",
    "RulesModel",
    "Signal",
    "SignalConfig",
    "SignalInput",
    "SignalModel",
    "SignalOutcome",
    "TakeProfit",
    "Usage",
    "UsageLedger",
    "ValidationConfig",
    "build_model",
    "build_prompt",
    "cache_key",
    "default_model_spec",
    "from_json_line",
    "generate_signals",
    "parse_model_spec",
    "to_json_line",
    "validate_reply",
]
