"""Fault spec parsing and the seeded decisions (pure)."""

from __future__ import annotations

import pytest

from asym.errors import ConfigError
from asym.sim.faults import FaultInjector, FaultSpec, RestFaultKind, parse_faults

FULL = (
    "error_rate=0.1,latency_ms=20-50,hang_rate=0.01,reset_rate=0.01,ws_drop_every_s=30,"
    "seq_gap_rate=0.01,malformed_rate=0.01,stale_book_rate=0.001"
)


def test_parse_the_documented_example() -> None:
    spec = parse_faults(FULL)
    assert spec == FaultSpec(
        error_rate=0.1,
        latency_ms=(20.0, 50.0),
        hang_rate=0.01,
        reset_rate=0.01,
        ws_drop_every_s=30.0,
        seq_gap_rate=0.01,
        malformed_rate=0.01,
        stale_book_rate=0.001,
    )
    assert spec.any_rest and spec.any_ws


def test_empty_spec_is_all_off() -> None:
    spec = parse_faults("")
    assert spec == FaultSpec() and not spec.any_rest and not spec.any_ws


def test_latency_single_value() -> None:
    assert parse_faults("latency_ms=25").latency_ms == (25.0, 25.0)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("bogus=1", "unknown fault key 'bogus'"),
        ("error_rate", "is not key=value"),
        ("error_rate=abc", "is not a number"),
        ("error_rate=1.5", "must be in [0, 1]"),
        ("hang_rate=-0.1", "non-negative"),
        ("latency_ms=50-20", "lo-hi"),
        ("latency_ms=x-y", "range like 20-50"),
        ("error_rate=0.1,error_rate=0.2", "given twice"),
        ("error_rate=0.6,hang_rate=0.3,reset_rate=0.2", "must not exceed 1"),
    ],
)
def test_bad_specs_are_clear_config_errors(spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_faults(spec)
    assert fragment in str(err.value)


def test_decisions_are_seeded_and_reproducible() -> None:
    spec = parse_faults("error_rate=0.3,reset_rate=0.1,hang_rate=0.1")
    a = FaultInjector(spec, 7)
    b = FaultInjector(spec, 7)
    seq_a = [a.rest_fault(True) for _ in range(200)]
    seq_b = [b.rest_fault(True) for _ in range(200)]
    assert seq_a == seq_b
    c = FaultInjector(spec, 8)
    assert [c.rest_fault(True) for _ in range(200)] != seq_a


def test_error_rate_spreads_over_three_kinds_and_writes_split_before_after() -> None:
    inj = FaultInjector(parse_faults("error_rate=1"), 1)
    faults = [inj.rest_fault(True) for _ in range(3000)]
    assert all(f is not None for f in faults)
    kinds = {k: sum(1 for f in faults if f is not None and f.kind is k) for k in RestFaultKind}
    for kind in (RestFaultKind.ERROR_10006, RestFaultKind.ERROR_10016, RestFaultKind.HTTP_5XX):
        assert 850 < kinds[kind] < 1150, kinds
    after = sum(1 for f in faults if f is not None and f.after_write)
    assert 1300 < after < 1700, "about half of the write faults strike after the write"
    reads = [inj.rest_fault(False) for _ in range(500)]
    assert not any(f is not None and f.after_write for f in reads), "reads fail before, never after"
    assert {f.http_status for f in faults if f is not None and f.kind is RestFaultKind.HTTP_5XX} <= {
        500,
        502,
        503,
    }


def test_rates_are_honoured_roughly() -> None:
    inj = FaultInjector(parse_faults("reset_rate=0.1,malformed_rate=0.2,seq_gap_rate=0.05"), 3)
    resets = sum(
        1 for _ in range(5000) if (f := inj.rest_fault(False)) is not None and f.kind is RestFaultKind.RESET
    )
    assert 400 < resets < 600
    assert 800 < sum(inj.malformed() for _ in range(5000)) < 1200
    assert 150 < sum(inj.seq_gap() for _ in range(5000)) < 350


def test_latency_within_range() -> None:
    inj = FaultInjector(parse_faults("latency_ms=20-50"), 1)
    values = [inj.latency_s() for _ in range(1000)]
    assert min(values) >= 0.020 and max(values) <= 0.050
    assert max(values) - min(values) > 0.02, "uniform over the range, not a constant"
