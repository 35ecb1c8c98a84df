"""A model behind an OpenAI-compatible chat-completions API (DeepSeek, OpenAI, GLM, Qwen, vLLM, Ollama, ...).

Uses the `openai` SDK (AsyncOpenAI, its own retries off) with: a total timeout per attempt, retries with
exponential backoff and jitter on 429 (honouring Retry-After), 5xx, timeouts and connection errors, a
circuit breaker, a concurrency limit, the response cache, and token/cost accounting. The answer then goes
through tolerant extraction, strict decoding and semantic validation.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import msgspec
import openai

from asym.errors import DataError
from asym.logging import get_logger, redact_text
from asym.signals.breaker import CircuitBreaker
from asym.signals.cache import CachedCompletion, ResponseCache, cache_key
from asym.signals.config import SignalConfig
from asym.signals.costs import DEFAULT_PRICES, ModelPrice, UsageLedger, cost_usd
from asym.signals.errors import ModelCallError, ModelOutputError
from asym.signals.extract import parse_reply
from asym.signals.prompt import PROMPT_VERSION, Prompt, build_prompt
from asym.signals.providers import ProviderSettings, Secret, check_settings
from asym.signals.schema import Meta, Rejection, RejectionCode, SignalInput, SignalOutcome, Usage
from asym.signals.validation import validate_reply

_log = get_logger("signals.client")
_EXCERPT = 200
_NO_KEY = "no-key"

# Sent only where json_schema is supported and configured (never to DeepSeek).
REPLY_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["action"],
    "properties": {
        "action": {"type": "string", "enum": ["LONG", "SHORT", "HOLD", "CLOSE"]},
        "symbol": {"type": "string"},
        "entry_type": {"type": "string", "enum": ["market", "limit"]},
        "entry_price": {"type": ["string", "null"]},
        "stop_loss": {"type": ["string", "null"]},
        "take_profit": {"type": "array", "items": {"type": "string"}},
        "take_profit_fractions": {"type": ["array", "null"], "items": {"type": "string"}},
        "confidence": {"type": "number"},
        "leverage": {"type": "string"},
        "horizon_hours": {"type": "number"},
        "rationale": {"type": "string"},
    },
}


class Completion(msgspec.Struct, frozen=True, kw_only=True):
    """A model's raw answer, its usage and how long it took."""

    content: str | None
    reasoning: str | None
    usage: Usage
    latency_ms: float


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every connection pool (building one parses the CA bundle: ~0.1-0.3 s)."""
    try:
        import httpcore2  # the openai SDK's transport; its default context honours SSL_CERT_FILE

        return httpcore2.default_ssl_context()
    except (ImportError, AttributeError):
        return ssl.create_default_context()


def _excerpt(text: str | None) -> str:
    return redact_text((text or "")[:_EXCERPT])


def _retry_after_s(exc: openai.APIStatusError) -> float | None:
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) * scale)
            except ValueError:
                continue
    return None


def _usage_tokens(resp: Any) -> tuple[int, int, int]:
    u = getattr(resp, "usage", None)
    if u is None:
        return 0, 0, 0
    prompt = int(getattr(u, "prompt_tokens", 0) or 0)
    completion = int(getattr(u, "completion_tokens", 0) or 0)
    # DeepSeek reports prompt_cache_hit_tokens; OpenAI reports prompt_tokens_details.cached_tokens.
    cached = getattr(u, "prompt_cache_hit_tokens", None)
    if cached is None:
        details = getattr(u, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) if details is not None else None
    return prompt, completion, int(cached or 0)


class OpenAICompatibleModel:
    """One provider model; `generate` turns one asset's input into a validated outcome."""

    def __init__(
        self,
        settings: ProviderSettings,
        api_key: Secret | None,
        *,
        cache: ResponseCache | None = None,
        prices: Mapping[str, ModelPrice] = DEFAULT_PRICES,
        ledger: UsageLedger | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        prompt_version: str = PROMPT_VERSION,
        http_client: Any = None,
    ) -> None:
        check_settings(settings)
        self.settings = settings
        self.model_id = settings.model_id
        self.prompt_version = prompt_version
        self.ledger = ledger if ledger is not None else UsageLedger()
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s, clock)
        self._cache = cache
        self._price = prices.get(settings.model)
        self._sleep = sleep
        self._rng = random.Random()
        self._sem = asyncio.Semaphore(settings.concurrency)
        # Several small connection pools instead of one big one: the HTTP pool's bookkeeping is
        # quadratic in its connections (measured: ~6.5 ms CPU per call with one pool of 100 vs ~3 ms
        # with pools of 8). Requests go round-robin. All pools share one TLS context.
        shards = (
            1
            if http_client is not None
            else max(1, -(-settings.concurrency // settings.connections_per_pool))
        )
        self._clients = [
            openai.AsyncOpenAI(
                api_key=api_key.reveal() if api_key is not None else _NO_KEY,
                base_url=settings.base_url,
                timeout=settings.timeout_s,
                max_retries=0,
                http_client=http_client or openai.DefaultAsyncHttpxClient(verify=tls_context()),
            )
            for _ in range(shards)
        ]
        self._turn = itertools.count()

    def __repr__(self) -> str:
        return f"OpenAICompatibleModel({self.model_id!r})"

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        for client in self._clients:
            await client.close()

    def _request(self, prompt: Prompt) -> dict[str, Any]:
        s = self.settings
        body: dict[str, Any] = {"messages": prompt.messages()}
        if s.send_temperature:
            body["temperature"] = s.temperature
        if s.max_tokens is not None:
            body["max_tokens"] = s.max_tokens
        if s.json_mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        elif s.json_mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "asym_signal", "schema": REPLY_JSON_SCHEMA, "strict": False},
            }
        # The parameters travel in extra_body: the JSON on the wire is the same, but the SDK's
        # per-request TypedDict transform of them (~1 ms CPU per call, measured) is skipped.
        return {"model": s.model, "messages": [], "extra_body": body}

    async def _attempt(self, kwargs: dict[str, Any]) -> Any:
        async with self._sem:
            # The deadline covers the whole attempt, not each socket read; queueing does not count.
            client = self._clients[next(self._turn) % len(self._clients)]
            async with asyncio.timeout(self.settings.timeout_s):
                return await client.chat.completions.create(**kwargs)

    async def _call_with_retries(self, kwargs: dict[str, Any]) -> Any:
        s = self.settings
        last = ModelCallError(RejectionCode.MODEL_UNAVAILABLE, f"{self.model_id}: no attempt made")
        for attempt in range(s.max_retries + 1):
            hint: float | None = None
            try:
                return await self._attempt(kwargs)
            except openai.RateLimitError as exc:
                hint = _retry_after_s(exc)
                last = ModelCallError(RejectionCode.RATE_LIMITED, f"{self.model_id}: HTTP 429 rate limited")
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise ModelCallError(
                    RejectionCode.AUTH_FAILED,
                    f"{self.model_id}: HTTP {exc.status_code} authentication failed",
                ) from None
            except openai.APIStatusError as exc:
                if exc.status_code < 500 and exc.status_code not in (408, 409):
                    raise ModelCallError(
                        RejectionCode.MODEL_REQUEST_REJECTED,
                        f"{self.model_id}: HTTP {exc.status_code} {redact_text(str(exc.message))[:_EXCERPT]}",
                    ) from None
                last = ModelCallError(
                    RejectionCode.MODEL_UNAVAILABLE, f"{self.model_id}: HTTP {exc.status_code}"
                )
            except (openai.APITimeoutError, TimeoutError):
                last = ModelCallError(
                    RejectionCode.MODEL_UNAVAILABLE, f"{self.model_id}: timed out after {s.timeout_s} s"
                )
            except openai.APIConnectionError as exc:
                last = ModelCallError(
                    RejectionCode.MODEL_UNAVAILABLE,
                    f"{self.model_id}: connection failed ({type(exc).__name__})",
                )
            except ValueError as exc:
                # A 200 whose body is not JSON (a proxy or gateway page): transient, retry.
                last = ModelCallError(
                    RejectionCode.MODEL_UNAVAILABLE,
                    f"{self.model_id}: unreadable response ({type(exc).__name__})",
                )
            except openai.OpenAIError as exc:
                raise ModelCallError(
                    RejectionCode.MODEL_UNAVAILABLE,
                    f"{self.model_id}: unusable response ({type(exc).__name__})",
                ) from None
            if attempt < s.max_retries:
                delay = min(s.backoff_max_s, s.backoff_base_s * 2**attempt) * self._rng.uniform(0.5, 1.0)
                if hint is not None:
                    delay = min(s.backoff_max_s, max(delay, hint))
                _log.warning(
                    "model_retry",
                    model=self.model_id,
                    attempt=attempt + 1,
                    code=str(last.code),
                    delay_s=delay,
                )
                await self._sleep(delay)
        raise last

    async def complete(self, prompt: Prompt) -> Completion:
        """The model's raw answer to `prompt` (cache, breaker, retries); raises ModelCallError."""
        t0 = time.perf_counter()
        key = cache_key(self.model_id, prompt.digest())
        if self._cache is not None:
            hit = await self._cache.get(key)
            if hit is not None:
                self.ledger.record_cache_hit(self.model_id)
                usage = Usage(
                    prompt_tokens=hit.prompt_tokens,
                    completion_tokens=hit.completion_tokens,
                    cached_prompt_tokens=hit.cached_prompt_tokens,
                    cost_usd=Decimal(0),
                    cached_response=True,
                )
                return Completion(
                    content=hit.content,
                    reasoning=hit.reasoning,
                    usage=usage,
                    latency_ms=(time.perf_counter() - t0) * 1000,
                )
        if not self.breaker.allow():
            self.ledger.record_failure(self.model_id)
            raise ModelCallError(
                RejectionCode.CIRCUIT_OPEN,
                f"{self.model_id}: circuit open after {self.breaker.consecutive_failures} failed calls",
            )
        try:
            resp = await self._call_with_retries(self._request(prompt))
        except ModelCallError:
            self.breaker.record_failure()
            self.ledger.record_failure(self.model_id)
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        latency = (time.perf_counter() - t0) * 1000
        choices = getattr(resp, "choices", None) or []
        message = choices[0].message if choices else None
        content = getattr(message, "content", None) if message is not None else None
        reasoning = getattr(message, "reasoning_content", None) if message is not None else None
        prompt_t, completion_t, cached_t = _usage_tokens(resp)
        cost = cost_usd(self._price, prompt_t, completion_t, cached_t)
        self.ledger.record_call(self.model_id, prompt_t, completion_t, cached_t, cost)
        if self._cache is not None:
            await self._cache.put(
                key,
                CachedCompletion(
                    content=content,
                    reasoning=reasoning if isinstance(reasoning, str) else None,
                    prompt_tokens=prompt_t,
                    completion_tokens=completion_t,
                    cached_prompt_tokens=cached_t,
                ),
            )
        usage = Usage(
            prompt_tokens=prompt_t,
            completion_tokens=completion_t,
            cached_prompt_tokens=cached_t,
            cost_usd=cost,
        )
        return Completion(
            content=content if isinstance(content, str) else None,
            reasoning=reasoning if isinstance(reasoning, str) else None,
            usage=usage,
            latency_ms=latency,
        )

    async def generate(self, inp: SignalInput, config: SignalConfig) -> SignalOutcome:
        """Prompt the model for one asset and validate its answer."""
        symbol = inp.data.symbol
        t0 = time.perf_counter()
        try:
            prompt = build_prompt(inp, config, self.prompt_version)
        except DataError as exc:
            return Rejection(
                symbol=symbol,
                model_id=self.model_id,
                code=RejectionCode.INVALID_INPUT,
                detail=str(exc),
                prompt_version=self.prompt_version,
                data_timestamp=inp.data.timestamp,
            )
        try:
            comp = await self.complete(prompt)
        except ModelCallError as exc:
            _log.warning(
                "model_failed", model=self.model_id, symbol=symbol, code=str(exc.code), detail=str(exc)
            )
            return Rejection(
                symbol=symbol,
                model_id=self.model_id,
                code=exc.code,
                detail=redact_text(str(exc)),
                prompt_version=prompt.version,
                latency_ms=(time.perf_counter() - t0) * 1000,
                data_timestamp=inp.data.timestamp,
            )
        meta = Meta(
            model_id=self.model_id,
            prompt_version=prompt.version,
            latency_ms=comp.latency_ms,
            usage=comp.usage,
        )
        try:
            reply = parse_reply(comp.content)
        except ModelOutputError as exc:
            _log.warning("model_output_unusable", model=self.model_id, symbol=symbol, code=str(exc.code))
            return Rejection(
                symbol=symbol,
                model_id=self.model_id,
                code=exc.code,
                detail=redact_text(str(exc)),
                prompt_version=prompt.version,
                latency_ms=comp.latency_ms,
                usage=comp.usage,
                data_timestamp=inp.data.timestamp,
                raw_excerpt=_excerpt(comp.content),
            )
        outcome = validate_reply(reply, inp, config.validation, meta)
        if isinstance(outcome, Rejection):
            outcome = msgspec.structs.replace(outcome, raw_excerpt=_excerpt(comp.content))
        return outcome
