"""Runtime health of the process itself: event-loop lag (how late timers fire) and RSS / CPU samples."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from collections import deque
from pathlib import Path

from asym.monitor.metrics import Metrics

_STATM = Path("/proc/self/statm")


def resident_memory_bytes() -> int | None:
    """Current resident set size (Linux /proc), else the peak RSS from getrusage, else None."""
    try:
        pages = int(_STATM.read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (OSError, ValueError):
        return None
    return int(peak) * 1024  # Linux reports KiB (macOS bytes; close enough for a fallback)


class ProcessSampler:
    """CPU share of one core used since the previous sample, and RSS."""

    def __init__(self) -> None:
        self._last_cpu = self._cpu()
        self._last_wall = time.monotonic()

    @staticmethod
    def _cpu() -> float:
        return time.process_time()  # user + system CPU of this process, all threads, fine-grained

    def sample(self) -> tuple[int | None, float | None]:
        """(rss_bytes, cpu_ratio); cpu_ratio is None on the first call within the same instant."""
        cpu, wall = self._cpu(), time.monotonic()
        d_wall = wall - self._last_wall
        ratio = (cpu - self._last_cpu) / d_wall if d_wall > 0 else None
        self._last_cpu, self._last_wall = cpu, wall
        return resident_memory_bytes(), ratio


class EventLoopLagMonitor:
    """An asyncio task that sleeps `interval_s` and records how much later than asked it woke up.

    A lag of tens of milliseconds means something is blocking the loop (sync I/O, heavy compute): every
    timeout, heartbeat and order in flight is late by as much. Also samples RSS/CPU every `process_every_s`.
    """

    def __init__(
        self,
        metrics: Metrics | None = None,
        *,
        interval_s: float = 0.25,
        window: int = 240,
        process_every_s: float = 5.0,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        self.metrics = metrics
        self.interval_s = interval_s
        self.process_every_s = process_every_s
        self.samples: deque[float] = deque(maxlen=window)
        self.sampler = ProcessSampler()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_s(self) -> float:
        """The latest lag sample (0 before the first)."""
        return self.samples[-1] if self.samples else 0.0

    @property
    def max_s(self) -> float:
        """The largest lag in the window."""
        return max(self.samples, default=0.0)

    def record(self, lag_s: float) -> None:
        """Keep one lag sample and export it."""
        lag = max(0.0, lag_s)
        self.samples.append(lag)
        if self.metrics is not None:
            self.metrics.observe_loop_lag(lag)
            self.metrics.set_loop_lag_max(self.max_s)

    def sample_process(self) -> None:
        """Export RSS and CPU once."""
        rss, cpu = self.sampler.sample()
        if self.metrics is not None:
            self.metrics.set_process(rss, cpu)

    async def run(self) -> None:
        """Measure until cancelled."""
        loop = asyncio.get_running_loop()
        next_process = loop.time()
        while True:
            start = loop.time()
            await asyncio.sleep(self.interval_s)
            now = loop.time()
            self.record(now - start - self.interval_s)
            if now >= next_process:
                self.sample_process()
                next_process = now + self.process_every_s

    def start(self) -> asyncio.Task[None]:
        """Start the measuring task in the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="asym-loop-lag")
        return self._task

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
