"""Token prices per model and the usage ledger (calls, failures, tokens, USD cost per model id).

Prices are USD per million tokens, as published by the providers when this table was written; they change,
so pass your own table to `build_model(prices=...)`. A model missing from the table has cost None.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import msgspec

_MILLION = Decimal(1_000_000)


class ModelPrice(msgspec.Struct, frozen=True, kw_only=True):
    """USD per million tokens: uncached input, cached input (provider-side prompt cache), output."""

    input_per_mtok: Decimal
    output_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None = None


DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    # DeepSeek (api-docs.deepseek.com, V3.2 pricing): both aliases share one price.
    "deepseek-chat": ModelPrice(
        input_per_mtok=Decimal("0.28"),
        cached_input_per_mtok=Decimal("0.028"),
        output_per_mtok=Decimal("0.42"),
    ),
    "deepseek-reasoner": ModelPrice(
        input_per_mtok=Decimal("0.28"),
        cached_input_per_mtok=Decimal("0.028"),
        output_per_mtok=Decimal("0.42"),
    ),
    # OpenAI (openai.com/api/pricing).
    "gpt-4o-mini": ModelPrice(
        input_per_mtok=Decimal("0.15"),
        cached_input_per_mtok=Decimal("0.075"),
        output_per_mtok=Decimal("0.60"),
    ),
    "gpt-4o": ModelPrice(
        input_per_mtok=Decimal("2.50"),
        cached_input_per_mtok=Decimal("1.25"),
        output_per_mtok=Decimal("10.00"),
    ),
    "gpt-4.1-mini": ModelPrice(
        input_per_mtok=Decimal("0.40"), cached_input_per_mtok=Decimal("0.10"), output_per_mtok=Decimal("1.60")
    ),
}


def cost_usd(
    price: ModelPrice | None, prompt_tokens: int, completion_tokens: int, cached_prompt_tokens: int = 0
) -> Decimal | None:
    """Exact USD cost of one call, or None when the model's price is unknown."""
    if price is None:
        return None
    cached = min(max(cached_prompt_tokens, 0), max(prompt_tokens, 0))
    cached_rate = (
        price.cached_input_per_mtok if price.cached_input_per_mtok is not None else price.input_per_mtok
    )
    total = (
        (max(prompt_tokens, 0) - cached) * price.input_per_mtok
        + cached * cached_rate
        + max(completion_tokens, 0) * price.output_per_mtok
    )
    return total / _MILLION


class ProviderUsage(msgspec.Struct, kw_only=True):
    """Running totals for one model id."""

    calls: int = 0
    failures: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced_calls: int = 0


class UsageLedger:
    """Per-model-id accounting shared by every provider a model spec builds."""

    def __init__(self) -> None:
        self._by_model: dict[str, ProviderUsage] = {}

    def _get(self, model_id: str) -> ProviderUsage:
        return self._by_model.setdefault(model_id, ProviderUsage())

    def record_call(
        self, model_id: str, prompt_tokens: int, completion_tokens: int, cached: int, cost: Decimal | None
    ) -> None:
        """A successful call and what it cost."""
        u = self._get(model_id)
        u.calls += 1
        u.prompt_tokens += prompt_tokens
        u.completion_tokens += completion_tokens
        u.cached_prompt_tokens += cached
        if cost is None:
            u.unpriced_calls += 1
        else:
            u.cost_usd += cost

    def record_failure(self, model_id: str) -> None:
        """A call that ended without an answer."""
        self._get(model_id).failures += 1

    def record_cache_hit(self, model_id: str) -> None:
        """An answer served from the response cache."""
        self._get(model_id).cache_hits += 1

    def snapshot(self) -> dict[str, ProviderUsage]:
        """A copy of the totals per model id."""
        return {k: msgspec.structs.replace(v) for k, v in self._by_model.items()}

    def total_cost_usd(self) -> Decimal:
        """Sum of known costs over every model."""
        return sum((u.cost_usd for u in self._by_model.values()), Decimal(0))
