"""A raw, scripted S3 listing server on 127.0.0.1 for hostile-listing tests.

It runs its own event loop in its own thread (like :mod:`.proxy`), so synchronous code and
subprocesses can use it. ``ListObjectsV2`` answers come from ``pages``: a function of the
continuation token (None for the first page) returning the XML body. Every other request
gets an empty 200 (HeadBucket and the like). Requests are counted; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ListingServer", "page_xml"]

_IO_TIMEOUT = 10.0


def page_xml(
    objects: list[tuple[str | None, str]] = (),  # type: ignore[assignment]
    *,
    truncated: str = "false",
    token: str | None = None,
) -> bytes:
    """A ListBucketResult: ``(key, size text)`` pairs (key None: a Contents without Key)."""
    items = []
    for key, size in objects:
        name = f"<Key>{escape(key)}</Key>" if key is not None else ""
        items.append(
            f"<Contents>{name}<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
            f"<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>{size}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
        )
    next_token = f"<NextContinuationToken>{escape(token)}</NextContinuationToken>" if token else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>b</Name><Prefix></Prefix><KeyCount>{len(items)}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys><IsTruncated>{truncated}</IsTruncated>{next_token}"
        f"{''.join(items)}</ListBucketResult>"
    ).encode()


class ListingServer:
    """``with ListingServer(pages) as server:`` then point clients at ``server.url``."""

    def __init__(self, pages: Callable[[str | None], bytes]) -> None:
        self.pages = pages
        self.list_requests = 0
        self.other_requests: list[str] = []
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> ListingServer:
        self._thread = threading.Thread(target=self._run, name="listing-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"listing server did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(100_000):  # requests per connection, bounded
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IO_TIMEOUT)
                except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
                    return
                line, *rest = head.decode("latin-1").split("\r\n")
                headers = {}
                for text in rest:
                    name, _, value = text.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await asyncio.wait_for(reader.readexactly(length), _IO_TIMEOUT)
                method, target, _ = line.split(" ", 2)
                query = parse_qs(urlsplit(target).query, keep_blank_values=True)
                if method == "GET" and query.get("list-type") == ["2"]:
                    self.list_requests += 1
                    token = query.get("continuation-token", [None])[0]
                    body = self.pages(token)
                    kind = "application/xml"
                else:
                    self.other_requests.append(f"{method} {target}")
                    body, kind = b"", "text/plain"
                answer = (
                    f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                writer.write(answer + (b"" if method == "HEAD" else body))
                await asyncio.wait_for(writer.drain(), _IO_TIMEOUT)
        finally:
            writer.close()
