"""A local OpenAI-compatible chat-completions server (aiohttp, 127.0.0.1) for tests and benchmarks.

It serves POST /v1/chat/completions and /chat/completions and answers each request from a script:
a FIFO of `ScriptedReply` per model (or for any model), else a responder function. Replies can be
valid signals, malformed/fenced/prose JSON, reasoning text, empty content, delays, 429 and 500. Every
request is recorded. Also: `make_enhanced` builds EnhancedData values for tests and benchmarks.

Run standalone (the benchmark does, to keep its CPU out of the measurement):
    python -m asym.signals.testing --delay 1.5      # prints {"base_url": ...} and serves until SIGTERM
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from asym.analytics.types import (
    EnhancedData,
    FundingSentiment,
    NearbyLiquidations,
    OiSentiment,
    TechnicalIndicators,
)
from asym.domain import LiquidationRisk


class ScriptedReply(msgspec.Struct, kw_only=True):
    """One scripted answer of the test server."""

    status: int = 200
    content: str | None = ""
    reasoning_content: str | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    error_message: str = "scripted error"
    prompt_tokens: int = 420
    completion_tokens: int = 80
    cached_prompt_tokens: int = 0
    raw_body: str | None = None
    """Sent verbatim instead of a completion object (e.g. a non-JSON body)."""


Responder = Callable[[dict[str, Any]], ScriptedReply | Awaitable[ScriptedReply]]


class RecordedRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the server received."""

    path: str
    body: dict[str, Any]
    authorization: str


class OpenAITestServer:
    """Scriptable OpenAI-compatible server on 127.0.0.1 (real HTTP; use with the real openai SDK)."""

    def __init__(self, responder: Responder | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._queues: dict[str | None, deque[ScriptedReply]] = {}
        self._responders: dict[str | None, Responder] = {}
        if responder is not None:
            self._responders[None] = responder
        self._runner: web.AppRunner | None = None

    @property
    def root_url(self) -> str:
        """http://127.0.0.1:PORT (serves /chat/completions)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT/v1 (serves /v1/chat/completions)."""
        return f"{self.root_url}/v1"

    def enqueue(self, *replies: ScriptedReply, model: str | None = None) -> None:
        """Answer the next requests (for `model`, or any model) with `replies`, in order."""
        self._queues.setdefault(model, deque()).extend(replies)

    def set_responder(self, responder: Responder, model: str | None = None) -> None:
        """Answer requests (for `model`, or any model) that no queued reply covers."""
        self._responders[model] = responder

    def count(self, model: str | None = None) -> int:
        """Requests received (for `model`, or in total)."""
        return sum(1 for r in self.requests if model is None or r.body.get("model") == model)

    async def start(self) -> str:
        """Start listening; returns base_url."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/chat/completions", self._handle)
        # A short shutdown timeout: stopping must not wait for scripted delays still running.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        """Stop the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> OpenAITestServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _next(self, body: dict[str, Any]) -> ScriptedReply:
        model = body.get("model")
        for key in (model, None):
            q = self._queues.get(key)
            if q:
                return q.popleft()
        responder = self._responders.get(model) or self._responders.get(None)
        if responder is None:
            return ScriptedReply(status=500, error_message="test server: nothing scripted for this request")
        result = responder(body)
        return await result if inspect.isawaitable(result) else result

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": {"message": "invalid JSON body"}}, status=400)
        self.requests.append(
            RecordedRequest(
                path=request.path, body=body, authorization=request.headers.get("Authorization", "")
            )
        )
        reply = await self._next(body)
        if reply.delay_s > 0:
            await asyncio.sleep(reply.delay_s)
        if reply.raw_body is not None:
            return web.Response(text=reply.raw_body, status=reply.status, content_type="application/json")
        if reply.status != 200:
            err = {"error": {"message": reply.error_message, "type": "scripted", "code": str(reply.status)}}
            return web.json_response(err, status=reply.status, headers=reply.headers)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.reasoning_content is not None:
            message["reasoning_content"] = reply.reasoning_content
        payload = {
            "id": f"chatcmpl-test-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                "prompt_cache_hit_tokens": reply.cached_prompt_tokens,
                "prompt_cache_miss_tokens": reply.prompt_tokens - reply.cached_prompt_tokens,
            },
        }
        return web.json_response(payload, headers=reply.headers)


# --- canned replies -------------------------------------------------------------------------------


def signal_payload(
    action: str = "LONG",
    *,
    stop_loss: str | None = None,
    take_profit: list[str] | None = None,
    leverage: str = "3",
    horizon_hours: float = 24,
    confidence: float = 0.7,
    entry_type: str = "market",
    entry_price: str | None = None,
    rationale: str = "scripted test signal",
    **extra: Any,
) -> dict[str, Any]:
    """A reply object as a model would write it (prices as strings)."""
    payload: dict[str, Any] = {"action": action, "confidence": confidence, "rationale": rationale}
    if action in ("LONG", "SHORT"):
        payload.update(
            entry_type=entry_type,
            entry_price=entry_price,
            stop_loss=stop_loss,
            take_profit=take_profit or [],
            leverage=leverage,
            horizon_hours=horizon_hours,
        )
    payload.update(extra)
    return payload


def reply_json(payload: dict[str, Any], **kw: Any) -> ScriptedReply:
    """Content is exactly the JSON object."""
    return ScriptedReply(content=json.dumps(payload), **kw)


def reply_fenced(payload: dict[str, Any], **kw: Any) -> ScriptedReply:
    """JSON inside a ```json fence with prose around it."""
    text = f"Here is my assessment.\n```json\n{json.dumps(payload, indent=2)}\n```\nTrade carefully."
    return ScriptedReply(content=text, **kw)


def reply_prose(payload: dict[str, Any], **kw: Any) -> ScriptedReply:
    """JSON embedded in prose, with braces in the prose too."""
    text = f"Considering {{funding, OI}} I propose: {json.dumps(payload)} -- that is my final answer."
    return ScriptedReply(content=text, **kw)


def reply_reasoning(payload: dict[str, Any], **kw: Any) -> ScriptedReply:
    """A <think> block with a draft object before the answer, plus reasoning_content with another draft."""
    draft = json.dumps({"action": "SHORT", "stop_loss": "1", "take_profit": ["2"]})
    content = f"<think>First idea: {draft}. No, the trend is up.</think>\n{json.dumps(payload)}"
    return ScriptedReply(content=content, reasoning_content=f"Let me think. Maybe {draft}. Hmm.", **kw)


def reply_malformed(**kw: Any) -> ScriptedReply:
    """Truncated JSON."""
    return ScriptedReply(content='{"action": "LONG", "stop_loss": "95.0", "take_profit": ["110"', **kw)


def reply_empty(**kw: Any) -> ScriptedReply:
    """Empty content."""
    return ScriptedReply(content="", **kw)


def reply_error(
    status: int, *, retry_after: float | None = None, error_message: str = "", **kw: Any
) -> ScriptedReply:
    """An HTTP error (429, 500, 401, ...), optionally with Retry-After."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    message = error_message or f"scripted HTTP {status}"
    return ScriptedReply(status=status, headers=headers, error_message=message, **kw)


_FIELD = re.compile(r"\b(mark|atr_14)=([0-9.eE+-]+)")


def prompt_fields(body: dict[str, Any]) -> dict[str, Decimal]:
    """mark and atr_14 as rendered in the request's user message (see asym.signals.prompt)."""
    text = " ".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user")
    return {k: Decimal(v) for k, v in _FIELD.findall(text)}


def valid_trade(
    action: str,
    mark: Decimal,
    atr: Decimal,
    *,
    stop_atr: Decimal = Decimal("1.5"),
    target_r: Decimal = Decimal(4),
) -> dict[str, Any]:
    """A market LONG/SHORT the default validator accepts when ATR is about 1 % of the price."""
    d = atr * stop_atr
    sign = 1 if action == "LONG" else -1
    return signal_payload(
        action, stop_loss=str(mark - sign * d), take_profit=[str(mark + sign * d * target_r)], leverage="3"
    )


def auto_signal_responder(action: str = "LONG", *, delay_s: float = 0.0) -> Responder:
    """Reads mark and ATR from the prompt and answers a valid market signal (HOLD if they are missing)."""

    def respond(body: dict[str, Any]) -> ScriptedReply:
        f = prompt_fields(body)
        if "mark" not in f or "atr_14" not in f or action == "HOLD":
            return reply_json(signal_payload("HOLD"), delay_s=delay_s)
        return reply_json(valid_trade(action, f["mark"], f["atr_14"]), delay_s=delay_s)

    return respond


# --- enhanced data for tests and benchmarks --------------------------------------------------------


def make_enhanced(
    symbol: str = "BTCUSDT",
    *,
    price: str | Decimal = "100",
    atr_frac: float | None = 0.01,
    rsi: float | None = 50.0,
    trend: str | None = "FLAT",
    funding_rate: str | Decimal | None = "0.0001",
    funding_direction: str = "LONGS_PAY",
    funding_pressure: str = "MILD",
    oi_label: str = "NEUTRAL",
    liq_long_notional: str | Decimal = "0",
    liq_short_notional: str | Decimal = "0",
    liq_count: int = 0,
    market_risk: float | None = 0.3,
    liquidity: float | None = 0.8,
    spread_pct: float | None = 0.01,
    liquidation_risk: LiquidationRisk | None = LiquidationRisk.LOW,
    interval: str = "60",
    timestamp: int = 1_719_000_000_000,
    next_funding_time: int | None = 1_719_014_400_000,
    quality_flags: tuple[str, ...] = (),
) -> EnhancedData:
    """An EnhancedData value with sensible defaults; every field the signal layer reads can be set."""
    p = Decimal(price)
    atr = float(p) * atr_frac if atr_frac is not None else None
    rate = Decimal(funding_rate) if funding_rate is not None else None
    ti = TechnicalIndicators(
        rsi_14=rsi,
        atr_14=atr,
        atr_pct=atr_frac * 100 if atr_frac is not None else None,
        realized_vol_1h=0.5,
        realized_vol_24h=0.6,
        ema_fast=float(p),
        ema_slow=float(p),
        ema_trend=trend,  # type: ignore[arg-type]
        bb_width=0.04,
        interval=interval,
    )
    fs = (
        FundingSentiment(
            rate=rate,
            direction=funding_direction,  # type: ignore[arg-type]
            zscore=1.0,
            pressure=funding_pressure,  # type: ignore[arg-type]
            annualized_pct=float(rate) * 3 * 365 * 100,
        )
        if rate is not None
        else None
    )
    ln, sn = Decimal(liq_long_notional), Decimal(liq_short_notional)
    return EnhancedData(
        symbol=symbol,
        timestamp=timestamp,
        last_price=p,
        mark_price=p,
        index_price=p,
        bid_price=p,
        ask_price=p,
        volume_24h=Decimal(1000),
        turnover_24h=p * 1000,
        funding_rate=rate,
        next_funding_time=next_funding_time,
        open_interest=Decimal(5000),
        liquidity_score=liquidity,
        liquidation_risk=liquidation_risk,
        funding_sentiment=fs,
        oi_sentiment=OiSentiment(oi_change_pct=1.0, price_change_pct=1.0, label=oi_label, window_hours=4.0),  # type: ignore[arg-type]
        market_risk_score=market_risk,
        spread_pct=spread_pct,
        nearby_liquidations=NearbyLiquidations(
            count=liq_count,
            notional=ln + sn,
            long_count=liq_count // 2,
            long_notional=ln,
            short_count=liq_count - liq_count // 2,
            short_notional=sn,
            band_pct=2.0,
            window_s=3600,
        ),
        order_book_depth=25,
        technical_indicators=ti,
        quality_flags=quality_flags,
    )


# --- standalone server -----------------------------------------------------------------------------


async def _serve(host: str, port: int, delay_s: float, action: str) -> None:
    server = OpenAITestServer(auto_signal_responder(action, delay_s=delay_s), host=host, port=port)
    await server.start()
    print(json.dumps({"base_url": server.base_url, "root_url": server.root_url}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the auto-signal responder until SIGINT/SIGTERM; first stdout line is the URLs as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    ap.add_argument("--action", default="LONG", choices=["LONG", "SHORT", "HOLD"])
    args = ap.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("the test server only listens on loopback")
    asyncio.run(_serve(args.host, args.port, args.delay, args.action))


if __name__ == "__main__":
    main()
