"""A raw, misbehaving HTTP/1.1 server on 127.0.0.1 for hostile-server tests.

It answers every request with what ``answer(method, target, headers)`` returns: the exact
bytes of a response (status line, headers, body), so a test can send what no real S3
server would. It runs in its own thread (a synchronous context manager), so a test can
point the real CLI in a subprocess at it as well as an in-process client::

    def answer(method, target, headers):
        return b"HTTP/1.1 200 OK\\r\\nContent-Length: 12abc\\r\\n\\r\\n"

    with RawServer(answer) as server:
        ...  # endpoint_url=server.url

Every wait is bounded (``timeout``), every connection handles a bounded number of requests,
and the server stops (and joins its thread) when the block ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["RawServer", "response"]

Answer = "Callable[[str, str, dict[str, str]], bytes]"


def response(
    status: str = "200 OK", headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """Bytes of a response with exactly these headers (nothing added, nothing checked)."""
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    # Latin-1 where it can be (one byte per character, as HTTP/1.1 reads it), else UTF-8.
    head = b"".join(_encode(line) + b"\r\n" for line in lines)
    return head + b"\r\n" + body


def _encode(line: str) -> bytes:
    try:
        return line.encode("latin-1")
    except UnicodeEncodeError:
        return line.encode("utf-8")


class RawServer:
    def __init__(
        self,
        answer: Callable[[str, str, dict[str, str]], bytes],
        *,
        timeout: float = 10.0,
        max_requests: int = 1000,
    ) -> None:
        self._answer = answer
        self._timeout = timeout
        self._max_requests = max_requests
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self.requests: list[tuple[str, str]] = []
        self.port = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes a recv() that waits for the client
        for thread in list(self._threads):
            thread.join(timeout=self._timeout + 1)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(self._timeout)
        buffer = b""
        with conn:
            for _ in range(self._max_requests):
                try:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data or self._stop.is_set():
                            return
                        buffer += data
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    first, *lines = head.decode("latin-1").split("\r\n")
                    method, target, _ = first.split(" ", 2)
                    headers = {}
                    for line in lines:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                    length = int(headers.get("content-length", "0") or 0)
                    while len(buffer) < length:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buffer += data
                    buffer = buffer[length:]
                    self.requests.append((method, target))
                    conn.sendall(self._answer(method, target, headers))
                except (OSError, ValueError):
                    return
