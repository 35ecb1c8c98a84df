"""API credentials and Bybit V5 signing (HMAC-SHA256, lower-case hex). Secrets never show in repr/str/logs."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from asym.errors import ConfigError
from asym.logging import register_secret

ENV_KEY = "BYBIT_API_KEY"
ENV_SECRET = "BYBIT_API_SECRET"
ENV_KEY_FILE = "BYBIT_KEY_FILE"


class Secret:
    """A string that prints as *** everywhere; `reveal()` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        """The secret value (for signing only)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __reduce__(self) -> tuple[object, ...]:
        # Refuse to pickle: a pickled secret would end up on disk or in another process.
        raise TypeError("a Secret cannot be pickled")


class Credentials:
    """An API key and its secret. Both are treated as secrets (the key identifies the account)."""

    __slots__ = ("_hmac", "api_key", "api_secret")

    def __init__(self, api_key: str | Secret, api_secret: str | Secret) -> None:
        key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        secret = api_secret if isinstance(api_secret, Secret) else Secret(api_secret)
        if not key.reveal() or not secret.reveal():
            raise ConfigError("API key and secret must both be non-empty")
        self.api_key = key
        self.api_secret = secret
        # A keyed HMAC prepared once; copy() per signature is cheaper than hmac.new().
        self._hmac = hmac.new(secret.reveal().encode(), digestmod=hashlib.sha256)

    def sign(self, payload: str) -> str:
        """HMAC-SHA256(secret, payload) as lower-case hex."""
        h = self._hmac.copy()
        h.update(payload.encode())
        return h.hexdigest()

    def __repr__(self) -> str:
        return "Credentials(api_key='***', api_secret='***')"

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Credentials | None:
        """Keys from BYBIT_API_KEY/BYBIT_API_SECRET, else the file named by BYBIT_KEY_FILE; None if unset."""
        env = os.environ if environ is None else environ
        key, secret = env.get(ENV_KEY, ""), env.get(ENV_SECRET, "")
        if key and secret:
            return cls(key, secret)
        if key or secret:
            raise ConfigError(f"set both {ENV_KEY} and {ENV_SECRET} (only one is set)")
        path = env.get(ENV_KEY_FILE, "")
        return cls.from_file(Path(path)) if path else None

    @classmethod
    def from_file(cls, path: Path) -> Credentials:
        """Keys from a file: JSON {"api_key", "api_secret"} or lines BYBIT_API_KEY=.. / BYBIT_API_SECRET=.."""
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from None
        values: dict[str, str] = {}
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                data = json.loads(stripped)
            except ValueError:
                raise ConfigError(f"key file {path} is not valid JSON") from None
            if isinstance(data, dict):
                values = {str(k).lower(): str(v) for k, v in data.items() if isinstance(v, str)}
        else:
            for line in stripped.splitlines():
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                k, v = line.split("=", 1)
                values[k.strip().lower()] = v.strip().strip("'\"")
        key = values.get("api_key") or values.get(ENV_KEY.lower(), "")
        secret = values.get("api_secret") or values.get(ENV_SECRET.lower(), "")
        if not key or not secret:
            raise ConfigError(f"key file {path} must define api_key and api_secret")
        return cls(key, secret)


def sign_rest(creds: Credentials, timestamp_ms: int, recv_window: int, payload: str) -> str:
    """Signature of a REST request: HMAC(timestamp + apiKey + recvWindow + queryString-or-body)."""
    return creds.sign(f"{timestamp_ms}{creds.api_key.reveal()}{recv_window}{payload}")


def sign_ws(creds: Credentials, expires_ms: int) -> str:
    """Signature of a private WebSocket auth: HMAC("GET/realtime" + expires)."""
    return creds.sign(f"GET/realtime{expires_ms}")
