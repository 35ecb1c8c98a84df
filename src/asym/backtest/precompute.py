"""The data half of a backtest, ahead of the trading loop: EnhancedData per symbol and step.

Enhanced data is a function of the market data only (never of the account), so it is computed before the
trading loop, one series per symbol (`inputs.enhanced_series`: a year of hourly steps in about a quarter
of a second), optionally in worker processes, and cached on disk keyed by everything it depends on (the
exact data, the steps, the analytics config, the venue calibration and seed), so that the points of a
sweep and repeated runs reuse it. The trading loop is the same either way.

Processes pay off less than they used to: a worker's result must be decoded here (about half of what
computing it costs), and the venue's series built here are shared with the trading loop's venue
(`inputs.bar_series`). `auto_workers` weighs this; an explicit `workers` is obeyed.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
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
CANDLE_COST_S = 6e-6
"""Seconds of CPU per candle of a symbol's series (the venue's prices in ticks, candle arrays)."""
STEP_COST_S = 25e-6
"""Seconds of CPU per symbol-step of enhanced data."""
DECODE_COST_S = 12e-6
"""Seconds of CPU to decode one symbol-step a worker sent."""
POOL_COST_S = 0.3
"""Starting (forking) a pool and collecting from it."""
FINGERPRINTS_KEPT = 8
_FINGERPRINTS: OrderedDict[int, tuple[MarketData, str]] = OrderedDict()
_FINGERPRINT_LOCK = threading.Lock()


def fingerprint(data: MarketData) -> str:
    """`data.fingerprint()`, computed once per MarketData object (it is immutable; hashing every candle
    of a year of ten symbols takes a third of a second)."""
    with _FINGERPRINT_LOCK:
        hit = _FINGERPRINTS.get(id(data))
        if hit is not None and hit[0] is data:
            _FINGERPRINTS.move_to_end(id(data))
            return hit[1]
    fp = data.fingerprint()
    with _FINGERPRINT_LOCK:
        _FINGERPRINTS[id(data)] = (data, fp)
        if len(_FINGERPRINTS) > FINGERPRINTS_KEPT:
            _FINGERPRINTS.popitem(last=False)
    return fp


def auto_workers(data: MarketData, symbols: Sequence[str], n_steps: int) -> int:
    """Processes for the enhanced data of `symbols`: more than one only when the estimated wall time is
    shorter, counting the decoding of the workers' results here and the venue series the trading loop
    then builds again (in one process it reuses them)."""
    w = min(os.cpu_count() or 1, len(symbols))
    if w < 2:
        return 1
    candles = CANDLE_COST_S * sum(len(data[s].candles) for s in symbols)
    steps = n_steps * len(symbols)
    serial = candles + STEP_COST_S * steps
    # This process computes its share too; the others' results are decoded here and their venue series
    # built again by the trading loop.
    pooled = steps * (w - 1) / w
    parallel = serial / w + DECODE_COST_S * pooled + POOL_COST_S + candles * (w - 1) / w
    return w if parallel < serial else 1


def cache_key(
    fingerprint: str, symbol: str, steps: Sequence[int], calib_end_ms: int, config: AnalyticsConfig, seed: int
) -> str:
    """Identity of one symbol's enhanced series."""
    h = hashlib.sha256()
    for part in (fingerprint, symbol, len(steps), steps[0] if steps else 0, steps[-1] if steps else 0):
        h.update(f"{part}\x1f".encode())
    h.update(f"{calib_end_ms}\x1f{seed}\x1f{sorted(asdict(config).items())}".encode())
    return h.hexdigest()


_SHARED: list[MarketData] = []
"""The pool workers' data: set by the initializer (inherited, not pickled, when the pool forks)."""


def _hold(data: MarketData) -> None:
    _SHARED[:] = [data]


def _task(args: tuple[str, list[int], int, AnalyticsConfig, int]) -> bytes:
    symbol, steps, calib, config, seed = args
    return _encoder.encode(enhanced_series(_SHARED[0], symbol, steps, calib, config, seed))


def _pool(workers: int, data: MarketData) -> ProcessPoolExecutor:
    """Worker processes holding `data`: forked where the platform can (a year of ten symbols pickles in
    about 5 s of CPU: more than computing its enhanced data), else it is pickled once per worker."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork") if "fork" in methods else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_hold, initargs=(data,))


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
    """EnhancedData of every symbol at every step, computed by `workers` processes (this one and
    workers - 1 in a pool; None: `auto_workers`), cached in `cache_dir` when given. `progress(n)` is called
    with the number of symbol-steps done."""
    steps = list(steps)
    fp = fingerprint(data) if cache_dir is not None else ""
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
        workers = auto_workers(data, todo, len(steps))

    def here(sym: str) -> None:
        out[sym] = enhanced_series(data, sym, steps, calib_end_ms, configs[sym], seed, progress)
        _store(cache_dir, fp, sym, steps, calib_end_ms, configs[sym], seed, out[sym])

    def arrived(sym: str, blob: bytes) -> None:
        out[sym] = _decoder.decode(blob)
        _store(cache_dir, fp, sym, steps, calib_end_ms, configs[sym], seed, out[sym], blob)
        if progress is not None:
            progress(len(steps))

    with frozen_heap():
        if workers <= 1 or len(todo) <= 1:
            for sym in todo:
                here(sym)
        else:
            _share(workers, data, todo, lambda s: (s, steps, calib_end_ms, configs[s], seed), here, arrived)
    return {s: out[s] for s in data.names}


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Objects that exist now are left out of garbage collection for the block (`gc.freeze`): the
    collector then does not walk a year of candles again and again, and forked workers do not touch
    (so copy) the pages they inherit. Nothing else changes; a heap frozen by the caller is left as is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _share(
    workers: int,
    data: MarketData,
    todo: list[str],
    job: Callable[[str], tuple[str, list[int], int, AnalyticsConfig, int]],
    here: Callable[[str], None],
    arrived: Callable[[str, bytes], None],
) -> None:
    """Symbols over `workers` processes: this one and a pool of workers - 1. This process computes a
    symbol whenever the pool is busy (its results need no decoding, and its venue series are the ones
    the trading loop then uses), the pool takes symbols from the front, this process from the back."""
    pending = deque(todo)
    running: dict[Future[bytes], str] = {}
    with _pool(workers - 1, data) as pool:
        while pending or running:
            while pending and len(running) < workers - 1:
                sym = pending.popleft()
                running[pool.submit(_task, job(sym))] = sym
            if pending:
                here(pending.pop())
                done: Iterable[Future[bytes]] = [f for f in running if f.done()]
            else:
                done = wait(running, return_when=FIRST_COMPLETED).done
            for f in done:
                arrived(running.pop(f), f.result())


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


__all__ = ["Series", "auto_workers", "cache_key", "compute_all", "fingerprint", "frozen_heap"]
