"""What every transfer shares: its context (backend, config, hooks) and retry wrapper."""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import anyio

from s3flow.errors import S3FlowError, SlowDown, UploadNotFound
from s3flow.models import TransferResult
from s3flow.progress import PartRetried, ProgressSink, ignore
from s3flow.retry import Sleep, with_retries
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from contextlib import AbstractAsyncContextManager

    from s3flow.backend.protocol import S3Backend
    from s3flow.config import TransferConfig
    from s3flow.scheduler import AdaptiveLimit, ByteBudget

__all__ = ["ABORT_TIMEOUT", "Transfer", "shielded"]

R = TypeVar("R")
T = TypeVar("T")

ABORT_TIMEOUT = 30.0
_RNG = random.Random()


@dataclass(kw_only=True)
class Transfer:
    """One transfer's collaborators, plus its retry counter.

    ``sleep``/``rng`` are injected so tests of backoff never wait.
    """

    backend: S3Backend
    config: TransferConfig
    bucket: str
    key: str
    progress: ProgressSink = ignore
    budget: ByteBudget | None = None
    limit: AdaptiveLimit | None = None
    # Also told of throttling and successes, but never gates this transfer's
    # parts: a bulk job's limit on objects in flight (gating both on one
    # limiter would deadlock once objects hold every token).
    feedback: AdaptiveLimit | None = None
    sleep: Sleep = anyio.sleep
    # One shared generator: seeding a new Random per transfer costs 0.2 ms of urandom.
    rng: random.Random = field(default_factory=lambda: _RNG)
    endpoint: str = ""
    retries: int = 0
    started: float = field(default_factory=time.monotonic)

    async def retrying(
        self, what: str, attempt: Callable[[], Awaitable[R]], part_number: int | None = None
    ) -> R:
        """Run ``attempt`` under this part's own retry budget."""

        def on_retry(n: int, error: S3FlowError) -> None:
            self.retries += 1
            if isinstance(error, SlowDown):
                if self.limit is not None:
                    self.limit.throttled()
                if self.feedback is not None:
                    self.feedback.throttled()
            self.progress(PartRetried(self.key, part_number or 0, n, str(error)))

        result = await with_retries(
            attempt,
            self.config.retry,
            what=what,
            bucket=self.bucket,
            key=self.key,
            part_number=part_number,
            on_retry=on_retry,
            sleep=self.sleep,
            rng=self.rng,
        )
        if self.limit is not None:
            self.limit.succeeded()
        if self.feedback is not None:
            self.feedback.succeeded()
        return result

    async def map(self, jobs: Iterable[T], worker: Callable[[T], Awaitable[R]]) -> list[R]:
        """Run ``worker`` over ``jobs`` at this transfer's concurrency, under the client's limit."""
        gate = self.limit.gate if self.limit is not None else None
        return await run_bounded(jobs, worker, limit=self.config.max_concurrency, gate=gate)

    def buffer(self, size: int) -> AbstractAsyncContextManager[bytearray]:
        """``async with t.buffer(n) as buffer:`` a part buffer from the client's pool, for the block."""
        return (
            self.budget.buffer(size)
            if self.budget is not None
            else contextlib.nullcontext(bytearray(size))
        )

    def result(
        self,
        *,
        size: int,
        parts: int,
        etag: str,
        checksum: str | None = None,
        resumed_parts: int = 0,
    ) -> TransferResult:
        """What this transfer did, timed from its start."""
        return TransferResult(
            bucket=self.bucket,
            key=self.key,
            size=size,
            parts=parts,
            retries=self.retries,
            elapsed=time.monotonic() - self.started,
            etag=etag,
            checksum=checksum,
            resumed_parts=resumed_parts,
        )

    def hold(self, nbytes: int) -> AbstractAsyncContextManager[object]:
        """``async with t.hold(n):`` counts ``n`` bytes against the client's memory budget."""
        return self.budget.hold(nbytes) if self.budget is not None else contextlib.nullcontext()


async def shielded(cleanup: Callable[[], Awaitable[object]]) -> bool:
    """Run ``cleanup`` even while cancelled, bounded in time; never raise from it.

    Without the shield an abort request would be cancelled before it is sent.
    Returns whether it finished: a caller keeps what a failed cleanup would
    need to be retried later (an upload's journal).
    """
    with anyio.move_on_after(ABORT_TIMEOUT, shield=True):
        # The original failure matters more; the cleanup is best effort.
        try:
            await cleanup()
        except UploadNotFound:
            return True  # already gone (completed or aborted): nothing is left to clean
        except S3FlowError:
            return False
        return True
    return False
