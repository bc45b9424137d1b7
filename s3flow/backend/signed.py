"""SignedSession: one aiohttp session that signs S3 requests and maps every failure.

The fast path's transport (:mod:`s3flow.backend.fast` builds S3 calls on it): SigV4
by :mod:`s3flow.backend.sigv4`, path-style or virtual-hosted URLs, and the ONE place
where its answers and network failures become :class:`~s3flow.errors.S3FlowError`
(status and ``<Code>`` via :func:`s3flow.backend.wire.error_for_response`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.util
import logging
import os
import re
import ssl
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from s3flow.backend import wire
from s3flow.backend.sigv4 import canonical_query, quote_path, sign
from s3flow.errors import RetryableError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from s3flow.backend.credentials import Credentials
    from s3flow.config import ConnectConfig

__all__ = ["Delegate", "SignedSession", "new_session"]

_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)
_DNS_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")  # no dots: TLS wildcard


_SLICE = 256 * 1024


async def _slices(body: bytes | bytearray) -> AsyncIterator[memoryview]:
    """The body in slices, so the socket takes it with back-pressure.

    Handed over whole, asyncio (before 3.12) copies every byte the kernel
    does not take at once into its own buffer: one more copy of each part.
    """
    view = memoryview(body)
    for start in range(0, len(view), _SLICE):
        yield view[start : start + _SLICE]


class Delegate(Exception):  # control flow between fast.py and here, never escapes them
    """This call (``sticky``: every call for this bucket) must go through botocore."""

    def __init__(self, sticky: bool) -> None:
        self.sticky = sticky


def ca_bundle() -> str | None:
    """The CA file botocore verifies TLS with (certifi's, else its own), found without importing it."""
    try:
        import certifi
    except ImportError:
        spec = importlib.util.find_spec("botocore")
        where = list(spec.submodule_search_locations or []) if spec else []
        return os.path.join(where[0], "cacert.pem") if where else None
    return str(certifi.where())


def new_session(config: ConnectConfig, ca_file: str | None) -> aiohttp.ClientSession:
    """A keep-alive session sized and timed like the botocore client (close it yourself)."""
    tls: ssl.SSLContext | bool = False
    if config.verify_tls:
        tls = ssl.create_default_context(cafile=ca_file)  # botocore's CA bundle
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=config.max_pool_connections, keepalive_timeout=12.0, ssl=tls
        ),
        timeout=aiohttp.ClientTimeout(
            sock_connect=config.connect_timeout, sock_read=config.read_timeout
        ),
        auto_decompress=False,
        skip_auto_headers=("Content-Type", "Accept-Encoding"),
    )


_log = logging.getLogger("s3flow.http")
_BULK_READ = 1024 * 1024


def read_in_bulk(response: aiohttp.ClientResponse) -> None:
    """Let this connection's transport read up to 1 MiB per recv() while a big body streams in.

    asyncio's selector transport reads at most 256 KiB at a time (its
    ``max_size``); each read costs a trip through the event loop and aiohttp's
    parser. At 1 MiB the event-loop thread spent 1.03-1.04 CPU-s instead of
    1.32-1.54 on a 1 GiB download here; at 4 MiB fresh allocations cost more
    than they saved. Bodies under 4 MiB are left alone: 256 KiB objects only
    paid for the bigger buffers (5x the page faults). So are transports
    without the attribute (uvloop).
    """
    if (response.content_length or 0) < 4 * _BULK_READ:
        return
    connection = response.connection
    transport = connection.transport if connection is not None else None
    if transport is not None and getattr(transport, "max_size", _BULK_READ) < _BULK_READ:
        with contextlib.suppress(AttributeError):
            transport.max_size = _BULK_READ  # type: ignore[attr-defined]


class SignedSession:
    """Send signed S3 requests to ``endpoint``; see :meth:`send`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credentials: Credentials,
        endpoint: str,
        region: str,
        path_style: bool,
    ) -> None:
        self._session = session
        self._credentials = credentials
        self.region = region
        self._path_style = path_style
        parts = urlsplit(endpoint)
        self._scheme = parts.scheme
        port = parts.port
        default = {"http": 80, "https": 443}[parts.scheme]
        self.host = (parts.hostname or "") + (f":{port}" if port and port != default else "")

    def __repr__(self) -> str:
        return f"SignedSession({self._scheme}://{self.host}, region={self.region!r})"

    @asynccontextmanager
    async def send(
        self,
        method: str,
        bucket: str,
        key: str | None,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | bytearray | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Yield the 2xx response; raise S3FlowError for anything else (or Delegate)."""
        tail = "" if key is None else f"/{key}"
        if self._path_style:
            host, path = self.host, quote_path(f"/{bucket}{tail}")
        elif _DNS_BUCKET.fullmatch(bucket):
            host, path = f"{bucket}.{self.host}", quote_path(tail or "/")
        else:
            raise Delegate(sticky=True)
        headers["host"] = host
        creds = self._credentials
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
        )
        qs = canonical_query(query)
        url = URL(f"{self._scheme}://{host}{path}{'?' if qs else ''}{qs}", encoded=True)
        data: object = body
        if body is not None and len(body) > _SLICE:
            signed["Content-Length"] = str(len(body))
            data = _slices(body)
        try:
            async with self._session.request(
                method, url, headers=signed, data=data, allow_redirects=False
            ) as response:
                if _log.isEnabledFor(logging.DEBUG):  # --debug: each request, as botocore logs
                    _log.debug("%s %s -> %s", method, url, response.status)
                if response.status >= 300:
                    moved = response.headers.get("x-amz-bucket-region", self.region)
                    if response.status in (301, 307) or moved != self.region:
                        raise Delegate(sticky=True)  # botocore follows region redirects
                    answer = b"" if method == "HEAD" else await response.read()
                    raise wire.error_for_response(
                        response.status, response.reason, answer, bucket, key
                    )
                yield response
        except _NETWORK_ERRORS as exc:
            text = f"{type(exc).__name__}: {exc}".split("\n")[0]
            raise RetryableError(text, bucket=bucket, key=key) from exc

    async def xml(
        self,
        method: str,
        bucket: str,
        key: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None = None,
    ) -> dict[str, str]:
        """Send, then the leaf fields of the XML answer (a 200 with ``<Error>`` raises)."""
        async with self.send(method, bucket, key, query, headers, body) as response:
            return wire.result_fields(await response.read(), response.status, bucket, key)
