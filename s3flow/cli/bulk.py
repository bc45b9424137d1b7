"""The bodies of ``s3flow sync`` and ``s3flow cp --recursive``: one bulk-engine job each.

A job runs in this process (``S3Client.sync`` / ``copy_tree``, with a second
client when the two sides are on different endpoints or profiles), or on a
Dask cluster (``--dask-scheduler``): ``sync_on_cluster`` blocks, so it runs in
a worker thread and the event loop stays free.
"""

from __future__ import annotations

import dataclasses
import os
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from s3flow.cli.bulk_view import BulkView, Side, report
from s3flow.cli.commands import open_client
from s3flow.client import connect
from s3flow.errors import ConfigError, LocalFileError, ObjectNotFound
from s3flow.models import S3Location
from s3flow.progress import ObjectDone

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from s3flow.bulk.cluster import Connection
    from s3flow.bulk.options import SyncOptions, SyncSummary
    from s3flow.cli.commands import Options
    from s3flow.client import S3Client
    from s3flow.progress import ProgressEvent

__all__ = ["BulkJob", "run_job"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkJob:
    """A checked ``sync`` (or, with ``copy_only``, ``cp --recursive``) request."""

    src: str
    dst: str
    options: SyncOptions
    copy_only: bool = False
    source_endpoint: str | None = None
    dest_endpoint: str | None = None
    source_profile: str | None = None
    dest_profile: str | None = None
    dask_scheduler: str | None = None
    cluster_shards: int = 64
    pattern: S3Location | None = None  # a wildcard source (cp/mv): matching nothing fails

    @property
    def two_clients(self) -> bool:
        ends = (self.source_endpoint, self.dest_endpoint, self.source_profile, self.dest_profile)
        return any(value is not None for value in ends)


async def run_job(
    options: Options,
    job: BulkJob,
    *,
    moved: Callable[[S3Client, list[str]], Awaitable[None]] | None = None,
) -> None:
    """Run the job, print what it did, and exit 1 (via ClickException) if any object failed.

    ``moved`` (mv --recursive): called with the source client and the keys copied, relative
    to the source, before the summary; it removes exactly those sources, never a failed one.
    """
    await _check_local_source(job.src)
    src, dst = Side(job.src), Side(job.dst)
    if job.dask_scheduler is not None:
        view = BulkView(options.out, src, dst, lines=False)  # no events cross processes
        started = time.monotonic()
        summary = await anyio.to_thread.run_sync(_on_cluster, options, job)
        # The merged summary's elapsed is its slowest shard's; the user waited for all of it.
        summary = dataclasses.replace(summary, elapsed=time.monotonic() - started)
    else:
        view = BulkView(options.out, src, dst)
        with view.live():
            copied: list[str] = []

            def sink(event: ProgressEvent) -> None:
                if isinstance(event, ObjectDone) and event.action == "copy" and not event.dry_run:
                    copied.append(event.key)
                view(event)

            sync_options = dataclasses.replace(
                job.options, progress=view if moved is None else sink
            )
            async with _clients(options, job) as (source, dest):
                run = source.copy_tree if job.copy_only else source.sync
                summary = await run(job.src, job.dst, options=sync_options, dest=dest)
                if moved is not None and copied:
                    await moved(source, copied)
    if job.pattern is not None and summary.copied + summary.skipped + summary.failed == 0:
        raise ObjectNotFound(
            "no object matches the wildcard", bucket=job.pattern.bucket, key=job.pattern.key
        )
    report(options.out, summary, view, job.options.failures_file)


async def _check_local_source(src: str) -> None:
    """The engine reads a missing source directory as an empty tree; with --delete that
    would empty the destination, so a local source must be an existing directory."""
    if S3Location.is_s3_url(src):
        return
    if not await anyio.Path(src).is_dir():
        raise LocalFileError("not a directory (or missing); the source must be one", path=src)


@asynccontextmanager
async def _clients(
    options: Options, job: BulkJob
) -> AsyncIterator[tuple[S3Client, S3Client | None]]:
    """The source client and, for two endpoints/profiles, a second one for the destination."""
    if not job.two_clients:
        async with open_client(options) as s3:
            yield s3, None
        return
    common = {
        "region": options.region,
        "config": options.config,
        "verify_tls": options.verify_tls,
        "ca_bundle": options.ca_bundle,
        "sse_customer_key": options.sse_c,
        "copy_source_sse_customer_key": options.sse_c_source,
    }
    async with (
        connect(
            endpoint_url=job.source_endpoint or options.endpoint_url,
            profile=job.source_profile or options.profile,
            **common,  # type: ignore[arg-type]
        ) as source,
        connect(
            endpoint_url=job.dest_endpoint or options.endpoint_url,
            profile=job.dest_profile or options.profile,
            **common,  # type: ignore[arg-type]
        ) as dest,
    ):
        yield source, dest


def _side(text: str) -> Path | S3Location:
    """Workers run elsewhere (another cwd): local paths are made absolute."""
    return S3Location.parse(text) if S3Location.is_s3_url(text) else Path(text).resolve()


def _absolute(path: Path | None) -> Path | None:
    return None if path is None else path.resolve()


def _connection(options: Options, endpoint: str | None, profile: str | None) -> Connection:
    """Connection settings for workers, from the flags and this process's environment."""
    from s3flow.bulk.cluster import Connection

    env = os.environ.get
    # keys travel only when they are this process's own (a profile resolves on each worker)
    keys = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) if profile is None else None
    access, secret = keys if keys and keys[0] is not None else (None, None)
    ca_bundle = options.ca_bundle or env("AWS_CA_BUNDLE")
    return Connection(
        endpoint_url=endpoint or env("S3FLOW_ENDPOINT_URL") or env("AWS_ENDPOINT_URL"),
        access_key=access,
        secret_key=secret,
        region=options.region or env("AWS_REGION") or env("AWS_DEFAULT_REGION"),
        profile=profile,
        ca_bundle=ca_bundle and str(Path(ca_bundle).resolve()),
        verify_tls=options.verify_tls,
    )


def _on_cluster(options: Options, job: BulkJob) -> SyncSummary:
    """Blocking: connect to the scheduler and run the job as shards on its workers."""
    if options.sse_c is not None or options.sse_c_source is not None:
        raise ConfigError("--sse-c cannot be used with --dask-scheduler yet")
    try:
        import distributed
    except ImportError:
        raise ConfigError(
            "--dask-scheduler needs dask distributed: pip install 's3flow[dask]'"
        ) from None
    from s3flow.bulk.cluster import sync_on_cluster
    from s3flow.client import open_backend

    src, dst = _side(job.src), _side(job.dst)
    source, dest = _connections(options, job)
    try:
        client = distributed.Client(  # type: ignore[no-untyped-call]
            job.dask_scheduler, timeout=30, set_as_default=False
        )
    except OSError as exc:
        raise ConfigError(f"cannot reach the Dask scheduler {job.dask_scheduler}: {exc}") from None
    with client:
        return sync_on_cluster(
            client,
            src,
            dst,
            opener=open_backend,
            source=source if isinstance(src, S3Location) else None,
            dest=dest if isinstance(dst, S3Location) else None,
            config=options.config,
            options=_cluster_options(job),
            shards=job.cluster_shards,
        )


def _connections(options: Options, job: BulkJob) -> tuple[Connection, Connection]:
    """Each side's connection settings for the workers: its own flags, else the global ones."""
    source = _connection(
        options,
        job.source_endpoint or options.endpoint_url,
        job.source_profile or options.profile,
    )
    dest = _connection(
        options,
        job.dest_endpoint or options.endpoint_url,
        job.dest_profile or options.profile,
    )
    return source, dest


def _cluster_options(job: BulkJob) -> SyncOptions:
    """The job's options as workers need them: cp -r's comparison, absolute paths."""
    return dataclasses.replace(
        job.options,
        compare="always" if job.copy_only else job.options.compare,
        manifest=_absolute(job.options.manifest),
        failures_file=_absolute(job.options.failures_file),
        from_list=_absolute(job.options.from_list),
    )
