"""The writer thread: every write to the database happens here, off the event loop.

Two ways in:
* awaited jobs (`await writer.write(items)`, `await writer.call(fn)`): run in order, each write in one
  transaction; the awaiting coroutine resumes once it is committed (or with the error);
* fire-and-forget rows (`writer.submit(items)`): buffered and committed in batches when `batch_rows`
  are pending or the oldest is `flush_interval_s` old. Rows that cannot be stored exactly are set aside
  in the dead-letter file (JSON lines) with the reason; a batch the database refuses is retried with
  backoff and, after `max_flush_retries` failures, dead-lettered too. Nothing is dropped silently.
Buffered rows are always flushed before the next awaited job, so a job sees everything submitted before it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from asym.logging import get_logger
from asym.store.config import StoreConfig
from asym.store.db import Database, Rejected, WriteItem, WriteResult

T = TypeVar("T")
_log = get_logger("store.writer")
_json = msgspec.json.Encoder(enc_hook=repr)


@dataclass(slots=True)
class WriterStats:
    """Counters of the writer (read them from any thread; they are only written by the writer)."""

    batches_committed: int = 0
    rows_changed: int = 0
    rows_submitted: int = 0
    rows_pending: int = 0
    rows_deadlettered: int = 0
    flush_failures: int = 0
    last_error: str | None = None


class Writer:
    """Owns the `Database` and the thread that writes to it."""

    def __init__(self, db: Database, config: StoreConfig) -> None:
        self.db = db
        self.config = config
        self.stats = WriterStats()
        self._q: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._pending: list[WriteItem] = []
        self._first_at = 0.0
        self._retry_at = 0.0
        self._failures = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="asym-store-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------- called from the event loop

    def submit(self, items: Sequence[WriteItem]) -> None:
        """Queue rows for the next batch; returns at once (raises RuntimeError once the store is closed)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        rows = sum(len(i.objs) for i in items)
        if rows:
            self.stats.rows_submitted += rows
            self._q.put(("submit", list(items), rows))

    async def call(self, fn: Callable[[Database], T]) -> T:
        """Run `fn(db)` on the writer thread (after the pending batch) and return its result."""
        if self._closed:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._q.put(("job", fn, fut, loop))
        return await fut

    async def write(self, items: Sequence[WriteItem]) -> WriteResult:
        """Write the items in one transaction; returns once committed (DataError/StoreError otherwise)."""
        return await self.call(lambda db: db.write(items))

    async def close(self) -> None:
        """Flush what is pending, checkpoint, close the database and stop the thread."""
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._q.put(("stop", None, fut, loop))
        self._closed = True
        await fut
        await asyncio.to_thread(self._thread.join)

    # ------------------------------------------------------------- the writer thread

    def _run(self) -> None:
        while True:
            try:
                msg = self._q.get(timeout=self._timeout())
            except queue.Empty:
                self._flush()
                continue
            kind = msg[0]
            if kind == "submit":
                if not self._pending:
                    self._first_at = time.monotonic()
                self._pending.extend(msg[1])
                self.stats.rows_pending += msg[2]
                if self.stats.rows_pending >= self.config.batch_rows:
                    self._flush()
                continue
            self._flush(force=True)
            _, fn, fut, loop = msg
            if kind == "stop":
                if self._pending:  # the database refuses them: keep them in the dead-letter file
                    self._deadletter_batch("store closing with an unwritable batch")
                try:
                    self.db.close()
                finally:
                    _resolve(loop, fut, None, None)
                return
            try:
                _resolve(loop, fut, fn(self.db), None)
            except Exception as e:
                _resolve(loop, fut, None, e)

    def _timeout(self) -> float | None:
        if not self._pending:
            return None
        due = max(self._first_at + self.config.flush_interval_s, self._retry_at)
        return max(0.0, due - time.monotonic())

    def _flush(self, force: bool = False) -> None:
        if not self._pending or (not force and time.monotonic() < self._retry_at):
            return
        try:
            result = self.db.write(self._pending, lenient=True)
        except Exception as e:
            self._failures += 1
            self.stats.flush_failures += 1
            self.stats.last_error = str(e)
            _log.error(
                "store_flush_failed", error=str(e), attempt=self._failures, rows=self.stats.rows_pending
            )
            if self._failures >= self.config.max_flush_retries:
                self._deadletter_batch(f"database refused the batch {self._failures} times: {e}")
            else:
                self._retry_at = time.monotonic() + min(
                    30.0, self.config.flush_interval_s * 2**self._failures
                )
            return
        self.stats.batches_committed += 1
        self.stats.rows_changed += result.total
        if result.rejected:
            self._deadletter(result.rejected)
        self._reset()

    def _reset(self) -> None:
        self._pending = []
        self.stats.rows_pending = 0
        self._failures = 0
        self._retry_at = 0.0

    def _deadletter_batch(self, reason: str) -> None:
        rejected = [Rejected(i.spec.name, None, o, reason) for i in self._pending for o in i.objs]
        self._deadletter(rejected)
        self._reset()

    def _deadletter(self, rejected: list[Rejected]) -> None:
        self.stats.rows_deadlettered += len(rejected)
        path = self.config.deadletter()
        _log.error(
            "store_rows_deadlettered", rows=len(rejected), file=str(path), first_reason=rejected[0].reason
        )
        if path is None:
            return
        try:
            with path.open("ab") as fh:
                for r in rejected:
                    rec = {"table": r.table, "reason": r.reason, "row": r.row, "object": r.obj}
                    fh.write(_json.encode(rec) + b"\n")
        except OSError as e:
            _log.error("store_deadletter_failed", error=str(e), file=str(path))


def _resolve(
    loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any], result: Any, exc: BaseException | None
) -> None:
    def done() -> None:
        if fut.done():
            return  # the awaiting task was cancelled; the write itself has happened (or failed) regardless
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    try:
        loop.call_soon_threadsafe(done)
    except RuntimeError:
        pass  # the event loop is gone; nobody is waiting any more


__all__ = ["Writer", "WriterStats"]
