"""Schemathesis fuzzes the control API from its own OpenAPI document, over real HTTP: no 500s, every answer
matches the document, and without the token no write ever succeeds (the mode never changes).

schemathesis is not in pyproject's dev extras yet: this file skips without it (the hypothesis-based fuzz in
test_api_fuzz.py always runs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis not installed (dev extra pending)")

from hypothesis import HealthCheck, settings  # noqa: E402

from asym.monitor import openapi_document  # noqa: E402
from asym.trading.modes import Mode  # noqa: E402

from .conftest import TOKEN, ThreadedMonitor, sample_view  # noqa: E402

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedMonitor]:
    """One server for the module, with a token so writes are possible."""
    with ThreadedMonitor(sample_view(), token=TOKEN) as srv:
        yield srv


@pytest.fixture(scope="module")
def open_server() -> Iterator[ThreadedMonitor]:
    """A second server whose mode must never change: every request to it is unauthenticated."""
    with ThreadedMonitor(sample_view(), token=TOKEN) as srv:
        yield srv


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_authenticated_fuzz(case: Any, server: ThreadedMonitor) -> None:
    case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"})


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_unauthenticated_writes_never_succeed(case: Any, open_server: ThreadedMonitor) -> None:
    if case.headers:
        case.headers.pop("Authorization", None)
    response = case.call(base_url=open_server.url)
    assert response.status_code < 500
    if case.method.upper() not in ("GET", "HEAD"):
        assert response.status_code == 401, (case.method, case.path, response.status_code)
    assert open_server.view.mode().mode is Mode.NORMAL and open_server.controller.history == []
