"""S3Client: holds one backend and a config; each method delegates to ops/ or transfer/.

The client owns resources (HTTP sessions, the aiobotocore client) but never a task group:
every task group opens and closes inside one method call.
"""

from __future__ import annotations

import logging
import os
import random
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack

import anyio

from s3flow.bulk import runner as bulk
from s3flow.bulk.options import copy_all
from s3flow.config import ConnectConfig, SseCustomerKey, TransferConfig
from s3flow.errors import ClientClosed
from s3flow.models import ClientStatistics, S3Location
from s3flow.ops import buckets, listing, objects
from s3flow.progress import ProgressSink, ignore
from s3flow.scheduler import AdaptiveLimit, ByteBudget
from s3flow.transfer import copy, download, stream, upload
from s3flow.transfer.common import Transfer

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable

    from s3flow.backend.aws import BotocoreSetup
    from s3flow.backend.credentials import CredentialSource
    from s3flow.backend.profile import ProfileSettings
    from s3flow.backend.protocol import S3Backend
    from s3flow.backend.route import Route
    from s3flow.bulk.cluster import Connection
    from s3flow.bulk.options import SyncOptions, SyncSummary
    from s3flow.models import (
        Bucket,
        DeleteResult,
        ObjectInfo,
        ObjectOptions,
        TransferResult,
        UploadInfo,
    )
    from s3flow.retry import Sleep

__all__ = ["S3Client", "compose", "connect", "open_backend"]

PathLike = str | os.PathLike[str]
_log = logging.getLogger("s3flow.client")


class _JobArgs(TypedDict, total=False):
    """What :meth:`S3Client.copy_tree` passes on to :meth:`S3Client.sync` as given."""

    dest: S3Client | None
    config: TransferConfig | None


class S3Client:
    """Async S3 client. Open it with :func:`connect`; build it directly in tests::

    from s3flow.testing import MemoryBackend
    s3 = S3Client(MemoryBackend(), TransferConfig())
    await s3.create_bucket("demo")

    ``sleep``, ``rng`` and ``clock`` (seconds, for the throttling cool-down) are
    injected so tests of backoff and throttling never wait.
    """

    def __init__(
        self,
        backend: S3Backend,
        config: TransferConfig | None = None,
        *,
        endpoint: str = "",
        sleep: Sleep = anyio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config or TransferConfig()
        self._backend: S3Backend | None = backend
        self._endpoint = endpoint
        self._budget = ByteBudget(self.config.memory_limit)
        # Requests in flight across every transfer of this client; halves under SlowDown.
        self._limit = AdaptiveLimit(max(64, self.config.max_concurrency * 4), clock=clock)
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        state = "open" if self._backend is not None else "closed"
        return f"<S3Client {self._endpoint or 'aws'} {state}>"

    @property
    def backend(self) -> S3Backend:
        if self._backend is None:
            raise ClientClosed("client is closed; use it inside `async with s3flow.connect()`")
        return self._backend

    def close(self) -> None:
        self._backend = None

    def statistics(self) -> ClientStatistics:
        """What the client's shared limits allow and hold now.

        Example: ``s3.statistics().requests_allowed`` drops after SlowDown answers.
        """
        return ClientStatistics(
            requests_allowed=self._limit.current,
            requests_max=self._limit.maximum,
            requests_in_flight=int(self._limit.gate.borrowed_tokens),
            bytes_held=self._budget.in_use,
            memory_limit=self._budget.limit,
        )

    def _transfer(
        self, bucket: str, key: str, progress: ProgressSink, config: TransferConfig | None
    ) -> Transfer:
        objects.validate_key(bucket, key)
        return Transfer(
            backend=self.backend,
            config=config or self.config,
            bucket=bucket,
            key=key,
            progress=progress,
            budget=self._budget,
            limit=self._limit,
            sleep=self._sleep,
            rng=self._rng,
            endpoint=self._endpoint,
        )

    # Buckets
    async def list_buckets(self) -> list[Bucket]:
        """All buckets. Example: ``[b.name for b in await s3.list_buckets()]``."""
        return await buckets.list_buckets(self.backend)

    async def create_bucket(self, bucket: str, *, region: str | None = None) -> None:
        """Create a bucket (in ``region`` or the client's). Example: ``await s3.create_bucket("logs")``.

        Raises InvalidBucketName, BucketAlreadyExists.
        """
        await buckets.create_bucket(self.backend, bucket, region=region)

    async def delete_bucket(self, bucket: str, *, force: bool = False) -> None:
        """Delete a bucket. ``force=True`` first deletes every object, version and pending upload.

        Example: ``await s3.delete_bucket("scratch", force=True)``. Raises BucketNotEmpty.
        """
        await buckets.delete_bucket(self.backend, bucket, force=force)

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        *,
        start_after: str | None = None,
    ) -> AsyncIterator[ObjectInfo]:
        """Lazily list objects, page by page. Example::

        async for obj in s3.list_objects("logs", prefix="2024/"):
            print(obj.key, obj.size)
        """
        return listing.list_objects(
            self.backend, bucket, prefix=prefix, delimiter=delimiter, start_after=start_after
        )

    def list_uploads(self, bucket: str, prefix: str = "") -> AsyncIterator[UploadInfo]:
        """In-progress multipart uploads. Example: ``[u async for u in s3.list_uploads("b")]``."""
        return listing.list_uploads(self.backend, bucket, prefix=prefix)

    async def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Abort one multipart upload. Example: ``await s3.abort_upload("b", "k", uid)``."""
        await self.backend.abort_multipart_upload(bucket, key, upload_id)

    # Objects
    async def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes | str,
        *,
        options: ObjectOptions | None = None,
        no_clobber: bool = False,
        config: TransferConfig | None = None,
    ) -> TransferResult:
        """Store ``data`` (str is UTF-8 encoded) at ``key``. Example::

        await s3.put_object("notes", "hello.txt", "hello world")
        """
        body = data.encode() if isinstance(data, str) else bytes(data)
        t = self._transfer(bucket, key, ignore, config)
        return await upload.upload_bytes(t, body, options=options, no_clobber=no_clobber)

    async def get_object(self, bucket: str, key: str) -> bytes:
        """The whole object, verified. Example: ``data = await s3.get_object("b", "k")``."""
        data, _ = await download.download_bytes(self._transfer(bucket, key, ignore, None))
        return data

    async def get_text(self, bucket: str, key: str, encoding: str = "utf-8") -> str:
        """The object decoded as text. Example: ``await s3.get_text("notes", "hello.txt")``."""
        return (await self.get_object(bucket, key)).decode(encoding)

    async def head_object(self, bucket: str, key: str) -> ObjectInfo:
        """Size, ETag, checksum and metadata, or ObjectNotFound. Example: ``await s3.head_object("b", "k")``."""
        return await self.backend.head_object(bucket, key)

    async def delete_object(self, bucket: str, key: str) -> None:
        """Delete one object (no error if absent). Example: ``await s3.delete_object("b", "k")``."""
        await self.backend.delete_object(bucket, key)

    async def delete_objects(self, bucket: str, keys: Iterable[str]) -> DeleteResult:
        """Delete many keys, 1,000 per request; failures are in ``result.failed``.

        Example: ``await s3.delete_objects("b", ["a", "b"])``.
        """
        return await objects.delete_objects(self.backend, bucket, keys)

    async def set_acl(self, bucket: str, key: str | None, acl: str) -> None:
        """Apply a canned ACL to an object, or to the bucket when ``key`` is None.

        Example: ``await s3.set_acl("site", "index.html", "public-read")``.
        """
        await objects.set_acl(self.backend, bucket, key, acl)

    async def get_acl(self, bucket: str, key: str | None = None) -> list[tuple[str, str]]:
        """Grants as (grantee, permission). Example: ``await s3.get_acl("site", "index.html")``."""
        return await self.backend.get_acl(bucket, key)

    def presign(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        method: Literal["GET", "PUT"] = "GET",
    ) -> str:
        """A URL that allows ``method`` on this one key for ``expires_in`` seconds.

        Example: ``url = s3.presign("b", "report.pdf", expires_in=30)``.
        """
        return objects.presign(self.backend, bucket, key, expires_in=expires_in, method=method)

    # Bulk
    async def sync(
        self,
        src: PathLike | S3Location,
        dst: PathLike | S3Location,
        *,
        options: SyncOptions | None = None,
        dest: S3Client | None = None,
        config: TransferConfig | None = None,
    ) -> SyncSummary:
        """Make ``dst`` like ``src``: a local directory or ``s3://bucket/prefix`` each.

        Streams both listings (flat memory for millions of keys), copies new and
        changed objects, and with ``SyncOptions(delete=True)`` removes extras.
        ``dest`` is another client for a second endpoint; on one endpoint S3 -> S3
        uses server-side copy. Per-object failures are counted in the summary,
        never raised. Example::

            summary = await s3.sync("photos/", "s3://backup/photos/",
                                    options=SyncOptions(delete=True))
            assert summary.ok
        """
        target = dest or self
        return await bulk.sync(
            _side(src),
            _side(dst),
            source_backend=self.backend,
            dest_backend=target.backend,
            config=config or self.config,
            options=options,
            budget=self._budget,
        )

    async def copy_tree(
        self,
        src: PathLike | S3Location,
        dst: PathLike | S3Location,
        *,
        options: SyncOptions | None = None,
        **job: Unpack[_JobArgs],
    ) -> SyncSummary:
        """Copy every object under ``src`` to ``dst`` (``cp --recursive``); takes
        :meth:`sync`'s arguments (``dest``, ``config``).

        Example: ``await s3.copy_tree("s3://logs/2024/", "/data/logs/")``.
        """
        return await self.sync(src, dst, options=copy_all(options), **job)

    # Transfers
    async def upload_file(
        self,
        path: PathLike,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
        progress: ProgressSink = ignore,
        resume: bool = False,
        no_clobber: bool = False,
        config: TransferConfig | None = None,
    ) -> TransferResult:
        """Upload a local file; multipart above ``config.multipart_threshold``.

        Any failure or cancellation aborts the multipart upload. With
        ``resume=True`` a previously killed upload of the same unchanged file
        continues where it stopped. Example::

            result = await s3.upload_file("big.iso", "backups", "big.iso")
            print(result.throughput / 2**20, "MiB/s")
        """
        t = self._transfer(bucket, key, progress, config)
        return await upload.upload_file(
            t, Path(path), options=options, resume=resume, no_clobber=no_clobber
        )

    async def download_file(
        self,
        bucket: str,
        key: str,
        path: PathLike,
        *,
        progress: ProgressSink = ignore,
        config: TransferConfig | None = None,
    ) -> TransferResult:
        """Download to ``path`` atomically: it holds the old file or the complete, verified new one.

        Example: ``await s3.download_file("backups", "big.iso", "/tmp/big.iso")``.
        """
        t = self._transfer(bucket, key, progress, config)
        return await download.download_file(t, Path(path))

    async def upload_stream(
        self,
        source: AsyncIterable[bytes],
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
        progress: ProgressSink = ignore,
        config: TransferConfig | None = None,
    ) -> TransferResult:
        """Upload a byte stream of unknown length in bounded memory.

        Example: ``await s3.upload_stream(chunks(), "logs", "today.log")``.
        """
        t = self._transfer(bucket, key, progress, config)
        return await stream.upload_stream(t, source, options=options)

    def iter_object(self, bucket: str, key: str) -> AsyncIterator[bytes]:
        """Stream an object in order, fetching ranges concurrently ahead.

        Example: ``async for chunk in s3.iter_object("b", "k"): out.write(chunk)``.
        """
        return download.iter_download(self._transfer(bucket, key, ignore, None))

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
    ) -> TransferResult:
        """Server-side copy on the same endpoint (UploadPartCopy in parallel above 5 GiB).

        Example: ``await s3.copy_object("src", "a.bin", "dst", "a.bin")``.
        """
        t = self._transfer(bucket, key, ignore, None)
        return await copy.copy_object(t, source_bucket, source_key, options=options)


def _side(where: str | os.PathLike[str] | S3Location) -> Path | S3Location:
    if isinstance(where, S3Location):
        return where
    text = os.fspath(where)
    return S3Location.parse(text) if S3Location.is_s3_url(text) else Path(text)


@asynccontextmanager
async def connect(
    endpoint_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    *,
    session_token: str | None = None,
    config: TransferConfig | None = None,
    verify_tls: bool = True,
    ca_bundle: str | None = None,
    addressing_style: Literal["auto", "path", "virtual"] | None = None,
    fast_path: bool = True,
    sse_customer_key: SseCustomerKey | None = None,
    copy_source_sse_customer_key: SseCustomerKey | None = None,
) -> AsyncIterator[S3Client]:
    """Open a client over one long-lived connection pool. Example::

        async with s3flow.connect(endpoint_url="http://127.0.0.1:8333") as s3:
            await s3.upload_file("big.iso", "backups", "big.iso")

    Credentials: explicit keys, then the AWS chain (env, ~/.aws, ``profile``,
    SSO, ``credential_process``, roles; refreshed before they expire), then
    ``BOTO_CONFIG`` / ``~/.boto``. The endpoint defaults to
    ``S3FLOW_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL``. TLS trusts ``ca_bundle``
    (a PEM file), else ``AWS_CA_BUNDLE``, else ``ca_bundle`` in the AWS
    profile, else the default CAs, on every path. ``addressing_style``
    (else the profile's ``s3.addressing_style``, else ``auto``: path-style
    for custom endpoints, virtual-hosted for AWS). ``fast_path=False`` (or
    ``S3FLOW_FAST_PATH=0`` in the environment) sends every call through botocore; the README's decision table says which
    configurations take the fast path. ``sse_customer_key`` (SSE-C) goes with every
    object read and write of this client, ``copy_source_sse_customer_key`` with the
    source of its server-side copies. With a custom endpoint and static keys
    (given, or in the environment), botocore is not even imported until a
    call needs it: transfers and listings never do.
    """
    from s3flow.backend.profile import read_profile, resolve_ca_bundle

    transfer = config or TransferConfig()
    endpoint = (
        endpoint_url or os.environ.get("S3FLOW_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    )
    settings = await anyio.to_thread.run_sync(read_profile, profile)
    connect_config = ConnectConfig(
        endpoint_url=endpoint,
        region=region,
        verify_tls=verify_tls,
        ca_bundle=resolve_ca_bundle(ca_bundle, settings) if verify_tls else None,
        addressing_style=addressing_style or settings.addressing_style or "auto",
        max_pool_connections=max(64, transfer.max_concurrency * 4),
        fast_path=fast_path and os.environ.get("S3FLOW_FAST_PATH", "1") != "0",
        sse_customer_key=sse_customer_key,
        copy_source_sse_customer_key=copy_source_sse_customer_key,
    )
    keys = _Keys(access_key, secret_key, session_token, profile, settings)
    async with _composed(connect_config, keys) as backend:
        client = S3Client(backend, transfer, endpoint=endpoint or "")
        try:
            yield client
        finally:
            client.close()


@asynccontextmanager
async def compose(
    config: ConnectConfig,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
    profile: str | None = None,
) -> AsyncIterator[S3Backend]:
    """The backend :func:`connect` would serve ``config`` with (for a ConnectConfig of your own).

    Example: ``async with compose(ConnectConfig(endpoint_url=url, read_timeout=5)) as backend:``.
    """
    async with _composed(config, _Keys(access_key, secret_key, session_token, profile)) as backend:
        yield backend


@asynccontextmanager
async def _composed(config: ConnectConfig, keys: _Keys) -> AsyncIterator[S3Backend]:
    from s3flow import redact

    for customer in (config.sse_customer_key, config.copy_source_sse_customer_key):
        if customer is not None:  # botocore's DEBUG log prints request headers
            redact.install()
            redact.register_secret(customer.encoded)
            redact.register_secret(repr(customer.key)[2:-1])  # as bytes print: b'…'
            redact.register_secret(customer.key.decode("latin-1"))
    async with AsyncExitStack() as stack:
        yield await _compose(stack, config, keys)


@dataclass(frozen=True, slots=True)
class _Keys:
    access_key: str | None
    secret_key: str | None = field(repr=False)
    session_token: str | None = field(repr=False)
    profile: str | None
    settings: ProfileSettings | None = None  # the profile, if connect() has read it already


async def _compose(stack: AsyncExitStack, config: ConnectConfig, keys: _Keys) -> S3Backend:
    """The one place that decides which backend serves a client, and builds it.

    The fast path (FastBackend over our HTTP/1.1 client) serves the hot calls
    when :func:`~s3flow.backend.route.choose_route` allows it, and opens the
    botocore backend on demand for the rest; otherwise botocore serves
    everything. Everything opened here closes with ``stack``.
    """
    from s3flow.backend.route import Route, choose_route

    quick = await _quick_start(config, keys) if config.fast_path else None
    if quick is not None:  # a custom endpoint, keys known: botocore only if a call needs it
        source, region = quick
        found = replace(config, region=region)

        async def open_later() -> S3Backend:
            return await _open_botocore(stack, found, keys)

        route = choose_route(config, region)
        assert isinstance(route, Route)  # quick_start checked it
        return await _fast_backend(stack, config, route, source, region, open_later)

    from s3flow.backend import aws

    setup = await _resolve(config, keys)
    anonymous = setup.credentials is None
    if config.endpoint_url is None:  # AWS: botocore's own endpoint resolution has a say
        slow = await stack.enter_async_context(aws.AioBotocoreBackend.open(config, setup))
        route = choose_route(
            config,
            setup.region,
            resolved_endpoint=slow.endpoint_url,
            accelerate=slow.accelerate,
            anonymous=anonymous,
        )

        async def opened() -> S3Backend:
            return slow

        open_slow = opened
    else:
        route = choose_route(config, setup.region, anonymous=anonymous)

        async def open_slow() -> S3Backend:
            return await stack.enter_async_context(aws.AioBotocoreBackend.open(config, setup))

    if not isinstance(route, Route) or setup.credentials is None:
        _log.debug("botocore serves every call: %s", getattr(route, "reason", "no credentials"))
        return await open_slow()
    return await _fast_backend(stack, config, route, setup.credentials, setup.region, open_slow)


async def _quick_start(config: ConnectConfig, keys: _Keys) -> tuple[CredentialSource, str] | None:
    """The credentials and region without importing botocore, where that is sure to agree."""
    from s3flow import redact
    from s3flow.backend.credentials import StaticCredentials
    from s3flow.backend.process_credentials import ProcessCredentials
    from s3flow.backend.profile import read_profile
    from s3flow.backend.route import FromProcess, quick_start

    settings = keys.settings
    if settings is None and not (keys.access_key or keys.secret_key):
        settings = await anyio.to_thread.run_sync(read_profile, keys.profile)
    quick = quick_start(
        config,
        access_key=keys.access_key,
        secret_key=keys.secret_key,
        session_token=keys.session_token,
        profile=keys.profile,
        settings=settings,
    )
    if quick is None:
        return None
    found, region = quick
    redact.install()
    if isinstance(found, FromProcess):
        source = ProcessCredentials(found.command, profile=found.profile)
        await source.current()  # fail here, at connect(), if the process does
        return source, region
    redact.register_secret(found.secret_key)
    redact.register_secret(found.session_token)
    return StaticCredentials(found), region


async def _open_botocore(stack: AsyncExitStack, config: ConnectConfig, keys: _Keys) -> S3Backend:
    from s3flow.backend import aws

    setup = await _resolve(config, keys)
    return await stack.enter_async_context(aws.AioBotocoreBackend.open(config, setup))


async def _resolve(config: ConnectConfig, keys: _Keys) -> BotocoreSetup:
    from s3flow.backend import aws  # botocore is imported only when it serves

    return await aws.resolve(
        config,
        access_key=keys.access_key,
        secret_key=keys.secret_key,
        session_token=keys.session_token,
        profile=keys.profile,
    )


async def _fast_backend(
    stack: AsyncExitStack,
    config: ConnectConfig,
    route: Route,
    credentials: CredentialSource,
    region: str,
    open_slow: Callable[[], Awaitable[S3Backend]],
) -> S3Backend:
    from s3flow.backend.fast import FastBackend
    from s3flow.backend.signed import SignedSession, new_blocking, new_session

    http = await stack.enter_async_context(new_session(config))
    blocking = new_blocking(config)
    if blocking is not None:
        stack.callback(blocking.close)
    signed = SignedSession(
        http,
        credentials,
        route.base_url,
        region,
        route.path_style,
        sse_c=config.sse_customer_key,
        sse_c_source=config.copy_source_sse_customer_key,
    )
    style = "path-style" if route.path_style else "virtual-hosted"
    _log.debug("fast path: %s, %s, credentials %r", route.base_url, style, credentials)
    return FastBackend(signed, open_slow, blocking)


@asynccontextmanager
async def open_backend(conn: Connection) -> AsyncIterator[S3Backend]:
    """Open a backend from picklable connection settings: the opener Dask workers use.

    Example: ``sync_on_cluster(dask, src, dst, opener=s3flow.client.open_backend, ...)``.
    """
    async with connect(
        endpoint_url=conn.endpoint_url,
        access_key=conn.access_key,
        secret_key=conn.secret_key,
        region=conn.region,
        profile=conn.profile,
        session_token=conn.session_token,
        ca_bundle=conn.ca_bundle,
        verify_tls=conn.verify_tls,
    ) as client:
        yield client.backend
