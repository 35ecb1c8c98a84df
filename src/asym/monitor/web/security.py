"""Who may do what on the monitor's HTTP server.

- Writes (any method but GET/HEAD) always need `Authorization: Bearer <token>`; with no token configured
  they are refused outright (403), so a default local run can be watched but not steered.
- Reads need the token when the server is bound beyond loopback; on loopback they are open, but the Host
  header must name a loopback host, which stops DNS-rebinding pages from reading the dashboard.
- The dashboard shell (/, /static/*) and /health/live hold no data and stay open, so the page can load and
  then send the token it reads from the URL fragment (never sent to the server, never logged).
- Every answer carries no-sniff, no-frame, no-referrer and a same-origin-only content security policy.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from asym.logging import get_logger, redact_text
from asym.monitor.config import MonitorConfig, is_loopback
from asym.monitor.web.requests import ErrorBody, ErrorDoc
from asym.monitor.web.snapshot import encode

log = get_logger("monitor.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OPEN_PATHS = frozenset({"/", "/index.html", "/health/live", "/favicon.ico"})
READ_METHODS = frozenset({"GET", "HEAD"})

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cross-Origin-Resource-Policy": "same-origin",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON error answer."""
    body = encode(ErrorDoc(error=ErrorBody(code=code, message=message)))
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header, or None."""
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; False when either side is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _host_name(host_header: str) -> str:
    h = host_header.strip()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def is_open_path(path: str) -> bool:
    """Paths that never need a token (no data behind them)."""
    return path in OPEN_PATHS or path.startswith("/static/")


def access_middleware(config: MonitorConfig) -> Middleware:
    """The aiohttp middleware enforcing the rules above."""
    unauthorized = {"WWW-Authenticate": 'Bearer realm="asym"'}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not config.exposed and not is_loopback(_host_name(request.host or "")):
            return error_response(403, "host_not_allowed", "Host header must name a loopback address")
        write = request.method not in READ_METHODS
        given = bearer_token(request)
        if write:
            if not config.token:
                return error_response(
                    403, "writes_disabled", "control writes are disabled: the server has no token configured"
                )
            if not token_matches(config.token, given):
                return error_response(401, "unauthorized", "a valid bearer token is required", unauthorized)
        elif config.exposed and not is_open_path(request.path) and not token_matches(config.token, given):
            return error_response(401, "unauthorized", "a valid bearer token is required", unauthorized)
        return await handler(request)

    return middleware


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer (errors included), and no caching of API data."""
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        keep = {k: v for k, v in exc.headers.items() if k in ("Allow", "WWW-Authenticate", "Retry-After")}
        resp = error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason, keep)
    except Exception as exc:  # a bug must answer 500 in JSON, and say what without leaking anything
        log.error(
            "monitor handler failed", path=request.path, error=redact_text(f"{type(exc).__name__}: {exc}")
        )
        resp = error_response(500, "internal_error", "internal error (logged)")
    resp.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        resp.headers["Cache-Control"] = "no-store"
    return resp
