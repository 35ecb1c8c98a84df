"""Tolerant extraction of the reply object from model text, then strict decoding."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asym.signals import RejectionCode
from asym.signals.errors import ModelOutputError
from asym.signals.extract import MAX_ANSWER_CHARS, extract_json_object, parse_reply, strip_reasoning

OBJ = {"action": "LONG", "stop_loss": "98.5", "take_profit": ["106"], "leverage": "3", "confidence": 0.7}
TEXT = json.dumps(OBJ)


def code(content: str | None) -> RejectionCode:
    with pytest.raises(ModelOutputError) as info:
        parse_reply(content)
    return info.value.code


@pytest.mark.parametrize(
    "content",
    [
        TEXT,
        f"  \n{TEXT}\n ",
        f"```json\n{TEXT}\n```",
        f"```\n{TEXT}\n```",
        f"Sure! Here it is:\n```json\n{json.dumps(OBJ, indent=2)}\n```\nGood luck {{and}} bye.",
        f"My answer {{see below}}: {TEXT} (not advice).",
        f"<think>maybe {json.dumps({'action': 'SHORT'})} no</think>{TEXT}",
        f"<THINK>\nlong reasoning\n</THINK>\n\n{TEXT}",
        f"reasoning whose opening tag was stripped {{'x': 1}} </think> {TEXT}",
        f"{TEXT}\n<think>trailing unfinished thought {{",
        f"{TEXT} and again {TEXT}",  # the same object twice is not ambiguous
        json.dumps({**OBJ, "rationale": 'braces } and "quotes" { inside'}),
    ],
)
def test_variants_extract_the_same_reply(content: str) -> None:
    reply = parse_reply(content)
    assert reply.action == "LONG" and reply.stop_loss == Decimal("98.5")
    assert reply.take_profit == [Decimal(106)] and reply.leverage == Decimal(3)


def test_numbers_decode_exactly() -> None:
    reply = parse_reply('{"action": "LONG", "stop_loss": 98.10000000000000001, "take_profit": "106.3"}')
    assert reply.stop_loss == Decimal("98.10000000000000001")
    assert reply.take_profit == Decimal("106.3")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, RejectionCode.EMPTY_OUTPUT),
        ("", RejectionCode.EMPTY_OUTPUT),
        ("   \n ", RejectionCode.EMPTY_OUTPUT),
        ("<think>only thinking, no answer</think>", RejectionCode.EMPTY_OUTPUT),
        ('{"action": "LONG", "stop_loss": "95.0", "take_profit": ["110"', RejectionCode.MALFORMED_OUTPUT),
        ("I think you should go long.", RejectionCode.MALFORMED_OUTPUT),
        ("{'action': 'LONG'}", RejectionCode.MALFORMED_OUTPUT),
        ('{"action": "LONG",}', RejectionCode.MALFORMED_OUTPUT),
        (f"{TEXT} or maybe {json.dumps({**OBJ, 'action': 'SHORT'})}", RejectionCode.MALFORMED_OUTPUT),
        ("x" * (MAX_ANSWER_CHARS + 1), RejectionCode.MALFORMED_OUTPUT),
        (json.dumps({**OBJ, "position_size": "1000"}), RejectionCode.SCHEMA_VIOLATION),
        (json.dumps({**OBJ, "leverage": True}), RejectionCode.SCHEMA_VIOLATION),
        (json.dumps({**OBJ, "take_profit": {"a": 1}}), RejectionCode.SCHEMA_VIOLATION),
        (json.dumps({"signal": OBJ}), RejectionCode.SCHEMA_VIOLATION),
        (json.dumps({"stop_loss": "1"}), RejectionCode.SCHEMA_VIOLATION),
        ("[1, 2, 3]", RejectionCode.MALFORMED_OUTPUT),
    ],
)
def test_unusable_output_has_its_code(content: str | None, expected: RejectionCode) -> None:
    assert code(content) is expected


def test_reasoning_is_removed_before_looking_for_json() -> None:
    assert strip_reasoning("<think>a</think>b<thinking>c</thinking>d").replace(" ", "") == "bd"
    assert extract_json_object(f"<reasoning>{json.dumps({'action': 'SHORT'})}</reasoning>{TEXT}") == TEXT


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('{}[]"\\:,.0123456789 abcdeLONGactio<>/think`\n'), max_size=300))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    try:
        parse_reply(text)
    except ModelOutputError as exc:
        assert exc.code in RejectionCode


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_json_survives_any_prose_without_braces(before: str, after: str) -> None:
    before = before.replace("{", "(").replace("}", ")").replace("`", "'").replace("<", "(")
    after = after.replace("{", "(").replace("}", ")").replace("`", "'").replace("<", "(")
    assert parse_reply(f"{before} {TEXT} {after}").action == "LONG"


def test_pathological_braces_are_bounded() -> None:
    # Many unbalanced or broken objects: extraction gives up quickly with a malformed-output code.
    assert code("{" * 15_000 + "}" * 10) is RejectionCode.MALFORMED_OUTPUT
    assert code("{x}" * 5000) is RejectionCode.MALFORMED_OUTPUT
