"""Run a bulk job: list both sides lazily, diff, act with bounded concurrency.

Pipeline (memory is flat whatever the number of objects)::

    shard listings (src, dst) --diff--> bounded channel --> N workers (copy/delete/check)

Each shard is a key range listed and diffed on its own; shards run
concurrently, which is how a huge flat prefix is listed in parallel. One
object failing never stops the job: it is counted, reported, and written to
the failures file, which ``from_list`` takes back to retry just those keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from s3flow.bulk.actions import Endpoint, Mover
from s3flow.bulk.diff import (
    MODES,
    Check,
    CompareMode,
    Copy,
    Delete,
    Order,
    Skip,
    check_order,
    step,
)
from s3flow.bulk.filters import Filters
from s3flow.bulk.jobs import Job, Shard
from s3flow.bulk.manifest import DeleteSpool
from s3flow.bulk.sources import KeyRange, split_keyspace
from s3flow.config import TransferConfig
from s3flow.errors import ConfigError, LocalFileError
from s3flow.models import S3Location
from s3flow.progress import ProgressSink, ignore
from s3flow.scheduler import AdaptiveLimit, ByteBudget, run_bounded, run_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from anyio.streams.memory import MemoryObjectSendStream

    from s3flow.backend.protocol import S3Backend
    from s3flow.bulk.diff import Action, Entry

__all__ = ["SyncOptions", "SyncSummary", "copy_tree", "sync"]

Side = Path | S3Location


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOptions:
    """What a bulk job does. Example: ``SyncOptions(delete=True, compare="checksum")``.

    - ``compare``: ``size_mtime`` (default: copy when sizes differ or the
      source is newer), ``size_only``, ``checksum`` (content), ``always``.
    - ``delete``: remove destination objects the source does not have.
    - ``dry_run``: decide and report (ObjectDone events), change nothing.
    - ``filters``: include/exclude globs on relative keys (last rule wins).
    - ``concurrency``: objects in flight (parts per object: TransferConfig).
    - ``shards`` / ``spans``: split the keyspace into ranges listed and synced
      concurrently (``spans`` gives explicit ranges, e.g. a cluster shard).
    - ``from_list``: only the keys in this file (one per line).
    - ``failures_file``: write failed keys here, one per line.
    - ``manifest``: journal of settled keys and their sources' identity; a
      rerun skips those whose source is unchanged where the listings alone
      cannot tell (``compare="always"``, ``checksum``); failed keys are never
      recorded (:mod:`s3flow.bulk.manifest`).
    - ``server_side_copy``: S3 -> S3 by CopyObject; ``None``: when both
      sides use the same backend object.
    - ``order``: how the S3 side lists keys: ``s3`` (AWS) or ``path``
      (servers backed by a file tree, e.g. SeaweedFS); a wrong order is
      detected and fails the job before it can mis-diff.
    """

    compare: CompareMode = "size_mtime"
    delete: bool = False
    dry_run: bool = False
    filters: Filters = field(default_factory=Filters)
    concurrency: int = 32
    shards: int = 1
    spans: tuple[KeyRange, ...] | None = None
    from_list: Path | None = None
    failures_file: Path | None = None
    manifest: Path | None = None
    server_side_copy: bool | None = None
    order: Order = "s3"
    max_failed_keys: int = 1000
    delete_batch: int = 1000
    progress: ProgressSink = ignore

    def __post_init__(self) -> None:
        if self.compare not in MODES:
            raise ConfigError(f"compare must be one of {', '.join(MODES)}, got {self.compare!r}")
        if self.concurrency < 1 or self.shards < 1:
            raise ConfigError("concurrency and shards must be at least 1")
        if not 1 <= self.delete_batch <= 1000:
            raise ConfigError(f"delete_batch must be 1..1000, got {self.delete_batch}")
        if self.delete and self.compare == "always":
            raise ConfigError("delete needs a comparison; it cannot be used with compare='always'")
        if self.order == "path" and (self.shards > 1 or self.spans):
            raise ConfigError("shards need order='s3' (key ranges are whole-key ranges)")
        if self.delete and self.from_list is not None:
            raise ConfigError("delete cannot be combined with from_list")


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncSummary:
    """What a job did (with ``dry_run``: would do). ``failed_keys`` is bounded."""

    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    failed: int = 0
    failed_bytes: int = 0
    elapsed: float = 0.0
    failed_keys: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def merge(self, other: SyncSummary, *, max_failed_keys: int = 1000) -> SyncSummary:
        """Add two summaries (shards of one job); elapsed is the longer one."""
        return SyncSummary(
            copied=self.copied + other.copied,
            copied_bytes=self.copied_bytes + other.copied_bytes,
            skipped=self.skipped + other.skipped,
            skipped_bytes=self.skipped_bytes + other.skipped_bytes,
            deleted=self.deleted + other.deleted,
            deleted_bytes=self.deleted_bytes + other.deleted_bytes,
            failed=self.failed + other.failed,
            failed_bytes=self.failed_bytes + other.failed_bytes,
            elapsed=max(self.elapsed, other.elapsed),
            failed_keys=(self.failed_keys + other.failed_keys)[:max_failed_keys],
            dry_run=self.dry_run and other.dry_run,
        )


async def sync(
    src: Side,
    dst: Side,
    *,
    source_backend: S3Backend | None = None,
    dest_backend: S3Backend | None = None,
    config: TransferConfig | None = None,
    options: SyncOptions | None = None,
    budget: ByteBudget | None = None,
    limit: AdaptiveLimit | None = None,
) -> SyncSummary:
    """Make ``dst`` like ``src`` (a local directory or an ``S3Location`` prefix).

    Listings stream; per-object failures are collected, never raised. Raises
    ConfigError for a bad job, and listing errors (e.g. BucketNotFound).
    ``limit``: the adaptive limit on objects in flight (by default a new one
    whose maximum is ``options.concurrency``); pass one to share it between jobs.
    Example::

        summary = await sync(Path("photos"), S3Location("backup", "photos/"),
                             dest_backend=backend, options=SyncOptions(delete=True))
        print(summary.copied, summary.failed)
    """
    options = options or SyncOptions()
    config = config or TransferConfig()
    started = time.monotonic()
    source, dest = _endpoint(src, source_backend, "source"), _endpoint(dst, dest_backend, "dest")
    if source.is_local and dest.is_local:
        raise ConfigError("both sides are local; one of them must be an s3:// location")
    if isinstance(src, Path) and not await anyio.Path(src).is_dir():
        # An empty listing here would make --delete wipe the destination.
        raise LocalFileError(
            "source directory does not exist or is not a directory; nothing was changed",
            path=str(src),
        )
    server_side = options.server_side_copy
    if server_side is None:
        server_side = source_backend is not None and source_backend is dest_backend
    # Objects in flight, halved when the server answers SlowDown (per-object
    # backoff alone would keep every slot busy retrying) and grown back by one
    # per window of successes.
    if limit is None:
        limit = AdaptiveLimit(options.concurrency)
    mover = Mover(
        src=source,
        dst=dest,
        config=config,
        budget=budget or ByteBudget(config.memory_limit),
        progress=options.progress,
        server_side=server_side,
        limit=limit,
    )
    job = Job(mover=mover, options=options, started=started)
    await job.open(f"{src}", f"{dst}")
    spans = list(options.spans or split_keyspace(options.shards))
    send, receive = anyio.create_memory_object_stream[tuple[Shard, int, "Action"]](
        options.concurrency * 2
    )

    async def produce_all() -> None:
        async with send:
            await run_bounded(spans, lambda span: _produce(job, span, send), limit=len(spans))

    async def consume() -> None:
        async with receive:
            await run_stream(receive, job.run, limit=options.concurrency, gate=limit.gate)

    await run_bounded([produce_all, consume], lambda fn: fn(), limit=2)
    return await job.close()


async def copy_tree(
    src: Side,
    dst: Side,
    *,
    source_backend: S3Backend | None = None,
    dest_backend: S3Backend | None = None,
    config: TransferConfig | None = None,
    options: SyncOptions | None = None,
    budget: ByteBudget | None = None,
) -> SyncSummary:
    """``cp --recursive``: copy every source object, without listing the destination.

    Example: ``await copy_tree(S3Location("a", "x/"), Path("out"), source_backend=b)``.
    """
    options = options or SyncOptions()
    if options.compare != "always":
        from dataclasses import replace

        options = replace(options, compare="always")
    return await sync(
        src,
        dst,
        source_backend=source_backend,
        dest_backend=dest_backend,
        config=config,
        options=options,
        budget=budget,
    )


def _endpoint(side: Side, backend: S3Backend | None, name: str) -> Endpoint:
    if isinstance(side, Path):
        return Endpoint(side)
    if backend is None:
        raise ConfigError(f"{side} is an S3 location but no {name}_backend was given")
    key = side.key if not side.key or side.key.endswith("/") else side.key + "/"
    return Endpoint(S3Location(side.bucket, key), backend)


async def _produce(
    job: Job, span: KeyRange, send: MemoryObjectSendStream[tuple[Shard, int, Action]]
) -> None:
    """Diff one shard and queue its actions; skips are settled here.

    The merge is :func:`s3flow.bulk.diff.diff`'s (same :func:`step`), over
    pages, so only page boundaries wait.
    """
    shard = job.shard(span)
    pages = job.listings(shard, span)
    order = job.options.order
    src, dst = _Cursor(pages[0], "source", order), _Cursor(pages[1], "destination", order)
    await src.fill()
    await dst.fill()
    deferred = job.options.delete and not job.options.dry_run
    spool = await DeleteSpool.open() if deferred else None
    try:
        await _merge(job, shard, src, dst, send, spool)
        if spool is not None:  # the listings were in order to the end: deleting is safe
            async for batch in spool.drain():
                for entry in batch:
                    await send.send((shard, job.track(shard, entry.key), Delete(entry)))
    finally:
        if spool is not None:
            spool.close()
    shard.listed = True


async def _merge(
    job: Job,
    shard: Shard,
    src: _Cursor,
    dst: _Cursor,
    send: MemoryObjectSendStream[tuple[Shard, int, Action]],
    spool: DeleteSpool | None,
) -> None:
    mode, delete, done, order = job.options.compare, job.options.delete, job.done, src.order
    while src.head is not None or dst.head is not None:
        action, take_src, take_dst = step(src.head, dst.head, mode=mode, delete=delete, order=order)
        if action is not None:
            # The manifest only spares work the listings cannot settle: a copy with
            # nothing to compare with, a content check. What the diff sees as new or
            # changed is copied whatever an earlier run recorded.
            if done is not None and _unsettled(action, mode) and done.covers(action.entry):
                job.skip(action.entry, "manifest")
            elif isinstance(action, Skip):
                job.skip(action.entry, "unchanged")
                await job.finished(shard, job.track(shard, action.entry.key))
            elif isinstance(action, Delete) and spool is not None:
                await spool.add(action.entry)
            else:
                await send.send((shard, job.track(shard, action.entry.key), action))
        if take_src and not src.advance():
            await src.fill()
        if take_dst and not dst.advance():
            await dst.fill()


def _unsettled(action: Action, mode: CompareMode) -> bool:
    """Whether the listings leave ``action`` to be settled by the manifest: a copy in
    ``always`` mode (the destination is not listed), a content check."""
    return isinstance(action, Check) or (mode == "always" and isinstance(action, Copy))


class _Cursor:
    """The head of a paged listing; checks S3 order as it goes."""

    def __init__(self, pages: AsyncIterator[list[Entry]], side: str, order: Order) -> None:
        self.pages, self.side, self.order = pages, side, order
        self.page: list[Entry] = []
        self.index = 0
        self.head: Entry | None = None

    def advance(self) -> bool:
        """Move to the next entry of this page; False when the page is used up."""
        self.index += 1
        if self.index >= len(self.page):
            return False
        previous, self.head = self.head, self.page[self.index]
        check_order(previous, self.head, self.side, self.order)
        return True

    async def fill(self) -> None:
        previous = self.head
        self.page, self.index = await anext(self.pages, []), 0
        self.head = self.page[0] if self.page else None
        check_order(previous, self.head, self.side, self.order)
