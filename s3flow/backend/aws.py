"""AioBotocoreBackend: the S3Backend over aiobotocore.

The only module that imports botocore/aiobotocore. botocore's own retries are
off (``total_max_attempts=1``): the engine owns retries, per part, so budgets
do not multiply. Every botocore error is translated in :func:`translate_errors`.
"""

from __future__ import annotations

import asyncio
import warnings
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Literal, NoReturn
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import anyio.to_thread
import botocore.exceptions as bex
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession, get_session

from s3flow import redact
from s3flow.backend.answers import (
    certificate_error,
    explain_head,
    hint,
    network_text,
    no_clobber,
)
from s3flow.backend.credentials import (
    Credentials,
    CredentialSource,
    StaticCredentials,
    read_boto_credentials,
)
from s3flow.backend.presign import dns_compatible, presign_url
from s3flow.backend.protocol import Chunks, ListPage, Version, pump
from s3flow.backend.sizes import malformed, reply_int
from s3flow.backend.wire import continuation, listed_size
from s3flow.errors import (
    AccessDenied,
    ConfigError,
    CredentialsError,
    InvalidBucketName,
    ObjectNotFound,
    RetryableError,
    S3FlowError,
    ServiceError,
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
    import ssl
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence

    from types_aiobotocore_s3 import S3Client as BotoS3Client

    from s3flow.config import ConnectConfig

__all__ = [
    "AioBotocoreBackend",
    "BotocoreSetup",
    "ChainCredentials",
    "resolve",
    "translate_errors",
]

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
        raise _service_error(exc, bucket, key) from exc
    except bex.NoCredentialsError:
        raise CredentialsError(
            "no credentials found; pass access_key/secret_key, set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or configure ~/.aws/credentials or ~/.boto",
            bucket=bucket,
            key=key,
        ) from None
    except bex.ParamValidationError as exc:
        raise _invalid_parameter(exc, bucket, key) from None
    except bex.SSLError as exc:
        _raise_tls(exc, bucket, key)
    except _RETRYABLE_IO as exc:
        raise _network_error(exc, bucket, key) from exc
    except (bex.HTTPClientError, ValueError) as exc:
        error = _malformed_answer(exc, bucket, key)
        if error is None:
            raise
        raise error from None


def _service_error(exc: bex.ClientError, bucket: str | None, key: str | None) -> S3FlowError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = str(error.get("Message") or code or "request failed")
    cls = error_for_code(code, status)
    return cls(hint(cls, message), bucket=bucket, key=key, code=code)


def _invalid_parameter(
    exc: bex.ParamValidationError, bucket: str | None, key: str | None
) -> S3FlowError:
    text = str(exc).splitlines()[-1]
    cls = InvalidBucketName if "bucket name" in text.lower() else ConfigError
    return cls(text, bucket=bucket, key=key)


def _raise_tls(exc: bex.SSLError, bucket: str | None, key: str | None) -> NoReturn:
    # An untrusted certificate is the user's to fix (no retry); any other TLS failure may pass.
    cause = exc.kwargs.get("error")
    if isinstance(cause, aiohttp.ClientConnectorCertificateError):
        url = urlsplit(str(exc.kwargs.get("endpoint_url", "")))
        endpoint = f"{url.scheme}://{url.netloc}" if url.netloc else "the endpoint"
        raise certificate_error(endpoint, str(cause.certificate_error)) from None
    raise RetryableError(f"SSLError: {exc}".split("\n")[0], bucket=bucket, key=key) from exc


def _network_error(exc: BaseException, bucket: str | None, key: str | None) -> S3FlowError:
    endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or _connector(exc)
    text = network_text(exc, endpoint) if endpoint else f"{type(exc).__name__}: {exc}"
    return RetryableError(text.split("\n")[0], bucket=bucket, key=key)


def _malformed_answer(
    exc: bex.HTTPClientError | ValueError, bucket: str | None, key: str | None
) -> S3FlowError | None:
    """An answer botocore or aiohttp could not read, else None (not ours to map)."""
    if isinstance(exc, ValueError):
        if not _raised_by_botocore_parser(exc):
            return None
        # A header or field that should be a number is not ("x-amz-mp-parts-count: two").
        return malformed(str(exc).split("\n")[0], bucket=bucket, key=key)
    cause = exc.kwargs.get("error")
    if type(exc) is not bex.HTTPClientError or not isinstance(
        cause, (aiohttp.ClientResponseError, UnicodeDecodeError)
    ):
        return None
    # aiohttp refused the answer's head ("Content-Length: 12abc", bytes not UTF-8).
    said = cause.message if isinstance(cause, aiohttp.ClientResponseError) else str(cause)
    return malformed(said.split("\n")[0].rstrip(":"), bucket=bucket, key=key)


def _raised_by_botocore_parser(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(("botocore/parsers.py", "botocore\\parsers.py")):
            return True
        tb = tb.tb_next
    return False


class _HostCheckingSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's HTTP session, with TLS host names checked.

    botocore builds urllib3's context, which leaves the host-name check to
    urllib3; aiohttp does none of its own, so a trusted certificate for any
    other name (or no IP entry for the address) was accepted. Measured here
    with a certificate for one DNS name served on 127.0.0.1.
    """

    def _get_ssl_context(self) -> ssl.SSLContext:
        context: ssl.SSLContext = super()._get_ssl_context()
        context.check_hostname = True  # only called when verifying at all
        return context


def _connector(exc: BaseException) -> str:
    """``host:port`` of an aiohttp connect failure, else ""."""
    host, port = getattr(exc, "host", None), getattr(exc, "port", None)
    return f"{host}:{port}" if host else ""


def _listed(record: Mapping[str, Any], name: str, bucket: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        raise ServiceError(f"malformed listing answer: an entry without <{name}>", bucket=bucket)
    return value


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


def _object_info(
    bucket: str, key: str, r: Mapping[str, Any], *, whole_size: bool = False
) -> ObjectInfo:
    """From a HeadObject or GetObject answer; see ``wire.head_info`` for ``whole_size``."""
    checksum = _checksum(r)
    total = str(r.get("ContentRange", "")).rpartition("/")[2] if whole_size else ""
    if total and total != "*":  # "*": the server did not say; the Content-Length then
        size = reply_int(total, "Content-Range total", bucket=bucket, key=key)
    else:
        size = r.get("ContentLength", 0)  # botocore has checked it is an integer
        if size < 0:
            raise malformed(f"Content-Length {size}", bucket=bucket, key=key)
    return ObjectInfo(
        key=key,
        size=size,
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


class ChainCredentials:
    """A CredentialSource over botocore's credentials object from the AWS chain.

    aiobotocore's refreshable credentials refresh themselves inside
    ``get_frozen_credentials``: in the advisory window (15 min before expiry)
    one caller refreshes while the others sign with the current keys; in the
    mandatory one (10 min) every caller waits for that one refresh.
    """

    def __init__(self, found: Any) -> None:
        self._found = found
        self._method = str(getattr(found, "method", "chain"))
        self._latest: Credentials | None = None
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"ChainCredentials({self._method!r}, refreshable={self.refreshable})"

    @property
    def refreshable(self) -> bool:
        return isinstance(self._found, AioRefreshableCredentials)

    @property
    def latest(self) -> Credentials:
        if self._latest is None:
            raise RuntimeError("ChainCredentials.current() was never awaited")
        return self._latest

    async def current(self) -> Credentials:
        try:
            frozen = await self._found.get_frozen_credentials()
        except (bex.BotoCoreError, RuntimeError) as exc:  # RuntimeError: refreshed, still expired
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CredentialsError(f"could not get credentials ({self._method}): {text}") from None
        latest = self._latest
        if latest is None or (latest.access_key, latest.secret_key, latest.session_token) != (
            frozen.access_key,
            frozen.secret_key,
            frozen.token,
        ):
            latest = Credentials(
                frozen.access_key, frozen.secret_key, frozen.token, source=self._method
            )
            redact.register_secret(latest.secret_key)
            redact.register_secret(latest.session_token)
            self._latest = latest
        return latest

    async def refresh(self, stale: Credentials) -> Credentials:
        """Refresh now, unless another caller already replaced ``stale``."""
        async with self._lock:
            fresh = await self.current()
            if fresh != stale or not self.refreshable:
                return fresh
            # botocore has no public "refresh now"; this is what its mandatory
            # refresh calls, under the same lock its own refreshes take.
            async with self._found._refresh_lock:
                try:
                    await self._found._protected_refresh(is_mandatory=True)
                except (bex.BotoCoreError, RuntimeError) as exc:
                    raise CredentialsError(
                        f"could not refresh credentials ({self._method}): {exc}"
                    ) from None
            return await self.current()


@dataclass(frozen=True, slots=True)
class BotocoreSetup:
    """What botocore resolved for a client: its session, the credentials and the region.

    ``client_keys`` are handed to the client when they did not come from the
    session's own chain (explicit, ``~/.boto``); otherwise the client shares
    the session's credentials object, so both paths see one refresh.
    """

    session: AioSession
    credentials: CredentialSource | None
    region: str
    client_keys: Credentials | None


async def resolve(
    config: ConnectConfig,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
    profile: str | None = None,
) -> BotocoreSetup:
    """Explicit keys, then the AWS chain, then ``~/.boto`` (file reads in threads)."""
    session = get_session()
    if profile:
        session.set_config_variable("profile", profile)
    redact.install()
    if access_key or secret_key:
        if not (access_key and secret_key):
            raise CredentialsError("give both access_key and secret_key, or neither")
        keys: Credentials | None = Credentials(access_key, secret_key, session_token)
    else:
        found = await _session_credentials(session)
        if found is not None:
            chain = ChainCredentials(found)
            await chain.current()
            return BotocoreSetup(session, chain, _region(config, session), None)
        keys = await anyio.to_thread.run_sync(read_boto_credentials)
    if keys is None:
        return BotocoreSetup(session, None, _region(config, session), None)
    redact.register_secret(keys.secret_key)
    redact.register_secret(keys.session_token)
    return BotocoreSetup(session, StaticCredentials(keys), _region(config, session), keys)


async def _session_credentials(session: AioSession) -> Any:
    """The AWS chain's credentials (env, profile, IMDS...), None when it finds none."""
    try:
        return await session.get_credentials()
    except bex.ProfileNotFound as exc:
        raise CredentialsError(f"{exc}; check --profile and ~/.aws/config") from None
    except bex.BotoCoreError as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CredentialsError(f"could not get credentials: {text}") from None


def _region(config: ConnectConfig, session: AioSession) -> str:
    return config.region or session.get_config_variable("region") or "us-east-1"


# SSE-C: the calls that read or write an object's data carry the customer key.
_SSE_C_CALLS = ("PutObject", "GetObject", "HeadObject", "CreateMultipartUpload", "UploadPart")
_SSE_C_COPIES = ("CopyObject", "UploadPartCopy")
_COPY_SOURCE_HEAD = "S3flowCopySource"  # ours, taken out before botocore checks the params


def _send_customer_keys(client: BotoS3Client, config: ConnectConfig) -> None:
    """Give every data call the connection's SSE-C key (botocore adds the base64 and MD5)."""
    dest, source = config.sse_customer_key, config.copy_source_sse_customer_key

    def add(params: dict[str, Any], **_: Any) -> None:
        key = source if params.pop(_COPY_SOURCE_HEAD, False) else dest
        if key is not None:
            params.setdefault("SSECustomerAlgorithm", key.algorithm)
            params.setdefault("SSECustomerKey", key.key)

    def add_source(params: dict[str, Any], **_: Any) -> None:
        add(params)
        if source is not None:
            params.setdefault("CopySourceSSECustomerAlgorithm", source.algorithm)
            params.setdefault("CopySourceSSECustomerKey", source.key)

    events = client.meta.events
    if dest is not None or source is not None:
        for name in _SSE_C_CALLS:
            events.register(f"provide-client-params.s3.{name}", add)
    if dest is not None or source is not None:
        for name in _SSE_C_COPIES:
            events.register(f"provide-client-params.s3.{name}", add_source)


class AioBotocoreBackend:
    """S3Backend over one long-lived aiobotocore client. Open with :meth:`open`."""

    def __init__(
        self,
        client: BotoS3Client,
        config: ConnectConfig,
        credentials: CredentialSource | None,
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
        cls, config: ConnectConfig, setup: BotocoreSetup
    ) -> AsyncIterator[AioBotocoreBackend]:
        """Open one aiobotocore client for ``setup`` (see :func:`resolve`); closed on exit."""
        boto_config = AioConfig(
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=config.max_pool_connections,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            tcp_keepalive=True,
            http_session_cls=_HostCheckingSession,
            s3={
                "addressing_style": (
                    "path"
                    if config.use_path_style
                    else "virtual"
                    if config.addressing_style == "virtual"
                    else "auto"
                ),
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
        keys = setup.client_keys
        async with setup.session.create_client(
            "s3",
            region_name=setup.region,
            endpoint_url=config.endpoint_url,
            aws_access_key_id=keys.access_key if keys else None,
            aws_secret_access_key=keys.secret_key if keys else None,
            aws_session_token=keys.session_token if keys else None,
            # A path, not True: with True, aiobotocore would skip its own
            # ca_bundle lookup; connect() resolved it the same way already.
            verify=(config.ca_bundle or True) if config.verify_tls else False,
            config=boto_config,
        ) as client:
            _send_customer_keys(client, config)
            yield cls(client, config, setup.credentials, setup.region)

    @property
    def endpoint_url(self) -> str:
        """The endpoint botocore resolved (for AWS: the regional one, or a variant)."""
        return str(self._client.meta.endpoint_url)

    @property
    def accelerate(self) -> bool:
        return bool((self._client.meta.config.s3 or {}).get("use_accelerate_endpoint"))

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
                key=_listed(o, "Key", bucket),
                size=listed_size(o.get("Size"), bucket, o.get("Key")),
                etag=_etag(o.get("ETag")),
                last_modified=o.get("LastModified"),
                storage_class=o.get("StorageClass"),
            )
            for o in r.get("Contents", [])
        )
        prefixes = tuple(_listed(p, "Prefix", bucket) for p in r.get("CommonPrefixes", []))
        token = r.get("NextContinuationToken")
        next_token = continuation(bool(r.get("IsTruncated")), token, bucket)
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
        return _object_info(bucket, key, r, whole_size=True)

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
        self, bucket: str, key: str, *, part_number: int | None = None, copy_source: bool = False
    ) -> ObjectInfo:
        args: dict[str, Any] = {"ChecksumMode": "ENABLED"}
        if part_number:
            args["PartNumber"] = part_number
        config = self._config
        if copy_source and (config.sse_customer_key or config.copy_source_sse_customer_key):
            args[_COPY_SOURCE_HEAD] = True  # _send_customer_keys picks the source's key
        try:
            with translate_errors(bucket, key):
                r = await self._client.head_object(Bucket=bucket, Key=key, **args)
        except (ObjectNotFound, AccessDenied) as error:
            raise await explain_head(self, bucket, key, error) from None
        return _object_info(bucket, key, r)

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
        if self._credentials is None:
            raise CredentialsError("cannot presign without credentials", bucket=bucket, key=key)
        base = self._config.endpoint_url or f"https://s3.{self._region}.amazonaws.com"
        virtual = not self._config.use_path_style and dns_compatible(bucket)
        return presign_url(
            base,
            self._credentials.latest,
            self._region,
            bucket,
            key,
            virtual_host=virtual,
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
