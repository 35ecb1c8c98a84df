"""Model spec strings and the factory that turns one into a SignalModel.

Grammar (docs/signals.md, section Model spec strings):

    spec      := "consensus:" N ":" chain ("|" chain)+  |  chain
    chain     := single (">" single)*                      fallback: left to right
    single    := "rules"
               | "deepseek:" MODEL                         e.g. deepseek:deepseek-chat
               | "openai:" MODEL                           e.g. openai:gpt-4o-mini
               | "openai-compatible:" URL ":" MODEL        e.g. openai-compatible:http://127.0.0.1:8000/v1:qwen2.5:7b

URL is http(s)://host[:port][/path] with no ':' in the path; MODEL is the rest (it may contain ':').
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from asym.errors import ConfigError
from asym.signals.cache import MemoryCache, ResponseCache
from asym.signals.costs import DEFAULT_PRICES, ModelPrice, UsageLedger
from asym.signals.models import ConsensusModel, FallbackModel, RulesModel, SignalModel
from asym.signals.providers import (
    ProviderSettings,
    Secret,
    apply_overrides,
    check_settings,
    default_settings,
    load_key,
)

# The port is taken possessively: "http://host:8000" is a URL without a model, not model "8000".
_COMPAT = re.compile(r"^(https?://[^/:\s|>]+(?::\d+)?+(?:/[^:\s|>]*)?):([^\s|>]+)$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")


class SingleSpec(msgspec.Struct, frozen=True):
    """One model: kind ('rules', 'deepseek', 'openai', 'openai-compatible'), model name, base URL."""

    kind: str
    model: str = ""
    url: str = ""

    def __str__(self) -> str:
        if self.kind == "rules":
            return "rules"
        if self.kind == "openai-compatible":
            return f"openai-compatible:{self.url}:{self.model}"
        return f"{self.kind}:{self.model}"


class ChainSpec(msgspec.Struct, frozen=True):
    """A fallback chain of single models (one member: no fallback)."""

    members: tuple[SingleSpec, ...]

    def __str__(self) -> str:
        return ">".join(str(m) for m in self.members)


class ConsensusSpec(msgspec.Struct, frozen=True):
    """N of the member chains must agree on a direction."""

    need: int
    members: tuple[ChainSpec, ...]

    def __str__(self) -> str:
        return f"consensus:{self.need}:" + "|".join(str(m) for m in self.members)


def _parse_single(text: str) -> SingleSpec:
    text = text.strip()
    if text == "rules":
        return SingleSpec("rules")
    kind, sep, rest = text.partition(":")
    if not sep or not rest:
        raise ConfigError(
            f"model spec {text[:80]!r}: expected rules, deepseek:MODEL, openai:MODEL "
            "or openai-compatible:URL:MODEL"
        )
    if kind in ("deepseek", "openai"):
        if not _MODEL.match(rest):
            raise ConfigError(f"model spec {text[:80]!r}: bad model name")
        return SingleSpec(kind, rest)
    if kind == "openai-compatible":
        m = _COMPAT.match(rest)
        if not m or not _MODEL.match(m.group(2)):
            raise ConfigError(
                f"model spec {text[:80]!r}: expected openai-compatible:http(s)://host[:port][/path]:MODEL"
            )
        return SingleSpec(kind, m.group(2), m.group(1).rstrip("/"))
    raise ConfigError(f"model spec {text[:80]!r}: unknown provider {kind!r}")


def _parse_chain(text: str) -> ChainSpec:
    parts = text.split(">")
    if any(not p.strip() for p in parts):
        raise ConfigError(f"model spec {text[:80]!r}: empty member in fallback chain")
    return ChainSpec(tuple(_parse_single(p) for p in parts))


def parse_model_spec(text: str) -> ChainSpec | ConsensusSpec:
    """Parse a model spec string; ConfigError with the reason when it is malformed."""
    text = text.strip()
    if not text:
        raise ConfigError("empty model spec")
    if text.startswith("consensus:"):
        _, n_text, rest = text.split(":", 2) if text.count(":") >= 2 else ("", "", "")
        if not n_text.isdigit() or not rest:
            raise ConfigError(f"model spec {text[:80]!r}: expected consensus:N:spec1|spec2|...")
        members = tuple(_parse_chain(p) for p in rest.split("|"))
        need = int(n_text)
        if len(members) < 2 or not 1 <= need <= len(members):
            raise ConfigError(
                f"consensus needs at least 2 members and 1 <= N <= members, got N={need} of {len(members)}"
            )
        return ConsensusSpec(need, members)
    return _parse_chain(text)


def default_model_spec(env: Mapping[str, str] | None = None) -> str:
    """`deepseek:deepseek-chat>rules` when DEEPSEEK_API_KEY is set, else `rules` (works with no network)."""
    env = os.environ if env is None else env
    return "deepseek:deepseek-chat>rules" if env.get("DEEPSEEK_API_KEY", "").strip() else "rules"


def build_model(
    spec: str,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    cache: ResponseCache | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    ledger: UsageLedger | None = None,
) -> SignalModel:
    """A ready model for `spec`. Keys come from `env` (default os.environ); `overrides` change provider
    settings by kind or model id (e.g. {"deepseek": {"base_url": ..., "timeout_s": 10}})."""
    parsed = parse_model_spec(spec)
    env = os.environ if env is None else env
    ledger = ledger if ledger is not None else UsageLedger()
    cache = cache if cache is not None else MemoryCache()
    table = DEFAULT_PRICES if prices is None else prices

    chains = parsed.members if isinstance(parsed, ConsensusSpec) else (parsed,)
    # Resolve every provider (settings, key) before creating any client, so a bad spec leaks nothing.
    resolved: dict[SingleSpec, tuple[ProviderSettings, Secret | None]] = {}
    for c in chains:
        for s in c.members:
            if s.kind != "rules" and s not in resolved:
                settings = apply_overrides(default_settings(s.kind, s.model, s.url), overrides)  # type: ignore[arg-type]
                check_settings(settings)
                resolved[s] = (settings, load_key(settings, env))

    def single(s: SingleSpec) -> SignalModel:
        if s.kind == "rules":
            return RulesModel(ledger)
        settings, key = resolved[s]
        # Imported here: a run on the rule model never needs the openai SDK (with it imported eagerly,
        # `import asym.signals` took 1.23 s; without, 0.35 s, measured on this machine).
        from asym.signals.client import OpenAICompatibleModel

        return OpenAICompatibleModel(settings, key, cache=cache, prices=table, ledger=ledger)

    def chain(c: ChainSpec) -> SignalModel:
        if len(c.members) == 1:
            return single(c.members[0])
        return FallbackModel([single(m) for m in c.members], str(c), ledger)

    if isinstance(parsed, ConsensusSpec):
        return ConsensusModel(parsed.need, [chain(c) for c in parsed.members], str(parsed), ledger)
    return chain(parsed)
