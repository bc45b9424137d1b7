"""The S3 calls s3flow makes, typed in s3flow terms.

Implemented by :class:`s3flow.backend.aws.AioBotocoreBackend` (the only
module that sees botocore) and :class:`s3flow.testing.MemoryBackend`.
Errors are raised as :class:`s3flow.S3FlowError` subclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from s3flow.models import (
        Bucket,
        Checksum,
        CompletedPart,
        DeleteResult,
        ObjectInfo,
        ObjectOptions,
        UploadInfo,
    )

__all__ = ["STREAM_BATCH", "Chunks", "ListPage", "S3Backend", "Version", "pump"]

# What a stream_range sink is given: a batch of buffers, in order. The sink may keep them.
Chunks = Sequence[bytes | bytearray]

# Batches of about this size go to a stream_range sink, one worker-thread hop
# each. A 1 GiB download took 1.67-1.70 s in 2 MiB batches against 1.73-1.81 s
# in 1 MiB ones (3 runs each): fewer hops, less GIL hand-over. 4 MiB was no
# faster and held 114 MiB instead of 80.
STREAM_BATCH = 2 * 1024 * 1024


async def pump(
    read: Callable[[], Awaitable[bytes]],
    sink: Callable[[Chunks], Awaitable[None]],
    batch: int = STREAM_BATCH,
) -> None:
    """Feed ``read()``'s chunks to ``sink`` in order, in batches of at least ``batch`` bytes."""
    pending: list[bytes] = []
    size = 0
    while chunk := await read():
        pending.append(chunk)
        size += len(chunk)
        if size >= batch:
            await sink(pending)
            pending, size = [], 0
    if pending:
        await sink(pending)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPage:
    objects: tuple[ObjectInfo, ...] = ()
    prefixes: tuple[str, ...] = ()
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class Version:
    key: str
    version_id: str | None


class S3Backend(Protocol):
    """The ~20 S3 operations of s3flow. ``etag`` values carry no quotes."""

    @property
    def supports_conditional_writes(self) -> bool: ...

    # Buckets
    async def list_buckets(self) -> list[Bucket]: ...
    async def create_bucket(self, bucket: str, *, region: str | None = None) -> None: ...
    async def delete_bucket(self, bucket: str) -> None: ...
    async def head_bucket(self, bucket: str) -> None: ...

    # Listing
    async def list_page(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        token: str | None = None,
        start_after: str | None = None,
        max_keys: int = 1000,
    ) -> ListPage: ...
    async def list_versions_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[Version], tuple[str, str] | None]: ...
    async def list_uploads_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[UploadInfo], tuple[str, str] | None]: ...

    # Objects
    async def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | bytearray,
        *,
        checksum: Checksum | None = None,
        options: ObjectOptions | None = None,
        if_none_match: bool = False,
    ) -> ObjectInfo: ...
    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes: ...
    async def stream_range(
        self,
        bucket: str,
        key: str,
        *,
        start: int,
        end: int | None,
        sink: Callable[[Chunks], Awaitable[None]],
        if_match: str | None = None,
    ) -> ObjectInfo:
        """Hand bytes ``[start, end)`` to ``sink`` in order, as they arrive, in batches.

        ``start=0, end=None``: the whole object in a plain GET, whose answer
        carries the object's checksum (ranged answers do not). Returns the
        object's size, ETag and that checksum. The chunks are passed as
        received (no joining copy). A body that ends early returns normally:
        the caller counts what it got.
        """
        ...

    def iter_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        if_match: str | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> AsyncIterator[bytes]: ...
    async def head_object(
        self, bucket: str, key: str, *, part_number: int | None = None, copy_source: bool = False
    ) -> ObjectInfo:
        """``copy_source``: the object is the source of a copy; with SSE-C, the
        connection's copy-source customer key goes with the request, not its own."""
        ...

    async def delete_object(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> None: ...
    async def delete_objects(self, bucket: str, objects: Sequence[Version]) -> DeleteResult: ...
    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
    ) -> ObjectInfo: ...
    async def put_acl(self, bucket: str, key: str | None, acl: str) -> None: ...
    async def get_acl(self, bucket: str, key: str | None) -> list[tuple[str, str]]: ...
    def presign(
        self, bucket: str, key: str, *, method: Literal["GET", "PUT"], expires_in: int
    ) -> str: ...

    # Multipart
    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
        checksum_algorithm: str | None = None,
    ) -> str: ...
    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        body: bytes | bytearray,
        *,
        checksum: Checksum | None = None,
    ) -> CompletedPart: ...
    async def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        source_bucket: str,
        source_key: str,
        start: int,
        end: int,
    ) -> CompletedPart: ...
    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[CompletedPart],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo: ...
    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None: ...
    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[CompletedPart]: ...
