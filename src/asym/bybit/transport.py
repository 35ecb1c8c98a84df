"""The REST transport: keep-alive connections (http.py), signing, server-time offset, rate limiting,
classification of every answer (retcodes.py) and bounded retries. Returns decoded wire envelopes.

A write whose outcome is unknown is never retried here: it raises OutcomeUnknownError and the client
resolves it by orderLinkId. Reads and refused writes (rate limit, timestamp) are retried within the policy.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec

from asym.bybit import endpoints as eps
from asym.bybit.auth import Credentials
from asym.bybit.endpoints import Endpoint
from asym.bybit.env import Endpoints
from asym.bybit.http import HttpFailedError, HttpNotSentError, HttpPool
from asym.bybit.metrics import ClientObserver, NullObserver
from asym.bybit.ratelimit import EndpointLimiter, IpGate
from asym.bybit.retcodes import (
    MALFORMED_BODY,
    TRANSPORT_AFTER_SEND,
    TRANSPORT_NOT_SENT,
    Action,
    Rule,
    action_for,
    classify_http,
    classify_retcode,
    make_error,
)
from asym.bybit.retry import RetryPolicy
from asym.bybit.wire.envelope import BareEnvelope, Envelope
from asym.errors import AuthError, ConfigError, RateLimitedError, VenueError
from asym.logging import redact_text

_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.,:%\-]*")
_BARE = msgspec.json.Decoder(BareEnvelope, strict=False)
_ENCODE = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Tunables of the REST transport (defaults are safe for mainnet)."""

    recv_window_ms: int = 5000
    timeout_s: float = 10.0
    ip_limit: int = 550
    """Requests per `ip_window_s` for the whole process (Bybit bans at 600 / 5 s)."""
    ip_window_s: float = 5.0
    trade_reserve: float = 0.1
    """Share of the IP window only order placement/cancellation may use."""
    ip_busy_start: bool = True
    """Start as if an earlier process had used the whole IP window at an even rate (ramp, never burst)."""
    ip_ban_s: float = 600.0
    """How long to stop all requests after an HTTP 403 (Bybit: at least 10 minutes)."""
    endpoint_limit_safety: float = 1.0
    max_connections: int = 100
    coalesce_gets: bool = True
    """Identical concurrent GETs share one request (off for benchmarks that count requests)."""
    read_retry: RetryPolicy = field(default_factory=RetryPolicy)
    write_retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=4, deadline_s=15.0))


class _AttemptError(Exception):
    """One attempt failed: what to do next and the error to raise if we stop."""

    def __init__(self, action: Action, error: VenueError, wait_s: float = 0.0) -> None:
        super().__init__(str(error))
        self.action = action
        self.error = error
        self.wait_s = wait_s


def build_query(params: dict[str, Any] | None) -> str:
    """`k=v&...` in insertion order; values raw when URL-safe (cursors come encoded), else quoted."""
    if not params:
        return ""
    parts = []
    for k, v in params.items():
        if v is None:
            continue
        s = v if isinstance(v, str) else (("true" if v else "false") if isinstance(v, bool) else str(v))
        if not _SAFE_VALUE.fullmatch(s):
            s = quote(s, safe="")
        parts.append(f"{k}={s}")
    return "&".join(parts)


class RestTransport:
    """Signed, rate-limited, retrying REST calls returning typed envelopes."""

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials | None = None,
        config: TransportConfig | None = None,
        observer: ClientObserver | None = None,
        *,
        wall_clock: Any = time.time,
    ) -> None:
        self.endpoints = endpoints
        self.credentials = credentials
        self.config = cfg = config or TransportConfig()
        self.observer: ClientObserver = observer or NullObserver()
        self._wall = wall_clock
        self.offset_ms = 0.0
        """server time - local time, measured at start and on 10002."""
        self.gate = IpGate(cfg.ip_limit, cfg.ip_window_s, cfg.trade_reserve, busy_start=cfg.ip_busy_start)
        self.limiter = EndpointLimiter(wall_ms=self.now_ms, safety=cfg.endpoint_limit_safety)
        self._base = endpoints.rest_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._own_session = True
        self._timeout = aiohttp.ClientTimeout(total=cfg.timeout_s)
        self._http: HttpPool | None = None
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._banned_until = 0.0
        self._rw = str(cfg.recv_window_ms)
        if credentials is not None:
            key = credentials.api_key.reveal()
            self._sign_prefix_key = key + self._rw
            self._get_headers = {"X-BAPI-API-KEY": key, "X-BAPI-RECV-WINDOW": self._rw}
            self._post_headers = dict(self._get_headers, **{"Content-Type": "application/json"})
        self._public_post_headers = {"Content-Type": "application/json"}

    # ------------------------------------------------------------ lifecycle

    async def start(self, session: aiohttp.ClientSession | None = None, sync_time: bool = True) -> None:
        """Open the REST connection pool and the aiohttp session the WebSockets use (or adopt
        `session`), then measure the server-time offset."""
        if self._http is None:
            self._http = HttpPool(self._base, max_connections=self.config.max_connections)
        if self._session is None:
            if session is not None:
                self._session, self._own_session = session, False
            else:
                # The session carries the WebSockets only (REST goes over the pool above); its total
                # timeout is what bounds each WebSocket handshake.
                self._session = aiohttp.ClientSession(timeout=self._timeout)
        if sync_time:
            await self.sync_time()

    async def close(self) -> None:
        """Close the REST pool, and the session if we own it."""
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled session (ConfigError before start())."""
        if self._session is None:
            raise ConfigError("transport not started: use `async with BybitClient(...)` or await start()")
        return self._session

    # ------------------------------------------------------------ time

    def now_ms(self) -> int:
        """Server-adjusted epoch milliseconds."""
        return int(self._wall() * 1000 + self.offset_ms)

    async def sync_time(self) -> float:
        """Measure server - local clock offset with GET /v5/market/time (midpoint of the round trip)."""
        t0 = self._wall()
        env = await self._request(eps.SERVER_TIME, "", None, "", coalesce=False, resync=False)
        t1 = self._wall()
        server_ms = float(env.time)
        if env.result is not None and env.result.time_nano.isdigit():
            server_ms = int(env.result.time_nano) / 1e6
        if server_ms > 0:
            self.offset_ms = server_ms - (t0 + t1) / 2 * 1000
        return self.offset_ms

    # ------------------------------------------------------------ requests

    async def get(
        self, ep: Endpoint, params: dict[str, Any] | None = None, *, category: str = "", coalesce: bool = True
    ) -> Envelope[Any]:
        """A GET; identical concurrent GETs share one request when `coalesce`."""
        return await self._request(
            ep, build_query(params), None, category, coalesce=coalesce and self.config.coalesce_gets
        )

    async def post(self, ep: Endpoint, body: dict[str, Any], *, category: str = "") -> Envelope[Any]:
        """A POST with a compact JSON body."""
        return await self._request(ep, "", _ENCODE(body), category, coalesce=False)

    async def _request(
        self,
        ep: Endpoint,
        query: str,
        body: bytes | None,
        category: str,
        *,
        coalesce: bool,
        resync: bool = True,
    ) -> Envelope[Any]:
        if not coalesce:
            return await self._with_retries(ep, query, body, category, resync)
        key = f"{ep.path}?{query}"
        fut = self._inflight.get(key)
        if fut is not None:
            return await asyncio.shield(fut)
        fut = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            env = await self._with_retries(ep, query, body, category, resync)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                fut.cancel()
            else:
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: nobody else may be waiting
            raise
        else:
            fut.set_result(env)
            return env
        finally:
            del self._inflight[key]

    async def _with_retries(
        self, ep: Endpoint, query: str, body: bytes | None, category: str, resync: bool
    ) -> Envelope[Any]:
        policy = self.config.write_retry if ep.write else self.config.read_retry
        loop = asyncio.get_running_loop()
        deadline = loop.time() + policy.deadline_s
        attempt = 0
        while True:
            try:
                return await self._attempt(ep, query, body, category)
            except _AttemptError as f:
                action = f.action
                attempt += 1
                if (
                    action not in (Action.RETRY, Action.RATE_LIMIT, Action.TIME_SYNC)
                    or attempt >= policy.max_attempts
                ):
                    raise f.error from None
                if action is Action.TIME_SYNC:
                    if not resync:
                        raise f.error from None
                    await self.sync_time()
                    delay = 0.0
                elif action is Action.RATE_LIMIT:
                    delay = f.wait_s if f.wait_s > 0 else policy.backoff(attempt)
                else:
                    delay = policy.backoff(attempt)
                if loop.time() + delay > deadline:
                    raise f.error from None
                self.observer.on_retry(ep.path, action.value)
                if delay > 0:
                    await asyncio.sleep(delay)

    def _headers(self, ep: Endpoint, payload: str) -> dict[str, str] | None:
        creds = self.credentials
        if not ep.private:
            return self._public_post_headers if ep.method == "POST" else None
        if creds is None:
            raise AuthError("private endpoint needs API credentials", endpoint=ep.path)
        ts = str(self.now_ms())
        h = (self._post_headers if ep.method == "POST" else self._get_headers).copy()
        h["X-BAPI-TIMESTAMP"] = ts
        h["X-BAPI-SIGN"] = creds.sign(ts + self._sign_prefix_key + payload)
        return h

    async def _attempt(self, ep: Endpoint, query: str, body: bytes | None, category: str) -> Envelope[Any]:
        obs = self.observer
        loop_time = time.monotonic()
        if self._banned_until > loop_time:
            ban_end = int(self.now_ms() + (self._banned_until - loop_time) * 1000)
            raise _AttemptError(
                Action.REJECT,
                RateLimitedError(
                    "IP banned by the venue: not sending", endpoint=ep.path, retry_at_ms=ban_end
                ),
            )
        if ep.private:
            waited = await self.limiter.acquire(ep.path, category)
            if waited:
                obs.on_rate_limit_wait(ep.path, "endpoint", waited)
        gate = self.gate
        if not gate.try_acquire(ep.priority):
            waited = await gate.acquire(ep.priority)
            obs.on_rate_limit_wait(ep.path, "ip", waited)
        http = self._http
        if http is None:
            gate.release()
            raise ConfigError("transport not started: use `async with BybitClient(...)` or await start()")
        t0 = time.perf_counter()
        try:
            headers = self._headers(ep, query if body is None else body.decode())
            # Sent exactly as signed: the query string is never re-encoded on the way out.
            target = f"{ep.path}?{query}" if query else ep.path
            t0 = time.perf_counter()
            resp = await http.request(ep.method, target, headers, body, self.config.timeout_s)
            io = time.perf_counter() - t0  # the HTTP exchange alone: send -> body read
        except HttpNotSentError as exc:
            self._record(ep, time.perf_counter() - t0, False, None, None)
            raise self._failed(ep, TRANSPORT_NOT_SENT, str(exc)) from None
        except (TimeoutError, HttpFailedError, OSError) as exc:
            self._record(ep, time.perf_counter() - t0, False, None, None)
            raise self._failed(ep, TRANSPORT_AFTER_SEND, type(exc).__name__) from None
        finally:
            gate.release()  # answered, failed or cancelled: the slot now ages out of the window
        status, raw, rh = resp.status, resp.body, resp.headers
        if ep.private:
            self.limiter.update(
                ep.path,
                category,
                rh.get("x-bapi-limit"),
                rh.get("x-bapi-limit-status"),
                rh.get("x-bapi-limit-reset-timestamp"),
            )
        if status != 200:
            self._record(ep, io, False, None, status)
            rule = classify_http(status)
            if status == 403:
                self._banned_until = time.monotonic() + self.config.ip_ban_s
                ban_end = int(self.now_ms() + self.config.ip_ban_s * 1000)
                err = make_error(rule, write=ep.write, endpoint=ep.path, http_status=403, retry_at_ms=ban_end)
                # A ban is never waited out inside a request: stop and tell the caller when it ends.
                raise _AttemptError(Action.REJECT, err)
            raise self._failed(ep, rule, raw[:200].decode(errors="replace"), http_status=status)
        try:
            env: Envelope[Any] = ep.decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            env = self._salvage(ep, raw, io, exc)
        code = env.ret_code
        if code == 0:
            self._record(ep, io, True, None, None)
            return env
        self._record(ep, io, False, code, None)
        rule = classify_retcode(code)
        action = action_for(rule, ep.write)
        if action is Action.NOOP:
            return env
        wait_s = 0.0
        retry_at: int | None = None
        if action is Action.RATE_LIMIT:
            reset = rh.get("x-bapi-limit-reset-timestamp")
            retry_at = int(reset) if reset and reset.isdigit() else None
            wait_s = self.limiter.block(ep.path, category, retry_at, default_s=1.0) if ep.private else 0.0
            if retry_at is None:
                retry_at = int(self.now_ms() + max(wait_s, 1.0) * 1000)
        # Venue texts can echo the signed string (10004 "origin_string[...]" holds the API key): redact.
        msg = redact_text(env.ret_msg)
        err = make_error(
            rule, write=ep.write, endpoint=ep.path, ret_code=code, ret_msg=msg, retry_at_ms=retry_at
        )
        raise _AttemptError(action, err, wait_s)

    def _salvage(self, ep: Endpoint, raw: bytes, io: float, exc: Exception) -> Envelope[Any]:
        """A body that did not decode as the endpoint's envelope: read the status alone if possible."""
        try:
            bare = _BARE.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            bare = None
        if bare is not None and bare.ret_code != 0:
            return Envelope(ret_code=bare.ret_code, ret_msg=bare.ret_msg, time=bare.time)
        self._record(ep, io, False, None, 200)
        raise self._failed(ep, MALFORMED_BODY, f"malformed response: {exc}"[:200], http_status=200)

    def _failed(self, ep: Endpoint, rule: Rule, msg: str, http_status: int | None = None) -> _AttemptError:
        err = make_error(
            rule, write=ep.write, endpoint=ep.path, ret_msg=redact_text(msg), http_status=http_status
        )
        return _AttemptError(action_for(rule, ep.write), err)

    def _record(self, ep: Endpoint, latency_s: float, ok: bool, code: int | None, status: int | None) -> None:
        obs = self.observer
        obs.on_request(ep.path, latency_s, ok)
        if not ok:
            obs.on_error(ep.path, code, status)
