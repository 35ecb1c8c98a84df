"""Public trades along a minute's path: when they happen, their size, their taker side, their tick direction.

Trades always include the open, the high, the low and the close of the path (when the minute has at
least four trades), so a candle built from the trades is the candle of the path; sizes are integers in
qty steps that add up exactly to the minute's volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asym.sim.market.seeding import mix64

STEP_MS = 100
STEPS_PER_MINUTE = 600
MAX_TRADES_PER_MINUTE = 900

TICK_DIRECTIONS = ("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick")
"""Codes 0..3 of MinuteTrades.tick_dir."""


@dataclass(slots=True)
class MinuteTrades:
    """The trades of one minute in time order (parallel arrays)."""

    ts: np.ndarray
    price: np.ndarray
    size: np.ndarray
    buy: np.ndarray
    """True when the taker bought."""
    tick_dir: np.ndarray
    """Index into TICK_DIRECTIONS."""
    number: np.ndarray
    """Per-symbol running trade number (for ids and sequence numbers)."""


def split_volume(total: int, n: int, rng: np.random.Generator, sd: float = 1.1) -> np.ndarray:
    """`n` positive integers summing to `total` (total >= n), lognormally uneven like real trade sizes."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if total < n:
        raise ValueError("cannot split a volume into more trades than steps")
    w = np.exp(sd * rng.standard_normal(n))
    # Every trade gets one step; the rest is dealt out multinomially by the lognormal weights.
    return rng.multinomial(total - n, w / w.sum()) + 1


def trade_count(
    volume_steps: int, step_value: float, avg_trade_value: float, rng: np.random.Generator
) -> int:
    """How many trades carry a minute's volume: volume value / mean trade value, with noise, capped."""
    if volume_steps <= 0:
        return 0
    expected = volume_steps * step_value / max(avg_trade_value, 1e-9)
    n = int(rng.poisson(max(expected, 1.0)))
    return int(max(1, min(n, MAX_TRADES_PER_MINUTE, volume_steps)))


def make_trades(
    *,
    minute_ms: int,
    path: np.ndarray,
    volume_steps: int,
    n_trades: int,
    first_number: int,
    prev_price: int,
    prev_dir: int,
    up: np.ndarray,
    rng: np.random.Generator,
) -> MinuteTrades:
    """Trades of one minute along `path` (one point per 100 ms). `prev_price`/`prev_dir` carry the tick
    direction across minutes (prev_dir: 0 PlusTick family, 2 MinusTick family); `up[i]` says whether the
    price sits on the ask at step i (after an up-move), which makes the taker a buyer."""
    n = min(n_trades, volume_steps)
    if n <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return MinuteTrades(empty, empty, empty, np.zeros(0, dtype=bool), empty, empty)
    steps = path.size
    must = [0, int(np.argmax(path)), int(np.argmin(path)), steps - 1] if n >= 4 else []
    extra = n - len(must)
    if extra > 0:
        # More trades where the price moves: activity ~ |move| + a floor.
        move = np.empty(steps, dtype=np.float64)
        move[0] = 0.0
        np.abs(path[1:] - path[:-1], out=move[1:], casting="unsafe")
        cdf = np.cumsum(move + (float(move.sum()) / steps * 0.7 + 1e-9))
        picks = np.searchsorted(cdf, rng.random(extra) * cdf[-1], side="right")
        np.minimum(picks, steps - 1, out=picks)
        idx = np.sort(np.concatenate((np.asarray(must, dtype=np.int64), picks)))
    else:
        idx = np.sort(rng.choice(steps, size=n, replace=False)) if not must else np.sort(np.asarray(must))
    offs = rng.integers(0, STEP_MS, size=idx.size)
    # The open trade comes within 5 ms of the minute start.
    offs[: int(np.count_nonzero(idx == 0))] %= 6
    ts = np.sort(minute_ms + idx * STEP_MS + offs)
    idx = (ts - minute_ms) // STEP_MS
    price = path[idx]
    size = split_volume(volume_steps, idx.size, rng)
    # The taker side follows the side of the book the price sits on (consistent with the book).
    buy = up[idx]
    # Tick direction against the previous trade.
    prev = np.concatenate(([prev_price], price[:-1]))
    step = np.sign(price - prev)
    last_nonzero = _ffill_sign(step, 1 if prev_dir == 0 else -1)
    tick_dir = np.where(step > 0, 0, np.where(step < 0, 2, np.where(last_nonzero > 0, 1, 3))).astype(np.int64)
    number = first_number + np.arange(idx.size, dtype=np.int64)
    return MinuteTrades(ts=ts, price=price, size=size, buy=buy, tick_dir=tick_dir, number=number)


def _ffill_sign(step: np.ndarray, initial: int) -> np.ndarray:
    """The last non-zero sign up to each position (initial before any)."""
    pos = np.where(step != 0, np.arange(step.size), -1)
    np.maximum.accumulate(pos, out=pos)
    return np.where(pos >= 0, step[np.maximum(pos, 0)], initial)


_M48 = (1 << 48) - 1
_P48 = np.uint64(0x5DEECE66D1)


def _mix(x: int) -> int:
    m = (1 << 64) - 1
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


def trade_ids(symbol_key: int, numbers: np.ndarray) -> list[str]:
    """UUID-shaped, deterministic trade ids, unique per symbol: the last 48 bits are a bijection of the
    trade number (odd multiplier and xor-shift modulo 2**48); the rest is hashed from number and symbol."""
    s = _mix(symbol_key)
    if numbers.size <= 16:
        # Small batches (the common case per advance call): plain integers beat numpy's overhead.
        xs = [n ^ s for n in numbers.tolist()]
        r = [_mix(x) for x in xs]
        ys = [((x & _M48) * 0x5DEECE66D1) & _M48 for x in xs]
        last = [y ^ (y >> 24) for y in ys]
    else:
        x = numbers.astype(np.uint64) ^ np.uint64(s)
        r = mix64(x).tolist()
        y = (x & np.uint64(_M48)) * _P48 & np.uint64(_M48)
        last = (y ^ (y >> np.uint64(24))).tolist()
    return [
        f"{v >> 32:08x}-{(v >> 16) & 0xFFFF:04x}-5{(v >> 4) & 0xFFF:03x}-"
        f"{8 | (v & 3):x}{(v >> 52) & 0xFFF:03x}-{w:012x}"
        for v, w in zip(r, last, strict=True)
    ]


def trade_id(symbol_key: int, number: int) -> str:
    """The id of one trade (see trade_ids)."""
    return trade_ids(symbol_key, np.array([number], dtype=np.int64))[0]
