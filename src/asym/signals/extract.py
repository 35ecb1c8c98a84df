"""Tolerant extraction of the one JSON reply object from model text, then strict decoding.

Models wrap JSON in code fences, put prose around it, or prepend reasoning (<think> blocks). Extraction
removes reasoning, then looks for exactly one distinct JSON object (preferring objects with an "action"
key); decoding into `ModelReply` is strict. Reasoning output (deepseek-reasoner's `reasoning_content`) is
never parsed as the answer: it is a draft, not a commitment.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from asym.signals.errors import ModelOutputError
from asym.signals.schema import ModelReply, RejectionCode

MAX_OUTPUT_CHARS = 200_000
"""Longest raw output accepted (reasoning included)."""
MAX_ANSWER_CHARS = 20_000
"""Longest answer accepted once reasoning is removed."""
_MAX_SPAN_ATTEMPTS = 16
_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_THINK_CLOSE = re.compile(r"</(think|thinking|reasoning)\s*>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\r?\n?(.*?)```", re.DOTALL)
_decode_any = msgspec.json.Decoder()
_decode_reply = msgspec.json.Decoder(ModelReply)


def strip_reasoning(text: str) -> str:
    """Remove <think>…</think> blocks, text before a stray closing tag, and an unclosed trailing block."""
    text = _THINK_BLOCK.sub(" ", text)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        # Some servers drop the opening tag: everything before the last closing tag was reasoning.
        text = text[closes[-1].end() :]
    opening = _THINK_OPEN.search(text)
    if opening:
        text = text[: opening.start()]
    return text


def _balanced_objects(text: str) -> list[str]:
    """Top-level {...} spans of `text` that parse as JSON objects (string- and escape-aware)."""
    found: list[str] = []
    i, n, attempts = 0, len(text), 0
    while i < n and attempts < _MAX_SPAN_ATTEMPTS:
        attempts += 1
        start = text.find("{", i)
        if start < 0:
            break
        depth, j, in_str, esc = 0, start, False, False
        end = -1
        while j < n:
            ch = text[j]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    end = j
                    break
            j += 1
        if end < 0:
            break
        span = text[start : end + 1]
        if isinstance(_try_decode(span), dict):
            found.append(span)
            i = end + 1
        else:
            i = start + 1
    return found


def _try_decode(text: str) -> Any:
    try:
        return _decode_any.decode(text)
    except (msgspec.DecodeError, UnicodeError):
        return None


def extract_json_object(content: str | None) -> str:
    """The text of the single JSON reply object in `content`; raises ModelOutputError otherwise."""
    if content is None or not content.strip():
        raise ModelOutputError(RejectionCode.EMPTY_OUTPUT, "the model returned no content")
    if len(content) > MAX_OUTPUT_CHARS:
        raise ModelOutputError(
            RejectionCode.MALFORMED_OUTPUT, f"output of {len(content)} chars exceeds {MAX_OUTPUT_CHARS}"
        )
    text = strip_reasoning(content).strip()
    if not text:
        raise ModelOutputError(RejectionCode.EMPTY_OUTPUT, "the model returned only reasoning, no answer")
    if len(text) > MAX_ANSWER_CHARS:
        raise ModelOutputError(
            RejectionCode.MALFORMED_OUTPUT, f"answer of {len(text)} chars exceeds {MAX_ANSWER_CHARS}"
        )
    if isinstance(_try_decode(text), dict):
        return text
    spans: list[str] = []
    for m in _FENCE.finditer(text):
        inner = m.group(1).strip()
        if isinstance(_try_decode(inner), dict):
            spans.append(inner)
    if not spans:
        spans = _balanced_objects(text)
    if not spans:
        what = "unparseable JSON" if "{" in text else "no JSON object"
        raise ModelOutputError(RejectionCode.MALFORMED_OUTPUT, f"{what} in the model output")
    with_action = [s for s in spans if "action" in _try_decode(s)]
    pool = with_action or spans
    distinct: list[Any] = []
    for s in pool:
        value = _try_decode(s)
        if value not in distinct:
            distinct.append(value)
    if len(distinct) > 1:
        raise ModelOutputError(
            RejectionCode.MALFORMED_OUTPUT, f"ambiguous output: {len(distinct)} different JSON objects"
        )
    return pool[0]


def parse_reply(content: str | None) -> ModelReply:
    """Extract and strictly decode the reply; raises ModelOutputError with a rejection code."""
    text = extract_json_object(content)
    try:
        return _decode_reply.decode(text)
    except msgspec.ValidationError as exc:
        raise ModelOutputError(
            RejectionCode.SCHEMA_VIOLATION, f"reply does not match the schema: {exc}"
        ) from None
    except msgspec.DecodeError as exc:
        raise ModelOutputError(RejectionCode.MALFORMED_OUTPUT, f"reply is not valid JSON: {exc}") from None
