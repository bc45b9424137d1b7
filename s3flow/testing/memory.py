"""MemoryBackend: an in-memory S3Backend for tests (like obstore's MemoryStore).

Parts are stored by number, so engine tests run at real concurrency. Every
call passes through a checkpoint so tasks really interleave.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import anyio.lowlevel

from s3flow.backend.protocol import Chunks, ListPage, Version
from s3flow.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    CorruptedInTransit,
    InvalidBucketName,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    ServiceError,
    UploadNotFound,
)
from s3flow.integrity import composite_checksum, digest, multipart_etag
from s3flow.models import (
    Bucket,
    Checksum,
    CompletedPart,
    DeleteResult,
    ObjectInfo,
    ObjectOptions,
    UploadInfo,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

__all__ = ["MemoryBackend", "StoredObject"]


@dataclass(slots=True)
class StoredObject:
    data: bytes
    etag: str
    checksum: Checksum | None = None
    parts: list[int] = field(default_factory=list)  # part sizes, for multipart objects
    acl: str = "private"
    metadata: tuple[tuple[str, str], ...] = ()
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True)
class _Upload:
    bucket: str
    key: str
    algorithm: str | None
    parts: dict[int, tuple[bytes, CompletedPart]] = field(default_factory=dict)
    initiated: datetime = field(default_factory=lambda: datetime.now(UTC))

    def chosen(self, parts: Sequence[CompletedPart]) -> list[bytes]:
        """The bytes of ``parts`` in their order; InvalidPart for one not stored (or resent since)."""
        chunks = []
        for part in parts:
            stored = self.parts.get(part.number)
            if stored is None or stored[1].etag != part.etag:
                raise ServiceError(
                    f"invalid part {part.number}",
                    bucket=self.bucket,
                    key=self.key,
                    code="InvalidPart",
                )
            chunks.append(stored[0])
        return chunks


def _composite(
    algorithm: str | None, parts: Sequence[CompletedPart], chunks: list[bytes]
) -> Checksum | None:
    """The object's composite checksum, as S3 keeps one only when every part came with one."""
    if not algorithm or not all(p.checksum for p in parts):
        return None
    return composite_checksum([digest(algorithm, c) for c in chunks])


def _rolled_up(key: str, prefix: str, delimiter: str | None) -> str | None:
    """The common prefix ``key`` is listed under with this delimiter, or None (listed itself)."""
    if not delimiter or delimiter not in key[len(prefix) :]:
        return None
    return key[: key.index(delimiter, len(prefix)) + len(delimiter)]


class MemoryBackend:
    """Buckets, objects and multipart uploads in dicts. ``calls`` counts operations."""

    supports_conditional_writes = True

    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, StoredObject]] = {}
        self.uploads: dict[str, _Upload] = {}
        self.bucket_acls: dict[str, str] = {}
        self.calls: dict[str, int] = {}
        self._ids = itertools.count(1)

    async def _enter(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        await anyio.lowlevel.checkpoint()

    def _bucket(self, bucket: str) -> dict[str, StoredObject]:
        if bucket not in self.buckets:
            raise BucketNotFound("bucket does not exist", bucket=bucket, code="NoSuchBucket")
        return self.buckets[bucket]

    def _object(self, bucket: str, key: str) -> StoredObject:
        objects = self._bucket(bucket)
        if key not in objects:
            raise ObjectNotFound("object not found", bucket=bucket, key=key, code="NoSuchKey")
        return objects[key]

    @staticmethod
    def _verify(body: bytes | bytearray, checksum: Checksum | None, bucket: str, key: str) -> None:
        if checksum is not None and digest(checksum.algorithm, body).checksum() != checksum:
            raise CorruptedInTransit("checksum mismatch", bucket=bucket, key=key, code="BadDigest")

    # Buckets
    async def list_buckets(self) -> list[Bucket]:
        await self._enter("list_buckets")
        return [Bucket(name) for name in sorted(self.buckets)]

    async def create_bucket(self, bucket: str, *, region: str | None = None) -> None:
        await self._enter("create_bucket")
        if not (3 <= len(bucket) <= 63) or bucket != bucket.lower() or "_" in bucket:
            raise InvalidBucketName("invalid bucket name", bucket=bucket)
        if bucket in self.buckets:
            raise BucketAlreadyExists("bucket already exists", bucket=bucket)
        self.buckets[bucket] = {}

    async def delete_bucket(self, bucket: str) -> None:
        await self._enter("delete_bucket")
        if self._bucket(bucket):
            raise BucketNotEmpty("bucket is not empty", bucket=bucket)
        for upload_id in [u for u, up in self.uploads.items() if up.bucket == bucket]:
            del self.uploads[upload_id]
        del self.buckets[bucket]

    async def head_bucket(self, bucket: str) -> None:
        await self._enter("head_bucket")
        self._bucket(bucket)

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
    ) -> ListPage:
        await self._enter("list_page")
        after = token or start_after or ""
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        last = ""
        for key in sorted(self._bucket(bucket)):
            if not key.startswith(prefix) or key <= after:
                continue
            if len(objects) + len(prefixes) == max_keys:
                return ListPage(objects=tuple(objects), prefixes=tuple(prefixes), next_token=last)
            common = _rolled_up(key, prefix, delimiter)
            if common is not None:
                if common not in prefixes:
                    prefixes.append(common)
                last = common + "\U0010ffff"  # skip the rest of this prefix
                continue
            stored = self.buckets[bucket][key]
            objects.append(
                ObjectInfo(
                    key=key, size=len(stored.data), etag=stored.etag, last_modified=stored.modified
                )
            )
            last = key
        return ListPage(objects=tuple(objects), prefixes=tuple(prefixes))

    async def list_versions_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[Version], tuple[str, str] | None]:
        page = await self.list_page(bucket, prefix=prefix)
        return [Version(o.key, None) for o in page.objects], None

    async def list_uploads_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[UploadInfo], tuple[str, str] | None]:
        await self._enter("list_uploads_page")
        found = [
            UploadInfo(key=u.key, upload_id=upload_id, initiated=u.initiated)
            for upload_id, u in self.uploads.items()
            if u.bucket == bucket and u.key.startswith(prefix)
        ]
        return found, None

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
    ) -> ObjectInfo:
        await self._enter("put_object")
        objects = self._bucket(bucket)
        if if_none_match and key in objects:
            raise ObjectExists("object already exists", bucket=bucket, key=key)
        self._verify(body, checksum, bucket, key)
        etag = hashlib.md5(body).hexdigest()
        full = checksum if checksum and checksum.algorithm != "md5" else None
        objects[key] = StoredObject(
            bytes(body), etag, full, metadata=tuple(options.metadata.items()) if options else ()
        )
        return ObjectInfo(key=key, size=len(body), etag=etag, checksum=str(full) if full else None)

    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes:
        await self._enter("get_object")
        stored = self._object(bucket, key)
        if if_match is not None and if_match != stored.etag:
            raise PreconditionFailed("object changed", bucket=bucket, key=key)
        return stored.data[start or 0 : end]

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
        data = await self.get_object(bucket, key, start=start, end=end, if_match=if_match)
        half = len(data) // 2  # two batches, so batching and resuming are exercised
        await sink([data[:half]])
        await anyio.lowlevel.checkpoint()
        await sink([data[half:]])
        return self.got_info(bucket, key, whole=end is None)

    def got_info(self, bucket: str, key: str, *, whole: bool) -> ObjectInfo:
        """What a GET's headers say of the object: no checksum on ranged answers, as S3."""
        stored = self._object(bucket, key)
        checksum = stored.checksum if whole else None
        return ObjectInfo(
            key=key,
            size=len(stored.data),
            etag=stored.etag,
            checksum=str(checksum) if checksum else None,
        )

    async def iter_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        if_match: str | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> AsyncIterator[bytes]:
        data = await self.get_object(bucket, key, start=start, if_match=if_match)
        for offset in range(0, len(data), chunk_size):
            await anyio.lowlevel.checkpoint()
            yield data[offset : offset + chunk_size]

    async def head_object(
        self, bucket: str, key: str, *, part_number: int | None = None, copy_source: bool = False
    ) -> ObjectInfo:
        await self._enter("head_object")
        stored = self._object(bucket, key)
        size, checksum = len(stored.data), stored.checksum
        if part_number is not None:
            sizes = stored.parts or [size]
            size = sizes[part_number - 1]
            if checksum is not None and "-" in checksum.value:
                # As S3: a part's own checksum when the object's is a composite.
                start = sum(sizes[: part_number - 1])
                part = stored.data[start : start + size]
                checksum = digest(checksum.algorithm, part).checksum()
        return ObjectInfo(
            key=key,
            size=size,
            etag=stored.etag,
            last_modified=stored.modified,
            checksum=str(checksum) if checksum else None,
            parts=len(stored.parts) or None,
            metadata=stored.metadata,
        )

    async def delete_object(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        await self._enter("delete_object")
        self._bucket(bucket).pop(key, None)

    async def delete_objects(self, bucket: str, objects: Sequence[Version]) -> DeleteResult:
        await self._enter("delete_objects")
        store = self._bucket(bucket)
        for o in objects:
            store.pop(o.key, None)
        return DeleteResult(deleted=tuple(o.key for o in objects))

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
    ) -> ObjectInfo:
        await self._enter("copy_object")
        source = self._object(source_bucket, source_key)
        self._bucket(bucket)[key] = StoredObject(
            source.data, source.etag, source.checksum, list(source.parts)
        )
        return ObjectInfo(key=key, size=len(source.data), etag=source.etag)

    async def put_acl(self, bucket: str, key: str | None, acl: str) -> None:
        await self._enter("put_acl")
        if key is None:
            self._bucket(bucket)
            self.bucket_acls[bucket] = acl
        else:
            self._object(bucket, key).acl = acl

    async def get_acl(self, bucket: str, key: str | None) -> list[tuple[str, str]]:
        await self._enter("get_acl")
        acl = (
            self.bucket_acls.get(bucket, "private")
            if key is None
            else self._object(bucket, key).acl
        )
        grants = [("owner", "FULL_CONTROL")]
        if acl == "public-read":
            grants.append(("http://acs.amazonaws.com/groups/global/AllUsers", "READ"))
        return grants

    def presign(
        self, bucket: str, key: str, *, method: Literal["GET", "PUT"], expires_in: int
    ) -> str:
        return f"memory://{bucket}/{key}?method={method}&expires={expires_in}"

    # Multipart
    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
        checksum_algorithm: str | None = None,
    ) -> str:
        await self._enter("create_multipart_upload")
        self._bucket(bucket)
        upload_id = f"upload-{next(self._ids)}"
        self.uploads[upload_id] = _Upload(bucket, key, checksum_algorithm)
        return upload_id

    def _upload(self, bucket: str, key: str, upload_id: str) -> _Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or (upload.bucket, upload.key) != (bucket, key):
            raise UploadNotFound("no such upload", bucket=bucket, key=key, code="NoSuchUpload")
        return upload

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        body: bytes | bytearray,
        *,
        checksum: Checksum | None = None,
    ) -> CompletedPart:
        await self._enter("upload_part")
        upload = self._upload(bucket, key, upload_id)
        self._verify(body, checksum, bucket, key)
        part = CompletedPart(
            number,
            hashlib.md5(body).hexdigest(),
            checksum if checksum and checksum.algorithm != "md5" else None,
            len(body),
        )
        upload.parts[number] = (bytes(body), part)
        return part

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
    ) -> CompletedPart:
        data = await self.get_object(source_bucket, source_key, start=start, end=end)
        return await self.upload_part(bucket, key, upload_id, number, data)

    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[CompletedPart],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        await self._enter("complete_multipart_upload")
        upload = self._upload(bucket, key, upload_id)
        if if_none_match and key in self._bucket(bucket):
            raise ObjectExists("object already exists", bucket=bucket, key=key)
        chunks = upload.chosen(parts)
        etag = multipart_etag([bytes.fromhex(p.etag) for p in parts])
        checksum = _composite(upload.algorithm, parts, chunks)
        self._bucket(bucket)[key] = StoredObject(
            b"".join(chunks), etag, checksum, [len(c) for c in chunks]
        )
        del self.uploads[upload_id]
        return ObjectInfo(
            key=key,
            size=sum(map(len, chunks)),
            etag=etag,
            checksum=str(checksum) if checksum else None,
            parts=len(parts),
        )

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self._enter("abort_multipart_upload")
        self._upload(bucket, key, upload_id)
        del self.uploads[upload_id]

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[CompletedPart]:
        await self._enter("list_parts")
        upload = self._upload(bucket, key, upload_id)
        return [upload.parts[n][1] for n in sorted(upload.parts)]
