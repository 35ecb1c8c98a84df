"""Signing against the vectors of bybit-v5.md §2.3, environments, and secrets that never leak."""

from __future__ import annotations

import io
import json
import logging
import pickle
from pathlib import Path

import pytest

from asym.bybit.auth import Credentials, sign_rest, sign_ws
from asym.bybit.env import Environment, custom_endpoints, resolve_endpoints
from asym.errors import ConfigError, VenueError
from asym.logging import configure_logging, get_logger

# (string signed, signature) with secret "test_secret", key "test_key", recv window 5000 (bybit-v5.md §2.3)
VECTORS = [
    (
        1658384314791,
        "category=linear&symbol=BTCUSDT",
        "cca5f28ee289e4b4ce98c37e66992c9fc5544657dfe3d61d0877e688fe7157a9",
    ),
    (
        1658385579423,
        '{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", '
        '"price": "30000"}',
        "a408a5d820edc1e9b413050d910503fefeeb9c5c4d2f3e9f4c9352d7f9148072",
    ),
    (
        1658385579423,
        '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"30000"}',
        "565b7196b36549d247a9741e027d2323ae681a0082d0d226b3706c678a8eac8b",
    ),
]


@pytest.mark.parametrize(("ts", "payload", "expected"), VECTORS)
def test_rest_signature_matches_protocol_vectors(ts: int, payload: str, expected: str) -> None:
    creds = Credentials("test_key", "test_secret")
    assert sign_rest(creds, ts, 5000, payload) == expected


def test_ws_auth_signature_matches_protocol_vector() -> None:
    creds = Credentials("test_key", "test_secret")
    assert sign_ws(creds, 1662350400000) == "dad2d67a66c9ee401d2e6e7bf26ebd10eb1026db8a703bf3139c6950ce11a5c6"


def test_signature_agrees_with_the_simulator_verifier() -> None:
    sim_auth = pytest.importorskip("asym.sim.server.auth")
    creds = Credentials("k", "s3cr3t-value")
    payload = "category=linear&symbol=ETHUSDT&limit=5"
    assert sign_rest(creds, 1700000000000, 5000, payload) == sim_auth.sign(
        "s3cr3t-value", "1700000000000k5000" + payload
    )


def test_secrets_never_show_in_repr_str_format_or_errors() -> None:
    creds = Credentials("my-api-key-123", "my-very-secret-456")
    for text in (repr(creds), str(creds), f"{creds}", repr(creds.api_secret), str(creds.api_secret)):
        assert "my-very-secret-456" not in text
        assert "my-api-key-123" not in text
    assert f"{creds.api_secret}" == "***"
    assert creds.api_secret.reveal() == "my-very-secret-456"
    err = VenueError("boom", endpoint="/v5/order/create", ret_code=10004, ret_msg="error sign!")
    assert "my-very-secret-456" not in str(err)
    with pytest.raises(TypeError):
        pickle.dumps(creds.api_secret)


def test_secrets_are_redacted_in_log_lines() -> None:
    creds = Credentials("key-abcdef", "secret-zyxwvu-987")
    buf = io.StringIO()
    configure_logging("DEBUG", json=True, stream=buf)
    try:
        get_logger("test").info(
            "leak attempt", detail=f"secret is {creds.api_secret.reveal()}", creds=repr(creds)
        )
    finally:
        logging.getLogger().handlers.clear()
    out = buf.getvalue()
    assert "secret-zyxwvu-987" not in out
    assert "***" in out


def test_credentials_from_env_and_key_file(tmp_path: Path) -> None:
    c = Credentials.from_env({"BYBIT_API_KEY": "k1", "BYBIT_API_SECRET": "s1"})
    assert c is not None and c.api_key.reveal() == "k1" and c.api_secret.reveal() == "s1"
    assert Credentials.from_env({}) is None
    with pytest.raises(ConfigError, match="both"):
        Credentials.from_env({"BYBIT_API_KEY": "k1"})
    jf = tmp_path / "keys.json"
    jf.write_text(json.dumps({"api_key": "k2", "api_secret": "s2"}))
    c2 = Credentials.from_env({"BYBIT_KEY_FILE": str(jf)})
    assert c2 is not None and c2.api_secret.reveal() == "s2"
    ef = tmp_path / "keys.env"
    ef.write_text("# comment\nBYBIT_API_KEY=k3\nBYBIT_API_SECRET='s3'\n")
    assert Credentials.from_file(ef).api_secret.reveal() == "s3"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError) as info:
        Credentials.from_file(bad)
    assert "not valid JSON" in str(info.value)
    with pytest.raises(ConfigError):
        Credentials.from_file(tmp_path / "missing")
    with pytest.raises(ConfigError):
        Credentials("", "x")


def test_environments_and_custom_urls() -> None:
    assert resolve_endpoints("mainnet").rest_url == "https://api.bybit.com"
    assert (
        resolve_endpoints(Environment.TESTNET).ws_public_url
        == "wss://stream-testnet.bybit.com/v5/public/linear"
    )
    demo = resolve_endpoints("demo")
    assert demo.rest_url == "https://api-demo.bybit.com"
    assert demo.ws_private_url == "wss://stream-demo.bybit.com/v5/private"
    custom = resolve_endpoints("http://127.0.0.1:8080")
    assert custom.environment is Environment.CUSTOM
    assert custom.ws_public_url == "ws://127.0.0.1:8080/v5/public/linear"
    assert custom.ws_private_url == "ws://127.0.0.1:8080/v5/private"
    assert custom_endpoints("https://h:1/").ws_private_url == "wss://h:1/v5/private"
    for bad in ("ftp://x", "http://h:1/v5", "nonsense"):
        with pytest.raises(ConfigError):
            resolve_endpoints(bad)
    with pytest.raises(ConfigError):
        resolve_endpoints(Environment.CUSTOM)
