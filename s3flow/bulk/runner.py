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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

import anyio

from s3flow.bulk.actions import Endpoint, Mover
from s3flow.bulk.diff import (
    Check,
    CompareMode,
    Copy,
    Delete,
    Entry,
    Order,
    Skip,
    before,
    check_order,
    step,
)
from s3flow.bulk.jobs import Job, Shard
from s3flow.bulk.manifest import DeleteSpool
from s3flow.bulk.options import SyncOptions, SyncSummary, copy_all, order_free
from s3flow.bulk.sources import KeyRange, split_keyspace
from s3flow.config import TransferConfig
from s3flow.errors import ConfigError, LocalFileError
from s3flow.models import S3Location
from s3flow.progress import ListingDone, ObjectQueued
from s3flow.scheduler import AdaptiveLimit, ByteBudget, run_bounded, run_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from anyio.streams.memory import MemoryObjectSendStream

    from s3flow.backend.protocol import S3Backend
    from s3flow.bulk.diff import Action

__all__ = ["SyncOptions", "SyncSummary", "copy_tree", "sync"]

Side = Path | S3Location


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
    source, dest = await _endpoints(src, dst, source_backend, dest_backend)
    server_side = options.server_side_copy
    if server_side is None:
        server_side = source_backend is not None and source_backend is dest_backend
    # Objects in flight, halved when the server answers SlowDown (per-object
    # backoff alone would keep every slot busy retrying) and grown back by one
    # per window of successes.
    if limit is None:
        limit = AdaptiveLimit(options.concurrency)
    mover_config, group_commit = _commit_plan(config, dest, options)
    mover = Mover(
        src=source,
        dst=dest,
        config=mover_config,
        budget=budget or ByteBudget(config.memory_limit),
        progress=options.progress,
        server_side=server_side,
        limit=limit,
        options=options.object_options,
        guess_content_type=options.guess_content_type,
    )
    job = Job(mover=mover, options=options, started=started, group_commit=group_commit)
    await job.open(f"{src}", f"{dst}")
    spans = list(options.spans or split_keyspace(options.shards))
    send, receive = anyio.create_memory_object_stream[tuple[Shard, int, "Action"]](
        options.concurrency * 2
    )

    async def produce_all() -> None:
        async with send:
            await run_bounded(spans, lambda span: _produce(job, span, send), limit=len(spans))
        options.progress(ListingDone())

    async def consume() -> None:
        async with receive:
            await run_stream(receive, job.run, limit=options.concurrency, gate=limit.gate)

    await run_bounded([produce_all, consume], lambda fn: fn(), limit=2)
    return await job.close()


def _commit_plan(
    config: TransferConfig, dest: Endpoint, options: SyncOptions
) -> tuple[TransferConfig, bool]:
    """The transfers' config, and whether the job makes its files durable in group
    commits: ``fsync`` into a local tree is one syncfs per sweep of files, not an
    fsync each (:class:`s3flow.bulk.jobs.Job`)."""
    if config.fsync and dest.is_local and not options.dry_run:
        return replace(config, fsync=False), True
    return config, False


class JobArgs(TypedDict, total=False):
    """What :func:`copy_tree` passes on to :func:`sync` as given."""

    source_backend: S3Backend | None
    dest_backend: S3Backend | None
    config: TransferConfig | None
    budget: ByteBudget | None
    limit: AdaptiveLimit | None


async def copy_tree(
    src: Side, dst: Side, *, options: SyncOptions | None = None, **job: Unpack[JobArgs]
) -> SyncSummary:
    """``cp --recursive``: copy every source object, without listing the destination.

    Takes :func:`sync`'s arguments. Example:
    ``await copy_tree(S3Location("a", "x/"), Path("out"), source_backend=b)``.
    """
    return await sync(src, dst, options=copy_all(options), **job)


async def _endpoints(
    src: Side, dst: Side, source_backend: S3Backend | None, dest_backend: S3Backend | None
) -> tuple[Endpoint, Endpoint]:
    """Both sides of a job, checked: one of them remote, a local source a directory."""
    source, dest = _endpoint(src, source_backend, "source"), _endpoint(dst, dest_backend, "dest")
    if source.is_local and dest.is_local:
        raise ConfigError("both sides are local; one of them must be an s3:// location")
    if isinstance(src, Path) and not await anyio.Path(src).is_dir():
        # An empty listing here would make --delete wipe the destination.
        raise LocalFileError(
            "source directory does not exist or is not a directory; nothing was changed",
            path=str(src),
        )
    return source, dest


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
    pages, so only page boundaries wait. With ``order="auto"`` the shard is
    merged in s3 order until an inversion shows a file-tree (path order)
    listing; then both sides are listed again in path order and the merge
    resumes, acting only on the source keys the first pass had not reached.
    """
    shard = job.shard(span)
    options = job.options
    order: Order = "path" if options.order == "path" else "s3"
    adaptive = options.order == "auto" and order_free((span,))
    # A path-order source read as s3 acts in s3 order but has not listed every smaller
    # key yet, so a watermark could cover keys still to come: only per-key manifest
    # records until its order is known. A local source is walked in s3 order; the keys
    # it holds back are numbered when held, so no watermark passes them.
    shard.ordered = order == "s3" and not (adaptive and not job.mover.src.is_local)
    seen = await _pass(job, shard, span, send, order, adaptive=adaptive)
    if seen is not None:  # a file-tree listing: again in path order, past what was acted on
        order, adaptive, shard.ordered = "path", False, False
        await _pass(job, shard, span, send, order, adaptive=adaptive, seen=seen)
    shard.listed = True


async def _pass(
    job: Job,
    shard: Shard,
    span: KeyRange,
    send: MemoryObjectSendStream[tuple[Shard, int, Action]],
    order: Order,
    *,
    adaptive: bool,
    seen: _Seen | None = None,
) -> _Seen | None:
    """List and merge the shard once in ``order``; returns what it acted on when an
    adaptive pass finds a path-order source (to be listed again), else None."""
    options = job.options
    check = _checks_order(options)
    held: list[tuple[Entry, int]] | None = [] if adaptive else None
    spool = await DeleteSpool.open() if options.delete else None
    src_pages, dst_pages = job.listings(shard, span, order)
    src = _Cursor(src_pages, "source", order, check=check, adaptive=adaptive)
    dst = _Cursor(dst_pages, "destination", order, check=check, adaptive=adaptive)
    try:
        await src.fill()
        await dst.fill()
        await _merge(job, shard, src, dst, send, spool, seen, held)
        await _flush(job, shard, send, held, spool)
    except _PathOrderSeen:
        # Every source key before the head was acted on (copies are never wrong,
        # at worst repeated; deletes were only spooled). The head is the first
        # key not reached, in the order the source was read in.
        return _Seen(
            src.head, "s3" if job.mover.src.is_local else "path", {e.key for e, _ in held or ()}
        )
    finally:
        if spool is not None:
            spool.close()
        await src.close()
        await dst.close()
    return None


def _checks_order(options: SyncOptions) -> bool:
    # cp -r lists no destination and deletes nothing: the source's order is irrelevant.
    return not (options.compare == "always" and options.manifest is None and not options.delete)


async def _flush(
    job: Job,
    shard: Shard,
    send: MemoryObjectSendStream[tuple[Shard, int, Action]],
    held: list[tuple[Entry, int]] | None,
    spool: DeleteSpool | None,
) -> None:
    """Queue what the merge kept back until the listings ended."""
    for entry, seq in held or ():  # s3 order held to the end: these keys are new
        await _queue(job, send, (shard, seq, Copy(entry, "new")))  # never the manifest's
    if spool is not None:  # the listings were in order to the end: deleting is safe
        async for batch in spool.drain():
            for entry in batch:
                if job.held(entry.key):  # the source has it; it could not be read
                    continue
                await _queue(job, send, (shard, job.track(shard, entry.key), Delete(entry)))


@dataclass(frozen=True, slots=True)
class _Seen:
    """The source keys a first (s3-order) pass acted on: all before ``head`` in ``order``."""

    head: Entry | None
    order: Order
    held: set[str]

    def acted_on(self, action: Action) -> bool:
        """Whether the first pass did ``action`` already (it only spooled deletes)."""
        return not isinstance(action, Delete) and self.covers(action.entry.key)

    def covers(self, key: str) -> bool:
        if key in self.held:
            return False
        return self.head is None or before(key, self.head.key, self.order)


class _PathOrderSeen(ConfigError):
    """An s3-order inversion that a path-order (file-tree) listing explains."""


async def _merge(
    job: Job,
    shard: Shard,
    src: _Cursor,
    dst: _Cursor,
    send: MemoryObjectSendStream[tuple[Shard, int, Action]],
    spool: DeleteSpool | None,
    seen: _Seen | None = None,
    held: list[tuple[Entry, int]] | None = None,
) -> None:
    """``held``: while the order is unknown, a source key that is new only in s3 order
    (the destination's head sorts after it in s3 order, before it in path order) is
    held back instead of copied: a file-tree listing may still bring it."""
    mode, delete, order = job.options.compare, job.options.delete, src.order
    while src.head is not None or dst.head is not None:
        action, take_src, take_dst = step(src.head, dst.head, mode=mode, delete=delete, order=order)
        if action is not None:
            await _settle(job, shard, action, dst.head, send, spool, seen, held)
        if take_src and not src.advance():
            await src.fill()
        if take_dst and not dst.advance():
            await dst.fill()


async def _settle(
    job: Job,
    shard: Shard,
    action: Action,
    dst_head: Entry | None,
    send: MemoryObjectSendStream[tuple[Shard, int, Action]],
    spool: DeleteSpool | None,
    seen: _Seen | None,
    held: list[tuple[Entry, int]] | None,
) -> None:
    """Act on one merge step: drop it, hold it back, skip it, spool it or queue it."""
    key = action.entry.key
    if seen is not None and seen.acted_on(action):
        return
    if held is not None and _new_only_in_s3_order(action, dst_head):
        held.append((action.entry, job.track(shard, key)))
    elif _manifest_settles(job, action):
        job.skip(action.entry, "manifest")
    elif isinstance(action, Skip):  # inline: the commonest action of a resync
        job.skip(action.entry, "unchanged")
        await job.finished(shard, job.track(shard, key))
    elif isinstance(action, Delete) and spool is not None:
        await spool.add(action.entry)
    else:
        await _queue(job, send, (shard, job.track(shard, key), action))


def _new_only_in_s3_order(action: Action, dst_head: Entry | None) -> bool:
    """A copy whose destination head sorts after it in s3 order but before it in path
    order: a file-tree listing may still bring the key."""
    return (
        isinstance(action, Copy)
        and dst_head is not None
        and before(dst_head.key, action.entry.key, "path")
    )


def _manifest_settles(job: Job, action: Action) -> bool:
    # The manifest only spares work the listings cannot settle: a copy with
    # nothing to compare with, a content check.
    done = job.done
    return (
        done is not None and _unsettled(action, job.options.compare) and done.covers(action.entry)
    )


async def _queue(
    job: Job,
    send: MemoryObjectSendStream[tuple[Shard, int, Action]],
    item: tuple[Shard, int, Action],
) -> None:
    """Hand one action to the workers, telling the progress sink first: a display's
    total grows as the listing goes (one cheap call per action, no second listing)."""
    action = item[2]
    kind = (
        "delete" if isinstance(action, Delete) else "check" if isinstance(action, Check) else "copy"
    )
    job.options.progress(ObjectQueued(action.entry.key, kind, action.entry.size))
    await send.send(item)


def _unsettled(action: Action, mode: CompareMode) -> bool:
    """Whether the listings leave ``action`` to be settled by the manifest: a copy in
    ``always`` mode (the destination is not listed), a content check."""
    return isinstance(action, Check) or (mode == "always" and isinstance(action, Copy))


class _Cursor:
    """The head of a paged listing; checks its order as it goes."""

    def __init__(
        self,
        pages: AsyncIterator[list[Entry]],
        side: str,
        order: Order,
        *,
        check: bool = True,
        adaptive: bool = False,
    ) -> None:
        self.pages, self.side, self.order = pages, side, order
        self.check, self.adaptive = check, adaptive
        self.page: list[Entry] = []
        self.index = 0
        self.head: Entry | None = None

    def advance(self) -> bool:
        """Move to the next entry of this page; False when the page is used up."""
        self.index += 1
        if self.index >= len(self.page):
            return False
        previous, self.head = self.head, self.page[self.index]
        self._check(previous)
        return True

    async def fill(self) -> None:
        previous = self.head
        self.page, self.index = await anext(self.pages, []), 0
        self.head = self.page[0] if self.page else None
        self._check(previous)

    def _check(self, previous: Entry | None) -> None:
        if not self.check or previous is None or self.head is None:
            return
        prev, key = previous.key, self.head.key
        if prev < key if self.order == "s3" else before(prev, key, self.order):
            return  # in order: the one comparison almost every entry needs
        if self.adaptive and before(prev, key, "path"):
            raise _PathOrderSeen(f"{self.side} lists keys in path order")
        check_order(previous, self.head, self.side, self.order)

    async def close(self) -> None:
        aclose = getattr(self.pages, "aclose", None)
        if aclose is not None:
            await aclose()
