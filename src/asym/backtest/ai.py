"""AI models in backtests: training cutoffs (no testing on what the model may have memorised) and the cost
estimate shown before a run starts.

A language model trained on data up to date C may have seen the prices of any period before C: a backtest
of that period measures its memory, not its judgement. `check_cutoff` refuses such a period unless forced.
The table lists the knowledge cutoffs the providers publish (dates are the first day of the month they
name); an alias that has served several model versions gets the latest. A model missing from the table
needs `--model-cutoff` (or `--force`). The rule model has no cutoff.

`estimate_cost` counts the calls a run can make (every step x every symbol, per model asked; a fallback
member only when the one before fails, so it is not counted), the prompt tokens of a real prompt of the
run (rendered by the signal layer, ~4 characters a token) and `COMPLETION_TOKENS` per answer, priced from
`asym.signals.DEFAULT_PRICES`. It is an upper bound: answers already in the response cache cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from asym.analytics.types import EnhancedData
from asym.errors import ConfigError
from asym.signals import DEFAULT_PRICES, ModelPrice, RiskState, SignalConfig, SignalInput, build_prompt
from asym.signals.spec import ChainSpec, ConsensusSpec, SingleSpec, parse_model_spec

TRAINING_CUTOFFS: dict[str, date] = {
    # DeepSeek: the API aliases have served V3 (cutoff mid-2024) through V3.1/V3.2 (2025): take the latest.
    "deepseek-chat": date(2025, 7, 1),
    "deepseek-reasoner": date(2025, 7, 1),
    # OpenAI model pages ("knowledge cutoff").
    "gpt-4o": date(2023, 10, 1),
    "gpt-4o-mini": date(2023, 10, 1),
    "gpt-4-turbo": date(2023, 12, 1),
    "gpt-4.1": date(2024, 6, 1),
    "gpt-4.1-mini": date(2024, 6, 1),
    "gpt-4.1-nano": date(2024, 6, 1),
    "o3": date(2024, 6, 1),
    "o4-mini": date(2024, 6, 1),
    "gpt-5": date(2024, 10, 1),
    "gpt-5-mini": date(2024, 6, 1),
}
"""Published knowledge cutoffs per model id (see docs/backtesting.md); pass your own to `check_cutoff`."""

COMPLETION_TOKENS = 250
"""Assumed answer length (a JSON signal with a short rationale) for the estimate."""
CHARS_PER_TOKEN = 4


def model_members(spec: str) -> list[SingleSpec]:
    """Every single model a spec names, in order (consensus members and fallback chains included)."""
    parsed = parse_model_spec(spec)
    chains: tuple[ChainSpec, ...] = parsed.members if isinstance(parsed, ConsensusSpec) else (parsed,)
    return [m for c in chains for m in c.members]


def is_ai(spec: str) -> bool:
    """True when the spec asks any language model (anything but `rules`)."""
    return any(m.kind != "rules" for m in model_members(spec))


def _called(spec: str) -> list[SingleSpec]:
    """Models called on every input: the first member of each chain (fallbacks run only on failure)."""
    parsed = parse_model_spec(spec)
    chains: tuple[ChainSpec, ...] = parsed.members if isinstance(parsed, ConsensusSpec) else (parsed,)
    return [c.members[0] for c in chains]


def _day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def check_cutoff(
    spec: str,
    start_ms: int,
    *,
    force: bool = False,
    override: date | None = None,
    table: dict[str, date] | None = None,
) -> list[str]:
    """Refuse (ConfigError) a period starting before a model's training cutoff; warnings when forced."""
    cutoffs = TRAINING_CUTOFFS if table is None else table
    warnings: list[str] = []
    start = _day(start_ms)
    for m in model_members(spec):
        if m.kind == "rules":
            continue
        cutoff = override or cutoffs.get(m.model)
        if cutoff is None:
            msg = (
                f"model {m.model!r} has no known training cutoff: pass --model-cutoff YYYY-MM-DD "
                "(or --force to test anyway)"
            )
        elif start <= cutoff:
            msg = (
                f"model {m.model!r} was trained on data up to {cutoff.isoformat()}: a backtest starting "
                f"{start.isoformat()} would test its memory of those prices; start after the cutoff "
                "(or --force)"
            )
        else:
            continue
        if not force:
            raise ConfigError(msg)
        warnings.append(f"forced: {msg}")
    return warnings


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Upper bound of what a run may spend on model calls."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal | None
    """None when a model's price is unknown."""
    per_model: dict[str, Decimal | None]

    def describe(self) -> str:
        """One line for the console."""
        cost = "unknown (a model has no price)" if self.cost_usd is None else f"${self.cost_usd:.2f}"
        return (
            f"up to {self.calls:,} model calls, ~{self.prompt_tokens:,} prompt + {self.completion_tokens:,} "
            f"completion tokens: {cost} (answers in the response cache cost nothing)"
        )


def estimate_cost(
    spec: str,
    calls_per_model: int,
    sample: EnhancedData | None,
    config: SignalConfig,
    prices: dict[str, ModelPrice] | None = None,
) -> CostEstimate:
    """The estimate for `calls_per_model` inputs (steps x symbols), from a real prompt of the run."""
    table = dict(DEFAULT_PRICES) if prices is None else prices
    prompt_chars = 4000
    if sample is not None:
        p = build_prompt(SignalInput(data=sample, risk=RiskState(equity=Decimal(10_000))), config)
        prompt_chars = len(p.system) + len(p.user)
    per_call = max(1, prompt_chars // CHARS_PER_TOKEN)
    per_model: dict[str, Decimal | None] = {}
    total: Decimal | None = Decimal(0)
    called = [m for m in _called(spec) if m.kind != "rules"]
    for m in called:
        price = table.get(m.model)
        cost = (
            None
            if price is None
            else (
                calls_per_model
                * (per_call * price.input_per_mtok + COMPLETION_TOKENS * price.output_per_mtok)
            )
            / Decimal(1_000_000)
        )
        per_model[str(m)] = cost
        total = None if total is None or cost is None else total + cost
    n = calls_per_model * len(called)
    return CostEstimate(
        calls=n,
        prompt_tokens=n * per_call,
        completion_tokens=n * COMPLETION_TOKENS,
        cost_usd=total,
        per_model=per_model,
    )


def parse_cutoff(value: str | None) -> date | None:
    """`YYYY-MM-DD` -> date (ConfigError when malformed)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"--model-cutoff {value!r}: expected YYYY-MM-DD") from None


__all__ = [
    "COMPLETION_TOKENS",
    "TRAINING_CUTOFFS",
    "CostEstimate",
    "check_cutoff",
    "estimate_cost",
    "is_ai",
    "model_members",
    "parse_cutoff",
]
