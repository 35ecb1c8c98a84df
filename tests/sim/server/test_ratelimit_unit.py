"""Rate limiters (pure, time injected): the IP limit with its ban and the per-endpoint rolling windows."""

from __future__ import annotations

from asym.sim.server.ratelimit import EndpointLimiter, IpLimiter, endpoint_limit


def test_ip_limit_bans_the_request_past_600_in_5s_and_for_the_ban_time() -> None:
    lim = IpLimiter(limit=600, window_ms=5000, ban_ms=10_000)
    assert all(lim.allow("1.2.3.4", 1000 + i) for i in range(600))
    assert not lim.allow("1.2.3.4", 1700)  # the 601st within 5 s
    assert lim.banned_until("1.2.3.4") == 11_700
    assert not lim.allow("1.2.3.4", 11_699)
    assert lim.allow("1.2.3.4", 11_700)
    assert lim.allow("5.6.7.8", 1700), "another IP is not affected"


def test_ip_window_rolls() -> None:
    lim = IpLimiter(limit=3, window_ms=5000, ban_ms=60_000)
    assert lim.allow("a", 0) and lim.allow("a", 1) and lim.allow("a", 2)
    assert lim.allow("a", 5001), "the requests at 0 and 1 left the window"
    assert lim.allow("a", 5002)
    assert lim.allow("a", 5003)
    assert not lim.allow("a", 5004), "4 requests within 5 s"


def test_endpoint_window_counts_and_headers() -> None:
    lim = EndpointLimiter()
    key = ("uid", "/v5/order/create", "linear")
    for i in range(10):
        d = lim.charge(key, 10, 1000 + i)
        assert d.granted == 1 and d.remaining == 9 - i
    denied = lim.charge(key, 10, 1500)
    assert denied.granted == 0 and denied.remaining == 0
    assert denied.headers() == {
        "X-Bapi-Limit": "10",
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit-Reset-Timestamp": "2000",
    }
    assert lim.charge(key, 10, 2000).granted == 1, "the first hit left the rolling window"


def test_batch_gets_what_is_left() -> None:
    lim = EndpointLimiter()
    key = ("uid", "/v5/order/create-batch", "linear")
    assert lim.charge(key, 10, 0, units=8).granted == 8
    d = lim.charge(key, 10, 1, units=5)
    assert d.granted == 2 and d.remaining == 0 and d.reset_ms == 1000


def test_limits_table_and_scale() -> None:
    assert endpoint_limit("/v5/order/create", "linear") == 10
    assert endpoint_limit("/v5/order/create", "spot") == 20
    assert endpoint_limit("/v5/order/cancel-all", "option") == 1
    assert endpoint_limit("/v5/order/realtime", "linear") == 50
    assert endpoint_limit("/v5/account/fee-rate", "linear") == 5
    assert endpoint_limit("/v5/order/create", "linear", scale=0.25) == 2
    assert endpoint_limit("/v5/order/cancel-all", "option", scale=0.1) == 1, "never below 1"
