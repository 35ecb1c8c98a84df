"""Provider settings (base URL, model, timeouts, retries, breaker, concurrency, JSON mode) and API keys.

Keys come only from the environment (never argv, prompts, logs or errors); `Secret` hides its value from
repr/str and registers it with asym.logging so any log line containing it is redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from asym.errors import ConfigError
from asym.logging import register_secret

ProviderKind = Literal["deepseek", "openai", "openai-compatible"]
JsonMode = Literal["json_object", "json_schema", "none"]

DEEPSEEK_BASE_URL = "https://api.deepseek.com"
OPENAI_BASE_URL = "https://api.openai.com/v1"


class Secret:
    """A credential: its value is only available through `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        """The secret value, for the HTTP client only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


class ProviderSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How to call one model of one provider."""

    kind: ProviderKind
    model: str
    base_url: str
    api_key_env: tuple[str, ...] = ()
    key_required: bool = True
    json_mode: JsonMode = "json_object"
    send_temperature: bool = True
    temperature: float = 0.0
    max_tokens: int | None = 1024
    timeout_s: float = 30.0
    max_retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    concurrency: int = 100
    connections_per_pool: int = 8
    """Requests are spread over ceil(concurrency / this) connection pools (see client.py: why)."""

    @property
    def model_id(self) -> str:
        """The id recorded in signals and the ledger (also the cache namespace)."""
        if self.kind == "openai-compatible":
            return f"openai-compatible:{self.base_url}:{self.model}"
        return f"{self.kind}:{self.model}"


def default_settings(kind: ProviderKind, model: str, url: str = "") -> ProviderSettings:
    """The built-in settings of a provider/model (docs/signals.md, section Providers)."""
    if kind == "deepseek":
        reasoner = "reasoner" in model
        return ProviderSettings(
            kind=kind,
            model=model,
            base_url=DEEPSEEK_BASE_URL,
            api_key_env=("DEEPSEEK_API_KEY",),
            # DeepSeek rejects json_schema; json_object is sent to deepseek-chat. The reasoner gets the
            # schema in the prompt only and ignores temperature.
            json_mode="none" if reasoner else "json_object",
            send_temperature=not reasoner,
            max_tokens=None if reasoner else 1024,
            timeout_s=120.0 if reasoner else 30.0,
        )
    if kind == "openai":
        return ProviderSettings(
            kind=kind, model=model, base_url=OPENAI_BASE_URL, api_key_env=("OPENAI_API_KEY",)
        )
    if not url:
        raise ConfigError("openai-compatible needs a base URL")
    return ProviderSettings(
        kind=kind,
        model=model,
        base_url=url,
        api_key_env=("ASYM_MODEL_API_KEY",),
        key_required=False,
        timeout_s=60.0,
    )


def apply_overrides(
    settings: ProviderSettings, overrides: Mapping[str, Mapping[str, Any]] | None
) -> ProviderSettings:
    """Apply overrides keyed by provider kind, then by model id (the more specific wins)."""
    if not overrides:
        return settings
    changes: dict[str, Any] = {}
    for key in (settings.kind, settings.model_id):
        changes.update(overrides.get(key, {}))
    if not changes:
        return settings
    fields = set(ProviderSettings.__struct_fields__) - {"kind"}
    unknown = set(changes) - fields
    if unknown:
        raise ConfigError(f"unknown provider setting(s): {', '.join(sorted(unknown))}")
    try:
        new = msgspec.convert({**msgspec.structs.asdict(settings), **changes}, ProviderSettings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid provider setting for {settings.model_id}: {exc}") from None
    return new


def check_settings(s: ProviderSettings) -> None:
    """Reject settings that cannot work (e.g. json_schema sent to DeepSeek)."""
    if s.kind == "deepseek" and s.json_mode == "json_schema":
        raise ConfigError("DeepSeek rejects response_format json_schema; use json_object or none")
    if s.timeout_s <= 0 or s.max_retries < 0 or s.concurrency < 1 or s.breaker_failures < 1:
        raise ConfigError(
            f"{s.model_id}: timeout_s > 0, max_retries >= 0, concurrency >= 1, breaker_failures >= 1"
        )
    if not s.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{s.model_id}: base_url must be http(s)")


def load_key(s: ProviderSettings, env: Mapping[str, str]) -> Secret | None:
    """The API key from the first set variable of `s.api_key_env`; ConfigError when required and absent."""
    for name in s.api_key_env:
        value = env.get(name, "").strip()
        if value:
            return Secret(value)
    if s.key_required:
        names = " or ".join(s.api_key_env) or "an API key variable"
        raise ConfigError(f"{s.model_id} needs {names} in the environment")
    return None
