"""FastBackend: the hot S3 calls over our own HTTP/1.1 client, everything else via another backend.

botocore's per-request machinery (serialisers, event hooks, endpoint rules,
response parsers) costs more CPU than the transfer itself for small objects.
The object and multipart calls the engine makes per file and per part are
sent here directly over :class:`~s3flow.backend.signed.SignedSession` (SigV4,
URLs, error mapping), encoded and decoded by :mod:`s3flow.backend.wire`.
Every other call, and every call the fast path cannot make exactly like
botocore would (a bucket name that cannot be a host name, a bucket in another
region, non-ASCII metadata), goes to the backend that ``open_slow`` opens on
first use. Which backend that is, and whether a FastBackend serves a client
at all, is decided by ``s3flow.connect()`` alone; this module knows neither.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import anyio

from s3flow.backend import wire
from s3flow.backend.answers import explain_head, no_clobber
from s3flow.backend.blocking import Unframed
from s3flow.backend.presign import presign_url
from s3flow.backend.signed import XML_BODY_LIMIT, Delegate, SignedSession
from s3flow.errors import AccessDenied, ObjectNotFound, RetryableError
from s3flow.models import CompletedPart, ObjectInfo

if TYPE_CHECKING:
    from collections.abc import (
        AsyncGenerator,
        AsyncIterator,
        Awaitable,
        Callable,
        Mapping,
        Sequence,
    )

    from s3flow.backend.blocking import BlockingClient
    from s3flow.backend.protocol import Chunks, ListPage, S3Backend, Version
    from s3flow.models import Bucket, Checksum, DeleteResult, ObjectOptions, UploadInfo

__all__ = ["FastBackend"]

F = TypeVar("F", bound="Callable[..., Awaitable[Any]]")


def _or_slow(method: F) -> F:
    """Run the fast version of a call, or the same call on the slow backend."""
    name = method.__name__

    @functools.wraps(method)
    async def call(self: FastBackend, bucket: str, *args: Any, **kwargs: Any) -> Any:
        if bucket not in self._slow_buckets:
            try:
                return await method(self, bucket, *args, **kwargs)
            except Delegate as why:
                if why.sticky:
                    self._slow_buckets.add(bucket)
        return await getattr(await self.slow(), name)(bucket, *args, **kwargs)

    return cast("F", call)


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")


def _sendable(headers: Mapping[str, str]) -> None:
    if not all(v.isascii() for v in headers.values()) or not all(
        _TOKEN.fullmatch(name) for name in headers
    ):
        raise Delegate(sticky=False)  # botocore knows how S3 wants those encoded (or refuses)


def _body_digests(body: bytes) -> tuple[dict[str, str], str]:
    """A small body's Content-MD5 header and its signed SHA-256 (as botocore sends them).

    A body with no checksum the server verifies, sent with UNSIGNED-PAYLOAD,
    could be altered on the way unnoticed (over plain http, by a proxy).
    """
    md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    return {"content-md5": md5}, hashlib.sha256(body).hexdigest()


class FastBackend:
    """S3Backend: hot calls over one keep-alive pool, the rest via the backend ``open_slow`` opens.

    ``http`` signs and sends; ``open_slow`` is awaited at most once, on the
    first call the fast path does not serve.
    """

    def __init__(
        self,
        http: SignedSession,
        open_slow: Callable[[], Awaitable[S3Backend]],
        blocking: BlockingClient | None = None,
    ) -> None:
        self._http = http
        self._blocking = blocking  # ranged GETs received by worker threads (read_range_into)
        self._open_slow = open_slow
        self._slow: S3Backend | None = None
        self._opening = anyio.Lock()
        self._slow_buckets: set[str] = set()

    def __repr__(self) -> str:
        return f"FastBackend({self._http!r})"

    async def slow(self) -> S3Backend:
        """The backend for everything else, opened on first use."""
        if self._slow is None:
            async with self._opening:
                if self._slow is None:
                    self._slow = await self._open_slow()
        return self._slow

    @property
    def supports_conditional_writes(self) -> bool:
        return True  # as AioBotocoreBackend: If-None-Match is sent, the server decides

    def iter_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        if_match: str | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            slow = await self.slow()
            stream = cast(
                "AsyncGenerator[bytes, None]",
                slow.iter_object(
                    bucket, key, start=start, if_match=if_match, chunk_size=chunk_size
                ),
            )
            async with aclosing(stream):
                async for chunk in stream:
                    yield chunk

        return chunks()

    def presign(
        self, bucket: str, key: str, *, method: Literal["GET", "PUT"], expires_in: int
    ) -> str:
        try:
            virtual = self._http.virtual_host(bucket)
        except Delegate:
            virtual = False
        return presign_url(
            self._http.base_url,
            self._http.credentials.latest,
            self._http.region,
            bucket,
            key,
            virtual_host=virtual,
            method=method,
            expires_in=expires_in,
        )

    # Served by the other backend unchanged.
    async def create_bucket(self, bucket: str, *, region: str | None = None) -> None:
        await (await self.slow()).create_bucket(bucket, region=region)

    async def delete_bucket(self, bucket: str) -> None:
        await (await self.slow()).delete_bucket(bucket)

    async def head_bucket(self, bucket: str) -> None:
        await (await self.slow()).head_bucket(bucket)

    async def list_versions_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[Version], tuple[str, str] | None]:
        return await (await self.slow()).list_versions_page(bucket, prefix=prefix, token=token)

    async def list_uploads_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[UploadInfo], tuple[str, str] | None]:
        return await (await self.slow()).list_uploads_page(bucket, prefix=prefix, token=token)

    async def delete_object(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        await (await self.slow()).delete_object(bucket, key, version_id=version_id)

    async def delete_objects(self, bucket: str, objects: Sequence[Version]) -> DeleteResult:
        # One request per 1,000 keys: botocore's cost is noise.
        return await (await self.slow()).delete_objects(bucket, objects)

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
    ) -> ObjectInfo:
        slow = await self.slow()
        return await slow.copy_object(source_bucket, source_key, bucket, key, options=options)

    async def put_acl(self, bucket: str, key: str | None, acl: str) -> None:
        await (await self.slow()).put_acl(bucket, key, acl)

    async def get_acl(self, bucket: str, key: str | None) -> list[tuple[str, str]]:
        return await (await self.slow()).get_acl(bucket, key)

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
        slow = await self.slow()
        return await slow.upload_part_copy(
            bucket, key, upload_id, number, source_bucket, source_key, start, end
        )

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[CompletedPart]:
        return await (await self.slow()).list_parts(bucket, key, upload_id)

    # Objects
    @_or_slow
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
        headers = wire.object_headers(checksum, options)
        _sendable(headers)
        if if_none_match:
            headers["if-none-match"] = "*"
        with no_clobber(bucket, key, if_none_match):
            async with self._http.send("PUT", bucket, key, [], headers, body) as response:
                got = response.headers
        found = wire.response_checksum(got)
        etag = got.get("etag", "").strip('"')
        return ObjectInfo(key=key, size=len(body), etag=etag, checksum=str(found or "") or None)

    @_or_slow
    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes:
        headers = {"if-match": f'"{if_match}"'} if if_match else {}
        if start is not None:
            headers["range"] = f"bytes={start}-{'' if end is None else end - 1}"
        async with self._http.send("GET", bucket, key, [], headers) as response:
            return await response.read()

    @_or_slow
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
        if end is None:
            if start:
                raise ValueError("a whole-object GET (end=None) starts at 0")
            headers = {"x-amz-checksum-mode": "ENABLED"}
        else:
            headers = {"range": f"bytes={start}-{end - 1}"}
        if if_match:
            headers["if-match"] = f'"{if_match}"'
        async with self._http.send("GET", bucket, key, [], headers) as response:
            got = response.headers
            if end is not None and (
                problem := wire.range_problem(response.status, got, start, end)
            ):
                raise RetryableError(problem, bucket=bucket, key=key)
            await response.stream(sink)
        return wire.head_info(key, got, whole_size=True, bucket=bucket)

    async def read_range_into(
        self,
        bucket: str,
        key: str,
        *,
        start: int,
        end: int,
        write: Callable[[memoryview], None],
        if_match: str | None = None,
    ) -> ObjectInfo | None:
        """Bytes ``[start, end)`` handed to ``write`` by a worker thread (see :mod:`.blocking`).

        ``write`` runs in that thread, gets views it must not keep, in order. ``None``:
        nothing was fetched, send this range with :meth:`stream_range` instead
        (no thread client, a bucket botocore serves, an answer without a length).
        """
        if self._blocking is None or bucket in self._slow_buckets:
            return None
        headers = {"range": f"bytes={start}-{end - 1}"}
        if if_match:
            headers["if-match"] = f'"{if_match}"'

        def accept(status: int, got: Mapping[str, str]) -> None:
            if problem := wire.range_problem(status, got, start, end):
                raise RetryableError(problem, bucket=bucket, key=key)

        try:
            got = await self._http.get_into(self._blocking, bucket, key, headers, accept, write)
        except Delegate as why:
            if why.sticky:
                self._slow_buckets.add(bucket)
            return None
        except Unframed:
            return None
        return wire.head_info(key, got, whole_size=True)

    @_or_slow
    async def head_object(
        self, bucket: str, key: str, *, part_number: int | None = None, copy_source: bool = False
    ) -> ObjectInfo:
        if copy_source:  # once per copy, which botocore sends anyway: its keys are set there
            return await (await self.slow()).head_object(bucket, key, copy_source=True)
        query = [("partNumber", str(part_number))] if part_number else []
        headers = {"x-amz-checksum-mode": "ENABLED"}
        try:
            async with self._http.send("HEAD", bucket, key, query, headers) as response:
                return wire.head_info(key, response.headers, bucket=bucket)
        except (ObjectNotFound, AccessDenied) as error:
            raise await explain_head(self, bucket, key, error) from None

    async def list_buckets(self) -> list[Bucket]:
        try:
            async with self._http.send("GET", "", None, [], {}) as response:
                return wire.bucket_list(await response.read(XML_BODY_LIMIT), response.status)
        except Delegate:
            return await (await self.slow()).list_buckets()

    @_or_slow
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
        # encoding-type=url, as botocore asks: keys with control characters survive XML.
        query = [("list-type", "2"), ("prefix", prefix), ("max-keys", str(max_keys))]
        query.append(("encoding-type", "url"))
        if delimiter:
            query.append(("delimiter", delimiter))
        if token:
            query.append(("continuation-token", token))
        if start_after:
            query.append(("start-after", start_after))
        async with self._http.send("GET", bucket, None, query, {}) as response:
            return wire.list_page(await response.read(XML_BODY_LIMIT), response.status, bucket)

    # Multipart
    @_or_slow
    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
        checksum_algorithm: str | None = None,
    ) -> str:
        headers = wire.object_headers(None, options)
        _sendable(headers)
        if checksum_algorithm in ("crc32c", "crc32"):
            headers["x-amz-checksum-algorithm"] = str(checksum_algorithm).upper()
        fields = await self._http.xml("POST", bucket, key, [("uploads", "")], headers)
        return fields["UploadId"]

    @_or_slow
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
        query = [("partNumber", str(number)), ("uploadId", upload_id)]
        headers = wire.object_headers(checksum)
        async with self._http.send("PUT", bucket, key, query, headers, body) as response:
            etag = response.headers.get("etag", "").strip('"')
        kept = checksum if checksum and checksum.algorithm != "md5" else None
        return CompletedPart(number, etag, kept, len(body))

    @_or_slow
    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[CompletedPart],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        body = wire.complete_body(parts)
        headers, payload_hash = _body_digests(body)
        if if_none_match:
            headers["if-none-match"] = "*"
        query = [("uploadId", upload_id)]
        with no_clobber(bucket, key, if_none_match):
            fields = await self._http.xml("POST", bucket, key, query, headers, body, payload_hash)
        return wire.completed_info(key, fields, parts)

    @_or_slow
    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        async with self._http.send("DELETE", bucket, key, [("uploadId", upload_id)], {}):
            pass
