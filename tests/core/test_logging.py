"""Secrets never reach a log line: by key name, by value, nested, and through standard-library loggers."""

from __future__ import annotations

import io
import json
import logging

from asym.logging import configure_logging, get_logger, redact_text, redact_value, register_secret

SECRET = "s3cr3t-value-XYZ"


def test_a_secret_containing_another_is_masked_whole() -> None:
    register_secret("short-secret")
    register_secret("short-secret-and-more")
    assert redact_text("x short-secret-and-more y short-secret z") == "x *** y *** z"


def test_structlog_lines_mask_secret_keys_and_values_but_keep_token_counts() -> None:
    register_secret(SECRET)
    out = io.StringIO()
    configure_logging(level="INFO", json=True, stream=out)
    log = get_logger("test")
    log.info(
        "call",
        api_key="k-123456",
        nested={"api_secret": "abc", "note": f"uses {SECRET}"},
        items=[SECRET, "ok"],
        prompt_tokens=120,
        completion_tokens=30,
        signal="LONG",
    )
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert SECRET not in out.getvalue()
    assert line["api_key"] == "***"
    assert line["nested"]["api_secret"] == "***"
    assert line["nested"]["note"] == "uses ***"
    assert line["items"] == ["***", "ok"]
    assert line["prompt_tokens"] == 120 and line["completion_tokens"] == 30
    assert line["signal"] == "LONG"


def test_standard_library_loggers_are_redacted() -> None:
    register_secret(SECRET)
    out = io.StringIO()
    configure_logging(level="INFO", json=True, stream=out)
    handler = logging.StreamHandler(out)
    for f in logging.getLogger().handlers[0].filters:
        handler.addFilter(f)
    lib = logging.getLogger("somelib")
    lib.addHandler(handler)
    try:
        lib.warning("connecting with %s", SECRET)
    finally:
        lib.removeHandler(handler)
    assert SECRET not in out.getvalue()
    assert "connecting with ***" in out.getvalue()


def test_redact_value_is_a_pure_function() -> None:
    register_secret(SECRET)
    assert redact_value("password", "hunter2") == "***"
    assert redact_value("tokens", 5) == 5
    assert redact_value("x", (SECRET, 1)) == ("***", 1)
