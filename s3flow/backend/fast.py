"""FastBackend: the hot S3 calls over plain aiohttp, everything else via botocore.

botocore's per-request machinery (serialisers, event hooks, endpoint rules,
response parsers) costs more CPU than the transfer itself for small objects.
The object and multipart calls the engine makes per file and per part are
sent here directly over :class:`~s3flow.backend.signed.SignedSession` (SigV4,
URLs, error mapping), encoded and decoded by :mod:`s3flow.backend.wire`.
Every other call, and every call the fast path cannot make exactly like
botocore would (dotted bucket names on AWS, a bucket in another region,
non-ASCII metadata), goes to the wrapped
:class:`~s3flow.backend.aws.AioBotocoreBackend` unchanged.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar, cast

from s3flow.backend import wire
from s3flow.backend.aws import _no_clobber
from s3flow.backend.protocol import pump
from s3flow.backend.signed import Delegate, SignedSession, new_session
from s3flow.errors import RetryableError
from s3flow.models import CompletedPart, ObjectInfo

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence
    from contextlib import AsyncExitStack

    import aiohttp

    from s3flow.backend.aws import AioBotocoreBackend  # imported at runtime above, via _no_clobber
    from s3flow.backend.credentials import Credentials
    from s3flow.backend.protocol import ListPage
    from s3flow.config import ConnectConfig
    from s3flow.models import Checksum, ObjectOptions

__all__ = ["FastBackend", "with_fast_path"]

F = TypeVar("F", bound="Callable[..., Awaitable[Any]]")


async def with_fast_path(
    stack: AsyncExitStack,
    slow: AioBotocoreBackend,
    *,
    config: ConnectConfig,
    credentials: Credentials | None,
    region: str,
    resolved_endpoint: str,
    accelerate: bool,
    ca_file: str | None,
) -> AioBotocoreBackend | FastBackend:
    """Wrap ``slow`` in a FastBackend whose session closes with ``stack``, when allowed."""
    base = wire.fast_endpoint(config, credentials, resolved_endpoint, region, accelerate=accelerate)
    if base is None or credentials is None:
        return slow
    session = await stack.enter_async_context(new_session(config, ca_file))
    return FastBackend(slow, session, credentials, base, region, config.use_path_style)


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
        return await getattr(self._slow, name)(bucket, *args, **kwargs)

    return cast("F", call)


class _Forward:
    """A method served by the slow backend, unchanged."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: FastBackend | None, owner: type) -> Any:
        return getattr(instance._slow, self.name) if instance is not None else self


def _ascii(headers: Mapping[str, str]) -> None:
    if not all(v.isascii() for v in headers.values()):
        raise Delegate(sticky=False)  # botocore knows how S3 wants those encoded


class FastBackend:
    """S3Backend: hot calls over one aiohttp session, the rest via ``slow``."""

    def __init__(
        self,
        slow: AioBotocoreBackend,
        session: aiohttp.ClientSession,
        credentials: Credentials,
        endpoint: str,
        region: str,
        path_style: bool,
    ) -> None:
        self._slow = slow
        self._http = SignedSession(session, credentials, endpoint, region, path_style)
        self._slow_buckets: set[str] = set()

    def __repr__(self) -> str:
        return f"FastBackend({self._http!r})"

    def __getattr__(self, name: str) -> Any:  # anything else the slow backend has
        if name == "_slow":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self._slow, name)

    @property
    def supports_conditional_writes(self) -> bool:
        return self._slow.supports_conditional_writes

    # Served by botocore unchanged (one descriptor each: it learns its name).
    list_buckets = _Forward()
    create_bucket = _Forward()
    delete_bucket = _Forward()
    head_bucket = _Forward()
    list_versions_page = _Forward()
    list_uploads_page = _Forward()
    iter_object = _Forward()
    delete_object = _Forward()
    copy_object = _Forward()
    put_acl = _Forward()
    get_acl = _Forward()
    presign = _Forward()
    upload_part_copy = _Forward()
    list_parts = _Forward()
    delete_objects = _Forward()  # one request per 1,000 keys: botocore's cost is noise

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
        _ascii(headers)
        if if_none_match:
            headers["if-none-match"] = "*"
        with _no_clobber(bucket, key, if_none_match):
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
        sink: Callable[[list[bytes]], Awaitable[None]],
        if_match: str | None = None,
    ) -> ObjectInfo:
        if end is None:
            assert start == 0, "a whole-object GET starts at 0"
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
            await pump(response.content.readany, sink)
        return wire.head_info(key, got, whole_size=True)

    @_or_slow
    async def head_object(
        self, bucket: str, key: str, *, part_number: int | None = None
    ) -> ObjectInfo:
        query = [("partNumber", str(part_number))] if part_number else []
        headers = {"x-amz-checksum-mode": "ENABLED"}
        async with self._http.send("HEAD", bucket, key, query, headers) as response:
            return wire.head_info(key, response.headers)

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
            return wire.list_page(await response.read(), response.status, bucket)

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
        _ascii(headers)
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
        headers = {"if-none-match": "*"} if if_none_match else {}
        body = wire.complete_body(parts)
        query = [("uploadId", upload_id)]
        with _no_clobber(bucket, key, if_none_match):
            fields = await self._http.xml("POST", bucket, key, query, headers, body)
        return wire.completed_info(key, fields, parts)

    @_or_slow
    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        async with self._http.send("DELETE", bucket, key, [("uploadId", upload_id)], {}):
            pass
