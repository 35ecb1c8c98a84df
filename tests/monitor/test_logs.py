"""Structured JSON logs through a queue: one JSON object per line, secrets redacted, never blocking."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from asym.logging import get_logger, register_secret
from asym.monitor import Metrics, start_logging
from asym.monitor.logs import LogPipeline, is_secret_key

SECRET = "S3cr3t-Value-For-Log-Test-91f2"


class _Capture(io.StringIO):
    """A stream the writer thread writes to."""


@pytest.fixture
def pipeline() -> Iterator[tuple[LogPipeline, _Capture]]:
    """A log pipeline writing to memory; restores structlog and the root logger afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_config = structlog.get_config()
    stream = _Capture()
    p = start_logging(stream, "DEBUG", replace_handlers=False)
    try:
        yield p, stream
    finally:
        p.stop()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_config)


def _lines(p: LogPipeline, stream: _Capture) -> list[dict[str, Any]]:
    p.flush()
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_with_level_time_and_fields(pipeline: tuple[LogPipeline, _Capture]) -> None:
    p, stream = pipeline
    get_logger("trading").info("order placed", symbol="BTCUSDT", qty="0.01", prompt_tokens=900)
    logging.getLogger("aiohttp.access").warning("GET /api/status 200")
    lines = _lines(p, stream)
    first = next(x for x in lines if x["event"] == "order placed")
    assert first["level"] == "info" and first["component"] == "trading" and first["symbol"] == "BTCUSDT"
    assert first["timestamp"].endswith("Z") and first["prompt_tokens"] == 900  # 'tokens' is not a secret name
    foreign = next(x for x in lines if x["event"] == "GET /api/status 200")
    assert foreign["level"] == "warning" and foreign["logger"] == "aiohttp.access"


def test_secrets_never_reach_a_log_line(pipeline: tuple[LogPipeline, _Capture]) -> None:
    p, stream = pipeline
    register_secret(SECRET)
    log = get_logger("bybit")
    log.info("signed request", api_secret=SECRET, headers={"X-BAPI-SIGN": "abcdef123456", "Accept": "json"})
    log.info(f"url was https://api.telegram.org/bot{SECRET}/sendMessage")
    log.info("nested", payload={"deep": [{"text": f"key={SECRET}"}]}, token="tok-123456")
    try:
        raise RuntimeError(f"auth failed for {SECRET}")
    except RuntimeError:
        log.exception("request failed")
    logging.getLogger("aiohttp.client").error("connect to %s failed", f"https://x/bot{SECRET}/getMe")
    lines = _lines(p, stream)
    assert SECRET not in stream.getvalue()
    signed = next(x for x in lines if x["event"] == "signed request")
    assert signed["api_secret"] == "***" and signed["headers"]["X-BAPI-SIGN"] == "***"
    assert signed["headers"]["Accept"] == "json"
    nested = next(x for x in lines if x["event"] == "nested")
    assert nested["token"] == "***" and nested["payload"]["deep"][0]["text"] == "key=***"
    failed = next(x for x in lines if x["event"] == "request failed")
    assert "RuntimeError: auth failed for ***" in failed["exception"]
    assert any(x["event"] == "connect to https://x/bot***/getMe failed" for x in lines)


def test_secret_key_names() -> None:
    for k in (
        "api_secret",
        "api_key",
        "apiKey",
        "X-BAPI-SIGN",
        "Authorization",
        "access_token",
        "password",
        "token",
    ):
        assert is_secret_key(k), k
    for k in ("prompt_tokens", "completion_tokens", "signal", "design", "symbol", "key"):
        assert not is_secret_key(k), k


def test_logging_does_not_block_when_the_output_is_stuck() -> None:
    """The writer is blocked on a stuck stream; log calls still return at once, and nothing is lost once it
    unblocks (up to the queue's size; beyond it, records are dropped and counted)."""
    release = threading.Event()

    class Stuck(io.StringIO):
        def write(self, s: str) -> int:
            release.wait(10)
            return super().write(s)

    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_config = structlog.get_config()
    stream = Stuck()
    metrics = Metrics(process=False)
    p = start_logging(stream, "INFO", metrics=metrics, queue_size=50, replace_handlers=False)
    try:
        log = get_logger("hot")
        for i in range(80):  # would hang here for 10 s per line if logging were synchronous
            log.info("tick", i=i)
        assert not release.is_set()
        assert p.dropped >= 29  # 50 queued + at most one taken by the stuck writer
        assert metrics.registry.get_sample_value("asym_log_records_dropped_total") == p.dropped
        release.set()
        p.flush()
        got = [json.loads(line)["i"] for line in stream.getvalue().splitlines()]
        assert got == sorted(set(got)) and got[:50] == list(range(50))  # in order, the oldest kept
        assert len(got) + p.dropped == 80  # nothing lost silently: every record written or counted
    finally:
        release.set()
        p.stop()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_config)
