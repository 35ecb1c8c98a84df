"""Alert rules, the alert book (dedup, resolve), outboxes and the rate limiter: pure logic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asym.errors import ConfigError
from asym.monitor.alerts import (
    AlertBook,
    AlertInputs,
    ApiErrorRateRule,
    DataQualityRule,
    DrawdownRule,
    EmergencyModeRule,
    EventLoopLagRule,
    Firing,
    Outbox,
    RateLimiter,
    Severity,
    StaleDataRule,
    Status,
    default_rules,
    evaluate_all,
)
from asym.monitor.view import ModeState, StreamFreshness
from asym.trading.modes import Mode

NORMAL = ModeState(mode=Mode.NORMAL)


def inputs(ts: int = 0, **kw: object) -> AlertInputs:
    """Healthy inputs with overrides."""
    base: dict[str, object] = {"ts_ms": ts, "mode": NORMAL, "drawdown": Decimal(0)}
    base.update(kw)
    return AlertInputs(**base)  # type: ignore[arg-type]


def keys(firings: list[Firing]) -> list[str]:
    return sorted(f.key for f in firings)


def test_healthy_inputs_fire_nothing() -> None:
    assert evaluate_all(default_rules(), inputs()) == []


def test_drawdown_rule_boundaries() -> None:
    r = DrawdownRule(limit=Decimal("0.05"), critical=Decimal("0.10"))
    assert r.evaluate(inputs(drawdown=Decimal("0.0499"))) == []
    (f,) = r.evaluate(inputs(drawdown=Decimal("0.05")))
    assert f.severity is Severity.WARNING and "5.00%" in f.summary
    (f,) = r.evaluate(inputs(drawdown=Decimal("0.10")))
    assert f.severity is Severity.CRITICAL


def test_mode_rule_keys_by_mode() -> None:
    r = EmergencyModeRule()
    assert r.evaluate(inputs()) == []
    (f,) = r.evaluate(inputs(mode=ModeState(mode=Mode.EMERGENCY, cause="api_failures: 5 in a row")))
    assert f.key == "mode:EMERGENCY" and f.severity is Severity.CRITICAL and "api_failures" in f.summary
    (f,) = r.evaluate(inputs(mode=ModeState(mode=Mode.HALTED)))
    assert f.key == "mode:HALTED"


def test_stale_data_rule_one_alert_per_stream() -> None:
    fresh = (
        StreamFreshness(stream="book", age_s=30.0, max_age_s=5.0),
        StreamFreshness(stream="ticker", age_s=1.0, max_age_s=5.0),
        StreamFreshness(stream="funding", age_s=None, max_age_s=600.0),
    )
    got = StaleDataRule().evaluate(inputs(freshness=fresh))
    assert keys(got) == ["stale_data:book", "stale_data:funding"]
    assert any("never received" in f.summary for f in got)


def test_loop_lag_rule() -> None:
    r = EventLoopLagRule(limit_s=0.5)
    assert r.evaluate(inputs(loop_lag_s=0.5)) == []
    (f,) = r.evaluate(inputs(loop_lag_s=0.75))
    assert "750 ms" in f.summary


def test_api_error_rate_over_a_sliding_window() -> None:
    r = ApiErrorRateRule(max_ratio=0.2, min_requests=20, window_s=60)
    assert r.evaluate(inputs(0, api_requests_total=1000, api_errors_total=900)) == []  # baseline only
    # 10 requests, all errors: below min_requests.
    assert r.evaluate(inputs(10_000, api_requests_total=1010, api_errors_total=910)) == []
    # 40 requests in the window, 10 errors: 25% >= 20%.
    (f,) = r.evaluate(inputs(20_000, api_requests_total=1040, api_errors_total=910))
    assert f.key == "api_error_rate" and "10/40" in f.summary and f.severity is Severity.WARNING
    # Two minutes of clean traffic later the window only sees clean requests.
    assert r.evaluate(inputs(140_000, api_requests_total=2040, api_errors_total=910)) == []
    # A counter reset (restart) does not produce negative rates.
    assert r.evaluate(inputs(150_000, api_requests_total=5, api_errors_total=5)) == []


def test_data_quality_rule_share_and_bursts() -> None:
    r = DataQualityRule(min_usable_share=0.5, max_events=10, window_s=60)
    assert r.evaluate(inputs(0, usable_share=0.5, quality_events_total=100)) == []
    (f,) = r.evaluate(inputs(1000, usable_share=0.4, quality_events_total=105))
    assert f.key == "data_quality:usable_share" and f.severity is Severity.CRITICAL
    got = r.evaluate(inputs(2000, usable_share=0.9, quality_events_total=111))
    assert keys(got) == ["data_quality:events"] and "11 data-quality events" in got[0].summary
    assert r.evaluate(inputs(200_000, usable_share=None, quality_events_total=112)) == []


def test_rule_validation() -> None:
    with pytest.raises(ConfigError):
        DrawdownRule(limit=Decimal("0"))
    with pytest.raises(ConfigError):
        ApiErrorRateRule(max_ratio=1.5)
    with pytest.raises(ConfigError):
        EventLoopLagRule(limit_s=0)


def test_a_broken_rule_fires_rule_error_and_others_still_run() -> None:
    class Broken:
        name = "broken"

        def evaluate(self, inputs: AlertInputs) -> list[Firing]:
            raise ZeroDivisionError

    got = evaluate_all([Broken(), DrawdownRule()], inputs(drawdown=Decimal("0.2")))
    assert keys(got) == ["drawdown", "rule_error:broken"]


def test_book_dedups_and_resolves() -> None:
    book = AlertBook()
    f = Firing(key="drawdown", rule="drawdown", severity=Severity.WARNING, summary="dd 6%")
    (n,) = book.update([f], 1000)
    assert n.status is Status.FIRING and n.started_ms == 1000
    assert book.update([f], 2000) == []  # still active: no new message
    f2 = Firing(key="drawdown", rule="drawdown", severity=Severity.CRITICAL, summary="dd 11%")
    assert book.update([f2], 3000) == []  # worse, same key: the summary updates, no resend
    assert book.active["drawdown"].summary == "dd 11%"
    (r,) = book.update([], 4000)
    assert (
        r.status is Status.RESOLVED and (r.started_ms, r.ended_ms) == (1000, 4000) and r.summary == "dd 11%"
    )
    assert book.update([], 5000) == []
    (again,) = book.update([f], 6000)  # a new episode fires again
    assert again.status is Status.FIRING and again.started_ms == 6000


def test_outbox_cancels_unsent_flaps_and_is_bounded() -> None:
    book = AlertBook()
    box = Outbox(capacity=3)
    f = Firing(key="k", rule="r", severity=Severity.WARNING, summary="s")
    for n in book.update([f], 1) + book.update([], 2):
        box.put(n)
    assert len(box) == 0  # fired and cleared before anything was sent: nobody hears about it
    firing: list[Firing] = []
    for i in range(5):
        firing.append(Firing(key=f"k{i}", rule="r", severity=Severity.WARNING, summary="s"))
        (n,) = book.update(firing, 10 + i)
        box.put(n)
    assert [n.key for n in box.items] == ["k2", "k3", "k4"] and box.dropped == 2
    assert box.failed(max_attempts=2) is False and box.head() is not None and box.head().key == "k2"  # type: ignore[union-attr]
    assert box.failed(max_attempts=2) is True and box.head().key == "k3" and box.dropped == 3  # type: ignore[union-attr]


def test_rate_limiter_sliding_window() -> None:
    rl = RateLimiter(max_events=2, window_s=10)
    assert rl.allowed(0)
    rl.take(0)
    rl.take(5000)
    assert not rl.allowed(9999)
    assert rl.allowed(10_000)  # the first left the window
    rl.take(10_000)
    assert not rl.allowed(14_999) and rl.allowed(15_000)
