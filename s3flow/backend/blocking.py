"""Ranged GETs received by a worker thread: blocking ``recv_into`` into one reused buffer,
handed to a writer (``pwrite`` + checksum) in the same thread, as s5cmd's goroutines do.

Why: through the event loop every socket read is a selector wake-up, a protocol
callback and a future, and every 2 MiB batch a hop to a worker thread and back;
over TLS asyncio's transport also copies each record through a memory BIO. Here
a thread owns one connection for the whole answer, and every call it makes
(``recv_into``, ``pwrite``, CRC/MD5) runs with the GIL released, so the
per-byte Python work is a few calls per 256 KiB.

The request is signed on the event loop (:class:`~s3flow.backend.signed.SignedSession`)
and the response head is parsed with :mod:`s3flow.backend.http11`'s rules. Only
``Content-Length`` answers are received here; anything else is reported as
:class:`Unframed` before a body byte is taken, and the caller sends the request
the usual way. Connections are this module's own blocking sockets, kept alive
in a small pool.

Cancellation: :func:`BlockingClient.get_into` runs the thread inside a task
group whose watcher shuts the socket down when the caller is cancelled, so
the thread returns within one ``recv`` and never touches the caller's file
after the caller has moved on.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from s3flow.backend.http11 import ReadTimeout
from s3flow.backend.http_head import Head, HttpError, parse_head

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["Answer", "BlockingClient", "Unframed"]

STEP = 256 * 1024  # bytes per recv loop hand-over to the writer (who splits its writes)
_MAX_HEAD = 64 * 1024
_MAX_ERROR_BODY = 1024 * 1024
_IDLE_FOR = 12.0


class Unframed(Exception):
    """The answer had no ``Content-Length``: nothing of its body was taken; send it another way."""


@dataclass(slots=True)
class Answer:
    """A response head; ``body`` only for non-2xx answers (the error document)."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes = b""
    received: int = 0  # body bytes handed to the writer


@dataclass(slots=True)
class _Cancel:
    """Shared by the thread and the watcher: which socket to shut when the caller is cancelled."""

    sock: socket.socket | None = None
    cancelled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, sock: socket.socket) -> None:
        with self.lock:
            self.sock = sock
            if self.cancelled:
                _shut(sock)

    def detach(self) -> bool:
        """Before the socket goes back to the pool: False if the caller was cancelled."""
        with self.lock:
            self.sock = None
            return not self.cancelled

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
            if self.sock is not None:
                _shut(self.sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSLSocket: its own drops the SSL
    # object under the feet of the thread reading through it.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a recv blocked in another thread


class _WriteFailed(Exception):
    """The writer (the local file) failed: not a network error, never retried as one."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


Key = tuple[str, str, int]


class BlockingClient:
    """Blocking keep-alive connections per host; at most ``limit`` GETs in threads at once."""

    def __init__(
        self,
        *,
        limit: int,
        connect_timeout: float | None,
        read_timeout: float | None,
        tls: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        self._limit = limit
        self._limiter: anyio.CapacityLimiter | None = None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._tls = tls
        self._tls_context: ssl.SSLContext | None = None
        self._idle: dict[Key, list[tuple[float, socket.socket]]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for _, sock in conns:
                sock.close()

    async def get_into(
        self,
        key: Key,
        head: bytes,
        accept: Callable[[int, Mapping[str, str]], None],
        write: Callable[[memoryview], None],
    ) -> Answer:
        """Send ``head`` (a GET) and hand its 2xx body to ``write`` in a worker thread.

        ``accept(status, headers)`` runs in the thread before any body byte is
        taken and may raise to refuse the answer (the connection is dropped).
        ``write`` gets views of one reused buffer, at most :data:`STEP` bytes each,
        in order; it must not keep them. Raises ``HttpError``/``OSError`` on
        network failures (``Answer.received`` of a torn body is lost with them:
        the caller's ``write`` counts what it got).
        """
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._limit)
        cancel = _Cancel()
        answer: Answer | None = None
        failed: Exception | None = None
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                try:
                    await anyio.sleep_forever()
                finally:
                    cancel.cancel()

            tg.start_soon(watch)
            try:
                answer = await anyio.to_thread.run_sync(
                    self._get, key, head, accept, write, cancel, limiter=self._limiter
                )
            except Exception as error:  # raised below, not wrapped in an ExceptionGroup
                failed = error
            tg.cancel_scope.cancel()
        if failed is not None:
            raise failed
        assert answer is not None
        return answer

    # In the worker thread from here on.
    def _get(
        self,
        key: Key,
        head: bytes,
        accept: Callable[[int, Mapping[str, str]], None],
        write: Callable[[memoryview], None],
        cancel: _Cancel,
    ) -> Answer:
        while True:
            sock, reused = self._checkout(key)
            cancel.attach(sock)
            got_any = False
            try:
                sock.sendall(head)
                head_, rest = _read_head(sock)
                got_any = True
                answer, keep = self._body(sock, head_, rest, accept, write)
            except _WriteFailed as failed:
                sock.close()
                raise failed.error from None
            except (TimeoutError, BlockingIOError) as error:  # BlockingIOError: SO_RCVTIMEO
                sock.close()
                raise ReadTimeout(
                    f"no data for the read timeout ({self._read_timeout:g} s)"
                ) from error
            except (OSError, HttpError) as error:
                sock.close()
                if cancel.cancelled:
                    raise HttpError("cancelled") from error
                if reused and not got_any and not isinstance(error, (ReadTimeout, TimeoutError)):
                    continue  # a stale keep-alive connection: once more, on a new one
                if isinstance(error, (HttpError, TimeoutError)):
                    raise
                raise HttpError(f"{type(error).__name__}: {error}") from error
            except BaseException:
                sock.close()
                raise
            if cancel.detach() and keep:
                self._checkin(key, sock)
            else:
                sock.close()
            return answer

    def _body(
        self,
        sock: socket.socket,
        head: Head,
        rest: bytearray,
        accept: Callable[[int, Mapping[str, str]], None],
        write: Callable[[memoryview], None],
    ) -> tuple[Answer, bool]:
        status, reason, headers, keep = head.status, head.reason, head.headers, head.keep_alive
        if head.length is None:  # chunked, or ends when the server closes
            raise Unframed
        length = head.length
        if status >= 300:
            if length > _MAX_ERROR_BODY:
                raise HttpError("error answer too long")
            body = bytearray(rest[:length])
            while len(body) < length:
                chunk = sock.recv(length - len(body))
                if not chunk:
                    raise HttpError("server closed the connection mid-answer")
                body += chunk
            return Answer(status, reason, headers, bytes(body)), keep and len(rest) <= length
        accept(status, headers)
        buffer = bytearray(STEP)
        view = memoryview(buffer)
        left = length
        have = min(len(rest), left)
        view[:have] = rest[:have]
        if len(rest) > left:
            keep = False  # bytes past the body: never reuse this connection
        received = 0
        flags = 0 if isinstance(sock, ssl.SSLSocket) else socket.MSG_WAITALL
        while left:
            want = min(STEP, left)
            while have < want:
                n = sock.recv_into(view[have:want], want - have, flags)
                if not n:
                    raise HttpError("server closed the connection mid-body")
                have += n
            try:
                write(view[:want])
            except BaseException as error:
                raise _WriteFailed(error) from error
            received += want
            left -= want
            have = 0
        return Answer(status, reason, headers, received=received), keep

    def _checkout(self, key: Key) -> tuple[socket.socket, bool]:
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                since, sock = idle.pop()
                if now - since < _IDLE_FOR:
                    return sock, True
                sock.close()
        return self._connect(key), False

    def _checkin(self, key: Key, sock: socket.socket) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append((time.monotonic(), sock))

    def _connect(self, key: Key) -> socket.socket:
        scheme, host, port = key
        sock = socket.create_connection((host, port), timeout=self._connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                with self._lock:
                    if self._tls_context is None:
                        self._tls_context = (
                            self._tls() if self._tls else ssl.create_default_context()
                        )
                    context = self._tls_context
                sock = context.wrap_socket(sock, server_hostname=host)
                sock.settimeout(self._read_timeout)
            else:
                # Blocking, with the read timeout kept by the kernel (SO_RCVTIMEO):
                # recv(MSG_WAITALL) then fills a whole step in one call, where a
                # Python-level timeout would poll() before every recv.
                sock.settimeout(None)
                if self._read_timeout is not None:
                    whole = int(self._read_timeout)
                    micro = int((self._read_timeout - whole) * 1e6)
                    value = struct.pack("ll", whole, micro)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
        except BaseException:
            sock.close()
            raise
        return sock


def _read_head(sock: socket.socket) -> tuple[Head, bytearray]:
    """The response head, parsed by http_head's rules, and the bytes read past it.

    Interim (1xx) heads are skipped: the real answer follows them.
    """
    buf = bytearray()
    searched = 0
    while True:
        end = buf.find(b"\r\n\r\n", max(0, searched - 3))
        if end >= 0:
            head = parse_head(bytes(buf[: end + 4]), "GET")
            del buf[: end + 4]
            searched = 0
            if head.status >= 200:
                return head, buf
            continue
        if len(buf) > _MAX_HEAD:
            raise HttpError("response head longer than 64 KiB")
        searched = len(buf)
        chunk = sock.recv(65536)
        if not chunk:
            raise HttpError("server closed the connection before answering")
        buf += chunk
