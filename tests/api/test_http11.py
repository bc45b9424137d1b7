"""The fast path's HTTP/1.1 client (backend/http11.py) against a raw server on 127.0.0.1.

Each test scripts the server side byte by byte with ``asyncio.start_server``, so framing,
resets and stalls are exactly what the test says. Every test runs under ``serving()``,
which bounds it in time and closes the server, its connections and the client.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import struct
import time
from asyncio import IncompleteReadError
from collections.abc import Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from s3flow.backend import http11
from s3flow.backend.http11 import HttpClient, HttpError, ReadTimeout

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from s3flow.backend.http11 import Response

LIMIT = 10.0  # seconds any one test may take
BODY = os.urandom(3 * 1024 * 1024 + 123)
READERS = ["read", "stream"]


# The server side


@dataclass
class Request:
    head: bytes  # as received, up to the blank line
    line: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Peer:
    """The server's side of one accepted connection."""

    def __init__(
        self, server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.index = len(server.peers)  # 0 for the first connection accepted
        self.left = asyncio.Event()  # set once the client closed or reset this connection

    async def request(self) -> Request | None:
        """The next request, its body read by Content-Length; None once the client left."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except IncompleteReadError as error:
            if error.partial:
                raise
            return None
        line, *rest = head[:-4].decode("latin-1").split("\r\n")
        headers = {}
        for text in rest:
            name, _, value = text.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        request = Request(head, line, headers, body)
        self.server.requests.append(request)
        return request

    async def send(self, *parts: bytes) -> None:
        for part in parts:
            self.writer.write(part)
        await self.writer.drain()

    async def answer(self, body: bytes = b"", *headers: str, status: str = "200 OK") -> None:
        head = "\r\n".join([f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers])
        await self.send(f"{head}\r\n\r\n".encode("latin-1"), body)

    async def trickle(self, data: bytes, pieces: int, delay: float) -> None:
        """``data`` in ``pieces`` writes, ``delay`` seconds apart."""
        step = -(-len(data) // pieces)
        for start in range(0, len(data), step):
            await asyncio.sleep(delay)
            await self.send(data[start : start + step])

    def reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), not a FIN."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def until_client_leaves(self) -> None:
        try:
            while await self.reader.read(64 * 1024):
                pass
        except ConnectionError:
            pass
        self.left.set()


Handler = Callable[[Peer], Coroutine[Any, Any, None]]


class Server:
    """Runs ``handler`` for each accepted connection; keeps what came in."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.port = 0
        self.peers: list[Peer] = []
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self._accepted: set[asyncio.Task[object]] = set()

    @property
    def connections(self) -> int:
        return len(self.peers)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted = asyncio.current_task()
        assert accepted is not None
        self._accepted.add(accepted)
        peer = Peer(self, reader, writer)
        self.peers.append(peer)
        # The handler in a task of our own: stop() may cancel it without asyncio logging that.
        handler = asyncio.create_task(self._handler(peer))
        self._handlers.add(handler)
        await asyncio.wait([handler])
        writer.close()
        error = None if handler.cancelled() else handler.exception()
        if error is not None and not isinstance(error, ConnectionError | IncompleteReadError):
            self.errors.append(error)  # an assertion in a handler fails the test

    async def stop(self) -> None:
        for handler in self._handlers:
            handler.cancel()  # those left waiting: stalls, idle keep-alive connections
        await asyncio.gather(*self._handlers, *self._accepted, return_exceptions=True)
        if self.errors:
            raise self.errors[0]


@asynccontextmanager
async def serving(
    handler: Handler, *, read_timeout: float = 0.5
) -> AsyncIterator[tuple[Server, HttpClient]]:
    """A server on 127.0.0.1 and a client for it, the whole test bounded by LIMIT seconds."""
    server = Server(handler)
    async with asyncio.timeout(LIMIT):
        listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
        server.port = listener.sockets[0].getsockname()[1]
        try:
            async with HttpClient(limit=4, connect_timeout=2, read_timeout=read_timeout) as client:
                yield server, client
        finally:
            listener.close()
            await listener.wait_closed()
            await server.stop()


def answering(body: bytes = b"ok") -> Handler:
    """A keep-alive handler answering every request with ``body``."""

    async def handler(peer: Peer) -> None:
        while await peer.request():
            await peer.answer(body)

    return handler


# The client side


class Sink:
    """A ``stream()`` sink that keeps the very buffers it is handed."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[list[bytes | bytearray]] = []

    async def __call__(self, buffers: Sequence[bytes | bytearray]) -> None:
        self.calls.append(list(buffers))
        await asyncio.sleep(self.delay)

    @property
    def buffers(self) -> list[bytes | bytearray]:
        return [buffer for call in self.calls for buffer in call]

    @property
    def data(self) -> bytes:
        return b"".join(self.buffers)


async def body_of(response: Response, how: str, batch: int = 64 * 1024) -> bytes:
    if how == "read":
        return await response.read()
    sink = Sink()
    await response.stream(sink, batch=batch)
    return sink.data


async def fetch(
    client: HttpClient,
    server: Server,
    method: str = "GET",
    target: str = "/b/k",
    headers: dict[str, str] | None = None,
    body: bytes | bytearray | memoryview | None = None,
    how: str = "read",
) -> tuple[Response, bytes]:
    """One request, its body read whole; the response (status, headers) and the body."""
    async with client.request(
        "http", "127.0.0.1", server.port, method, target, headers or {}, body
    ) as response:
        return response, await body_of(response, how)


def pooled(client: HttpClient) -> int:
    """Connections kept alive for reuse."""
    return sum(len(idle) for idle in client._idle.values())


# 1. Content-Length bodies


async def test_content_length_body_read() -> None:
    async with serving(answering(BODY)) as (server, client):
        response, body = await fetch(client, server)
        assert (response.status, response.reason) == (200, "OK")
        assert response.content_length == len(BODY)
        assert body == BODY
        assert pooled(client) == 1


async def test_content_length_body_streamed_in_fresh_batches() -> None:
    batch = 300_000
    sink = Sink(delay=0.002)  # the next buffer fills while the sink runs
    async with serving(answering(BODY)) as (server, client):
        async with client.request("http", "127.0.0.1", server.port, "GET", "/k", {}) as r:
            await r.stream(sink, batch=batch)
        assert pooled(client) == 1
    assert all(len(call) == 1 for call in sink.calls)  # one buffer per call, in order
    sizes = [len(buffer) for buffer in sink.buffers]
    assert sizes == [batch] * (len(BODY) // batch) + [len(BODY) % batch]
    # Checked only now, after the whole stream: no buffer was reused or overwritten.
    for i, buffer in enumerate(sink.buffers):
        assert buffer == BODY[i * batch : (i + 1) * batch], f"buffer {i} changed"
    assert len({id(buffer) for buffer in sink.buffers}) == len(sink.buffers)


# 2. Keep-alive


async def test_keep_alive_reuses_one_connection_and_sends_exact_requests() -> None:
    async with serving(answering()) as (server, client):
        await fetch(client, server, "GET", "/b/k?list-type=2&x=%2F", {"X-Test": "one"})
        await fetch(client, server, "PUT", "/b/k2", {"X-Amz-Meta-A": "b c"}, b"hello")
    assert server.connections == 1
    get, put = server.requests
    assert get.line == "GET /b/k?list-type=2&x=%2F HTTP/1.1"
    assert get.headers == {"x-test": "one"}  # no Content-Length on a body-less GET
    assert put.line == "PUT /b/k2 HTTP/1.1"
    assert b"\r\nX-Amz-Meta-A: b c\r\n" in put.head
    assert b"\r\nContent-Length: 5\r\n" in put.head
    assert put.body == b"hello"


async def test_put_without_a_body_sends_content_length_zero() -> None:
    async with serving(answering()) as (server, client):
        await fetch(client, server, "PUT", "/b/empty")
    assert server.requests[0].headers["content-length"] == "0"


async def test_idle_connection_kept_too_long_is_not_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http11, "_IDLE_FOR", 0.05)
    async with serving(answering()) as (server, client):
        await fetch(client, server)
        await asyncio.sleep(0.1)
        await fetch(client, server)
    assert server.connections == 2


# 3. Connection: close, and bodies ended by the server closing


async def test_connection_close_answer_is_not_reused() -> None:
    async def handler(peer: Peer) -> None:
        # Says "close" but keeps serving: only the client's decision can open a new connection.
        while await peer.request():
            await peer.answer(b"bye", "Connection: close")

    async with serving(handler) as (server, client):
        response, body = await fetch(client, server)
        assert (body, response.keep_alive) == (b"bye", False)
        assert pooled(client) == 0
        await fetch(client, server)
    assert server.connections == 2


@pytest.mark.parametrize("how", READERS)
async def test_body_ended_by_close_is_read_whole_and_not_reused(how: str) -> None:
    data = BODY[: 1024 * 1024]  # several times the client's pause threshold

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nX-Kind: no length\r\n\r\n")
        await peer.trickle(data, pieces=4, delay=0.01)
        # leaving the handler closes the connection: that ends the body

    async with serving(handler) as (server, client):
        response, body = await fetch(client, server, how=how)
        assert response.content_length is None
        assert body == data
        assert pooled(client) == 0
        await fetch(client, server)
    assert server.connections == 2


# 4. Chunked bodies


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
    b"5;x=y\r\nhello\r\n"
    b'1;name="quoted;semi"\r\n \r\n'
    b"19000\r\n" + BODY[:0x19000] + b"\r\n"
    b"A\r\n0123456789\r\n"
    b"0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
)
CHUNKED_BODY = b"hello " + BODY[:0x19000] + b"0123456789"


@pytest.mark.parametrize("how", READERS)
async def test_chunked_body_with_extensions_and_trailers(how: str) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.trickle(CHUNKED, pieces=13, delay=0.005)  # cuts through sizes and CRLFs
        while await peer.request():
            await peer.answer(b"again")

    async with serving(handler) as (server, client):
        response, body = await fetch(client, server, how=how)
        assert response.content_length is None
        assert body == CHUNKED_BODY
        _, again = await fetch(client, server)  # the trailers were consumed: framing intact
        assert again == b"again"
    assert server.connections == 1


# 5. Interim answers


async def test_100_continue_is_skipped() -> None:
    async def handler(peer: Peer) -> None:
        while await peer.request():
            await peer.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            await asyncio.sleep(0.02)
            await peer.answer(b"done", "X-Final: yes", status="201 Created")

    async with serving(handler) as (server, client):
        response, body = await fetch(client, server, "PUT", body=b"data")
        assert (response.status, response.reason, body) == (201, "Created", b"done")
        assert response.headers["x-final"] == "yes"
        _, body = await fetch(client, server)
        assert body == b"done"
    assert server.connections == 1


# 6. HEAD


async def test_head_has_no_body_and_keeps_the_connection() -> None:
    async def handler(peer: Peer) -> None:
        while request := await peer.request():
            if request.line.startswith("HEAD"):
                await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
            else:
                await peer.answer(b"the body")

    async with serving(handler) as (server, client):
        response, body = await fetch(client, server, "HEAD")
        assert body == b""
        assert response.headers["content-length"] == "5000"
        assert pooled(client) == 1
        _, body = await fetch(client, server, "GET")
        assert body == b"the body"
    assert server.connections == 1


# 7. Stale keep-alive connections


@pytest.mark.parametrize("when", ["after-answer", "on-next-request", "reset-on-next-request"])
async def test_stale_keep_alive_connection_is_replaced_once(when: str) -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:  # the first connection: one answer, then the server drops it
            await peer.request()
            await peer.answer(b"first")  # no "Connection: close"
            if when == "after-answer":
                return
            await peer.request()  # the client sent its next request: it is lost
            if when == "reset-on-next-request":
                peer.reset()
            return
        await answering(b"second")(peer)

    async with serving(handler) as (server, client):
        _, first = await fetch(client, server)
        assert first == b"first"
        if when == "after-answer":
            await asyncio.sleep(0.05)  # the client sees the FIN before it picks the connection
        _, second = await fetch(client, server, "PUT", "/b/k2", body=b"payload")
        assert second == b"second"
    assert server.connections == 2
    assert server.requests[-1].line == "PUT /b/k2 HTTP/1.1"
    assert server.requests[-1].body == b"payload"  # the body is sent again, whole
    assert len(server.requests) == (2 if when == "after-answer" else 3)


# 8. Connections lost mid-body


def _framed(body: bytes, framing: str) -> bytes:
    """Head and body of an answer whose body is cut short after ``body``."""
    if framing == "length":
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (4 * len(body)) + body
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (4 * len(body)) + body


@pytest.mark.parametrize("how", READERS)
@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("drop", ["reset", "close"])
async def test_connection_lost_mid_body_raises_and_is_not_pooled(
    how: str, framing: str, drop: str
) -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.send(_framed(BODY[: 100 * 1024], framing))
            await asyncio.sleep(0.1)  # the client has the head by now, and part of the body
            if drop == "reset":
                peer.reset()
            return
        await answering(b"fine")(peer)

    statuses: list[int] = []

    async def cut_short(server: Server, client: HttpClient) -> None:
        async with client.request("http", "127.0.0.1", server.port, "GET", "/k", {}) as r:
            statuses.append(r.status)
            await body_of(r, how)

    async with serving(handler) as (server, client):
        with pytest.raises(HttpError) as caught:
            await cut_short(server, client)
        assert statuses == [200]  # the error came from the body, not the head
        assert ("lost" if drop == "reset" else "closed") in str(caught.value)
        assert pooled(client) == 0
        _, body = await fetch(client, server)
        assert body == b"fine"
    assert server.connections == 2


# 9. Read timeouts


@pytest.mark.parametrize("stall", ["before-head", "mid-head", "mid-body", "mid-chunked"])
async def test_read_timeout_when_the_server_stalls(stall: str) -> None:
    sent = {
        "before-head": b"",
        "mid-head": b"HTTP/1.1 200 OK\r\nContent-Len",
        "mid-body": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "mid-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    }[stall]

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(sent)
        await asyncio.sleep(LIMIT)  # stalls; cancelled when the test ends

    async with serving(handler, read_timeout=0.3) as (server, client):
        started = time.monotonic()
        with pytest.raises(HttpError, match="read timeout"):
            await fetch(client, server)
        elapsed = time.monotonic() - started
        assert pooled(client) == 0
    assert 0.25 <= elapsed < 1.0
    assert server.connections == 1  # a fresh connection that times out is not retried


async def test_read_timeout_on_a_reused_connection_is_not_sent_again() -> None:
    """No answer in time may mean a busy server, not a stale connection: no second POST."""

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.answer(b"first")
        await peer.request()
        await asyncio.sleep(LIMIT)  # working on it...

    async with serving(handler, read_timeout=0.3) as (server, client):
        await fetch(client, server)
        started = time.monotonic()
        with pytest.raises(ReadTimeout, match="read timeout"):
            await fetch(client, server, "POST", "/b/k?uploadId=1", body=b"<Complete/>")
        assert time.monotonic() - started < 1.0
    assert server.connections == 1
    assert [r.line for r in server.requests] == [
        "GET /b/k HTTP/1.1",
        "POST /b/k?uploadId=1 HTTP/1.1",
    ]


@pytest.mark.parametrize("how", READERS)
async def test_a_slow_but_steady_body_does_not_time_out(how: str) -> None:
    data = BODY[:8000]

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data))
        await peer.trickle(data, pieces=8, delay=0.1)  # 0.8 s in all, never 0.3 s silent

    async with serving(handler, read_timeout=0.3) as (server, client):
        started = time.monotonic()
        _, body = await fetch(client, server, how=how)
        assert time.monotonic() - started >= 0.7
        assert body == data


# 10. Request bodies


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
async def test_large_request_body_arrives_exact(kind: Callable[[bytes], object]) -> None:
    payload = os.urandom(4 * 1024 * 1024 + 5)

    async def handler(peer: Peer) -> None:
        head = await peer.reader.readuntil(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        await asyncio.sleep(0.2)  # not reading yet: the client's socket fills and it waits
        got = await peer.reader.readexactly(length)
        await peer.answer(b"%d %s" % (len(got), hashlib.sha256(got).hexdigest().encode()))

    async with serving(handler) as (server, client):
        _, answer = await fetch(client, server, "PUT", body=kind(payload))  # type: ignore[arg-type]
    assert answer == b"%d %s" % (len(payload), hashlib.sha256(payload).hexdigest().encode())


async def test_a_server_that_stops_reading_the_body_times_out() -> None:
    async def handler(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(LIMIT)  # never reads the body, never answers, never closes

    async with serving(handler, read_timeout=0.3) as (server, client):
        with pytest.raises(ReadTimeout, match="server read nothing"):
            async with asyncio.timeout(2):  # far more than read_timeout, whatever is counted
                # 32 MiB: more than the sender's and the receiver's socket buffers together
                await fetch(client, server, "PUT", body=bytes(32 * 1024 * 1024))


@pytest.mark.parametrize("close", ["close", "reset"])
async def test_an_early_answer_to_a_big_body_is_read_not_lost(close: str) -> None:
    """A server that refuses a PUT before reading its body (a 403, say): its answer wins."""
    refusal = b"<Error><Code>AccessDenied</Code></Error>"

    async def handler(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        await peer.answer(refusal, "Connection: close", status="403 Forbidden")
        await asyncio.sleep(0.2)  # the answer is on the wire before the connection goes
        if close == "reset":
            peer.reset()
        else:
            peer.writer.close()

    async with serving(handler) as (server, client):
        # 32 MiB: far more than the socket buffers, so the send is cut off mid-body
        response, answer = await fetch(client, server, "PUT", body=bytes(32 * 1024 * 1024))
    assert (response.status, answer) == (403, refusal)


# 11. Malformed answers


@pytest.mark.parametrize(
    "head",
    [
        b"FOO 200 OK\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1\r\n\r\n",
        b"ICY 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ],
)
async def test_malformed_answer_raises_http_error(head: bytes) -> None:
    await _answered_with(head)


async def _answered_with(head: bytes) -> None:
    """The answer ``head`` makes the request fail with HttpError, and its connection closed."""

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(head)
        await peer.until_client_leaves()

    async with serving(handler) as (server, client):
        with pytest.raises(HttpError):
            await fetch(client, server)
        assert pooled(client) == 0
        await asyncio.wait_for(server.peers[0].left.wait(), 2)  # the client closed it


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.1 2\xb20 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 1\xb2\r\n\r\n"],
    ids=["status", "content-length"],
)
async def test_non_ascii_digits_raise_http_error(head: bytes) -> None:
    await _answered_with(head)


async def test_head_longer_than_64_kib_raises() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"p" * 70_000 + b"\r\n")
        await asyncio.sleep(LIMIT)

    async with serving(handler) as (server, client):
        with pytest.raises(HttpError, match="64 KiB"):
            await fetch(client, server)


# 12. Headers


async def test_headers_case_insensitive_joined_and_repr_without_values() -> None:
    secret = "FwoGZXIvYXdzEXAMPLE-SECRET-TOKEN"

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.answer(
            b"",
            "X-Amz-Request-Id: ABC123",
            "X-Repeat: one",
            "x-REPEAT: two",
            f"X-Amz-Security-Token: {secret}",
        )

    async with serving(handler) as (server, client):
        response, _ = await fetch(client, server)
    headers = response.headers
    assert headers["x-amz-request-id"] == headers["X-AMZ-REQUEST-ID"] == "ABC123"
    assert "X-Amz-Request-Id" in headers
    assert headers.get("Content-Length") == "0"
    assert headers.get("missing") is None
    assert headers["X-Repeat"] == "one, two"
    assert len(headers) == 4
    assert sorted(headers) == [
        "content-length",
        "x-amz-request-id",
        "x-amz-security-token",
        "x-repeat",
    ]
    for text in (repr(headers), str(headers)):
        assert "x-amz-security-token" in text
        assert secret not in text
        assert "ABC123" not in text


# 13. Cancellation


@pytest.mark.parametrize("where", ["waiting-for-body", "in-sink"])
async def test_cancelled_stream_closes_the_connection(where: str) -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY))
            await peer.send(BODY[: 200 * 1024])  # the rest never comes
            await peer.until_client_leaves()
            return
        await answering(b"after")(peer)

    sink = Sink(delay=LIMIT if where == "in-sink" else 0)
    async with serving(handler, read_timeout=5) as (server, client):
        with anyio.move_on_after(0.3) as scope:
            async with client.request("http", "127.0.0.1", server.port, "GET", "/k", {}) as r:
                await r.stream(sink, batch=64 * 1024)
        assert scope.cancelled_caught
        assert sink.data == BODY[: len(sink.data)] and sink.data
        assert pooled(client) == 0
        await asyncio.wait_for(server.peers[0].left.wait(), 2)  # closed, not left hanging
        _, body = await fetch(client, server)
        assert body == b"after"
    assert server.connections == 2
