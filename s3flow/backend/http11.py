"""A small HTTP/1.1 client for the fast path: a keep-alive pool, bodies read into our buffers.

Why not aiohttp here: on a 1 GiB download its reader turned every socket
read into a fresh ``bytes``, a parser callback, a buffer append and a
flow-control pause/resume (two ``epoll_ctl`` calls per MiB), and importing
it cost about 80 ms of every CLI run. S3 needs little of HTTP: one request
at a time per connection, ``Content-Length`` bodies (chunked ones decoded
too), keep-alive. So connections here are asyncio ``BufferedProtocol``s: a
body of known length is received straight into a ``bytearray`` the caller
keeps, with no intermediate copy, and a response head is parsed in one go.

Failures raise :class:`HttpError` (or ``OSError``/``TimeoutError``); the
caller (:mod:`s3flow.backend.signed`) maps them. Messages never include
header values, so no signature or token reaches a log.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import time
from collections.abc import Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from s3flow.backend.http_head import INTERIM, HttpError, check_trailer, chunk_size, parse_head
from s3flow.backend.protocol import STREAM_BATCH, pump

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence

__all__ = ["BodyTooLarge", "Headers", "HttpClient", "HttpError", "ReadTimeout", "Response"]

_SLICE = 256 * 1024  # request bodies go out in slices (see Connection.send)
_BASE = 64 * 1024  # a connection's own buffer, for heads and small or chunked bodies
_HIGH = 256 * 1024  # unread bytes in our own buffer above which reading pauses
_MAX_HEAD = 64 * 1024
_IDLE_FOR = 12.0  # seconds a kept-alive connection may wait for reuse
# What read() allocates before a byte arrives; it then grows with what did
# arrive, so a reply claiming 800 MB in its head costs nothing up front.
_AHEAD = 1024 * 1024
_MAX_INTERIM = 16  # 1xx heads before the answer; a server sending them forever is broken
# Re-sent on a fresh connection after a stale one failed, even if written:
# the same request twice has the effect of once (RFC 9110, 9.2.2). Conditional
# requests are not: the second If-None-Match PUT would fail on the first's object.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_CONDITIONS = ("if-none-match", "if-match", "if-modified-since", "if-unmodified-since")


class ReadTimeout(HttpError):
    """No byte arrived for the read timeout (never re-sent here: the server may be working)."""


class BodyTooLarge(HttpError):
    """A reply body is larger than the caller accepts (an error document, an XML answer)."""


class Headers(Mapping[str, str]):
    """Response headers; names are case-insensitive (repeated ones joined by ``", "``)."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str]) -> None:
        self._items = items  # lower-case names

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({sorted(self._items)})"  # names only: values may carry secrets


class Connection(asyncio.BufferedProtocol):
    """One HTTP/1.1 connection. Bytes land in ``_target`` when a body is being filled, else ``_buf``."""

    def __init__(self, read_timeout: float | None) -> None:
        self._read_timeout = read_timeout
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray(_BASE)
        self._start = self._end = 0
        self._target: memoryview | None = None
        self._filled = 0
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._paused = False
        self._write_paused = False
        self._eof = False
        self._error: BaseException | None = None
        self.received = 0  # bytes of this request's answer so far
        self.wrote = False  # whether any byte of this request went to the transport
        self.sent_whole = False  # the request went out whole (else the answer came first)
        self.idle_since = 0.0

    # asyncio's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._target is not None:
            return self._target[self._filled :]
        if self._start == self._end:
            self._start = self._end = 0
        if len(self._buf) - self._end < _BASE // 4:
            unread = self._end - self._start
            # A fresh buffer, never resized in place: the transport may still hold a view.
            fresh = bytearray(max(_BASE, 2 * unread + _BASE // 4))
            fresh[:unread] = self._buf[self._start : self._end]
            self._buf, self._start, self._end = fresh, 0, unread
        return memoryview(self._buf)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self.received += nbytes
        if self._target is not None:
            self._filled += nbytes
            if self._filled == len(self._target):
                self._target.release()
                self._target = None
                self._wake()
            return
        self._end += nbytes
        if self._end - self._start > _HIGH and self._transport is not None:
            self._transport.pause_reading()
            self._paused = True
        self._wake()
        self._wake_sender()  # an answer while the body is still going out: stop sending

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        self._wake_sender()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if exc is not None and self._error is None:
            self._error = exc
        self._wake()
        self._wake_sender()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_sender()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _wake_sender(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # our side
    @property
    def usable(self) -> bool:
        return not self._eof and self._transport is not None and not self._transport.is_closing()

    @property
    def reusable(self) -> bool:
        return self.usable and self.sent_whole and self._start == self._end and self._target is None

    def expired(self) -> bool:
        """Whether an idle connection must not carry another request (httpcore's has_expired).

        Bytes that came while it sat idle (or an EOF) would be read as the next
        request's answer, and every later answer would be shifted by one. They
        may still be in the kernel, not yet handed to us by the event loop: ask it.
        """
        if not self.reusable or self._transport is None:
            return True
        sock = self._transport.get_extra_info("socket")
        return sock is not None and _readable(sock.fileno())

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()  # mid-answer: the bytes still coming are not wanted

    def _resume(self) -> None:
        if self._paused and self._end - self._start <= _HIGH // 2 and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()

    async def _wait(self) -> None:
        if self._error is not None:
            raise HttpError(f"connection lost: {self._error}")
        if self._eof:
            raise HttpError("server closed the connection mid-answer")
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._until(self._waiter, self._read_progress, "no data")
        finally:
            self._waiter = None

    def _read_progress(self) -> int:
        return self.received

    def _write_progress(self) -> int:
        return self._transport.get_write_buffer_size() if self._transport else 0

    async def _until(
        self, future: asyncio.Future[None], progress: Callable[[], int], stalled: str
    ) -> None:
        """Await ``future``; fail when ``progress()`` stays the same for the read timeout."""
        if self._read_timeout is None:
            await future
            return
        loop = asyncio.get_running_loop()
        timeout = self._read_timeout
        timers: list[asyncio.TimerHandle] = []

        def check(seen: int) -> None:
            # One timer per wait, not per read: after some progress it is re-armed.
            if future.done():
                return
            if (now := progress()) != seen:
                timers.append(loop.call_later(timeout, check, now))
            else:
                future.set_exception(ReadTimeout(f"{stalled} for {timeout:g} s (read timeout)"))

        timers.append(loop.call_later(timeout, check, progress()))
        try:
            await future
        finally:
            timers[-1].cancel()

    async def send(self, head: bytes, body: bytes | bytearray | memoryview | None) -> None:
        """Write the request; a big body in slices, waiting while the socket is full.

        Handed over whole, asyncio (before 3.12) copies every byte the kernel
        does not take at once into its own buffer: one more copy of each part.
        """
        self.received = 0
        self.wrote = self.sent_whole = False
        transport = self._transport
        if transport is None or not self.usable:
            raise HttpError("connection closed before the request was sent")
        transport.write(head)
        self.wrote = True
        if body is not None:
            view = memoryview(body)
            for start in range(0, len(view), _SLICE):
                if self._answered():
                    return  # answered already (a 403, say): the caller reads that
                transport.write(view[start : start + _SLICE])
                if self._write_paused:
                    await self._drain()
        self.sent_whole = True

    def _answered(self) -> bool:
        """Whether a final answer has begun: an unasked ``100 Continue`` (some servers send
        one to every request) must not stop the body, which the server is waiting for."""
        if not self.received:
            return False
        start = bytes(self._buf[self._start : self._start + 10])
        return not (start[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") and start[9:10] == b"1")

    async def _drain(self) -> None:
        """Wait until the socket takes more, or an answer (or the end) arrives."""
        self._drained = asyncio.get_running_loop().create_future()
        try:
            await self._until(self._drained, self._write_progress, "server read nothing")
        finally:
            self._drained = None
        if not self.usable and not self.received:
            raise HttpError("connection lost while sending the request body")

    async def head(self) -> bytes:
        """The next response head, up to and including the blank line."""
        searched = 0  # bytes past _start already searched (get_buffer may move the data)
        while True:
            end = self._buf.find(b"\r\n\r\n", self._start + max(0, searched - 3), self._end)
            if end >= 0:
                head = bytes(self._buf[self._start : end + 4])
                self._start = end + 4
                self._resume()
                return head
            if self._end - self._start > _MAX_HEAD:
                raise HttpError("response head longer than 64 KiB")
            searched = self._end - self._start
            await self._wait()

    def begin_fill(self, target: bytearray) -> None:
        """From now on the answer's next bytes go straight into ``target`` (see :meth:`filled`)."""
        have = min(self._end - self._start, len(target))
        target[:have] = self._buf[self._start : self._start + have]
        self._start += have
        self._resume()
        if have < len(target):
            self._target = memoryview(target)
            self._filled = have

    async def filled(self) -> None:
        """Wait until the target of :meth:`begin_fill` is full."""
        try:
            while self._target is not None:
                await self._wait()
        finally:
            if self._target is not None:  # failed or cancelled: stop writing into it
                self._target.release()
                self._target = None

    async def some(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of the answer, whatever has arrived (b"" only at EOF)."""
        while self._start == self._end:
            if self._eof and self._error is None:
                return b""
            await self._wait()
        got = bytes(self._buf[self._start : min(self._end, self._start + limit)])
        self._start += len(got)
        self._resume()
        return got

    async def line(self) -> bytes:
        """One CRLF-terminated line (for chunk sizes), without the CRLF."""
        while (end := self._buf.find(b"\r\n", self._start, self._end)) < 0:
            if self._end - self._start > 4096:
                raise HttpError("chunk-size line longer than 4 KiB")
            await self._wait()
        got = bytes(self._buf[self._start : end])
        self._start = end + 2
        self._resume()
        return got


def _readable(fd: int) -> bool:
    """Whether ``fd`` has bytes (or an EOF) waiting, without waiting."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover (Windows)


def _may_resend(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request that may have reached the server can be sent again unasked."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    names = {name.lower() for name in headers}
    return method in _IDEMPOTENT and not any(c in names for c in _CONDITIONS)


class Response:
    """An answer whose body is read once, by :meth:`read` or :meth:`stream`."""

    def __init__(self, conn: Connection, method: str) -> None:
        self._conn = conn
        self._method = method
        self.status = 0
        self.reason = ""
        self.headers = Headers({})
        self.content_length: int | None = None
        self._chunked = False
        self.keep_alive = False
        self.complete = False

    async def _start(self) -> None:
        for _ in range(_MAX_INTERIM):
            head = parse_head(await self._conn.head(), self._method)
            if head.status not in INTERIM:  # 100 Continue & co: the real answer follows
                break
        else:
            raise HttpError(f"more than {_MAX_INTERIM} interim (1xx) answers")
        self.status, self.reason = head.status, head.reason
        self.headers, self.keep_alive = Headers(head.headers), head.keep_alive
        self.content_length, self._chunked = head.length, head.chunked
        if self.content_length == 0:
            self.complete = True

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; :class:`BodyTooLarge` past ``limit`` bytes (checked before reading)."""
        if self.content_length is not None:
            _check_size(self.content_length, limit)
            body = await self._read_length(self.content_length)
            self.complete = True
            return body
        pieces: list[bytes | bytearray] = []
        size = 0

        async def keep(chunks: Sequence[bytes | bytearray]) -> None:
            nonlocal size
            size += sum(len(chunk) for chunk in chunks)
            _check_size(size, limit)
            pieces.extend(chunks)

        await self.stream(keep, batch=min(STREAM_BATCH, limit or STREAM_BATCH))
        return b"".join(pieces)

    async def _read_length(self, length: int) -> bytes:
        """``length`` bytes, in buffers that double from ``_AHEAD``: each allocated
        only once the one before is full, so memory follows the bytes that came."""
        pieces: list[bytearray] = []
        left, size = length, _AHEAD
        while left:
            piece = bytearray(min(size, left))
            self._conn.begin_fill(piece)
            await self._conn.filled()
            pieces.append(piece)
            left -= len(piece)
            size *= 2
        return bytes(pieces[0]) if len(pieces) == 1 else b"".join(pieces)

    async def stream(
        self,
        sink: Callable[[Sequence[bytes | bytearray]], Awaitable[None]],
        batch: int = STREAM_BATCH,
    ) -> None:
        """Hand the body to ``sink`` in order, about ``batch`` bytes per call.

        With a known length, each call gets one fresh ``bytearray`` of
        ``batch`` bytes (the last one shorter) that the socket filled
        directly, and the next one fills while ``sink`` runs. Chunked or
        close-ended bodies come as lists of pieces adding up to at least
        ``batch``. Buffers are never reused, so ``sink`` may keep them.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1 byte")
        conn = self._conn
        if self.content_length is not None:
            left = self.content_length
            if not left:
                self.complete = True
                return
            # The next buffer fills while the sink (a worker thread writing to
            # disk) runs: the network and the disk overlap.
            current = bytearray(min(batch, left))
            conn.begin_fill(current)
            while left:
                await conn.filled()
                left -= len(current)
                done = current
                if left:
                    current = bytearray(min(batch, left))
                    conn.begin_fill(current)
                await sink([done])
            self.complete = True
            return
        pieces = self._pieces()
        await pump(lambda: anext(pieces, b""), sink, batch)
        self.complete = True

    async def _pieces(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if not self._chunked:
            while piece := await conn.some(_BASE):
                yield piece
            return
        while True:
            size = chunk_size(await conn.line())
            if size == 0:
                while trailer := await conn.line():  # trailers, up to the blank line
                    check_trailer(trailer)
                return
            while size:
                piece = await conn.some(size)
                if not piece:
                    raise HttpError("server closed the connection mid-body")
                size -= len(piece)
                yield piece
            if await conn.line():
                raise HttpError("chunk not followed by CRLF")


def _request_head(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes | bytearray | memoryview | None,
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if any("\r" in line or "\n" in line for line in lines):
        # Callers refuse these first (ObjectOptions); this keeps a bug from splitting a request.
        raise ValueError("CR or LF in a request line or header; nothing was sent")
    if body is not None or method in ("PUT", "POST"):
        lines.append(f"Content-Length: {len(body) if body is not None else 0}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _exchange(
    conn: Connection, response: Response, head: bytes, body: bytes | bytearray | memoryview | None
) -> None:
    """Send the request and read the answer's head."""
    try:
        await conn.send(head, body)
    except (HttpError, OSError):
        if not conn.received:
            raise
        # It answered before taking the whole body (a 403, say): read that.
    await response._start()


def _stale(conn: Connection, error: BaseException, method: str, headers: Mapping[str, str]) -> bool:
    """Whether a reused connection's failure may be retried on a new one, transparently."""
    return (
        not conn.received
        and not isinstance(error, ReadTimeout)
        and (not conn.wrote or _may_resend(method, headers))
    )


def _check_size(size: int, limit: int | None) -> None:
    if limit is not None and size > limit:
        raise BodyTooLarge(f"reply body of {size} bytes or more is over the {limit} allowed")


class HttpClient:
    """Keep-alive connections per host, at most ``limit`` in use at once.

    >>> client = HttpClient(limit=16, connect_timeout=10, read_timeout=60)
    >>> # async with client.request("http", "127.0.0.1", 8333, "GET", "/b/k", {}) as r: ...
    """

    def __init__(
        self,
        *,
        limit: int,
        connect_timeout: float | None,
        read_timeout: float | None,
        tls: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        # This module is asyncio-only, and asyncio's semaphore is cheaper per request than anyio's.
        self._limit = asyncio.Semaphore(limit)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._tls = tls
        self._tls_context: ssl.SSLContext | None = None
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()

    def _reuse(self, key: tuple[str, str, int]) -> Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()  # the most recently used: the least likely to be stale
            if now - conn.idle_since < _IDLE_FOR and not conn.expired():
                return conn
            conn.close()
        return None

    async def _connect(self, scheme: str, host: str, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        context = None
        if scheme == "https":
            if self._tls_context is None:
                self._tls_context = self._tls() if self._tls else ssl.create_default_context()
            context = self._tls_context
        with anyio.fail_after(self._connect_timeout):
            _, conn = await loop.create_connection(
                lambda: Connection(self._read_timeout),
                host,
                port,
                ssl=context,
                server_hostname=host if context else None,
            )
        return conn

    @asynccontextmanager
    async def request(
        self,
        scheme: str,
        host: str,
        port: int,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | bytearray | memoryview | None = None,
    ) -> AsyncIterator[Response]:
        """Send one request; yield its response with the body unread.

        The connection goes back to the pool if the body was read to its end,
        and is closed otherwise. A kept-alive connection the server had
        already closed is replaced once, transparently, when nothing of an
        answer had arrived on it and the request either never left or is
        safe to send twice (see :func:`_may_resend`).
        """
        head = _request_head(method, target, headers, body)
        key = (scheme, host, port)
        async with self._limit:
            conn, response = await self._send(key, method, headers, head, body)
            try:
                yield response
            except BaseException:
                conn.close()
                raise
            self._release(key, conn, response)

    async def _send(
        self,
        key: tuple[str, str, int],
        method: str,
        headers: Mapping[str, str],
        head: bytes,
        body: bytes | bytearray | memoryview | None,
    ) -> tuple[Connection, Response]:
        """Send the request and read the answer's head, on a pooled or a new connection."""
        while True:
            conn = self._reuse(key)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(*key)
            response = Response(conn, method)
            try:
                await _exchange(conn, response, head, body)
            except (HttpError, OSError) as error:
                conn.close()
                if reused and _stale(conn, error, method, headers):
                    continue  # stale keep-alive connection: once more, on a new one
                if isinstance(error, HttpError):
                    raise
                raise HttpError(f"{type(error).__name__}: {error}") from error
            except BaseException:
                conn.close()
                raise
            return conn, response

    def _release(self, key: tuple[str, str, int], conn: Connection, response: Response) -> None:
        """Back to the pool if the body was read to its end on a reusable connection."""
        if response.complete and response.keep_alive and conn.reusable:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(key, []).append(conn)
        else:
            conn.close()
