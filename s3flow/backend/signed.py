"""SignedSession: signs S3 requests, sends them over our HTTP/1.1 pool, maps every failure.

The fast path's transport (:mod:`s3flow.backend.fast` builds S3 calls on it): SigV4
by :mod:`s3flow.backend.sigv4`, path-style or virtual-hosted URLs, and the ONE place
where its answers and network failures become :class:`~s3flow.errors.S3FlowError`
(status and ``<Code>`` via :func:`s3flow.backend.wire.error_for_response`).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import ssl
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from s3flow.backend import wire
from s3flow.backend.answers import certificate_error, network_text
from s3flow.backend.blocking import BlockingClient
from s3flow.backend.http11 import BodyTooLarge, Headers, HttpClient, HttpError, Response
from s3flow.backend.presign import dns_compatible
from s3flow.backend.sigv4 import UNSIGNED_PAYLOAD, canonical_query, quote_path, sign
from s3flow.errors import RetryableError, ServiceError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping

    from s3flow.backend.credentials import Credentials, CredentialSource
    from s3flow.config import ConnectConfig, SseCustomerKey
    from s3flow.errors import S3FlowError

__all__ = [
    "ERROR_BODY_LIMIT",
    "XML_BODY_LIMIT",
    "Delegate",
    "SignedSession",
    "new_blocking",
    "new_session",
]

# S3's XML answers are small: a 1,000-key listing of 1,024-byte keys, url-encoded,
# is under 4 MiB, an error document under 1 KiB. More is a broken or hostile server.
XML_BODY_LIMIT = 8 * 1024 * 1024
ERROR_BODY_LIMIT = 1024 * 1024

_NETWORK_ERRORS = (HttpError, OSError)  # OSError covers TimeoutError and refused connects


class Delegate(Exception):  # control flow between fast.py and here, never escapes them
    """This call (``sticky``: every call for this bucket) must go through botocore."""

    def __init__(self, sticky: bool) -> None:
        self.sticky = sticky


def ca_bundle() -> str | None:
    """The CA file botocore verifies TLS with (``AWS_CA_BUNDLE``, certifi's, else its own),
    found without importing it."""
    if bundle := os.environ.get("AWS_CA_BUNDLE"):
        return bundle
    try:
        import certifi
    except ImportError:
        spec = importlib.util.find_spec("botocore")
        where = list(spec.submodule_search_locations or []) if spec else []
        return os.path.join(where[0], "cacert.pem") if where else None
    return str(certifi.where())


def new_session(config: ConnectConfig) -> HttpClient:
    """A keep-alive pool sized and timed like the botocore client (use it as a context manager).

    TLS trusts ``config.ca_bundle`` alone when given (as botocore does with
    ``verify=<path>``), else botocore's CA bundle. The context is built on the
    first https connection: loading the CAs cost 14 ms that a plain-http run
    never needs.
    """
    return HttpClient(
        limit=config.max_pool_connections,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        tls=_tls(config),
    )


def _tls(config: ConnectConfig) -> Callable[[], ssl.SSLContext]:
    ca_file = config.ca_bundle or ca_bundle()

    def tls() -> ssl.SSLContext:
        if not config.verify_tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=ca_file)

    return tls


def new_blocking(config: ConnectConfig) -> BlockingClient | None:
    """The worker-thread GET client beside :func:`new_session`'s pool (close it after use).

    Same pool size, timeouts and TLS trust. ``S3FLOW_THREADED_GETS=0`` turns it
    off (every GET through the event loop), to compare the two on one build.
    """
    if os.environ.get("S3FLOW_THREADED_GETS", "1") == "0":
        return None
    return BlockingClient(
        limit=config.max_pool_connections,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        tls=_tls(config),
    )


_log = logging.getLogger("s3flow.http")


_EXPIRED = frozenset(  # a refreshable source may hold newer keys than the ones rejected
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired",
     "InvalidToken", "InvalidAccessKeyId"}
)  # fmt: skip


class SignedSession:
    """Send signed S3 requests to ``endpoint``; see :meth:`send`."""

    def __init__(
        self,
        session: HttpClient,
        credentials: CredentialSource,
        endpoint: str,
        region: str,
        path_style: bool,
        sse_c: SseCustomerKey | None = None,
        sse_c_source: SseCustomerKey | None = None,
    ) -> None:
        self._sse_c, self._sse_c_source = sse_c, sse_c_source
        self._session = session
        self._credentials = credentials
        self.region = region
        self.path_style = path_style
        self.base_url = endpoint.rstrip("/")
        parts = urlsplit(endpoint)
        self._scheme = parts.scheme
        default = {"http": 80, "https": 443}[parts.scheme]
        self._hostname = parts.hostname or ""
        self._port = parts.port or default
        port = parts.port
        named = f"[{self._hostname}]" if ":" in self._hostname else self._hostname  # IPv6
        self.host = named + (f":{port}" if port and port != default else "")

    def __repr__(self) -> str:
        return f"SignedSession({self._scheme}://{self.host}, region={self.region!r})"

    @property
    def credentials(self) -> CredentialSource:
        return self._credentials

    def virtual_host(self, bucket: str) -> bool:
        """Whether requests for ``bucket`` name it in the host (else in the path)."""
        if self.path_style:
            return False
        if dns_compatible(bucket):
            return True
        raise Delegate(sticky=True)  # botocore falls back to path-style for such names

    def _customer_key(
        self, method: str, key: str | None, query: list[tuple[str, str]], headers: dict[str, str]
    ) -> None:
        """SSE-C: the key goes with every read and write of an object's data (GET, HEAD,
        PutObject, CreateMultipartUpload, UploadPart, a copy), never with other calls."""
        if key is None or (self._sse_c is None and self._sse_c_source is None):
            return
        if self._sse_c is not None and _object_data(method, query):
            headers.update(self._sse_c.headers())
        if "x-amz-copy-source" in headers and self._sse_c_source is not None:
            headers.update(self._sse_c_source.headers(copy_source=True))

    def _explain(self, error: S3FlowError, status: int, method: str, key: str | None) -> None:
        """A refused read of an object may be about its SSE-C key: say so in the message."""
        if key is None or method not in ("GET", "HEAD"):
            return
        if status == 403 and self._sse_c is not None:
            hint = "or the SSE-C key given is not the one the object was written with"
        elif status == 400 and self._sse_c is None:
            hint = "if the object is encrypted with a customer key (SSE-C), give that key"
        else:
            return
        error.args = (f"{error.message}; {hint}",)

    def _address(self, bucket: str, key: str | None) -> tuple[str, str, str]:
        """The Host header, the name to connect to, and the quoted path for ``bucket``/``key``."""
        tail = "" if key is None else f"/{key}"
        if not bucket:  # the service itself (ListBuckets): "/" on the endpoint's own host
            return self.host, self._hostname, "/"
        if self.virtual_host(bucket):
            return f"{bucket}.{self.host}", f"{bucket}.{self._hostname}", quote_path(tail or "/")
        return self.host, self._hostname, quote_path(f"/{bucket}{tail}")

    async def _sign(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        payload_hash: str,
    ) -> tuple[Credentials, dict[str, str]]:
        """Sign with a fresh snapshot of the credentials; the snapshot and the signed headers."""
        creds = await self._credentials.current()
        signed = sign(
            method,
            path,
            query,
            headers,
            access_key=creds.access_key,
            secret_key=creds.secret_key,
            session_token=creds.session_token,
            region=self.region,
            now=dt.datetime.now(dt.UTC),
            payload_hash=payload_hash,
        )
        return creds, signed

    def _delegate_redirects(self, status: int, headers: Mapping[str, str]) -> None:
        """botocore follows region redirects: hand such an answer's request to it."""
        if status in (301, 307) or headers.get("x-amz-bucket-region", self.region) != self.region:
            raise Delegate(sticky=True)

    async def _refreshed(self, error: S3FlowError, attempt: int, creds: Credentials) -> bool:
        """After the first attempt's expired-key answer, refresh a refreshable source once."""
        if attempt == 1 and error.code in _EXPIRED and self._credentials.refreshable:
            await self._credentials.refresh(creds)
            return True
        return False

    def _log(self, method: str, host: str, target: str, status: int, creds: Credentials) -> None:
        scheme, key_tail = self._scheme, creds.access_key[-4:]
        _log.debug("%s %s://%s%s -> %s (key …%s)", method, scheme, host, target, status, key_tail)

    async def _error(self, response: Response, bucket: str, key: str | None) -> S3FlowError:
        """The error a non-2xx answer means (a region redirect is botocore's to follow)."""
        self._delegate_redirects(response.status, response.headers)
        answer = await _error_body(response)
        return wire.error_for_response(
            response.status, response.reason, answer, bucket or None, key
        )

    @asynccontextmanager
    async def send(
        self,
        method: str,
        bucket: str,
        key: str | None,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | bytearray | None = None,
        payload_hash: str = UNSIGNED_PAYLOAD,
    ) -> AsyncIterator[Response]:
        """Yield the 2xx response; raise S3FlowError for anything else (or Delegate).

        Each attempt signs with a fresh snapshot of the credentials; an answer
        saying they expired (or were rotated away) refreshes a refreshable
        source once and sends again. ``payload_hash``: the body's SHA-256 (hex)
        when it is signed, for bodies that carry no checksum header the server checks.
        """
        host, hostname, path = self._address(bucket, key)
        headers["host"] = host
        self._customer_key(method, key, query, headers)
        qs = canonical_query(query)
        target = f"{path}?{qs}" if qs else path
        for attempt in (1, 2):
            creds, signed = await self._sign(method, path, query, headers, payload_hash)
            with self._transport_errors(bucket, key):
                async with self._session.request(
                    self._scheme, hostname, self._port, method, target, signed, body
                ) as response:
                    if _log.isEnabledFor(logging.DEBUG):  # --debug: each request, as botocore logs
                        self._log(method, host, target, response.status, creds)
                    if response.status >= 300:
                        error = await self._error(response, bucket, key)
                        self._explain(error, response.status, method, key)
                        if await self._refreshed(error, attempt, creds):
                            continue
                        raise error
                    yield response
                    return

    @contextmanager
    def _transport_errors(self, bucket: str, key: str | None) -> Iterator[None]:
        """What went wrong below the answer (connection, TLS, size), as S3FlowError."""
        try:
            yield
        except BodyTooLarge as exc:
            raise ServiceError(
                f"{exc}; not an S3 answer (check the endpoint)", bucket=bucket or None, key=key
            ) from None
        except ssl.SSLCertVerificationError as exc:  # never retried: it cannot get better
            raise certificate_error(f"{self._scheme}://{self.host}", str(exc)) from None
        except _NETWORK_ERRORS as exc:
            text = network_text(exc, f"{self._scheme}://{self.host}")
            raise RetryableError(text, bucket=bucket or None, key=key) from exc

    async def get_into(
        self,
        client: BlockingClient,
        bucket: str,
        key: str,
        headers: dict[str, str],
        accept: Callable[[int, Mapping[str, str]], None],
        write: Callable[[memoryview], None],
    ) -> Headers:
        """A GET whose 2xx body a worker thread hands to ``write`` (see :mod:`.blocking`).

        Signed, refreshed and mapped as :meth:`send` does; its answer's headers.
        ``Unframed`` passes through (nothing of the body was taken: send it with :meth:`send`).
        """
        host, hostname, path = self._address(bucket, key)
        headers["host"] = host
        self._customer_key("GET", key, [], headers)
        for attempt in (1, 2):
            creds, signed = await self._sign("GET", path, [], headers, UNSIGNED_PAYLOAD)
            lines = [f"GET {path} HTTP/1.1", *(f"{n}: {v}" for n, v in signed.items())]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            with self._transport_errors(bucket, key):
                answer = await client.get_into(
                    (self._scheme, hostname, self._port), head, accept, write
                )
            got = Headers(answer.headers)
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug(
                    "GET %s://%s%s -> %s (key …%s, thread)",
                    self._scheme,
                    host,
                    path,
                    answer.status,
                    creds.access_key[-4:],
                )
            if answer.status < 300:
                return got
            self._delegate_redirects(answer.status, got)
            error = wire.error_for_response(answer.status, answer.reason, answer.body, bucket, key)
            self._explain(error, answer.status, "GET", key)
            if await self._refreshed(error, attempt, creds):
                continue
            raise error
        raise AssertionError("unreachable")  # the second attempt returns or raises

    async def xml(
        self,
        method: str,
        bucket: str,
        key: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None = None,
        payload_hash: str = UNSIGNED_PAYLOAD,
    ) -> dict[str, str]:
        """Send, then the leaf fields of the XML answer (a 200 with ``<Error>`` raises)."""
        async with self.send(method, bucket, key, query, headers, body, payload_hash) as response:
            answer = await response.read(XML_BODY_LIMIT)
            return wire.result_fields(answer, response.status, bucket, key)


async def _error_body(response: Response) -> bytes:
    """An error answer's document; none when it is too large to be one (the status still tells)."""
    try:
        return await response.read(ERROR_BODY_LIMIT)
    except BodyTooLarge:
        return b""


def _object_data(method: str, query: list[tuple[str, str]]) -> bool:
    """Whether the request reads or writes an object's data: GET, HEAD, PutObject,
    UploadPart, CreateMultipartUpload (what S3 wants the SSE-C key with)."""
    names = {name for name, _ in query}
    return (
        (method in ("GET", "HEAD") and names <= {"partNumber", "versionId"})
        or (method == "PUT" and names in (set(), {"partNumber", "uploadId"}))
        or (method == "POST" and names == {"uploads"})
    )
