"""Bybit V5 authentication, exactly as the venue checks it (pure: time and credentials are injected).

REST: HMAC-SHA256(secret, timestamp + apiKey + recvWindow + payload) in lower-case hex, where payload is the
raw query string of a GET (as it appeared on the request line, before percent-decoding) or the raw body of
a POST. The timestamp must satisfy `server - recvWindow <= timestamp < server + 1000`.
WebSocket: HMAC-SHA256(secret, "GET/realtime" + expires) with `expires` in the future.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from asym.sim.server.envelope import ApiError

DEFAULT_RECV_WINDOW = 5000
FUTURE_TOLERANCE_MS = 1000
"""Bybit accepts timestamps up to 1 s ahead of its clock."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """One API key of the simulated venue and the account (uid) it trades."""

    api_key: str
    api_secret: str
    uid: str

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key!r}, api_secret='***', uid={self.uid!r})"


def sign(secret: str, payload: str) -> str:
    """HMAC-SHA256 of `payload` under `secret`, lower-case hex."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value if value else None


def verify_rest(
    headers: Mapping[str, str],
    method: str,
    raw_query: str,
    raw_body: bytes,
    now_ms: int,
    keys: Mapping[str, Credentials],
) -> Credentials:
    """Check a private request's auth headers; return the key's credentials or raise ApiError.

    Missing headers: HTTP 401. Unknown key: 10003. Timestamp outside the window: 10002 (Bybit's text).
    Bad signature: 10004 `error sign! origin_string[...]` (the signed string, never the secret).
    """
    api_key = _header(headers, "X-BAPI-API-KEY")
    timestamp = _header(headers, "X-BAPI-TIMESTAMP")
    signature = _header(headers, "X-BAPI-SIGN")
    if api_key is None or timestamp is None or signature is None:
        raise ApiError(10007, "User authentication failed.", http_status=401)
    recv_window_raw = headers.get("X-BAPI-RECV-WINDOW", "")
    if recv_window_raw:
        if not recv_window_raw.isdigit():
            raise ApiError(10001, "params error: recv_window invalid")
        recv_window = int(recv_window_raw)
    else:
        recv_window = DEFAULT_RECV_WINDOW
    creds = keys.get(api_key)
    if creds is None:
        raise ApiError(10003, "API key is invalid.")
    ts = int(timestamp) if timestamp.isdigit() else -1
    if ts < 0 or not (now_ms - recv_window <= ts < now_ms + FUTURE_TOLERANCE_MS):
        raise ApiError(
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]",
        )
    if method == "GET":
        payload = raw_query
    else:
        try:
            payload = raw_body.decode()
        except UnicodeDecodeError as exc:
            raise ApiError(10001, "params error: request body is not valid UTF-8") from exc
    origin = f"{timestamp}{api_key}{recv_window_raw}{payload}"
    expected = sign(creds.api_secret, origin)
    given = signature.lower()
    if hmac.compare_digest(expected, given):
        return creds
    if method == "GET" and "%" in raw_query:
        # Lenient fallback: a client that signed the decoded query but sent it percent-encoded.
        decoded = f"{timestamp}{api_key}{recv_window_raw}{unquote(raw_query)}"
        if hmac.compare_digest(sign(creds.api_secret, decoded), given):
            return creds
    raise ApiError(10004, f"error sign! origin_string[{origin}]")


def verify_ws_auth(args: object, now_ms: int, keys: Mapping[str, Credentials]) -> Credentials | None:
    """Check a WS `auth` op's args `[apiKey, expires (number or string), signature]`; None when refused."""
    if not isinstance(args, list) or len(args) != 3:
        return None
    api_key, expires, signature = args
    if not isinstance(api_key, str) or not isinstance(signature, str):
        return None
    if isinstance(expires, bool):
        return None
    if isinstance(expires, int):
        expires_str = str(expires)
    elif isinstance(expires, str) and expires.isdigit():
        expires_str = expires
    elif isinstance(expires, float) and expires.is_integer():
        expires_str = str(int(expires))
    else:
        return None
    creds = keys.get(api_key)
    if creds is None or int(expires_str) <= now_ms:
        return None
    expected = sign(creds.api_secret, "GET/realtime" + expires_str)
    if not hmac.compare_digest(expected, signature.lower()):
        return None
    return creds
