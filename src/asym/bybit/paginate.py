"""Cursor pagination as async iterators: follow `nextPageCursor` until it is empty (Bybit's end marker)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from asym.errors import DataError

T = TypeVar("T")

PageFetcher = Callable[[str], Awaitable[tuple[Sequence[T], str]]]
"""Given a cursor ("" for the first page), return (items, next cursor)."""


async def iter_pages(fetch: PageFetcher[T], *, max_pages: int = 1000) -> AsyncIterator[Sequence[T]]:
    """Yield pages until the cursor is empty, a page is empty, or `max_pages` were read.

    A cursor that repeats would loop forever: DataError instead (a broken venue must not hang us).
    """
    cursor = ""
    seen: set[str] = set()
    for _ in range(max_pages):
        items, nxt = await fetch(cursor)
        if items:
            yield items
        if not nxt or not items:
            return
        if nxt in seen:
            raise DataError(f"pagination cursor repeated: {nxt[:60]!r}")
        seen.add(nxt)
        cursor = nxt


async def iter_items(fetch: PageFetcher[T], *, max_pages: int = 1000) -> AsyncIterator[T]:
    """Yield the items of every page in order."""
    async for page in iter_pages(fetch, max_pages=max_pages):
        for item in page:
            yield item


async def collect(fetch: PageFetcher[T], *, limit: int | None = None, max_pages: int = 1000) -> list[T]:
    """All items (or the first `limit`) of a paged endpoint."""
    out: list[T] = []
    async for page in iter_pages(fetch, max_pages=max_pages):
        out.extend(page)
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out
