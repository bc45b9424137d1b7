"""One worker thread for many quick blocking calls, settled in batches.

A hop through a thread pool wakes a worker, then wakes the event loop through
its self-pipe, and hands the GIL over each way: for a 4 KiB file that is more
CPU than the file's own open, write and rename. A bulk download of 10,000
4 KiB files took 4.9-5.3 s through the pool and 3.5-3.9 s through a lane
(3 interleaved runs each; README, "What made it faster"). The lane runs
queued calls back to back on one thread and settles their futures with one
loop callback per batch, so while it is busy a call costs no wake-up at all.

Only for calls that take microseconds: one slow call delays every call queued
behind it. Large writes and hashes go to :func:`s3flow.localfs.run_io`'s pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import threading
from typing import TYPE_CHECKING, TypeVar

import anyio

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["run_in_lane", "wait_done"]

T = TypeVar("T")

_Job = tuple[
    asyncio.AbstractEventLoop,
    "asyncio.Future[object]",
    contextvars.Context,
    "Callable[..., object]",
    tuple[object, ...],
]
_Outcome = tuple["asyncio.Future[object]", object, BaseException | None]


class _Lane:
    """The thread and its queue; one per process (see :func:`_lane`)."""

    def __init__(self) -> None:
        self._jobs: list[_Job] = []
        self._ready = threading.Condition()
        self._idle = False
        self.pid = os.getpid()
        threading.Thread(target=self._serve, name="s3flow-lane", daemon=True).start()

    def submit(self, fn: Callable[..., T], args: tuple[object, ...]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = (loop, future, contextvars.copy_context(), fn, args)
        with self._ready:
            self._jobs.append(job)  # type: ignore[arg-type]
            if self._idle:
                self._ready.notify()
        return future

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._jobs:
                    self._idle = True
                    self._ready.wait()
                    self._idle = False
                batch, self._jobs = self._jobs, []
            settled: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            for loop, future, context, fn, args in batch:
                try:
                    outcome: _Outcome = (future, context.run(fn, *args), None)
                except BaseException as error:  # handed to the caller, never lost
                    outcome = (future, None, _settleable(error))
                settled.setdefault(loop, []).append(outcome)
            for loop, outcomes in settled.items():
                # A closed loop raises RuntimeError: nobody waits for these any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, outcomes)


def _settleable(error: BaseException) -> BaseException:
    """``error``, or what stands for it where an asyncio future refuses it.

    ``Future.set_exception`` raises TypeError for a StopIteration: raised in
    :func:`_settle`, it would leave that caller, and every one after it in the
    batch, waiting for ever (and a cancelled caller waits for its call).
    """
    if not isinstance(error, StopIteration):
        return error
    wrapped = RuntimeError(f"a call on the lane raised StopIteration: {error!r}")
    wrapped.__cause__ = error
    return wrapped


def _settle(outcomes: list[_Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


_LANE: _Lane | None = None
_LANE_LOCK = threading.Lock()


def _lane() -> _Lane:
    """The process's lane (a forked child starts its own: threads do not survive a fork)."""
    global _LANE
    lane = _LANE
    if lane is None or lane.pid != os.getpid():
        with _LANE_LOCK:
            if _LANE is None or _LANE.pid != os.getpid():
                _LANE = _Lane()
            lane = _LANE
    return lane


async def run_in_lane(fn: Callable[..., T], *args: object) -> T:
    """Run blocking ``fn(*args)`` on the lane's thread and return its result.

    As with ``anyio.to_thread.run_sync``, a cancelled caller still waits for the
    call to finish (the thread cannot be stopped while it touches the caller's
    files), then sees the cancellation.

    >>> import anyio, os
    >>> anyio.run(run_in_lane, os.path.basename, "/a/b.txt")
    'b.txt'
    """
    return await wait_done(_lane().submit(fn, args))


async def wait_done(future: asyncio.Future[T]) -> T:
    """The result of a call running on another thread.

    A cancelled caller still waits for the call to finish (the thread cannot be
    stopped, and the caller must not move on, e.g. unlink a temp file, while it
    still touches the caller's files), then sees the cancellation.
    """
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with anyio.CancelScope(shield=True):
            await asyncio.wait((future,))
        raise
