"""Benchmark of the signal layer: 100 assets against a local OpenAI-compatible server answering after 1.5 s.

Measures the wall time of the whole set (target < 3 s) and the layer's own CPU per asset (target < 5 ms):
the process CPU time of a run divided by the assets. The server runs in a separate process, so its CPU is
not counted, and waiting for answers costs no CPU; what remains is the layer (prompt, parse, validation)
plus the openai SDK and HTTP client. The pure layer without HTTP is measured separately.

Run: python -m asym.bench.signals_bench
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from decimal import Decimal
from typing import Any

from asym import eventloop
from asym.bench.common import machine_info, markdown_table, median
from asym.signals import (
    RiskState,
    RulesModel,
    SignalConfig,
    SignalInput,
    build_model,
    build_prompt,
    generate_signals,
    validate_reply,
)
from asym.signals.extract import parse_reply
from asym.signals.schema import Meta, Signal
from asym.signals.testing import make_enhanced, valid_trade

ASSETS = 100
DELAY_S = 1.5
RUNS = 5
TARGET_WALL_S = 3.0
TARGET_OVERHEAD_MS = 5.0


def _inputs(n: int, run: int) -> list[SignalInput]:
    # Distinct prices per run: every prompt is new, so the response cache never answers.
    risk = RiskState(equity=Decimal(100_000))
    return [
        SignalInput(
            data=make_enhanced(f"B{i:03d}USDT", price=Decimal(10 + i) + Decimal(run) / 100, trend="UP"),
            risk=risk,
        )
        for i in range(n)
    ]


async def _start_server(delay_s: float) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "asym.signals.testing",
        "--delay",
        str(delay_s),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        return proc, json.loads(line)["base_url"]
    except BaseException:
        proc.kill()
        await proc.wait()
        raise


def _layer_only_us(n: int = 1000) -> tuple[float, float]:
    """(prompt + extraction + validation, rules model) CPU microseconds per asset, without HTTP."""
    cfg = SignalConfig()
    inputs = _inputs(100, 99)
    content = json.dumps(valid_trade("LONG", Decimal(50), Decimal("0.5")))
    meta = Meta(model_id="bench", prompt_version="v1")
    t0 = time.process_time()
    for k in range(n):
        inp = inputs[k % len(inputs)]
        build_prompt(inp, cfg)
        validate_reply(parse_reply(content), inp, cfg.validation, meta)
    layer = (time.process_time() - t0) / n * 1e6
    rules = RulesModel()
    t0 = time.process_time()
    for k in range(n):
        rules.generate_sync(inputs[k % len(inputs)], cfg)
    return layer, (time.process_time() - t0) / n * 1e6


async def run(
    assets: int = ASSETS, delay_s: float = DELAY_S, runs: int = RUNS, layer_iterations: int = 1000
) -> dict[str, Any]:
    """Run the benchmark; figures in a dict (see `render`)."""
    proc, base_url = await _start_server(delay_s)
    cfg = SignalConfig(max_concurrency=assets)
    model = build_model(
        f"openai-compatible:{base_url}:bench-model",
        env={},
        overrides={"openai-compatible": {"concurrency": assets, "timeout_s": 30.0}},
    )
    results: list[dict[str, Any]] = []
    try:
        for r in range(runs + 1):
            inputs = _inputs(assets, r)
            t0, c0 = time.perf_counter(), time.process_time()
            outs = await generate_signals(inputs, model, cfg)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            results.append(
                {
                    "run": "cold" if r == 0 else f"warm {r}",
                    "wall_s": round(wall, 3),
                    "overhead_ms_per_asset": round(cpu / assets * 1000, 3),
                    "signals": sum(isinstance(o, Signal) for o in outs),
                    "rejections": sum(not isinstance(o, Signal) for o in outs),
                }
            )
    finally:
        await model.aclose()
        proc.terminate()
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(proc.wait(), timeout=10)
    warm = results[1:] or results
    layer_us, rules_us = _layer_only_us(layer_iterations)
    return {
        "machine": machine_info(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "assets": assets,
        "server_delay_s": delay_s,
        "runs": results,
        "wall_s_median": median([r["wall_s"] for r in warm]),
        "overhead_ms_per_asset_median": median([r["overhead_ms_per_asset"] for r in warm]),
        "layer_only_us_per_asset": round(layer_us, 1),
        "rules_us_per_asset": round(rules_us, 1),
        "target_wall_s": TARGET_WALL_S,
        "target_overhead_ms": TARGET_OVERHEAD_MS,
    }


def render(results: dict[str, Any]) -> str:
    """Markdown section for docs/benchmarks.md."""
    wall, over = results["wall_s_median"], results["overhead_ms_per_asset_median"]
    summary = markdown_table(
        ["metric", "value", "target", "met"],
        [
            [
                f"wall time, {results['assets']} assets, server answers after {results['server_delay_s']} s",
                f"{wall:.3f} s",
                f"< {results['target_wall_s']} s",
                "yes" if wall < results["target_wall_s"] else "no",
            ],
            [
                "layer CPU per asset (process CPU, server in another process)",
                f"{over:.3f} ms",
                f"< {results['target_overhead_ms']} ms",
                "yes" if over < results["target_overhead_ms"] else "no",
            ],
            [
                "prompt + extraction + validation only (no HTTP)",
                f"{results['layer_only_us_per_asset']} µs",
                "",
                "",
            ],
            ["rules model per asset (no network)", f"{results['rules_us_per_asset']} µs", "", ""],
        ],
    )
    runs = markdown_table(
        ["run", "wall s", "CPU ms/asset", "signals", "rejections"],
        [
            [r["run"], r["wall_s"], r["overhead_ms_per_asset"], r["signals"], r["rejections"]]
            for r in results["runs"]
        ],
    )
    return (
        "## Signals (`asym.signals`)\n\n"
        f"{results['machine']}; load average {results['load_average_1m']} while measuring\n\n"
        f"{summary}\n\nPer run (medians above are over the warm runs):\n\n{runs}\n"
    )


def main() -> None:
    """Run and print the markdown."""
    print(render(eventloop.run(run())))


if __name__ == "__main__":
    main()
