"""Metrics: names and labels in the exposition, derived percentiles, the view mirror, the dedicated registry,
and the Bybit client's observer hook feeding it from a real simulator with faults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from asym.monitor import LatencyWindow, Metrics, MetricsObserver, StaticSystemView
from asym.monitor.view import DataQuality, StreamFreshness
from asym.trading.modes import Mode


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, keyed by (name, labels)."""
    out = {}
    for fam in text_string_to_metric_families(metrics.exposition().decode()):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float:
    """One sample's value (KeyError when absent)."""
    return samples(metrics)[(name, frozenset(labels.items()))]


def histogram_quantile(metrics: Metrics, name: str, q: float, **labels: str) -> float:
    """Prometheus' histogram_quantile over the cumulative buckets (linear inside a bucket)."""
    buckets = sorted(
        (float(dict(lbl)["le"]), v)
        for (n, lbl), v in samples(metrics).items()
        if n == name + "_bucket" and all(dict(lbl).get(k) == w for k, w in labels.items())
    )
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    raise AssertionError("rank beyond +Inf")


def test_api_metrics_have_full_word_names_and_labels() -> None:
    m = Metrics()
    for i in range(100):
        m.observe_api_request("/v5/market/kline", 0.001 * (i + 1))  # 1..100 ms
    m.observe_api_request("/v5/order/create", 0.2, ret_code=10006)
    m.observe_api_request("/v5/order/create", 0.3, ret_code=None, http_status=502)
    m.count_retry("/v5/order/create", "rate_limit")
    m.observe_rate_limit_wait("/v5/order/create", "endpoint", 0.75)
    assert value(m, "asym_api_request_duration_seconds_count", endpoint="/v5/market/kline") == 100
    assert value(m, "asym_api_requests_total", endpoint="/v5/market/kline", outcome="ok") == 100
    assert value(m, "asym_api_requests_total", endpoint="/v5/order/create", outcome="error") == 2
    assert (
        value(m, "asym_api_errors_total", endpoint="/v5/order/create", ret_code="10006", http_status="none")
        == 1
    )
    assert (
        value(m, "asym_api_errors_total", endpoint="/v5/order/create", ret_code="none", http_status="502")
        == 1
    )
    assert value(m, "asym_api_retries_total", endpoint="/v5/order/create", reason="rate_limit") == 1
    assert value(m, "asym_api_rate_limit_waits_total", endpoint="/v5/order/create", scope="endpoint") == 1
    assert (
        value(m, "asym_api_rate_limit_wait_seconds_total", endpoint="/v5/order/create", scope="endpoint")
        == 0.75
    )
    # p50/p95/p99 are derivable from the buckets (within a bucket's width of the truth).
    p50 = histogram_quantile(m, "asym_api_request_duration_seconds", 0.5, endpoint="/v5/market/kline")
    p95 = histogram_quantile(m, "asym_api_request_duration_seconds", 0.95, endpoint="/v5/market/kline")
    p99 = histogram_quantile(m, "asym_api_request_duration_seconds", 0.99, endpoint="/v5/market/kline")
    assert 0.025 <= p50 <= 0.075 and 0.075 <= p95 <= 0.1 and 0.075 <= p99 <= 0.1 and p50 < p95 <= p99
    assert m.api_request_total == 102 and m.api_error_total == 2


def test_every_area_of_the_system_is_exported() -> None:
    m = Metrics()
    m.observe_collection_cycle(2.5, symbols_expected=50, symbols_complete=45)
    m.set_data_freshness("book", 1.25)
    m.set_data_freshness("ticker", None)
    m.count_quality_event("crossed_book", 3)
    m.observe_model_request(
        "deepseek",
        "deepseek-chat",
        1.4,
        prompt_tokens=900,
        completion_tokens=120,
        cost_usd=Decimal("0.00042"),
    )
    m.count_signal("accepted", action="LONG")
    m.count_signal("rejected", reason="stop_too_tight")
    m.observe_signal_to_order(0.12)
    m.set_mode(Mode.EMERGENCY)
    m.observe_loop_lag(0.004)
    m.set_process(123_456_789, 0.37)
    m.count_websocket_event("public", "resync")
    got = samples(m)
    names = {n for n, _ in got}
    expected = {
        "asym_collection_cycle_duration_seconds_count",
        "asym_collection_cycle_completeness_ratio",
        "asym_data_freshness_seconds",
        "asym_data_quality_events_total",
        "asym_model_request_duration_seconds_count",
        "asym_model_tokens_total",
        "asym_model_cost_dollars_total",
        "asym_signals_total",
        "asym_signal_to_order_duration_seconds_count",
        "asym_trading_mode",
        "asym_event_loop_lag_seconds_count",
        "asym_process_cpu_usage_ratio",
        "asym_process_resident_memory_bytes",  # the standard process collector, namespaced
        "asym_process_cpu_seconds_total",
        "asym_websocket_events_total",
        "asym_open_positions",
        "asym_account_equity_usdt",
        "asym_pnl_usdt",
        "asym_drawdown_ratio",
    }
    assert expected <= names, expected - names
    assert value(m, "asym_collection_cycle_completeness_ratio") == 0.9
    assert value(m, "asym_data_freshness_seconds", stream="ticker") == float("inf")
    assert (
        value(m, "asym_model_tokens_total", provider="deepseek", model="deepseek-chat", direction="prompt")
        == 900
    )
    assert value(
        m, "asym_model_cost_dollars_total", provider="deepseek", model="deepseek-chat"
    ) == pytest.approx(0.00042)
    assert value(m, "asym_signals_total", outcome="rejected", action="none", reason="stop_too_tight") == 1
    assert value(m, "asym_trading_mode", mode="EMERGENCY") == 1
    assert value(m, "asym_trading_mode", mode="NORMAL") == 0


def test_update_from_view_mirrors_account_mode_and_quality(view: StaticSystemView) -> None:
    m = Metrics()
    m.update_from_view(view)
    assert value(m, "asym_account_equity_usdt") == 10234.56
    assert value(m, "asym_pnl_usdt", kind="total") == pytest.approx(234.56)
    assert value(m, "asym_open_positions") == 2
    assert value(m, "asym_drawdown_ratio") == pytest.approx((10300 - 10234.56) / 10300)
    assert value(m, "asym_data_quality_events_total", kind="stale") == 3
    # Cumulative counts from the view become counter increments, never double-counted.
    view.quality = DataQuality(
        events_by_kind={"stale": 5, "crossed_book": 1},
        freshness=(StreamFreshness(stream="book", age_s=9.0, max_age_s=5.0),),
    )
    view.mode_state = view.mode_state.__class__(mode=Mode.HALTED, cause="x")
    m.update_from_view(view)
    m.update_from_view(view)
    assert value(m, "asym_data_quality_events_total", kind="stale") == 5
    assert value(m, "asym_data_freshness_seconds", stream="book") == 9.0
    assert value(m, "asym_trading_mode", mode="HALTED") == 1


def test_registry_is_dedicated_not_global() -> None:
    m1, m2 = Metrics(), Metrics()  # two instances: no "duplicated timeseries" clash
    m1.observe_api_request("/x", 0.1)
    assert value(m1, "asym_api_requests_total", endpoint="/x", outcome="ok") == 1
    assert ("asym_api_requests_total", frozenset({("endpoint", "/x"), ("outcome", "ok")})) not in samples(m2)
    assert REGISTRY.get_sample_value("asym_api_requests_total", {"endpoint": "/x", "outcome": "ok"}) is None


def test_latency_window_percentiles() -> None:
    w = LatencyWindow(size=100)
    for i in range(1, 201):  # only the last 100 (101..200 ms) stay
        w.observe("/a", i / 1000, ok=i % 50 != 0)
    (s,) = w.summary()
    assert s.count == 100 and s.errors == 2
    assert (s.p50_ms, s.p95_ms, s.p99_ms) == pytest.approx((150.0, 195.0, 199.0))


async def test_client_observer_feeds_metrics_from_a_real_simulator(simulator: Any) -> None:
    """A real BybitClient against the real simulator with injected faults; /metrics shows what happened."""
    from asym.bybit import BybitClient, ClientConfig, RetryPolicy, TransportConfig
    from asym.bybit.metrics import ClientObserver
    from asym.domain import Interval

    m = Metrics()
    window = LatencyWindow()
    obs: ClientObserver = MetricsObserver(m, window)  # mypy checks it satisfies the client's protocol
    cfg = ClientConfig(
        transport=TransportConfig(
            timeout_s=1.0, read_retry=RetryPolicy(max_attempts=12, base_s=0.01, cap_s=0.05, deadline_s=10)
        )
    )
    async with (
        simulator(symbols=1, faults="error_rate=0.3") as sim,
        BybitClient(sim.rest_url, None, cfg, obs) as c,
    ):
        for _ in range(12):
            await c.get_klines("BTCUSDT", Interval.M5, limit=5)
    kline = "/v5/market/kline"
    ok = value(m, "asym_api_requests_total", endpoint=kline, outcome="ok")
    err = value(m, "asym_api_requests_total", endpoint=kline, outcome="error")
    assert ok >= 12 and err >= 1  # every read succeeded in the end, some attempts failed
    errors = {
        dict(lbl)["ret_code"] + "/" + dict(lbl)["http_status"]: v
        for (n, lbl), v in samples(m).items()
        if n == "asym_api_errors_total" and dict(lbl)["endpoint"] == kline
    }
    assert sum(errors.values()) == err
    assert set(errors) <= {"10006/none", "10016/none", "none/500", "none/502", "none/503", "none/504"}, errors
    retries = sum(v for (n, lbl), v in samples(m).items() if n == "asym_api_retries_total")
    assert retries >= err - 1
    (lat,) = [s for s in window.summary() if s.endpoint == kline]
    assert lat.count == ok + err and 0 < lat.p50_ms <= lat.p99_ms


@pytest.fixture
def simulator() -> Any:
    """A running simulator in this loop (skips when the simulator is not importable)."""
    try:
        from asym.sim.server.testing import running_simulator
    except ImportError as exc:
        pytest.skip(f"simulator not importable: {exc}")

    def run(**overrides: Any) -> Any:
        overrides.setdefault("history_days", 1)
        return running_simulator(**overrides)

    return run


async def test_metrics_endpoint_serves_the_exposition(view: StaticSystemView, monitor_server: Any) -> None:
    async with monitor_server(view) as (running, parts), aiohttp.ClientSession() as s:
        parts["metrics"].observe_api_request("/v5/market/tickers", 0.02)
        async with s.get(running.url + "/metrics") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
            text = await resp.text()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    assert fams["asym_account_equity_usdt"].samples[0].value == 10234.56  # refreshed from the view on scrape
    assert fams["asym_api_requests"].type == "counter"
