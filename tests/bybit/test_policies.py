"""The retCode/HTTP table, backoff, the TTL cache, pagination and request-body validation."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest

from asym.bybit.cache import TtlCache
from asym.bybit.convert.account import order_body, validate_order_link_id, wire_decimal
from asym.bybit.paginate import collect, iter_items
from asym.bybit.retcodes import (
    RETCODES,
    TRANSPORT_AFTER_SEND,
    TRANSPORT_NOT_SENT,
    Action,
    action_for,
    classify_http,
    classify_retcode,
    make_error,
)
from asym.bybit.retry import ReconnectPolicy, RetryPolicy
from asym.domain import OrderRequest, OrderType, Side, TimeInForce
from asym.errors import (
    AuthError,
    DataError,
    DuplicateOrderError,
    InsufficientBalanceError,
    InvalidRequestError,
    OrderNotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RejectedError,
    RetryableError,
)

# Every code of bybit-v5.md §5.2 must be classified explicitly.
DOCUMENTED = [
    *(-1, 429, 10000, 10001, 10002, 10003, 10004, 10005, 10006, 10007, 10008, 10009, 10010, 10014, 10016),
    *(10017, 10018, 10024, 10027, 10029, 110001, 110003, 110004, 110012, 110044, 110045, 110007, 110008),
    *(110010, 110009, 110013, 110086, 110017, 110020, 110025, 110026, 110027, 110043, 110057, 110072),
    *(110074, 110092, 110093, 110094, 34040, 170131, 170141, 170213),
]


def test_every_documented_retcode_is_in_the_table() -> None:
    assert [c for c in DOCUMENTED if c not in RETCODES] == []


@pytest.mark.parametrize(
    ("code", "read", "write", "exc"),
    [
        (10000, Action.RETRY, Action.UNKNOWN, RetryableError),
        (10016, Action.RETRY, Action.UNKNOWN, RetryableError),
        (10006, Action.RATE_LIMIT, Action.RATE_LIMIT, RateLimitedError),
        (10002, Action.TIME_SYNC, Action.TIME_SYNC, RetryableError),
        (10001, Action.REJECT, Action.REJECT, InvalidRequestError),
        (10004, Action.REJECT, Action.REJECT, AuthError),
        (110007, Action.REJECT, Action.REJECT, InsufficientBalanceError),
        (110001, Action.REJECT, Action.REJECT, OrderNotFoundError),
        (110072, Action.DUPLICATE, Action.DUPLICATE, DuplicateOrderError),
        (110043, Action.NOOP, Action.NOOP, Exception),
        (34040, Action.NOOP, Action.NOOP, Exception),
    ],
)
def test_retcode_classification(code: int, read: Action, write: Action, exc: type) -> None:
    rule = classify_retcode(code)
    assert action_for(rule, False) is read and action_for(rule, True) is write
    assert issubclass(rule.exc, exc)


def test_unknown_codes_and_http_statuses() -> None:
    assert classify_retcode(999999).exc is RejectedError
    assert classify_retcode(110999).exc is InvalidRequestError
    assert classify_retcode(170999).exc is InvalidRequestError
    assert classify_http(401).exc is AuthError
    assert action_for(classify_http(403), True) is Action.RATE_LIMIT
    assert action_for(classify_http(502), False) is Action.RETRY
    assert action_for(classify_http(502), True) is Action.UNKNOWN
    assert action_for(classify_http(429), True) is Action.UNKNOWN
    assert action_for(TRANSPORT_NOT_SENT, True) is Action.RETRY  # never sent: safe to retry a write
    assert action_for(TRANSPORT_AFTER_SEND, True) is Action.UNKNOWN


def test_errors_carry_endpoint_code_and_message() -> None:
    err = make_error(
        classify_retcode(10016), write=True, endpoint="/v5/order/create", ret_code=10016, ret_msg="x"
    )
    assert isinstance(err, OutcomeUnknownError)
    assert err.endpoint == "/v5/order/create" and err.ret_code == 10016 and "retCode=10016" in str(err)
    rl = make_error(classify_retcode(10006), write=False, endpoint="/e", ret_code=10006, retry_at_ms=123)
    assert isinstance(rl, RateLimitedError) and rl.retry_at_ms == 123


def test_backoff_is_full_jitter_and_bounded() -> None:
    p = RetryPolicy(max_attempts=5, base_s=0.1, cap_s=1.0, rng=random.Random(1))
    samples = [p.backoff(a) for a in range(12) for _ in range(50)]
    assert all(0 <= s <= 1.0 for s in samples)
    assert max(p.backoff(0) for _ in range(200)) <= 0.1
    assert max(p.backoff(10) for _ in range(200)) > 0.5  # grows to the cap
    r = ReconnectPolicy(base_s=0.5, cap_s=4.0, rng=random.Random(2))
    assert all(0.25 <= r.delay(0) <= 0.5 for _ in range(50))
    assert all(2.0 <= r.delay(10) <= 4.0 for _ in range(50))


async def test_ttl_cache_expires_and_coalesces_loads() -> None:
    now = [0.0]
    cache: TtlCache[int] = TtlCache(10, clock=lambda: now[0])
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return calls

    results = await asyncio.gather(*(cache.get_or_load("k", load) for _ in range(20)))
    assert results == [1] * 20 and calls == 1
    now[0] = 9.9
    assert await cache.get_or_load("k", load) == 1
    now[0] = 10.1
    assert await cache.get_or_load("k", load) == 2

    async def boom() -> int:
        raise DataError("x")

    with pytest.raises(DataError):
        await cache.get_or_load("other", boom)
    assert await cache.get_or_load("other", load) == 3  # a failed load is not cached


async def test_pagination_follows_cursors_and_refuses_loops() -> None:
    pages = {"": ([1, 2], "c1"), "c1": ([3], "c2"), "c2": ([4, 5], "")}
    seen: list[str] = []

    async def fetch(cursor: str) -> tuple[list[int], str]:
        seen.append(cursor)
        return pages[cursor]

    assert [x async for x in iter_items(fetch)] == [1, 2, 3, 4, 5]
    assert seen == ["", "c1", "c2"]
    assert await collect(fetch, limit=3) == [1, 2, 3]

    async def looping(cursor: str) -> tuple[list[int], str]:
        return [1], "same"

    with pytest.raises(DataError, match="repeated"):
        await collect(looping)

    async def empty_page(cursor: str) -> tuple[list[int], str]:
        return [], "more"  # a non-empty cursor with an empty page ends too (ccxt's rule)

    assert await collect(empty_page) == []


def _req(**kw: object) -> OrderRequest:
    base: dict[str, object] = dict(
        symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.LIMIT, qty=Decimal("0.010"),
        price=Decimal("30000.5"), order_link_id="sig-1_entry",
    )  # fmt: skip
    base.update(kw)
    return OrderRequest(**base)  # type: ignore[arg-type]


def test_order_body_is_exact_strings() -> None:
    body = order_body(
        _req(time_in_force=TimeInForce.POST_ONLY, take_profit=Decimal("1E+5"), reduce_only=True)
    )
    assert body == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.010",
        "price": "30000.5",
        "timeInForce": "PostOnly",
        "orderLinkId": "sig-1_entry",
        "positionIdx": 0,
        "reduceOnly": True,
        "takeProfit": "100000",
    }
    assert wire_decimal(Decimal("0.00000010")) == "0.00000010"
    market = order_body(_req(order_type=OrderType.MARKET, price=None))
    assert "price" not in market


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"order_link_id": ""}, "orderLinkId"),
        ({"order_link_id": "x" * 37}, "orderLinkId"),
        ({"order_link_id": "has space"}, "orderLinkId"),
        ({"order_link_id": "ünïcode"}, "orderLinkId"),
        ({"qty": Decimal(0)}, "qty"),
        ({"qty": Decimal("NaN")}, "qty"),
        ({"price": None}, "needs a price"),
        ({"price": Decimal("-1")}, "price"),
        ({"symbol": "BTC/USDT"}, "symbol"),
        ({"trigger_price": Decimal(1)}, "trigger_direction"),
    ],
)
def test_invalid_requests_are_refused_before_sending(kw: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        order_body(_req(**kw))


def test_order_link_id_rule() -> None:
    validate_order_link_id("a" * 36)
    validate_order_link_id("A-z_0")
    with pytest.raises(InvalidRequestError):
        validate_order_link_id("a" * 36 + "b")
