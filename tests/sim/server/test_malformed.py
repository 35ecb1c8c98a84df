"""Bad input never crashes the server: every malformed request gets Bybit's error answer, never a 500."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asym.sim.server.testing import RunningSimulator, auth_headers, running_simulator, simulator_in_thread

from .conftest import Api

pytestmark = pytest.mark.timeout(90)


async def _raw(
    s: aiohttp.ClientSession,
    sim: RunningSimulator,
    method: str,
    path: str,
    body: bytes = b"",
    signed: bool = True,
) -> tuple[int, str]:
    headers = auth_headers(sim.api_key, sim.api_secret, body.decode("utf-8", "replace")) if signed else {}
    async with s.request(method, sim.rest_url + path, data=body, headers=headers) as r:
        return r.status, await r.text()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/v5/order/create", b"{not json", 200, 10001),
        ("POST", "/v5/order/create", b"[1, 2, 3]", 200, 10001),
        ("POST", "/v5/order/create", b'"just a string"', 200, 10001),
        ("POST", "/v5/order/create", b"", 200, 10001),
        ("POST", "/v5/order/create", b'{"category": 5}', 200, 10001),
        ("POST", "/v5/order/create", b'{"category":"linear","symbol":["BTCUSDT"]}', 200, 10001),
        (
            "POST",
            "/v5/order/create",
            b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":{"a":1},"price":"1"}',
            200,
            10001,
        ),
        (
            "POST",
            "/v5/order/create",
            b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"1e400","price":"1"}',
            200,
            10001,
        ),
        (
            "POST",
            "/v5/order/create",
            b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"NaN","price":"1"}',
            200,
            10001,
        ),
        (
            "POST",
            "/v5/order/create",
            b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"-1","price":"1"}',
            200,
            10001,
        ),
        ("POST", "/v5/order/create-batch", b'{"category":"linear","request":"nope"}', 200, 10001),
        ("POST", "/v5/order/create-batch", b'{"category":"linear","request":[1]}', 200, 10001),
        (
            "POST",
            "/v5/position/set-leverage",
            b'{"category":"linear","symbol":"BTCUSDT","buyLeverage":"x","sellLeverage":"x"}',
            200,
            10001,
        ),
        (
            "POST",
            "/v5/position/switch-mode",
            b'{"category":"linear","coin":"USDT","mode":"three"}',
            200,
            10001,
        ),
        ("GET", "/v5/order/create", b"", 400, None),
        ("POST", "/v5/market/tickers", b"{}", 400, None),
        ("DELETE", "/v5/market/time", b"", 400, None),
        ("GET", "/v5/nothing/here", b"", 404, None),
        ("GET", "/", b"", 404, None),
    ],
)
async def test_malformed_requests(
    sim: RunningSimulator, method: str, path: str, body: bytes, status: int, code: int | None
) -> None:
    async with aiohttp.ClientSession() as s:
        got_status, text = await _raw(s, sim, method, path, body)
    assert got_status == status, text
    if code is not None:
        payload = json.loads(text)
        assert payload["retCode"] == code and payload["result"] == {}
    assert "Traceback" not in text


async def test_non_utf8_body_and_oversized_body() -> None:
    async with (
        running_simulator(symbols=1, rate_limits=False, max_body_bytes=2048) as sim,
        aiohttp.ClientSession() as s,
    ):
        status, _ = await _raw(s, sim, "POST", "/v5/order/create", b"\xff\xfe{}", signed=False)
        assert status == 401
        headers = auth_headers(sim.api_key, sim.api_secret, "")
        async with s.post(sim.rest_url + "/v5/order/create", data=b"\xff\xfe{}", headers=headers) as r:
            assert r.status == 200 and (await r.json())["retCode"] in (10001, 10004)
        big = json.dumps({"category": "linear", "pad": "x" * 5000}).encode()
        async with s.post(
            sim.rest_url + "/v5/order/create",
            data=big,
            headers=auth_headers(sim.api_key, sim.api_secret, big.decode()),
        ) as r:
            assert r.status == 400 and (await r.json())["retCode"] == 10001


async def test_private_path_without_headers_is_401_and_wrong_auth_is_an_envelope(
    sim: RunningSimulator,
) -> None:
    async with aiohttp.ClientSession() as s:
        api = Api(s, sim)
        status, _, _ = await api.get("/v5/account/wallet-balance", "accountType=UNIFIED")
        assert status == 401
        q = "accountType=UNIFIED"
        h = auth_headers(sim.api_key, "wrong-secret", q)
        async with s.get(f"{sim.rest_url}/v5/account/wallet-balance?{q}", headers=h) as r:
            body = await r.json()
        assert (
            r.status == 200
            and body["retCode"] == 10004
            and body["retMsg"].startswith("error sign! origin_string[")
        )
        assert sim.api_secret not in body["retMsg"]
        h = auth_headers("unknown-key", sim.api_secret, q)
        async with s.get(f"{sim.rest_url}/v5/account/wallet-balance?{q}", headers=h) as r:
            assert (await r.json())["retCode"] == 10003
        h = auth_headers(sim.api_key, sim.api_secret, q, timestamp_ms=1_000_000)
        async with s.get(f"{sim.rest_url}/v5/account/wallet-balance?{q}", headers=h) as r:
            body = await r.json()
        assert body["retCode"] == 10002 and "req_timestamp[1000000]" in body["retMsg"]


async def test_pybit_and_ccxt_style_signed_bodies_over_the_wire(sim: RunningSimulator) -> None:
    """The signature covers the exact bytes: spaced (pybit) and compact (ccxt) JSON both verify."""
    order = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.001"}
    async with aiohttp.ClientSession() as s:
        api = Api(s, sim)
        for i, separators in enumerate(((", ", ": "), (",", ":"))):
            raw = json.dumps({**order, "orderLinkId": f"style-{i}"}, separators=separators)
            status, _, out = await api.post("/v5/order/create", None, raw=raw)
            assert status == 200 and out["retCode"] == 0, out


QUERY_VALUE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        [
            "/v5/market/kline",
            "/v5/market/orderbook",
            "/v5/market/tickers",
            "/v5/market/instruments-info",
            "/v5/market/open-interest",
            "/v5/market/funding/history",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "category",
                "symbol",
                "interval",
                "limit",
                "start",
                "end",
                "cursor",
                "intervalTime",
                "startTime",
                "status",
            ]
        ),
        QUERY_VALUE,
        max_size=6,
    ),
)
def test_fuzzed_public_queries_never_500(
    fuzz_sim: RunningSimulator, path: str, params: dict[str, str]
) -> None:
    url = fuzz_sim.rest_url + path + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    assert status in (200, 400, 404), text
    if status == 200:
        assert json.loads(text)["retCode"] in (0, 10001)
    assert "Traceback" not in text


@pytest.fixture(scope="module")
def fuzz_sim() -> Iterator[RunningSimulator]:
    with simulator_in_thread(symbols=2, rate_limits=False) as sim:
        yield sim
