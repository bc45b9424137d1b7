"""The one concurrency primitive: a task group plus a fixed pool of workers.

Uploads, downloads, copies, batched deletes and bulk jobs all run through
:func:`run_bounded` (or :func:`run_stream` for async inputs), so concurrency
has one shape to read. The first failure cancels the rest and is re-raised
alone; a bug (not an ``S3FlowError``) still surfaces as an ExceptionGroup.
"""

from __future__ import annotations

from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from s3flow.errors import S3FlowError

if TYPE_CHECKING:
    from collections.abc import (
        AsyncIterable,
        AsyncIterator,
        Awaitable,
        Callable,
        Coroutine,
        Iterable,
    )
    from contextlib import AbstractAsyncContextManager

__all__ = ["AdaptiveLimit", "ByteBudget", "run_bounded", "run_stream"]

T = TypeVar("T")
R = TypeVar("R")


async def run_bounded(
    jobs: Iterable[T],
    worker: Callable[[T], Awaitable[R]],
    *,
    limit: int,
    gate: anyio.CapacityLimiter | None = None,
) -> list[R]:
    """Run ``worker(job)`` for every job, at most ``limit`` at a time; results in job order.

    ``gate``, when given, is also held around each job: an adaptive limiter
    shared by every transfer of a client lowers it under throttling.
    """
    results: dict[int, R] = {}
    pending = iter(enumerate(jobs))  # shared: each job is taken exactly once

    async def drain() -> None:
        for index, job in pending:
            async with _held(gate):
                results[index] = await worker(job)

    await _in_group(drain, limit)
    return [results[i] for i in range(len(results))]


async def run_stream(
    jobs: AsyncIterable[T],
    worker: Callable[[T], Awaitable[None]],
    *,
    limit: int,
    gate: anyio.CapacityLimiter | None = None,
) -> None:
    """Like :func:`run_bounded` for an async source, consumed as it comes.

    Holds at most ``limit`` jobs at once, so a listing of millions of keys
    never sits in memory. ``gate``, when given, is held around each job.
    """
    lock = anyio.Lock()  # async iterators may not be advanced concurrently
    iterator = aiter(jobs)

    async def drain() -> None:
        while True:
            async with lock:
                try:
                    job = await anext(iterator)
                except StopAsyncIteration:
                    return
            async with _held(gate):
                await worker(job)

    await _in_group(drain, limit)


def _held(gate: anyio.CapacityLimiter | None) -> AbstractAsyncContextManager[object]:
    return nullcontext() if gate is None else gate


async def _in_group(drain: Callable[[], Coroutine[Any, Any, None]], workers: int) -> None:
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(max(1, workers)):
                tg.start_soon(drain)
    except* S3FlowError as group:
        raise _first(group) from None


def _first(group: BaseExceptionGroup[S3FlowError]) -> S3FlowError:
    error = group.exceptions[0]
    return _first(error) if isinstance(error, BaseExceptionGroup) else error


class ByteBudget:
    """Caps the bytes of part buffers held at once by every transfer of one client.

    A request larger than the whole budget is let through alone, so a single
    huge part can never deadlock. Both ways in are ``async with`` blocks, so
    what is taken is always given back, on error and on cancellation too::

        async with budget.hold(nbytes):
            ...
        async with budget.buffer(part.size) as buffer:
            ...

    :meth:`buffer` also recycles part buffers: a fresh multi-MiB buffer costs a page fault per 4 KiB page
    (and glibc hands freed ones back to the kernel), which showed up as much
    system CPU as the copy itself.
    """

    def __init__(self, limit: int, *, pool_limit: int = 128 * 1024 * 1024) -> None:
        self.limit = limit
        self.in_use = 0
        self._freed: anyio.Event | None = None  # set by the next release, while someone waits
        self._pool: dict[int, list[bytearray]] = {}
        self._pooled = 0
        self._pool_limit = min(limit, pool_limit)

    @asynccontextmanager
    async def hold(self, nbytes: int) -> AsyncIterator[None]:
        """Count ``nbytes`` against the budget for the block (waits while it is spent)."""
        await self._acquire(nbytes)
        try:
            yield
        finally:
            self._release(nbytes)

    @asynccontextmanager
    async def buffer(self, size: int) -> AsyncIterator[bytearray]:
        """A buffer of exactly ``size`` bytes (contents undefined), counted for the block."""
        async with self.hold(size):
            free = self._pool.get(size)
            if free:
                self._pooled -= size
                buffer = free.pop()
            else:
                buffer = bytearray(size)
            try:
                yield buffer
            finally:
                # Kept for reuse while the pool has room.
                if self._pooled + size <= self._pool_limit:
                    self._pool.setdefault(size, []).append(buffer)
                    self._pooled += size

    async def _acquire(self, nbytes: int) -> None:
        # One event-loop thread: nothing runs between the check and the increment, so
        # no lock is needed (a lock cost more than a small file's own bytes).
        while self.in_use and self.in_use + nbytes > self.limit:
            if self._freed is None:
                self._freed = anyio.Event()
            await self._freed.wait()
        self.in_use += nbytes

    def _release(self, nbytes: int) -> None:
        # Never waits, so a cancelled task needs no shield to call it.
        self.in_use -= nbytes
        if self._freed is not None:
            self._freed.set()  # every waiter checks again
            self._freed = None


class AdaptiveLimit:
    """AIMD concurrency: halve on throttling (at most once per ``cooldown``), +1 per window of successes.

    Example::

        limit = AdaptiveLimit(maximum=32)
        await run_bounded(parts, send, limit=32, gate=limit.gate)
    """

    def __init__(
        self,
        maximum: int,
        *,
        minimum: int = 1,
        cooldown: float = 1.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.maximum, self.minimum, self.cooldown = maximum, minimum, cooldown
        self.gate = anyio.CapacityLimiter(maximum)
        self._clock = clock or anyio.current_time
        self._last_cut = float("-inf")
        self._successes = 0

    @property
    def current(self) -> int:
        return int(self.gate.total_tokens)

    def throttled(self) -> None:
        now = self._clock()
        if now - self._last_cut < self.cooldown:
            return  # one SlowDown burst hits many requests at once: cut once
        self._last_cut = now
        self._successes = 0
        self.gate.total_tokens = max(self.minimum, self.current // 2)

    def succeeded(self) -> None:
        if self.current >= self.maximum:
            return
        self._successes += 1
        if self._successes >= self.current:
            self._successes = 0
            self.gate.total_tokens = self.current + 1
