"""Alert delivery channels: a generic JSON webhook and Telegram's bot API (sendMessage).

Failures raise `DeliveryError` with a message that names the channel and the HTTP status only: the
Telegram URL carries the bot token, so neither the URL nor aiohttp's exception text ever reaches an error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
import msgspec

from asym.errors import AsymError, ConfigError
from asym.logging import redact_text, register_secret
from asym.monitor.alerts.book import Notification, Status

TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_MAX_CHARS = 4096


class DeliveryError(AsymError):
    """A notification could not be delivered (the message never contains a secret)."""


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def webhook_payload(n: Notification) -> dict[str, Any]:
    """The JSON body a webhook receives."""
    return {
        "source": "asym",
        "status": n.status.value,
        "key": n.key,
        "rule": n.rule,
        "severity": n.severity.value,
        "summary": redact_text(n.summary),
        "started_at": _iso(n.started_ms),
        "ended_at": _iso(n.ended_ms),
    }


def telegram_text(n: Notification) -> str:
    """The plain-text message (no parse_mode: nothing in a summary can inject markup)."""
    head = f"FIRING [{n.severity.value}] {n.key}" if n.status is Status.FIRING else f"RESOLVED {n.key}"
    when = f"since {_iso(n.started_ms)}" + (f", until {_iso(n.ended_ms)}" if n.ended_ms else "")
    text = redact_text(f"asym {head}\n{n.summary}\n{when}")
    return text[:TELEGRAM_MAX_CHARS]


class Sink(Protocol):
    """A delivery channel."""

    name: str

    async def send(self, n: Notification, session: aiohttp.ClientSession) -> None:
        """Deliver `n`, or raise DeliveryError."""
        ...


async def _post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], channel: str, timeout_s: float, **kw: Any
) -> bytes:
    try:
        async with session.post(
            url,
            data=msgspec.json.encode(body),
            headers={"Content-Type": "application/json", **kw.get("headers", {})},
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp:
            raw = await resp.read()
            if not 200 <= resp.status < 300:
                raise DeliveryError(f"{channel}: HTTP {resp.status}")
            return raw
    except TimeoutError:
        raise DeliveryError(f"{channel}: timed out after {timeout_s:g}s") from None
    except (aiohttp.ClientError, OSError) as exc:
        # The exception's text may contain the URL (and so a token): keep only its type.
        raise DeliveryError(f"{channel}: {type(exc).__name__}") from None


class WebhookSink:
    """POST the notification as JSON to a URL (optional extra headers, e.g. an auth header)."""

    def __init__(
        self,
        url: str,
        *,
        name: str = "webhook",
        headers: dict[str, str] | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError("webhook URL must start with http:// or https://")
        self.url = url
        self.name = name
        self.headers = dict(headers or {})
        for v in self.headers.values():
            register_secret(v)
        self.timeout_s = timeout_s

    async def send(self, n: Notification, session: aiohttp.ClientSession) -> None:
        """POST webhook_payload(n)."""
        await _post(session, self.url, webhook_payload(n), self.name, self.timeout_s, headers=self.headers)

    def __repr__(self) -> str:
        return f"WebhookSink(name={self.name!r})"


class TelegramSink:
    """Telegram bot API: POST {base_url}/bot<token>/sendMessage with {chat_id, text}."""

    def __init__(
        self,
        token: str,
        chat_id: str | int,
        *,
        base_url: str = TELEGRAM_API,
        name: str = "telegram",
        timeout_s: float = 5.0,
    ) -> None:
        if not token or any(c.isspace() or c == "/" for c in token):
            raise ConfigError("telegram bot token is empty or malformed")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError("telegram base URL must start with http:// or https://")
        register_secret(token)
        self._token = token
        self.chat_id = chat_id
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout_s = timeout_s

    async def send(self, n: Notification, session: aiohttp.ClientSession) -> None:
        """sendMessage; Telegram's own {"ok": false} answer counts as a failure."""
        url = f"{self.base_url}/bot{self._token}/sendMessage"
        body = {"chat_id": self.chat_id, "text": telegram_text(n), "disable_web_page_preview": True}
        raw = await _post(session, url, body, self.name, self.timeout_s)
        try:
            answer = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise DeliveryError(f"{self.name}: answer is not JSON") from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            desc = answer.get("description", "") if isinstance(answer, dict) else ""
            raise DeliveryError(redact_text(f"{self.name}: refused: {str(desc)[:200]}"))

    def __repr__(self) -> str:
        return f"TelegramSink(name={self.name!r}, chat_id={self.chat_id!r}, token='***')"
