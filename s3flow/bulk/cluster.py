"""Run one bulk job across a Dask cluster: shards of the keyspace as tasks.

The keyspace is split into key ranges (:func:`~s3flow.bulk.sources.split_keyspace`);
each range is one task that a worker runs with the normal engine, opening its
own connections from picklable :class:`Connection` parameters. Shards are
idempotent syncs, so a task lost with its worker is simply run again
elsewhere. ``distributed`` is imported inside functions only.

bulk sits below the client, so it cannot call :func:`s3flow.connect`
itself: the caller passes ``opener``, a picklable module-level function
that turns a :class:`Connection` into an async context manager yielding a
backend (``s3flow.client`` provides one).
"""

from __future__ import annotations

import dataclasses
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import anyio

from s3flow.bulk.options import SyncOptions, SyncSummary
from s3flow.bulk.runner import sync
from s3flow.bulk.sources import KeyRange, split_keyspace
from s3flow.config import TransferConfig
from s3flow.errors import ConfigError
from s3flow.progress import ignore

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

    from s3flow.backend.protocol import S3Backend
    from s3flow.models import S3Location

    Opener = Callable[["Connection"], AbstractAsyncContextManager[S3Backend]]

__all__ = ["Connection", "ShardTask", "plan_shards", "run_shard", "sync_on_cluster"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """Where a worker connects; picklable, the secret never shown in ``repr``."""

    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    profile: str | None = None
    #: A PEM file path that exists on every worker (a path, not the bytes: workers read it).
    ca_bundle: str | None = None
    verify_tls: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardTask:
    """One shard of a job, everything a worker needs, picklable."""

    index: int
    src: Path | S3Location
    dst: Path | S3Location
    source: Connection | None
    dest: Connection | None
    config: TransferConfig
    options: SyncOptions


def _suffixed(path: Path | None, index: int) -> Path | None:
    return None if path is None else path.with_name(f"{path.name}.shard-{index:04d}")


def plan_shards(
    src: Path | S3Location,
    dst: Path | S3Location,
    *,
    source: Connection | None,
    dest: Connection | None,
    config: TransferConfig,
    options: SyncOptions,
    shards: int,
) -> list[ShardTask]:
    """PURE: one task per key range; manifest and failures files get a per-shard suffix.

    >>> from pathlib import Path
    >>> len(plan_shards(Path("d"), Path("e"), source=None, dest=None,
    ...                 config=TransferConfig(), options=SyncOptions(), shards=4))
    4
    """
    if options.progress is not ignore:
        raise ConfigError("progress sinks do not cross processes; leave progress unset")
    spans: list[KeyRange] = list(options.spans or split_keyspace(shards))
    # Each shard detects a path-order (file-tree) listing itself; that needs ranges
    # that select the same keys in either order: one-character bounds.
    dataclasses.replace(options, spans=tuple(spans))  # validates the spans for the order
    server_side = options.server_side_copy
    if server_side is None:
        server_side = source is not None and source == dest
    return [
        ShardTask(
            index=i,
            src=src,
            dst=dst,
            source=source,
            dest=dest,
            config=config,
            options=dataclasses.replace(
                options,
                spans=(span,),
                shards=1,
                server_side_copy=server_side,
                manifest=_suffixed(options.manifest, i),
                failures_file=_suffixed(options.failures_file, i),
            ),
        )
        for i, span in enumerate(spans)
    ]


def run_shard(task: ShardTask, opener: Opener) -> SyncSummary:
    """Worker entry point: open connections, sync one shard, return its summary."""
    return anyio.run(_run_shard, task, opener)


async def _run_shard(task: ShardTask, opener: Opener) -> SyncSummary:
    async with AsyncExitStack() as stack:
        source = await stack.enter_async_context(_maybe(opener, task.source))
        if task.source is not None and task.source == task.dest:
            dest = source  # one connection for one endpoint (and its server-side copies)
        else:
            dest = await stack.enter_async_context(_maybe(opener, task.dest))
        return await sync(
            task.src,
            task.dst,
            source_backend=source,
            dest_backend=dest,
            config=task.config,
            options=task.options,
        )


def _maybe(opener: Opener, conn: Connection | None) -> AbstractAsyncContextManager[Any]:
    from contextlib import nullcontext

    return opener(conn) if conn is not None else nullcontext(None)


def sync_on_cluster(
    client: Any,
    src: Path | S3Location,
    dst: Path | S3Location,
    *,
    opener: Opener,
    source: Connection | None = None,
    dest: Connection | None = None,
    config: TransferConfig | None = None,
    options: SyncOptions | None = None,
    shards: int = 64,
    retries: int = 2,
) -> SyncSummary:
    """Run a sync as ``shards`` tasks on a ``distributed.Client``; blocks until done.

    A task whose worker dies is rescheduled by Dask; one that raises is retried
    ``retries`` times. Per-shard failures files are merged into
    ``options.failures_file``. Example::

        with distributed.Client("tcp://scheduler:8786") as dask:
            summary = sync_on_cluster(dask, S3Location("src"), S3Location("dst"),
                                      opener=s3flow.client.open_backend,
                                      source=Connection(endpoint_url=a),
                                      dest=Connection(endpoint_url=b))
    """
    options = options or SyncOptions()
    started = time.monotonic()
    tasks = plan_shards(
        src,
        dst,
        source=source,
        dest=dest,
        config=config or TransferConfig(),
        options=options,
        shards=shards,
    )
    futures = client.map(run_shard, tasks, opener=opener, pure=False, retries=retries)
    summaries: list[SyncSummary] = client.gather(futures)
    total = SyncSummary(dry_run=options.dry_run)
    for summary in summaries:
        total = total.merge(summary, max_failed_keys=options.max_failed_keys)
    if options.failures_file is not None:
        _merge_files(options.failures_file, [t.options.failures_file for t in tasks])
    # Shards overlap in time: the job took the wall time, not the longest shard.
    return replace(total, elapsed=time.monotonic() - started)


def _merge_files(target: Path, parts: list[Path | None]) -> None:
    with open(target, "w", encoding="utf-8") as out:
        for part in parts:
            if part is not None and part.exists():
                out.write(part.read_text(encoding="utf-8"))
                part.unlink()
