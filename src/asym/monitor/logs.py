"""Non-blocking structured JSON logs with secrets redacted.

`start_logging()` routes structlog (every `asym.logging.get_logger` logger) and the standard library's
loggers (aiohttp, asyncio, ...) through one `QueueHandler`: the caller renders a JSON line (cheap) and puts
it on a bounded queue; a `QueueListener` thread does the slow part, writing. A full queue drops the record
and counts it (`asym_log_records_dropped_total`) instead of blocking the event loop.

Redaction happens twice: per field (secret-named keys, registered secret values, nested containers) and on
the final rendered line, which also covers exception text and foreign loggers' messages.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import IO, Any

import structlog

from asym.logging import redact_text
from asym.monitor.metrics import Metrics

# Secret-named keys: whole name segments only, so 'prompt_tokens' stays visible but 'access_token',
# 'api_key', 'X-BAPI-SIGN' and 'Authorization' are hidden.
_SECRET_KEY = re.compile(
    r"(^|[_\-.])(secret|password|passwd|token|api[_\-]?key|sign|signature|authorization|cookie)($|[_\-.])",
    re.IGNORECASE,
)
MASK = "***"


def is_secret_key(key: str) -> bool:
    """True when a field named `key` holds a secret and must never be logged."""
    return bool(_SECRET_KEY.search(key))


def redact_value(value: Any, depth: int = 0) -> Any:
    """`value` with registered secrets and secret-named fields masked (recursing into containers)."""
    if isinstance(value, str):
        return redact_text(value)
    if depth > 6:
        return value
    if isinstance(value, dict):
        return {
            k: (
                MASK
                if isinstance(k, str) and is_secret_key(k) and v not in (None, "")
                else redact_value(v, depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v, depth + 1) for v in value)
    return value


def redact_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-named fields and registered secret values."""
    for key, value in list(event.items()):
        if is_secret_key(key) and value not in (None, ""):
            event[key] = MASK
        else:
            event[key] = redact_value(value)
    return event


class _RedactingFormatter(logging.Formatter):
    """Render through structlog's ProcessorFormatter, then redact the whole line once more."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(self.inner.format(record))


class _DroppingQueueHandler(logging.handlers.QueueHandler):
    """Never blocks: a full queue drops the record and counts it."""

    def __init__(self, q: queue.Queue[Any], on_drop: Any) -> None:
        super().__init__(q)
        self._on_drop = on_drop

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self._on_drop()


class _Listener(logging.handlers.QueueListener):
    """Waits (bounded) for room for its stop marker instead of failing on a full queue."""

    def enqueue_sentinel(self) -> None:
        self.queue.put(self._sentinel, timeout=5.0)  # type: ignore[attr-defined]


class LogPipeline:
    """The running log pipeline: the queue handler on the root logger and the writer thread."""

    def __init__(self, handler: _DroppingQueueHandler, listener: _Listener) -> None:
        self.handler = handler
        self.listener = listener
        self.dropped = 0
        self._running = True
        self._lock = threading.Lock()
        self._drop_lock = threading.Lock()
        self._metrics: Metrics | None = None

    def _drop(self) -> None:
        with self._drop_lock:
            self.dropped += 1
        if self._metrics is not None:
            self._metrics.count_log_dropped()

    def flush(self) -> None:
        """Wait until everything queued so far is written (at most ~5 s on a stuck output)."""
        with self._lock:
            if self._running:
                try:
                    self.listener.stop()
                except queue.Full:
                    return  # the writer is stuck; it keeps running and will catch up
                self.listener.start()

    def stop(self) -> None:
        """Write what is queued, stop the thread and detach from the root logger (idempotent)."""
        logging.getLogger().removeHandler(self.handler)
        with self._lock:
            if self._running:
                self._running = False
                try:
                    self.listener.stop()
                except queue.Full:
                    pass  # stuck output at shutdown: the daemon writer thread is abandoned


def _shared_chain() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def start_logging(
    stream: IO[str] | None = None,
    level: str = "INFO",
    *,
    metrics: Metrics | None = None,
    queue_size: int = 10_000,
    replace_handlers: bool = True,
) -> LogPipeline:
    """Configure structlog + stdlib logging to write redacted JSON lines to `stream` from a thread
    (`replace_handlers` removes the root logger's other handlers, e.g. logging.basicConfig's)."""
    lvl = logging.getLevelName(level.upper())
    if not isinstance(lvl, int):
        raise ValueError(f"unknown log level {level!r}")
    formatter = _RedactingFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_shared_chain(), structlog.processors.format_exc_info],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_processor,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    q: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
    writer = logging.StreamHandler(stream or sys.stderr)
    writer.setFormatter(logging.Formatter("%(message)s"))
    listener = _Listener(q, writer, respect_handler_level=False)
    handler = _DroppingQueueHandler(q, lambda: None)
    # Rendering happens in the caller (QueueHandler.prepare), so records carry finished, redacted text.
    handler.setFormatter(formatter)
    pipeline = LogPipeline(handler, listener)
    pipeline._metrics = metrics
    handler._on_drop = pipeline._drop
    root = logging.getLogger()
    if replace_handlers:
        for h in list(root.handlers):
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(lvl)
    structlog.configure(
        processors=[
            *_shared_chain(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    listener.start()
    return pipeline
