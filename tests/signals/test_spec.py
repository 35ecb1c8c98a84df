"""Model spec strings: parsing, defaults, and building models from them."""

from __future__ import annotations

import pytest

from asym.errors import ConfigError
from asym.signals import (
    ConsensusModel,
    FallbackModel,
    RulesModel,
    build_model,
    default_model_spec,
    parse_model_spec,
)
from asym.signals.client import OpenAICompatibleModel
from asym.signals.spec import ChainSpec, ConsensusSpec, SingleSpec

from .helpers import KEY


@pytest.mark.parametrize(
    ("text", "members"),
    [
        ("rules", [SingleSpec("rules")]),
        ("deepseek:deepseek-chat", [SingleSpec("deepseek", "deepseek-chat")]),
        (
            "deepseek:deepseek-reasoner>rules",
            [SingleSpec("deepseek", "deepseek-reasoner"), SingleSpec("rules")],
        ),
        ("openai:gpt-4o-mini", [SingleSpec("openai", "gpt-4o-mini")]),
        (
            "openai-compatible:http://127.0.0.1:11434/v1:qwen2.5:7b",
            [SingleSpec("openai-compatible", "qwen2.5:7b", "http://127.0.0.1:11434/v1")],
        ),
        (
            "openai-compatible:https://open.bigmodel.cn/api/paas/v4:glm-4-flash",
            [SingleSpec("openai-compatible", "glm-4-flash", "https://open.bigmodel.cn/api/paas/v4")],
        ),
        (
            "openai-compatible:http://localhost:8000:Qwen/Qwen2.5-7B-Instruct",
            [SingleSpec("openai-compatible", "Qwen/Qwen2.5-7B-Instruct", "http://localhost:8000")],
        ),
    ],
)
def test_chains_parse_and_print_back(text: str, members: list[SingleSpec]) -> None:
    spec = parse_model_spec(text)
    assert spec == ChainSpec(tuple(members))
    assert str(spec) == text


def test_consensus_parses() -> None:
    text = "consensus:2:deepseek:deepseek-chat>rules|openai:gpt-4o-mini|openai-compatible:http://h:1/v1:m"
    spec = parse_model_spec(text)
    assert isinstance(spec, ConsensusSpec) and spec.need == 2 and len(spec.members) == 3
    assert spec.members[0].members[1] == SingleSpec("rules")
    assert str(spec) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "gpt4",
        "deepseek:",
        "anthropic:claude",
        "openai-compatible:qwen",
        "openai-compatible:ftp://host/v1:m",
        "openai-compatible:http://host:8000",
        "rules>",
        "consensus:2:rules",
        "consensus:0:rules|rules",
        "consensus:4:rules|rules|rules",
        "consensus:x:rules|rules",
        "deepseek:deepseek chat",
    ],
)
def test_bad_specs_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_model_spec(text)


def test_default_is_rules_without_a_key() -> None:
    assert default_model_spec({}) == "rules"
    assert default_model_spec({"DEEPSEEK_API_KEY": "  "}) == "rules"
    assert default_model_spec({"DEEPSEEK_API_KEY": KEY}) == "deepseek:deepseek-chat>rules"


async def test_build_shapes() -> None:
    assert isinstance(build_model("rules", env={}), RulesModel)
    m = build_model("deepseek:deepseek-chat>rules", env={"DEEPSEEK_API_KEY": KEY})
    assert isinstance(m, FallbackModel) and isinstance(m.members[0], OpenAICompatibleModel)
    assert m.members[0].settings.base_url == "https://api.deepseek.com"
    await m.aclose()
    c = build_model("consensus:2:rules|openai-compatible:http://127.0.0.1:9/v1:m", env={})
    assert isinstance(c, ConsensusModel) and c.need == 2
    await c.aclose()


def test_missing_key_names_the_variable_and_builds_nothing() -> None:
    with pytest.raises(ConfigError, match="DEEPSEEK_API_KEY"):
        build_model("rules>deepseek:deepseek-chat", env={"OPENAI_API_KEY": KEY})
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_model("openai:gpt-4o-mini", env={"DEEPSEEK_API_KEY": KEY})


def test_overrides_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown provider setting"):
        build_model(
            "deepseek:deepseek-chat", env={"DEEPSEEK_API_KEY": KEY}, overrides={"deepseek": {"api_key": KEY}}
        )
    with pytest.raises(ConfigError, match="invalid provider setting"):
        build_model(
            "deepseek:deepseek-chat",
            env={"DEEPSEEK_API_KEY": KEY},
            overrides={"deepseek": {"timeout_s": "x"}},
        )
    with pytest.raises(ConfigError):
        build_model(
            "deepseek:deepseek-chat", env={"DEEPSEEK_API_KEY": KEY}, overrides={"deepseek": {"timeout_s": 0}}
        )
