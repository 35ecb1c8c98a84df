"""The benchmark's plumbing (standalone test server process, run, render) works; no timing is asserted."""

from __future__ import annotations

from asym.bench import signals_bench


async def test_benchmark_runs_end_to_end_on_a_small_set() -> None:
    results = await signals_bench.run(assets=5, delay_s=0.05, runs=1, layer_iterations=20)
    assert [r["signals"] for r in results["runs"]] == [5, 5]  # cold + one warm run, all valid signals
    assert results["overhead_ms_per_asset_median"] > 0 and results["layer_only_us_per_asset"] > 0
    text = signals_bench.render(results)
    assert "| wall time, 5 assets, server answers after 0.05 s |" in text
