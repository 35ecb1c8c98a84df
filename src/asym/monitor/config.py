"""Configuration of the monitor's HTTP server: where it binds, the access token, limits.

The token is a secret: it never appears in a repr, and it is registered for log redaction on load.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from asym.errors import ConfigError
from asym.logging import register_secret

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8077
TOKEN_ENV = "ASYM_MONITOR_TOKEN"
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'; any other name or address counts as exposed."""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def parse_http_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' (IPv6 as '[::1]:8077'; ':PORT' or 'PORT' means the default host) -> (host, port)."""
    s = text.strip()
    if not s:
        raise ConfigError("--http needs HOST:PORT, e.g. 127.0.0.1:8077")
    if s.startswith("["):
        end = s.find("]")
        if end < 0 or not s[end + 1 :].startswith(":"):
            raise ConfigError(f"--http {text!r}: IPv6 needs the form [ADDR]:PORT")
        host, port_s = s[1:end], s[end + 2 :]
    elif s.count(":") == 1:
        host, port_s = s.split(":")
    elif s.isdigit():
        host, port_s = "", s
    else:
        raise ConfigError(f"--http {text!r}: expected HOST:PORT")
    if not port_s.isdigit() or not 0 <= int(port_s) <= 65535:
        raise ConfigError(f"--http {text!r}: port must be 0..65535")
    return host or DEFAULT_HOST, int(port_s)


@dataclass(frozen=True)
class MonitorConfig:
    """Where the monitor listens and who may use it."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = field(default=None, repr=False)
    """Bearer token: always needed for writes; needed for everything when bound beyond loopback."""
    poll_ms: int = 1500
    """How often the dashboard refreshes."""
    max_body_bytes: int = 16 * 1024
    signals_shown: int = 50
    curve_points: int = 400
    """Most points of the equity curve sent to the dashboard (longer curves are thinned)."""
    check_timeout_s: float = 2.0
    """A health check taking longer than this counts as failed."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"monitor port must be 0..65535, got {self.port}")
        if self.token is not None:
            if len(self.token) < MIN_TOKEN_CHARS or any(c.isspace() for c in self.token):
                raise ConfigError(
                    f"monitor token must be at least {MIN_TOKEN_CHARS} characters without spaces"
                )
            register_secret(self.token)
        if not 200 <= self.poll_ms <= 60_000:
            raise ConfigError(f"poll_ms must be 200..60000, got {self.poll_ms}")
        if self.max_body_bytes < 1024:
            raise ConfigError("max_body_bytes must be at least 1024")

    @property
    def exposed(self) -> bool:
        """True when bound beyond loopback: then every request needs the token."""
        return not is_loopback(self.host)

    def validate_for_serving(self) -> None:
        """Refuse to serve an exposed address without a token."""
        if self.exposed and not self.token:
            raise ConfigError(
                f"refusing to serve the monitor on {self.host}: a non-loopback address needs a token "
                f"(set {TOKEN_ENV} or a token file)"
            )

    def with_token(self, token: str | None) -> MonitorConfig:
        """A copy with another token."""
        return replace(self, token=token)

    def __repr__(self) -> str:
        token = "set" if self.token else "none"
        return f"MonitorConfig(host={self.host!r}, port={self.port}, token={token})"


def load_token(token_file: Path | None = None, *, create: bool = False) -> str | None:
    """The token from $ASYM_MONITOR_TOKEN, else from `token_file` (created 0600 with a random token when
    `create` and absent). None when neither is set."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        register_secret(env)
        return env
    if token_file is None:
        return None
    if token_file.exists():
        mode = token_file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{token_file} is readable by others: chmod 600 it")
        text = token_file.read_text(encoding="utf-8").strip()
        if not text:
            raise ConfigError(f"{token_file} is empty")
        register_secret(text)
        return text
    if not create:
        return None
    token = secrets.token_urlsafe(32)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    register_secret(token)
    return token
