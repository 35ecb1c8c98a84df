"""Auth verification (pure): Bybit's signature rule, the §2.3 vectors, timestamp window and error texts."""

from __future__ import annotations

import pytest

from asym.sim.server.auth import Credentials, sign, verify_rest, verify_ws_auth
from asym.sim.server.envelope import ApiError

KEYS = {"test_key": Credentials("test_key", "test_secret", "1000001")}
PYBIT_BODY = (
    '{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", '
    '"price": "30000"}'
)
CCXT_BODY = (
    '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"30000"}'
)

# Self-computed vectors of bybit-v5.md §2.3 (secret test_secret, key test_key, recv window 5000).
VECTORS = [
    (
        "1658384314791test_key5000category=linear&symbol=BTCUSDT",
        "cca5f28ee289e4b4ce98c37e66992c9fc5544657dfe3d61d0877e688fe7157a9",
    ),
    (
        "1658385579423test_key5000" + PYBIT_BODY,
        "a408a5d820edc1e9b413050d910503fefeeb9c5c4d2f3e9f4c9352d7f9148072",
    ),
    (
        "1658385579423test_key5000" + CCXT_BODY,
        "565b7196b36549d247a9741e027d2323ae681a0082d0d226b3706c678a8eac8b",
    ),
    ("GET/realtime1662350400000", "dad2d67a66c9ee401d2e6e7bf26ebd10eb1026db8a703bf3139c6950ce11a5c6"),
]


@pytest.mark.parametrize(("payload", "expected"), VECTORS)
def test_sign_matches_protocol_vectors(payload: str, expected: str) -> None:
    assert sign("test_secret", payload) == expected


def _headers(ts: int, sig: str, key: str = "test_key", recv: str = "5000") -> dict[str, str]:
    return {
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-SIGN": sig,
        "X-BAPI-RECV-WINDOW": recv,
    }


def test_get_vector_verifies_at_its_timestamp() -> None:
    h = _headers(1658384314791, VECTORS[0][1])
    creds = verify_rest(h, "GET", "category=linear&symbol=BTCUSDT", b"", 1658384314791, KEYS)
    assert creds.uid == "1000001"


@pytest.mark.parametrize(("body", "sig"), [(PYBIT_BODY, VECTORS[1][1]), (CCXT_BODY, VECTORS[2][1])])
def test_post_vectors_verify_over_the_exact_body_bytes(body: str, sig: str) -> None:
    h = _headers(1658385579423, sig)
    assert verify_rest(h, "POST", "", body.encode(), 1658385579423, KEYS).api_key == "test_key"
    # The same JSON re-serialised differently is a different byte string: the signature no longer holds.
    other = CCXT_BODY if body == PYBIT_BODY else PYBIT_BODY
    with pytest.raises(ApiError) as err:
        verify_rest(h, "POST", "", other.encode(), 1658385579423, KEYS)
    assert err.value.ret_code == 10004


def test_bad_signature_is_10004_with_origin_string_and_no_secret() -> None:
    h = _headers(1658384314791, "0" * 64)
    with pytest.raises(ApiError) as err:
        verify_rest(h, "GET", "category=linear", b"", 1658384314791, KEYS)
    assert err.value.ret_code == 10004
    assert err.value.ret_msg == "error sign! origin_string[1658384314791test_key5000category=linear]"
    assert "test_secret" not in err.value.ret_msg


def test_unknown_key_is_10003() -> None:
    with pytest.raises(ApiError) as err:
        verify_rest(_headers(1, "x", key="nope"), "GET", "", b"", 1, KEYS)
    assert err.value.ret_code == 10003


@pytest.mark.parametrize("missing", ["X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-SIGN"])
def test_missing_header_is_http_401(missing: str) -> None:
    h = _headers(1000, "x")
    del h[missing]
    with pytest.raises(ApiError) as err:
        verify_rest(h, "GET", "", b"", 1000, KEYS)
    assert err.value.http_status == 401


@pytest.mark.parametrize(
    ("offset", "ok"),
    [(-5000, True), (-5001, False), (0, True), (999, True), (1000, False), (-100_000, False)],
)
def test_timestamp_window_rule(offset: int, ok: bool) -> None:
    """Accepted iff server - recvWindow <= timestamp < server + 1000."""
    now = 1_700_000_000_000
    ts = now + offset
    query = "category=linear"
    h = _headers(ts, sign("test_secret", f"{ts}test_key5000{query}"))
    if ok:
        verify_rest(h, "GET", query, b"", now, KEYS)
        return
    with pytest.raises(ApiError) as err:
        verify_rest(h, "GET", query, b"", now, KEYS)
    assert err.value.ret_code == 10002
    assert err.value.ret_msg == (
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{ts}],server_timestamp[{now}],recv_window[5000]"
    )


def test_larger_recv_window_widens_the_window_and_is_part_of_the_signature() -> None:
    now = 1_700_000_000_000
    ts = now - 9000
    h = _headers(ts, sign("test_secret", f"{ts}test_key10000"), recv="10000")
    verify_rest(h, "GET", "", b"", now, KEYS)


def test_percent_encoded_query_verifies_raw_and_decoded() -> None:
    raw = "category=linear&cursor=offset%3D20"
    ts = 1_700_000_000_000
    raw_sig = sign("test_secret", f"{ts}test_key5000{raw}")
    decoded_sig = sign("test_secret", f"{ts}test_key5000category=linear&cursor=offset=20")
    verify_rest(_headers(ts, raw_sig), "GET", raw, b"", ts, KEYS)
    verify_rest(_headers(ts, decoded_sig), "GET", raw, b"", ts, KEYS)


@pytest.mark.parametrize("expires", [1662350400000, "1662350400000"])
def test_ws_auth_accepts_number_and_string_expires(expires: object) -> None:
    args = ["test_key", expires, VECTORS[3][1]]
    assert verify_ws_auth(args, 1662350399000, KEYS) is not None


@pytest.mark.parametrize(
    "args",
    [
        ["test_key", 1662350400000, "f" * 64],
        ["nope", 1662350400000, VECTORS[3][1]],
        ["test_key", True, VECTORS[3][1]],
        ["test_key", "soon", VECTORS[3][1]],
        ["test_key", 1662350400000],
        "not a list",
    ],
)
def test_ws_auth_refuses_bad_args(args: object) -> None:
    assert verify_ws_auth(args, 1662350399000, KEYS) is None


def test_ws_auth_refuses_expired() -> None:
    assert verify_ws_auth(["test_key", 1662350400000, VECTORS[3][1]], 1662350400000, KEYS) is None


def test_credentials_repr_hides_the_secret() -> None:
    assert "test_secret" not in repr(KEYS["test_key"])
