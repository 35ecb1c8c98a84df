"""A known API key never appears in prompts, logs, exceptions, rejections or reprs."""

from __future__ import annotations

import io
import logging
import pickle
from decimal import Decimal

import pytest
import structlog

from asym.errors import ConfigError
from asym.logging import configure_logging, get_logger
from asym.signals import SignalConfig, build_model, build_prompt, generate_signals, to_json_line
from asym.signals.providers import Secret
from asym.signals.testing import OpenAITestServer, ScriptedReply, reply_error, reply_json, valid_trade

from .helpers import KEY, fast, make_input


async def test_key_never_leaks(server: OpenAITestServer, config: SignalConfig) -> None:
    stream = io.StringIO()
    # Capture structlog output and every stdlib logger (the openai SDK and HTTP client log at DEBUG).
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    configure_logging("DEBUG", json=True, stream=stream)
    try:
        # The server echoes the key back in error messages and in content, as a hostile proxy might.
        server.enqueue(
            ScriptedReply(status=400, error_message=f"bad key {KEY}"),
            reply_error(401, error_message=f"invalid api key {KEY}"),
            *[reply_error(500, error_message=f"upstream saw {KEY}")] * 3,
            ScriptedReply(content=f"I cannot answer. key={KEY}"),
            reply_json(
                {**valid_trade("LONG", Decimal(100), Decimal(1)), "stop_loss": "101", "rationale": KEY}
            ),
        )
        model = build_model(
            "deepseek:deepseek-chat",
            env={"DEEPSEEK_API_KEY": KEY},
            overrides={"deepseek": fast(server.base_url)},
        )
        outs = []
        for _ in range(5):
            outs += await generate_signals([make_input()], model, config)
        get_logger("test").info("done", api_key=KEY, note=f"value {KEY}")
        texts = [to_json_line(o) for o in outs] + [repr(o) for o in outs] + [repr(model), str(model)]
        texts.append(build_prompt(make_input(), config).system + build_prompt(make_input(), config).user)
        texts += [str(r.body) for r in server.requests]  # what was sent: prompts and parameters
        texts.append(stream.getvalue())
        await model.aclose()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()
    assert [getattr(o, "code", None) for o in outs][:4] != [None] * 4
    for text in texts:
        assert KEY not in text
    assert "***" in stream.getvalue()  # it was logged, redacted
    assert "HTTP Request" in stream.getvalue() or "Request options" in stream.getvalue()  # SDK logs captured
    assert all(r.authorization == f"Bearer {KEY}" for r in server.requests)  # only the HTTP header carries it


def test_secret_hides_its_value() -> None:
    s = Secret(KEY)
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in f"{s}" and s.reveal() == KEY
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_config_errors_name_the_variable_not_the_value() -> None:
    try:
        build_model(
            "deepseek:deepseek-chat", env={"DEEPSEEK_API_KEY": KEY}, overrides={"deepseek": {"nope": KEY}}
        )
    except ConfigError as exc:
        assert KEY not in str(exc) and KEY not in repr(exc)
    else:
        raise AssertionError("expected ConfigError")
