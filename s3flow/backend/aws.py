"""AioBotocoreBackend: the S3Backend over aiobotocore.

The only module that imports botocore/aiobotocore. botocore's own retries are
off (``total_max_attempts=1``): the engine owns retries, per part, so budgets
do not multiply. Every botocore error is translated in :func:`translate_errors`.
"""

from __future__ import annotations

import asyncio
import warnings
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

import aiohttp
import anyio.to_thread
import botocore.exceptions as bex
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from s3flow import redact
from s3flow.backend.answers import explain_head, hint, network_text, no_clobber
from s3flow.backend.credentials import Credentials, read_boto_credentials
from s3flow.backend.protocol import Chunks, ListPage, Version, pump
from s3flow.backend.signed import ca_bundle
from s3flow.errors import (
    AccessDenied,
    ConfigError,
    CredentialsError,
    InvalidBucketName,
    ObjectNotFound,
    RetryableError,
    S3FlowError,
    error_for_code,
)
from s3flow.models import (
    Bucket,
    Checksum,
    CompletedPart,
    DeleteFailure,
    DeleteResult,
    ObjectInfo,
    ObjectOptions,
    UploadInfo,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence

    from types_aiobotocore_s3 import S3Client as BotoS3Client

    from s3flow.backend.fast import FastBackend
    from s3flow.config import ConnectConfig

__all__ = ["AioBotocoreBackend", "resolve_credentials", "translate_errors"]

# We hand aiohttp part buffers as bytearrays on purpose: its BytesIO path
# (botocore's default) copies every part twice more. Writing 8 MiB to a socket
# from the loop thread costs about a millisecond, which is what it warns about.
warnings.filterwarnings("ignore", "Sending a large body directly", ResourceWarning)

_CHECKSUM_FIELDS = {"crc32c": "ChecksumCRC32C", "crc32": "ChecksumCRC32"}
_RETRYABLE_IO = (
    bex.EndpointConnectionError,
    bex.ConnectionClosedError,
    bex.ReadTimeoutError,
    bex.ConnectTimeoutError,
    bex.ResponseStreamingError,
    bex.IncompleteReadError,
    aiohttp.ClientPayloadError,
    aiohttp.ClientConnectionError,
    asyncio.TimeoutError,
    ConnectionError,
)


@contextmanager
def translate_errors(bucket: str | None = None, key: str | None = None) -> Iterator[None]:
    """Map botocore/aiohttp failures to S3FlowError. The one ``except ClientError``."""
    try:
        yield
    except S3FlowError:
        raise
    except bex.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(error.get("Message") or code or "request failed")
        cls = error_for_code(code, status)
        raise cls(hint(cls, message), bucket=bucket, key=key, code=code) from exc
    except bex.NoCredentialsError:
        raise CredentialsError(
            "no credentials found; pass access_key/secret_key, set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or configure ~/.aws/credentials or ~/.boto",
            bucket=bucket,
            key=key,
        ) from None
    except bex.ParamValidationError as exc:
        text = str(exc).splitlines()[-1]
        cls = InvalidBucketName if "bucket name" in text.lower() else ConfigError
        raise cls(text, bucket=bucket, key=key) from None
    except _RETRYABLE_IO as exc:
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or _connector(exc)
        text = network_text(exc, endpoint) if endpoint else f"{type(exc).__name__}: {exc}"
        raise RetryableError(text.split("\n")[0], bucket=bucket, key=key) from exc


def _connector(exc: BaseException) -> str:
    """``host:port`` of an aiohttp connect failure, else ""."""
    host, port = getattr(exc, "host", None), getattr(exc, "port", None)
    return f"{host}:{port}" if host else ""


def _etag(value: str | None) -> str:
    return (value or "").strip('"')


def _checksum(response: Any) -> Checksum | None:
    for algorithm, name in _CHECKSUM_FIELDS.items():
        if response.get(name):
            return Checksum(algorithm, response[name])
    return None


def _checksum_args(checksum: Checksum | None) -> dict[str, Any]:
    if checksum is None:
        return {}
    if checksum.algorithm == "md5":
        return {"ContentMD5": checksum.value}
    return {_CHECKSUM_FIELDS[checksum.algorithm]: checksum.value}


def _options_args(options: ObjectOptions | None) -> dict[str, Any]:
    if options is None:
        return {}
    args: dict[str, Any] = {
        name: value
        for name, value in (
            ("ContentType", options.content_type),
            ("CacheControl", options.cache_control),
            ("ContentEncoding", options.content_encoding),
            ("ContentDisposition", options.content_disposition),
            ("ContentLanguage", options.content_language),
            ("Expires", options.expires),
            ("ACL", options.acl),
            ("StorageClass", options.storage_class),
            ("ServerSideEncryption", options.sse),
            ("SSEKMSKeyId", options.sse_kms_key_id),
        )
        if value
    }
    if options.metadata:
        args["Metadata"] = dict(options.metadata)
    if options.tagging:
        args["Tagging"] = urlencode(list(options.tagging.items()), quote_via=quote)
    return args


def _copy_directives(options: ObjectOptions | None) -> dict[str, Any]:
    """CopyObject keeps the source's metadata and tags unless told to replace them."""
    if options is None:
        return {}
    directives: dict[str, Any] = {}
    if options.metadata or any(
        (
            options.content_type,
            options.cache_control,
            options.content_encoding,
            options.content_disposition,
            options.content_language,
            options.expires,
        )
    ):
        directives["MetadataDirective"] = "REPLACE"
    if options.tagging:
        directives["TaggingDirective"] = "REPLACE"
    return directives


def _object_info(key: str, r: Mapping[str, Any], *, whole_size: bool = False) -> ObjectInfo:
    """From a HeadObject or GetObject answer; see ``wire.head_info`` for ``whole_size``."""
    checksum = _checksum(r)
    total = str(r.get("ContentRange", "")).rpartition("/")[2] if whole_size else ""
    return ObjectInfo(
        key=key,
        size=int(total) if total.isdigit() else r.get("ContentLength", 0),
        etag=_etag(r.get("ETag")),
        last_modified=r.get("LastModified"),
        storage_class=r.get("StorageClass"),
        checksum=str(checksum) if checksum else None,
        parts=r.get("PartsCount"),
        version_id=r.get("VersionId"),
        metadata=tuple(sorted(r.get("Metadata", {}).items())),
        content_type=r.get("ContentType"),
        cache_control=r.get("CacheControl"),
        content_encoding=r.get("ContentEncoding"),
        content_disposition=r.get("ContentDisposition"),
        expires=r.get("ExpiresString") or _text(r.get("Expires")),
        sse=r.get("ServerSideEncryption"),
        sse_kms_key_id=r.get("SSEKMSKeyId"),
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    return format_datetime(value, usegmt=True) if isinstance(value, datetime) else str(value)


def _range(start: int | None, end: int | None) -> dict[str, str]:
    if start is None:
        return {}
    return {"Range": f"bytes={start}-{'' if end is None else end - 1}"}


async def resolve_credentials(
    session: AioSession,
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None = None,
) -> Credentials | None:
    """Explicit keys, then the AWS chain, then ``~/.boto`` (file reads in threads)."""
    if access_key or secret_key:
        if not (access_key and secret_key):
            raise CredentialsError("give both access_key and secret_key, or neither")
        return Credentials(access_key, secret_key, session_token)
    try:
        found = await session.get_credentials()
    except bex.ProfileNotFound as exc:
        raise CredentialsError(f"{exc}; check --profile and ~/.aws/config") from None
    if found is not None:
        frozen = await found.get_frozen_credentials()
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token, source=found.method)
    return await anyio.to_thread.run_sync(read_boto_credentials)


def presign_url(
    endpoint_url: str | None,
    credentials: Credentials | None,
    region: str,
    bucket: str,
    key: str,
    *,
    method: Literal["GET", "PUT"],
    expires_in: int,
) -> str:
    """A SigV4 query-signed URL, path-style, as botocore signs it.

    Signing is pure computation over frozen credentials, so this needs no
    client and no await (aiobotocore's version is async only to refresh them).
    """
    if credentials is None:
        raise CredentialsError("cannot presign without credentials", bucket=bucket, key=key)
    base = endpoint_url or f"https://s3.{region}.amazonaws.com"
    url = f"{base.rstrip('/')}/{quote(bucket)}/{quote(key, safe='/~')}"
    request = AWSRequest(method=method, url=url)
    creds = BotoCredentials(
        credentials.access_key, credentials.secret_key, credentials.session_token
    )
    S3SigV4QueryAuth(creds, "s3", region, expires=expires_in).add_auth(request)
    return str(request.url)


class AioBotocoreBackend:
    """S3Backend over one long-lived aiobotocore client. Open with :meth:`open`."""

    def __init__(
        self,
        client: BotoS3Client,
        config: ConnectConfig,
        credentials: Credentials | None,
        region: str,
    ) -> None:
        self._client = client
        self._config = config
        self._credentials = credentials
        self._region = region

    def __repr__(self) -> str:
        return (
            f"AioBotocoreBackend(endpoint={self._config.endpoint_url!r}, region={self._region!r})"
        )

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        config: ConnectConfig,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        profile: str | None = None,
        fast_path_wrap: bool = True,
    ) -> AsyncIterator[AioBotocoreBackend | FastBackend]:
        """Open the client; with ``config.fast_path`` (and ``fast_path_wrap``) wrapped in a FastBackend."""
        session = get_session()
        if profile:
            session.set_config_variable("profile", profile)
        credentials = await resolve_credentials(session, access_key, secret_key, session_token)
        redact.install()
        if credentials is not None:
            redact.register_secret(credentials.secret_key)
            redact.register_secret(credentials.session_token)
        region = config.region or session.get_config_variable("region") or "us-east-1"
        boto_config = AioConfig(
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=config.max_pool_connections,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            tcp_keepalive=True,
            s3={
                "addressing_style": "path" if config.use_path_style else "auto",
                # Every body carries a CRC32C the server verifies, so a SHA-256
                # of each body (botocore's default over plain HTTP) buys nothing
                # and costs ~0.8 CPU-s per GiB.
                "payload_signing_enabled": False,
            },
            # We send our own CRC32C per part and verify downloads ourselves;
            # botocore's extra CRC32 pass would double the hashing cost.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(
                session.create_client(
                    "s3",
                    region_name=region,
                    endpoint_url=config.endpoint_url,
                    aws_access_key_id=credentials.access_key if credentials else None,
                    aws_secret_access_key=credentials.secret_key if credentials else None,
                    aws_session_token=credentials.session_token if credentials else None,
                    verify=config.verify_tls,
                    config=boto_config,
                )
            )
            slow = cls(client, config, credentials, region)
            if not fast_path_wrap:
                yield slow
                return
            # With config.fast_path, hot calls skip botocore (backend/fast.py).
            from s3flow.backend.fast import with_fast_path

            yield await with_fast_path(
                stack,
                slow,
                config=config,
                credentials=credentials,
                region=region,
                resolved_endpoint=client.meta.endpoint_url,
                accelerate=bool((client.meta.config.s3 or {}).get("use_accelerate_endpoint")),
                ca_file=ca_bundle(),
            )

    @property
    def supports_conditional_writes(self) -> bool:
        return True

    # Buckets
    async def list_buckets(self) -> list[Bucket]:
        with translate_errors():
            response = await self._client.list_buckets()
        return [Bucket(b["Name"], b.get("CreationDate")) for b in response.get("Buckets", [])]

    async def create_bucket(self, bucket: str, *, region: str | None = None) -> None:
        region = region or self._region
        args: dict[str, Any] = {}
        if region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with translate_errors(bucket):
            await self._client.create_bucket(Bucket=bucket, **args)

    async def delete_bucket(self, bucket: str) -> None:
        with translate_errors(bucket):
            await self._client.delete_bucket(Bucket=bucket)

    async def head_bucket(self, bucket: str) -> None:
        with translate_errors(bucket):
            try:
                await self._client.head_bucket(Bucket=bucket)
            except bex.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NotFound"):
                    exc.response["Error"]["Code"] = "NoSuchBucket"
                raise

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
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
        if delimiter:
            args["Delimiter"] = delimiter
        if token:
            args["ContinuationToken"] = token
        if start_after:
            args["StartAfter"] = start_after
        with translate_errors(bucket):
            r = await self._client.list_objects_v2(**args)
        objects = tuple(
            ObjectInfo(
                key=o["Key"],
                size=o.get("Size", 0),
                etag=_etag(o.get("ETag")),
                last_modified=o.get("LastModified"),
                storage_class=o.get("StorageClass"),
            )
            for o in r.get("Contents", [])
        )
        prefixes = tuple(p["Prefix"] for p in r.get("CommonPrefixes", []))
        next_token = r.get("NextContinuationToken") if r.get("IsTruncated") else None
        return ListPage(objects=objects, prefixes=prefixes, next_token=next_token)

    async def list_versions_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[Version], tuple[str, str] | None]:
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if token:
            args["KeyMarker"], args["VersionIdMarker"] = token
        with translate_errors(bucket):
            r = await self._client.list_object_versions(**args)
        found = [
            Version(v["Key"], v.get("VersionId"))
            for v in [*r.get("Versions", []), *r.get("DeleteMarkers", [])]
        ]
        nxt = (r.get("NextKeyMarker", ""), r.get("NextVersionIdMarker", ""))
        return found, nxt if r.get("IsTruncated") else None

    async def list_uploads_page(
        self, bucket: str, *, prefix: str = "", token: tuple[str, str] | None = None
    ) -> tuple[list[UploadInfo], tuple[str, str] | None]:
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if token:
            args["KeyMarker"], args["UploadIdMarker"] = token
        with translate_errors(bucket):
            r = await self._client.list_multipart_uploads(**args)
        found = [
            UploadInfo(key=u["Key"], upload_id=u["UploadId"], initiated=u.get("Initiated"))
            for u in r.get("Uploads", [])
        ]
        nxt = (r.get("NextKeyMarker", ""), r.get("NextUploadIdMarker", ""))
        return found, nxt if r.get("IsTruncated") else None

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
        args = {**_checksum_args(checksum), **_options_args(options)}
        if if_none_match:
            args["IfNoneMatch"] = "*"
        with no_clobber(bucket, key, if_none_match), translate_errors(bucket, key):
            r = await self._client.put_object(Bucket=bucket, Key=key, Body=body, **args)
        return ObjectInfo(
            key=key,
            size=len(body),
            etag=_etag(r.get("ETag")),
            checksum=str(_checksum(r) or "") or None,
        )

    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes:
        args: dict[str, Any] = _range(start, end)
        if if_match:
            args["IfMatch"] = f'"{if_match}"'
        with translate_errors(bucket, key):
            r = await self._client.get_object(Bucket=bucket, Key=key, **args)
            async with r["Body"] as body:
                data: bytes = await body.read()
        return data

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
        args: dict[str, Any] = {"ChecksumMode": "ENABLED"} if end is None else _range(start, end)
        if if_match:
            args["IfMatch"] = f'"{if_match}"'
        with translate_errors(bucket, key):
            r = await self._client.get_object(Bucket=bucket, Key=key, **args)
            # aiohttp's reader hands over chunks as received; StreamingBody.read()
            # would join them into one more multi-MiB copy.
            async with r["Body"] as response:
                await pump(response.content.readany, sink)
        return _object_info(key, r, whole_size=True)

    async def iter_object(
        self,
        bucket: str,
        key: str,
        *,
        start: int | None = None,
        if_match: str | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> AsyncIterator[bytes]:
        args: dict[str, Any] = _range(start, None)
        if if_match:
            args["IfMatch"] = f'"{if_match}"'
        with translate_errors(bucket, key):
            r = await self._client.get_object(Bucket=bucket, Key=key, **args)
            async with r["Body"] as body:
                async for chunk in body.iter_chunks(chunk_size):
                    yield chunk

    async def head_object(
        self, bucket: str, key: str, *, part_number: int | None = None
    ) -> ObjectInfo:
        args: dict[str, Any] = {"ChecksumMode": "ENABLED"}
        if part_number:
            args["PartNumber"] = part_number
        try:
            with translate_errors(bucket, key):
                r = await self._client.head_object(Bucket=bucket, Key=key, **args)
        except (ObjectNotFound, AccessDenied) as error:
            raise await explain_head(self, bucket, key, error) from None
        return _object_info(key, r)

    async def delete_object(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        args: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        with translate_errors(bucket, key):
            await self._client.delete_object(Bucket=bucket, Key=key, **args)

    async def delete_objects(self, bucket: str, objects: Sequence[Version]) -> DeleteResult:
        entries: list[Any] = [
            {"Key": o.key, **({"VersionId": o.version_id} if o.version_id else {})} for o in objects
        ]
        with translate_errors(bucket):
            r = await self._client.delete_objects(
                Bucket=bucket, Delete={"Objects": entries, "Quiet": False}
            )
        return DeleteResult(
            deleted=tuple(d["Key"] for d in r.get("Deleted", [])),
            failed=tuple(
                DeleteFailure(e.get("Key", ""), e.get("Code", ""), e.get("Message", ""))
                for e in r.get("Errors", [])
            ),
        )

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
    ) -> ObjectInfo:
        with translate_errors(bucket, key):
            r = await self._client.copy_object(
                Bucket=bucket,
                Key=key,
                CopySource={"Bucket": source_bucket, "Key": source_key},
                **_copy_directives(options),
                **_options_args(options),
            )
        result = r.get("CopyObjectResult", {})
        return ObjectInfo(key=key, size=0, etag=_etag(result.get("ETag")))

    async def put_acl(self, bucket: str, key: str | None, acl: str) -> None:
        with translate_errors(bucket, key):
            if key is None:
                await self._client.put_bucket_acl(Bucket=bucket, ACL=acl)  # type: ignore[arg-type]
            else:
                await self._client.put_object_acl(Bucket=bucket, Key=key, ACL=acl)  # type: ignore[arg-type]

    async def get_acl(self, bucket: str, key: str | None) -> list[tuple[str, str]]:
        with translate_errors(bucket, key):
            if key is None:
                r: Any = await self._client.get_bucket_acl(Bucket=bucket)
            else:
                r = await self._client.get_object_acl(Bucket=bucket, Key=key)
        grants = []
        for grant in r.get("Grants", []):
            grantee = grant.get("Grantee", {})
            who = grantee.get("URI") or grantee.get("ID") or grantee.get("DisplayName") or "?"
            grants.append((who, grant.get("Permission", "")))
        return grants

    def presign(
        self, bucket: str, key: str, *, method: Literal["GET", "PUT"], expires_in: int
    ) -> str:
        return presign_url(
            self._config.endpoint_url,
            self._credentials,
            self._region,
            bucket,
            key,
            method=method,
            expires_in=expires_in,
        )

    # Multipart
    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        options: ObjectOptions | None = None,
        checksum_algorithm: str | None = None,
    ) -> str:
        args = _options_args(options)
        if checksum_algorithm in _CHECKSUM_FIELDS:
            args["ChecksumAlgorithm"] = str(checksum_algorithm).upper()
        with translate_errors(bucket, key):
            r = await self._client.create_multipart_upload(Bucket=bucket, Key=key, **args)
        return r["UploadId"]

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
        with translate_errors(bucket, key):
            r = await self._client.upload_part(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                **_checksum_args(checksum),
            )
        return CompletedPart(
            number,
            _etag(r.get("ETag")),
            checksum if checksum and checksum.algorithm != "md5" else None,
            len(body),
        )

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
        with translate_errors(bucket, key):
            r = await self._client.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": source_bucket, "Key": source_key},
                CopySourceRange=f"bytes={start}-{end - 1}",
            )
        return CompletedPart(
            number, _etag(r.get("CopyPartResult", {}).get("ETag")), None, end - start
        )

    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[CompletedPart],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        entries: list[Any] = []
        for part in parts:
            entry: dict[str, Any] = {"PartNumber": part.number, "ETag": f'"{part.etag}"'}
            if part.checksum is not None:
                entry[_CHECKSUM_FIELDS[part.checksum.algorithm]] = part.checksum.value
            entries.append(entry)
        args: dict[str, Any] = {"IfNoneMatch": "*"} if if_none_match else {}
        with no_clobber(bucket, key, if_none_match), translate_errors(bucket, key):
            r = await self._client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": entries},
                **args,
            )
        checksum = _checksum(r)
        return ObjectInfo(
            key=key,
            size=sum(p.size for p in parts),
            etag=_etag(r.get("ETag")),
            checksum=str(checksum) if checksum else None,
            parts=len(parts),
        )

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        with translate_errors(bucket, key):
            await self._client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[CompletedPart]:
        parts: list[CompletedPart] = []
        marker = 0
        while True:
            with translate_errors(bucket, key):
                r = await self._client.list_parts(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
            parts.extend(
                CompletedPart(p["PartNumber"], _etag(p.get("ETag")), _checksum(p), p.get("Size", 0))
                for p in r.get("Parts", [])
            )
            if not r.get("IsTruncated"):
                return parts
            marker = int(r.get("NextPartNumberMarker", 0))
