"""The REST pipeline: one aiohttp handler that routes every `/v5/...` request through Bybit's rules.

Order of checks (as on Bybit): IP limit (HTTP 403 + ban) -> route (HTTP 404) -> method (HTTP 400) ->
body size (HTTP 400) -> injected faults -> auth for private paths (HTTP 401 / 10002 / 10003 / 10004) ->
parameters (10001) -> per-UID endpoint limit (10006, headers on every private answer) -> handler.
Nothing escapes as an HTTP 500: unexpected exceptions are logged and answered with 10016.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from aiohttp import web

from asym.logging import get_logger
from asym.sim.clock import wall_ms
from asym.sim.exchange import SimExchange
from asym.sim.faults import FaultInjector, RestFault, RestFaultKind
from asym.sim.server import rest_account, rest_market, rest_trade
from asym.sim.server.auth import Credentials, verify_rest
from asym.sim.server.caches import Caches
from asym.sim.server.context import Ctx, Reply, Route
from asym.sim.server.envelope import ApiError, envelope, error_envelope, json_response, text_response
from asym.sim.server.params import Params
from asym.sim.server.ratelimit import EndpointLimiter, IpLimiter, LimitDecision, endpoint_limit
from asym.sim.types import SimRejection

log = get_logger("sim.server.rest")

ROUTES: list[Route] = [*rest_market.ROUTES, *rest_trade.ROUTES, *rest_account.ROUTES]
_DECODE = msgspec.json.Decoder().decode


class RestApi:
    """Routes, limiters, auth and faults of one simulator server."""

    def __init__(self, exchange: SimExchange, caches: Caches, faults: FaultInjector | None) -> None:
        config = exchange.config
        self.exchange = exchange
        self.caches = caches
        self.faults = faults if faults is not None and faults.spec.any_rest else None
        self.routes: dict[str, Route] = {r.path: r for r in ROUTES}
        self.keys: dict[str, Credentials] = {
            config.api_key: Credentials(config.api_key, config.api_secret, exchange.uid)
        }
        self.rate_limits = config.rate_limits
        self.scale = config.rate_limit_scale
        self.ip_limiter = IpLimiter(
            limit=max(1, int(600 * config.rate_limit_scale)), ban_ms=int(config.ip_ban_seconds * 1000)
        )
        self.endpoint_limiter = EndpointLimiter()
        self.max_body = config.max_body_bytes
        self.stopping = asyncio.Event()
        self.request_count = 0
        self.active = 0
        """Requests being answered now."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The one aiohttp handler behind every REST path."""
        self.request_count += 1
        self.active += 1
        try:
            return await self._handle(request)
        finally:
            self.active -= 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        now = wall_ms()
        if self.rate_limits and not self.ip_limiter.allow(request.remote or "", now):
            return text_response(403, "403 Forbidden: access too frequent")
        route = self.routes.get(request.path)
        if route is None:
            return text_response(404, "404 page not found")
        if request.method != route.method:
            return text_response(400, f"400 Bad Request: {request.path} expects {route.method}")
        body = b""
        if route.method == "POST":
            if request.content_length is not None and request.content_length > self.max_body:
                return json_response(error_envelope(10001, "request body too large", now), status=400)
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return json_response(error_envelope(10001, "request body too large", now), status=400)
        fault: RestFault | None = None
        if self.faults is not None:
            delay = self.faults.latency_s()
            if delay:
                await asyncio.sleep(delay)
            fault = self.faults.rest_fault(route.write)
            if fault is not None and not fault.after_write:
                return await self._fault_response(request, fault, route, "")
        if route.all_symbols and not request.query.get("symbol"):
            # The model builds a symbol on first touch: do the cold ones now, letting others run between.
            await self.caches.build_all()
        response = self._dispatch(request, route, body, now)
        if fault is not None:
            return await self._fault_response(request, fault, route, response.headers.get("X-Bapi-Limit", ""))
        return response

    def _dispatch(self, request: web.Request, route: Route, body: bytes, now: int) -> web.Response:
        uid = ""
        headers: dict[str, str] | None = None
        try:
            if route.private:
                raw_query = request.raw_path.partition("?")[2]
                creds = verify_rest(request.headers, route.method, raw_query, body, wall_ms(), self.keys)
                uid = creds.uid
            params = self._params(request, route, body)
            ctx = Ctx(self.exchange, self.caches, params, route.path, uid)
            if route.private:
                decision = self._charge(route, params, uid, now)
                headers = decision.headers()
                if decision.granted == 0:
                    return json_response(error_envelope(10006, "Too many visits!", now), headers)
                ctx.granted = decision.granted
            if route.sync:
                self.exchange.sync()
            try:
                out = route.handler(ctx)
            finally:
                if route.method == "POST":
                    self.exchange.flush()
            if isinstance(out, Reply):
                body_out = envelope(out.result, now, out.ret_msg, out.ret_ext_info)
            else:
                body_out = envelope(out, now, route.ret_msg)
            return json_response(body_out, headers)
        except ApiError as exc:
            if exc.http_status != 200:
                if exc.http_status == 401:
                    return text_response(401, "401 Unauthorized: missing or invalid authentication headers")
                return json_response(error_envelope(exc.ret_code, exc.ret_msg, now), headers, exc.http_status)
            return json_response(error_envelope(exc.ret_code, exc.ret_msg, now, exc.result), headers)
        except SimRejection as exc:
            return json_response(error_envelope(exc.ret_code, exc.ret_msg, now), headers)
        except Exception:
            log.exception("unhandled error in simulator REST handler", path=route.path)
            return json_response(error_envelope(10016, "System error. Please try again later.", now), headers)

    def _params(self, request: web.Request, route: Route, body: bytes) -> Params:
        if route.method == "GET":
            return Params(request.query)
        if not body.strip():
            return Params({})
        try:
            data: Any = _DECODE(body)
        except msgspec.DecodeError as exc:
            raise ApiError(10001, "params error: request body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise ApiError(10001, "params error: request body must be a JSON object")
        return Params(data)

    def _charge(self, route: Route, params: Params, uid: str, now: int) -> LimitDecision:
        category = params.raw("category")
        group = category if isinstance(category, str) and category in ("spot", "option") else "linear"
        limit = endpoint_limit(route.path, group, self.scale)
        if not self.rate_limits:
            return LimitDecision(granted=10**9, limit=limit, remaining=limit, reset_ms=now)
        units = 1
        if route.batch:
            request_list = params.raw("request")
            units = max(1, len(request_list)) if isinstance(request_list, list) else 1
        return self.endpoint_limiter.charge((uid, route.path, group), limit, now, units)

    async def _fault_response(
        self, request: web.Request, fault: RestFault, route: Route, limit_header: str
    ) -> web.StreamResponse:
        now = wall_ms()
        kind = fault.kind
        if kind is RestFaultKind.ERROR_10006:
            limit = limit_header or str(endpoint_limit(route.path, "linear", self.scale))
            headers = {
                "X-Bapi-Limit": limit,
                "X-Bapi-Limit-Status": "0",
                "X-Bapi-Limit-Reset-Timestamp": str(now + 1000),
            }
            return json_response(error_envelope(10006, "Too many visits!", now), headers)
        if kind is RestFaultKind.ERROR_10016:
            return json_response(error_envelope(10016, "Request timeout, please try again later", now))
        if kind is RestFaultKind.HTTP_5XX:
            return text_response(fault.http_status, f"{fault.http_status} simulated server error")
        if kind is RestFaultKind.HANG:
            try:
                await asyncio.wait_for(self.stopping.wait(), self.faults.spec.hang_s if self.faults else 60.0)
            except TimeoutError:
                pass
        _drop_connection(request)
        raise _Dropped


class _Dropped(web.HTTPException):
    """Raised after the connection was dropped on purpose: aiohttp has nothing left to send."""

    status_code = 499


def _drop_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        abort = getattr(transport, "abort", None)
        if abort is not None:
            abort()
        else:
            transport.close()
