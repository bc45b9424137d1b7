"""backend/http11.py against hostile or broken servers (issue 12, "The HTTP client").

Raw servers on 127.0.0.1 (the harness of test_http11.py) send what a well-behaved S3
never would: lengths it does not keep, bytes nobody asked for, ambiguous framing, early
refusals. Each test failed on the client before these fixes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
import tracemalloc

import pytest

from s3flow.backend.http11 import BodyTooLarge, HttpError
from tests.api.test_http11 import (
    LIMIT,
    Peer,
    answering,
    fetch,
    pooled,
    serving,
)

# 1. A claimed Content-Length costs nothing before the bytes come.


@pytest.mark.parametrize("claim", [800_000_000, 10**15, 10**19 - 1])
async def test_a_claimed_length_is_not_allocated_before_the_bytes_arrive(claim: int) -> None:
    """7 bytes of a body claiming ``claim``: an HttpError, and little memory (not MemoryError,
    OverflowError or 800 MB)."""

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n1234567" % claim)

    tracemalloc.start()
    try:
        async with serving(handler) as (server, client):
            with pytest.raises(HttpError, match="closed"):
                await fetch(client, server)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
async def test_read_with_a_limit_refuses_a_larger_body(framing: str) -> None:
    body = b"x" * 5000

    async def handler(peer: Peer) -> None:
        await peer.request()
        if framing == "length":
            await peer.answer(body)
        elif framing == "chunked":
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            await peer.send(head, b"1388\r\n", body, b"\r\n0\r\n\r\n")
        else:
            await peer.send(b"HTTP/1.1 200 OK\r\n\r\n", body)
        await peer.until_client_leaves()

    async with serving(handler) as (server, client):
        async with client.request("http", "127.0.0.1", server.port, "GET", "/k", {}) as r:
            with pytest.raises(BodyTooLarge, match="over the 4096 allowed"):
                await r.read(limit=4096)
        assert pooled(client) == 0


async def test_a_growing_read_returns_every_byte() -> None:
    body = bytes(range(256)) * (3 * 1024 * 1024 // 256 + 7)  # several doublings past 1 MiB

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        await peer.trickle(body, pieces=5, delay=0.01)
        await answering(b"next")(peer)

    async with serving(handler) as (server, client):
        _, got = await fetch(client, server)
        assert got == body
        _, again = await fetch(client, server)
        assert again == b"next"
    assert server.connections == 1


# 2. Bytes on an idle pooled connection are never read as the next answer.


STALE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"


async def test_bytes_that_came_on_an_idle_connection_discard_it() -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.answer(b"first")
            await asyncio.sleep(0.02)
            await peer.send(STALE)  # unasked: the next request must not take it as its answer
            await peer.until_client_leaves()
            return
        await answering(b"fresh")(peer)

    async with serving(handler) as (server, client):
        _, first = await fetch(client, server)
        await asyncio.sleep(0.2)  # the stale answer reaches the client's buffer
        _, second = await fetch(client, server)
        _, third = await fetch(client, server)
    assert (first, second, third) == (b"first", b"fresh", b"fresh")
    assert server.connections == 2


def test_bytes_still_in_the_kernel_discard_an_idle_connection() -> None:
    """The stale bytes arrived but the event loop has not run since: only the socket knows."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    go, stale_sent = threading.Event(), threading.Event()

    def serve() -> None:
        first, _ = listener.accept()
        with first:
            first.recv(65536)
            first.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
            go.wait(LIMIT)
            first.sendall(STALE)
            stale_sent.set()
            second, _ = listener.accept()
            with second:
                second.recv(65536)
                second.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
                second.recv(65536)  # until the client closes

    async def client_side() -> list[bytes]:
        from s3flow.backend.http11 import HttpClient

        got = []
        async with asyncio.timeout(LIMIT):
            async with HttpClient(limit=2, connect_timeout=2, read_timeout=2) as client:
                for n in range(2):
                    if n == 1:
                        go.set()
                        stale_sent.wait(LIMIT)  # blocks the loop: nothing reads the socket
                        # the bytes are in the kernel, not in our buffer, when we pick it
                    async with client.request("http", "127.0.0.1", port, "GET", "/k", {}) as r:
                        got.append(await r.read())
        return got

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert asyncio.run(client_side()) == [b"first", b"fresh"]
    finally:
        go.set()
        listener.close()
        thread.join(LIMIT)


# 3. Only what is safe is sent twice.


@pytest.mark.parametrize(
    ("method", "headers", "resent"),
    [
        ("GET", {}, True),
        ("PUT", {}, True),
        ("PUT", {"If-None-Match": "*"}, False),
        ("POST", {}, False),
    ],
)
async def test_a_reused_connection_closing_without_a_reply_resends_only_what_is_safe(
    method: str, headers: dict[str, str], resent: bool
) -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.answer(b"first")
            await peer.request()  # taken in, maybe acted upon; then the connection drops
            return
        await answering(b"second")(peer)

    async with serving(handler) as (server, client):
        await fetch(client, server)
        if resent:
            _, body = await fetch(client, server, method, "/b/k", headers, b"payload")
            assert body == b"second"
        else:
            with pytest.raises(HttpError, match="closed"):
                await fetch(client, server, method, "/b/k", headers, b"payload")
    sent = [r.line for r in server.requests[1:]]
    assert sent == [f"{method} /b/k HTTP/1.1"] * (2 if resent else 1)


async def test_a_post_on_a_connection_closed_while_idle_goes_out_on_a_new_one() -> None:
    """Provably never sent (the close came before any byte was written): sent, once."""

    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.answer(b"first")
            return  # closes while idle
        await answering(b"second")(peer)

    async with serving(handler) as (server, client):
        await fetch(client, server)
        await asyncio.sleep(0.05)
        _, body = await fetch(client, server, "POST", "/b/k?uploads", {}, b"")
    assert body == b"second"
    assert [r.line.split()[0] for r in server.requests] == ["GET", "POST"]


# 4. An early answer to a big body wakes the sender.


async def test_an_early_refusal_of_a_big_put_is_seen_at_once_not_after_the_read_timeout() -> None:
    """The server answers 403 and neither reads the body nor closes: the client stops sending,
    reads the answer, and does not pool the connection (its request was cut short)."""
    refusal = b"<Error><Code>AccessDenied</Code></Error>"

    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.reader.readuntil(b"\r\n\r\n")
            await peer.answer(refusal, status="403 Forbidden")  # keep-alive, body unread
            await asyncio.sleep(LIMIT)
            return
        await answering(b"after")(peer)

    # A read timeout far past the test's own bound: waiting for it would fail the test.
    async with serving(handler, read_timeout=LIMIT * 3) as (server, client):
        response, answer = await fetch(client, server, "PUT", body=bytes(64 * 1024 * 1024))
        assert (response.status, answer) == (403, refusal)
        assert pooled(client) == 0
        _, body = await fetch(client, server)
        assert body == b"after"
    assert server.connections == 2


# 5. Strict framing (RFC 9112; h11 refuses each of these too, or reads them differently).


CHUNKS = b"5\r\nhello\r\n0\r\n\r\n"


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunkedx\r\n\r\n" + CHUNKS,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + CHUNKS,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        + CHUNKS,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 199 Odd\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nno colon\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
    ids=[
        "te-xchunkedx",
        "te-gzip-chunked",
        "te-twice",
        "cl-5-5",
        "cl-conflicting",
        "cl-plus",
        "space-before-colon",
        "obs-fold",
        "nul-in-value",
        "cr-in-value",
        "101-unasked",
        "199",
        "http-2.0",
        "four-digit-status",
        "chunk-size-leading-space",
        "chunk-size-garbage",
        "trailer-without-colon",
        "204-with-bad-te",
    ],
)
async def test_ambiguous_framing_is_an_error(answer: bytes) -> None:
    """The server closes after the answer, so a lenient client reads it to the end and passes."""

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(answer)

    async with serving(handler) as (server, client):
        with pytest.raises(HttpError):
            await fetch(client, server)
        assert pooled(client) == 0


async def test_102_and_103_are_interim_and_skipped() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(
            b"HTTP/1.1 102 Processing\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"
        )
        await peer.until_client_leaves()

    async with serving(handler) as (server, client):
        response, body = await fetch(client, server)
    assert (response.status, body) == (200, b"done")


async def test_both_framings_chunked_wins_and_the_connection_is_not_kept() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKS
        )
        await peer.until_client_leaves()

    async with serving(handler) as (server, client):
        _, body = await fetch(client, server)
        assert body == b"hello"
        assert pooled(client) == 0


async def test_an_unasked_100_continue_does_not_stop_the_body() -> None:
    """Some servers send 100 Continue to every request: the body still goes out whole."""
    payload = os.urandom(8 * 1024 * 1024)

    async def handler(peer: Peer) -> None:
        head = await peer.reader.readuntil(b"\r\n\r\n")
        await peer.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        got = await peer.reader.readexactly(length)
        await peer.answer(hashlib.sha256(got).hexdigest().encode())
        await answering(b"next")(peer)

    async with serving(handler) as (server, client):
        _, answer = await fetch(client, server, "PUT", body=payload)
        assert answer == hashlib.sha256(payload).hexdigest().encode()
        _, again = await fetch(client, server)
        assert again == b"next"
    assert server.connections == 1
