"""What every transfer shares: its context (backend, config, hooks) and retry wrapper."""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import anyio

from s3flow.errors import S3FlowError, SlowDown, UploadNotFound
from s3flow.progress import PartRetried, ProgressSink, ignore
from s3flow.retry import Sleep, with_retries
from s3flow.scheduler import run_bounded

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from contextlib import AbstractAsyncContextManager

    from s3flow.backend.protocol import S3Backend
    from s3flow.config import TransferConfig
    from s3flow.models import ObjectOptions
    from s3flow.scheduler import AdaptiveLimit, ByteBudget

__all__ = ["Transfer", "create_upload", "shielded"]

R = TypeVar("R")
T = TypeVar("T")

ABORT_TIMEOUT = 30.0
_RNG = random.Random()
CLOCK_SKEW = 60.0  # seconds we allow between our clock and the server's


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

    def hold(self, nbytes: int) -> AbstractAsyncContextManager[object]:
        """``async with t.hold(n):`` counts ``n`` bytes against the client's memory budget."""
        return self.budget.hold(nbytes) if self.budget is not None else contextlib.nullcontext()


async def create_upload(
    t: Transfer, *, options: ObjectOptions | None, checksum_algorithm: str | None
) -> str:
    """CreateMultipartUpload, shielded, and never leaving a twin behind.

    Shielded: a cancel that lands while the request is in flight would leave an
    upload on the server whose id we never learned. And when an attempt fails
    after the server acted (reply lost to a reset or a stall), the retry makes
    a second upload: we then abort this key's other uploads started within
    that window, which can only be our lost attempts (or a concurrent writer
    of the very same key, whose write would race ours anyway).
    """
    attempts = 0
    started = time.time()

    async def attempt() -> str:
        nonlocal attempts
        attempts += 1
        return await t.backend.create_multipart_upload(
            t.bucket, t.key, options=options, checksum_algorithm=checksum_algorithm
        )

    with anyio.fail_after(ABORT_TIMEOUT, shield=True):
        upload_id = await t.retrying("CreateMultipartUpload", attempt)
        if attempts > 1:
            await _abort_lost_twins(t, upload_id, since=started - CLOCK_SKEW)
    return upload_id


async def _abort_lost_twins(t: Transfer, upload_id: str, *, since: float) -> None:
    token: tuple[str, str] | None = None
    while True:
        uploads, token = await t.backend.list_uploads_page(t.bucket, prefix=t.key, token=token)
        for upload in uploads:
            if upload.key != t.key or upload.upload_id == upload_id:
                continue
            if upload.initiated is not None and upload.initiated.timestamp() >= since:
                await shielded(
                    partial(t.backend.abort_multipart_upload, t.bucket, t.key, upload.upload_id)
                )
        if token is None:
            return


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
