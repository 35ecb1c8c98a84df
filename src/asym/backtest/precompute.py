"""The data half of a backtest, ahead of the trading loop: EnhancedData per symbol and step.

Enhanced data is a function of the market data only (never of the account), so it can be computed before
the trading loop, in parallel processes (one task per symbol), and cached on disk keyed by everything it
depends on (the exact data, the steps, the analytics config, the venue calibration and seed), so that the
points of a sweep and repeated runs reuse it. The trading loop is the same either way.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import msgspec

from asym.analytics import AnalyticsConfig
from asym.analytics.types import EnhancedData
from asym.backtest.data import MarketData
from asym.backtest.inputs import enhanced_series

Series = list[EnhancedData | None]
_encoder = msgspec.msgpack.Encoder(decimal_format="string")
_decoder = msgspec.msgpack.Decoder(list[EnhancedData | None])
PARALLEL_MIN_WORK = 20_000
"""Symbol-steps below which one process is faster than starting a pool."""


def cache_key(
    fingerprint: str, symbol: str, steps: Sequence[int], calib_end_ms: int, config: AnalyticsConfig, seed: int
) -> str:
    """Identity of one symbol's enhanced series."""
    h = hashlib.sha256()
    for part in (fingerprint, symbol, len(steps), steps[0] if steps else 0, steps[-1] if steps else 0):
        h.update(f"{part}\x1f".encode())
    h.update(f"{calib_end_ms}\x1f{seed}\x1f{sorted(asdict(config).items())}".encode())
    return h.hexdigest()


def _task(args: tuple[MarketData, str, list[int], int, AnalyticsConfig, int]) -> bytes:
    data, symbol, steps, calib, config, seed = args
    return _encoder.encode(enhanced_series(data, symbol, steps, calib, config, seed))


def compute_all(
    data: MarketData,
    steps: Sequence[int],
    calib_end_ms: int,
    configs: dict[str, AnalyticsConfig],
    *,
    seed: int = 7,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Series]:
    """EnhancedData of every symbol at every step; `workers` processes (None: automatic), cached in
    `cache_dir` when given. `progress(n)` is called with the number of symbol-steps done."""
    steps = list(steps)
    fp = data.fingerprint() if cache_dir is not None else ""
    out: dict[str, Series] = {}
    todo: list[str] = []
    for sym in data.names:
        if cache_dir is not None:
            f = cache_dir / f"{cache_key(fp, sym, steps, calib_end_ms, configs[sym], seed)}.msgpack"
            if f.is_file():
                try:
                    out[sym] = _decoder.decode(f.read_bytes())
                    if progress is not None:
                        progress(len(steps))
                    continue
                except (msgspec.DecodeError, OSError):
                    pass  # a torn cache file is recomputed
        todo.append(sym)
    if workers is None:
        cpus = os.cpu_count() or 1
        workers = min(cpus, len(todo)) if len(todo) * len(steps) >= PARALLEL_MIN_WORK else 1
    if workers <= 1 or len(todo) <= 1:
        for sym in todo:
            out[sym] = enhanced_series(data, sym, steps, calib_end_ms, configs[sym], seed, progress)
            _store(cache_dir, fp, sym, steps, calib_end_ms, configs[sym], seed, out[sym])
    else:
        jobs = [(MarketData({s: data[s]}), s, steps, calib_end_ms, configs[s], seed) for s in todo]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for sym, blob in zip(todo, pool.map(_task, jobs), strict=True):
                out[sym] = _decoder.decode(blob)
                _store(cache_dir, fp, sym, steps, calib_end_ms, configs[sym], seed, out[sym], blob)
                if progress is not None:
                    progress(len(steps))
    return {s: out[s] for s in data.names}


def _store(
    cache_dir: Path | None,
    fp: str,
    sym: str,
    steps: list[int],
    calib: int,
    config: AnalyticsConfig,
    seed: int,
    series: Series,
    blob: bytes | None = None,
) -> None:
    if cache_dir is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    f = cache_dir / f"{cache_key(fp, sym, steps, calib, config, seed)}.msgpack"
    tmp = f.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(blob if blob is not None else _encoder.encode(series))
    os.replace(tmp, f)


__all__ = ["PARALLEL_MIN_WORK", "Series", "cache_key", "compute_all"]
