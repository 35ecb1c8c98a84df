"""Structured JSON logging (structlog) with secrets redacted before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Whole key names (or their last `_` part) that hold secrets; `prompt_tokens` and `signal` are not secrets.
_SECRET_KEYS = re.compile(
    r"(^|[_-])(secret|api[_-]?secret|password|passphrase|token|api[_-]?key|apikey|signature|sign|authorization)$",
    re.IGNORECASE,
)
_known_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret value so that it is replaced by *** wherever it would appear in a log line."""
    if value and len(value) >= 4:
        _known_secrets.add(value)


def redact_text(text: str) -> str:
    """Replace every registered secret inside `text` with ***."""
    # Longest first: a secret that contains another must be masked whole, not leave its tail behind.
    for s in sorted(_known_secrets, key=len, reverse=True):
        if s in text:
            text = text.replace(s, "***")
    return text


def redact_value(key: str, value: Any) -> Any:
    """`value` with secrets masked: by key name, by known secret values, through dicts, lists and tuples."""
    if _SECRET_KEYS.search(key) and value not in (None, ""):
        return "***"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value("", v) for v in value)
    return value


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        event[key] = redact_value(key, value)
    return event


class _RedactingFilter(logging.Filter):
    """Masks known secret values in standard-library log records (aiohttp, openai, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _known_secrets:
            record.msg = redact_text(str(record.msg))
            if record.args:
                record.args = (
                    tuple(redact_value("", a) for a in record.args)
                    if isinstance(record.args, tuple)
                    else record.args
                )
        return True


def configure_logging(level: str = "INFO", json: bool = True, stream: Any = None) -> None:
    """Set up structlog for the process: JSON lines (or console), timestamped, secrets redacted."""
    logging.basicConfig(level=level, stream=stream or sys.stderr, format="%(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactingFilter())
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger bound to a component name."""
    return structlog.get_logger(component=name)
