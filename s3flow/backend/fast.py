"""FastBackend: the hot S3 calls over our own HTTP/1.1 client, everything else via botocore.

botocore's per-request machinery (serialisers, event hooks, endpoint rules,
response parsers) costs more CPU than the transfer itself for small objects.
The object and multipart calls the engine makes per file and per part are
sent here directly over :class:`~s3flow.backend.signed.SignedSession` (SigV4,
URLs, error mapping), encoded and decoded by :mod:`s3flow.backend.wire`.
Every other call, and every call the fast path cannot make exactly like
botocore would (dotted bucket names on AWS, a bucket in another region,
non-ASCII metadata), goes to the wrapped
:class:`~s3flow.backend.aws.AioBotocoreBackend` unchanged, which
:func:`open_without_botocore` creates only when such a call comes.
This module never imports botocore itself (an import-linter contract).
"""

from __future__ import annotations

import functools
import os
import re
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import anyio

from s3flow import redact
from s3flow.backend import wire
from s3flow.backend.answers import explain_head, no_clobber
from s3flow.backend.credentials import Credentials
from s3flow.backend.signed import Delegate, SignedSession, ca_bundle, new_session
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

    from s3flow.backend.aws import AioBotocoreBackend
    from s3flow.backend.http11 import HttpClient
    from s3flow.backend.protocol import Chunks, ListPage
    from s3flow.config import ConnectConfig
    from s3flow.models import Bucket, Checksum, ObjectOptions

__all__ = ["FastBackend", "open_without_botocore", "quick_start", "with_fast_path"]

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

    async def opened() -> AioBotocoreBackend:
        return slow

    return FastBackend(opened, session, credentials, base, region, config)


def quick_start(
    config: ConnectConfig,
    *,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    profile: str | None,
) -> tuple[Credentials, str] | None:
    """Credentials and region when botocore would surely resolve the same ones, else ``None``.

    Only the plain cases: a custom endpoint with both keys given, or static
    keys in the environment and no profile; the region given, in
    ``AWS_DEFAULT_REGION``, or no AWS config file that could name one.
    Anything else (profiles, SSO, roles, ``~/.boto``) goes through botocore.

    >>> from s3flow.config import ConnectConfig
    >>> cfg = ConnectConfig(endpoint_url="http://127.0.0.1:8333", region="eu-west-1")
    >>> creds, region = quick_start(
    ...     cfg, access_key="AK", secret_key="s", session_token=None, profile=None)
    >>> creds.source, region
    ('explicit', 'eu-west-1')
    """
    env = os.environ
    if access_key and secret_key:
        credentials = Credentials(access_key, secret_key, session_token)
    elif access_key or secret_key or profile or env.get("AWS_PROFILE"):
        return None
    elif env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        if env.get("AWS_CREDENTIAL_EXPIRATION"):  # botocore would refresh these
            return None
        token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN")
        credentials = Credentials(
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], token, source="env"
        )
    else:
        return None
    region = config.region or env.get("AWS_DEFAULT_REGION")
    if region is None:
        config_file = Path(env.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
        if config_file.exists():
            return None
        region = "us-east-1"
    if (
        config.endpoint_url is None
        or wire.fast_endpoint(config, credentials, config.endpoint_url, region) is None
    ):
        return None
    return credentials, region


@asynccontextmanager
async def open_without_botocore(
    config: ConnectConfig, credentials: Credentials, region: str
) -> AsyncIterator[FastBackend]:
    """A FastBackend whose botocore client is created only when a call needs it.

    For a custom endpoint with static keys (see :func:`quick_start`),
    importing botocore and building its client cost about 0.3 s of a CLI
    run's start-up, before the first byte moves; the hot calls never need it.
    """
    base = wire.fast_endpoint(config, credentials, config.endpoint_url or "", region)
    if base is None:
        raise ValueError("open_without_botocore needs a fast-path endpoint")
    redact.install()
    redact.register_secret(credentials.secret_key)
    redact.register_secret(credentials.session_token)
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(new_session(config, ca_bundle()))

        async def open_slow() -> AioBotocoreBackend:
            from s3flow.backend.aws import AioBotocoreBackend

            opening = AioBotocoreBackend.open(
                replace(config, region=region),
                access_key=credentials.access_key,
                secret_key=credentials.secret_key,
                session_token=credentials.session_token,
                fast_path_wrap=False,
            )
            return cast("AioBotocoreBackend", await stack.enter_async_context(opening))

        yield FastBackend(open_slow, session, credentials, base, region, config)


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


class _Forward:
    """A method served by the slow backend, unchanged."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: FastBackend | None, owner: type) -> Any:
        if instance is None:
            return self
        name = self.name

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await getattr(await instance.slow(), name)(*args, **kwargs)

        return call


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")


def _sendable(headers: Mapping[str, str]) -> None:
    if not all(v.isascii() for v in headers.values()) or not all(
        _TOKEN.fullmatch(name) for name in headers
    ):
        raise Delegate(sticky=False)  # botocore knows how S3 wants those encoded (or refuses)


class FastBackend:
    """S3Backend: hot calls over one keep-alive pool, the rest via ``slow``."""

    def __init__(
        self,
        open_slow: Callable[[], Awaitable[AioBotocoreBackend]],
        session: HttpClient,
        credentials: Credentials,
        endpoint: str,
        region: str,
        config: ConnectConfig,
    ) -> None:
        self._open_slow = open_slow
        self._slow: AioBotocoreBackend | None = None
        self._opening = anyio.Lock()
        self._http = SignedSession(session, credentials, endpoint, region, config.use_path_style)
        self._credentials = credentials
        self._region = region
        self._endpoint_url = config.endpoint_url
        self._slow_buckets: set[str] = set()

    def __repr__(self) -> str:
        return f"FastBackend({self._http!r})"

    async def slow(self) -> AioBotocoreBackend:
        """The botocore backend for everything else, opened on first use."""
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
        from s3flow.backend.aws import presign_url  # signing only: no client is opened

        return presign_url(
            self._endpoint_url,
            self._credentials,
            self._region,
            bucket,
            key,
            method=method,
            expires_in=expires_in,
        )

    # Served by botocore unchanged (one descriptor each: it learns its name).
    create_bucket = _Forward()
    delete_bucket = _Forward()
    head_bucket = _Forward()
    list_versions_page = _Forward()
    list_uploads_page = _Forward()
    delete_object = _Forward()
    copy_object = _Forward()
    put_acl = _Forward()
    get_acl = _Forward()
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
        return wire.head_info(key, got, whole_size=True)

    @_or_slow
    async def head_object(
        self, bucket: str, key: str, *, part_number: int | None = None
    ) -> ObjectInfo:
        query = [("partNumber", str(part_number))] if part_number else []
        headers = {"x-amz-checksum-mode": "ENABLED"}
        try:
            async with self._http.send("HEAD", bucket, key, query, headers) as response:
                return wire.head_info(key, response.headers)
        except (ObjectNotFound, AccessDenied) as error:
            raise await explain_head(self, bucket, key, error) from None

    async def list_buckets(self) -> list[Bucket]:
        try:
            async with self._http.send("GET", "", None, [], {}) as response:
                return wire.bucket_list(await response.read(), response.status)
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
        headers = {"if-none-match": "*"} if if_none_match else {}
        body = wire.complete_body(parts)
        query = [("uploadId", upload_id)]
        with no_clobber(bucket, key, if_none_match):
            fields = await self._http.xml("POST", bucket, key, query, headers, body)
        return wire.completed_info(key, fields, parts)

    @_or_slow
    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        async with self._http.send("DELETE", bucket, key, [("uploadId", upload_id)], {}):
            pass
