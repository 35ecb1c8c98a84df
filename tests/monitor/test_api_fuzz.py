"""Hypothesis fuzz of every path in the OpenAPI document (and a few that are not), over real HTTP:
random methods, bodies, query strings and credentials. Never a 500; never a write without the token; the
mode changes only through a documented, authenticated, successful control request."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.monitor import openapi_document
from asym.trading.modes import Mode

from .conftest import TOKEN, ThreadedMonitor, sample_view

DOC = openapi_document()
PATHS = [*sorted(DOC["paths"]), "/api/unknown", "/static/../../etc/passwd", "/static/nope.js", "/api/halt/x"]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CONTROL = {("POST", "/api/halt"), ("POST", "/api/resume"), ("POST", "/api/mode")}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
plausible = st.fixed_dictionaries(
    {"reason": st.text(min_size=1, max_size=80)},
    optional={
        "mode": st.sampled_from(["NORMAL", "EMERGENCY", "HALTED", "normal", "", "PANIC"]),
    },
)
bodies = st.one_of(
    plausible.map(lambda d: json.dumps(d).encode()),  # first: near-valid bodies are the interesting ones
    st.none(),
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=700).map(lambda t: json.dumps({"reason": t}).encode()),
)
auths = st.one_of(
    st.just(f"Bearer {TOKEN}"),
    st.sampled_from(
        [None, "Bearer wrong-token-000000000000", TOKEN, f"bearer {TOKEN}", "Basic dXNlcjpwYXNz", "Bearer "]
    ),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),  # header-legal junk
)
content_types = st.sampled_from([None, "application/json", "text/plain", "application/json; charset=utf-8"])
queries = st.one_of(
    st.just(""),
    st.text(max_size=20).map(lambda t: "?limit=" + quote(t)),
    st.integers(-5, 600).map(lambda i: f"?limit={i}"),
)


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedMonitor]:
    """One server for the module."""
    with ThreadedMonitor(sample_view(), token=TOKEN) as srv:
        yield srv


def request(
    base: str, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes, Any]:
    """One raw HTTP request."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers
    finally:
        conn.close()


CONTROL_PATHS = sorted(p for _, p in CONTROL)
HEALTH = {"/health", "/health/ready", "/health/live"}


@given(
    path=st.one_of(st.sampled_from(CONTROL_PATHS), st.sampled_from(PATHS)),  # half of them steer
    method=st.one_of(st.just("POST"), st.sampled_from(METHODS)),
    query=queries,
    body=bodies,
    auth=auths,
    ctype=content_types,
)
@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_fuzz_api(
    server: ThreadedMonitor,
    path: str,
    method: str,
    query: str,
    body: bytes | None,
    auth: str | None,
    ctype: str | None,
) -> None:
    headers = {}
    if auth is not None:
        headers["Authorization"] = auth
    if ctype is not None:
        headers["Content-Type"] = ctype
    before = len(server.controller.history)
    status, raw, resp_headers = request(server.url, method, path + query, body, headers)
    assert status < 500 or (status == 503 and path in HEALTH), (method, path, status, raw[:300])
    authed = auth in (f"Bearer {TOKEN}", f"bearer {TOKEN}")
    if method not in ("GET", "HEAD") and not authed:
        assert status == 401, (method, path, status)
    changed = len(server.controller.history) != before
    if changed:
        assert (method, path) in CONTROL and authed and status in (200, 409), (method, path, status)
    if method != "HEAD" and resp_headers.get("Content-Type", "").startswith("application/json"):
        json.loads(raw)  # every JSON answer is valid JSON
    if status >= 400 and method != "HEAD":
        assert "error" in json.loads(raw)  # errors are always the documented JSON shape
    assert resp_headers["X-Content-Type-Options"] == "nosniff"


def test_fuzz_steered_the_system_and_left_it_consistent(server: ThreadedMonitor) -> None:
    """The fuzz really reached the controller (valid, authenticated writes happened), and the view's mode is
    the controller's last recorded mode."""
    hist = server.controller.history
    assert len(hist) >= 3 and {m for _, m, _ in hist} >= {Mode.HALTED}
    assert server.view.mode().mode is hist[-1][1]
