"""A hostile or broken S3 endpoint (a raw server on 127.0.0.1) against the fast path's client,
and a no-clobber write whose reply is lost between s3flow and SeaweedFS (issue 12).

Each case is one row of ``make reliability``: the call either reads the right answer or
fails with a one-line S3FlowError, never a wrong answer, a traceback or a hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc

import pytest

from s3flow import AccessDenied, RetryableError, S3FlowError, ServiceError
from s3flow.backend.credentials import Credentials, StaticCredentials
from s3flow.backend.fast import FastBackend
from s3flow.backend.http11 import HttpClient
from s3flow.backend.signed import SignedSession
from tests.api.test_http11 import LIMIT, Peer, Server

from .helpers import READ_TIMEOUT
from .proxy import Fault, FaultProxy, Rule

SECRET = "hostile-test-secret"


async def _no_slow_path():
    raise AssertionError("the slow backend was asked for")


async def against(handler, call, *, read_timeout: float = 1.0):  # type: ignore[no-untyped-def]
    """Run ``call(backend)`` against a raw server running ``handler``; its result or error."""
    server = Server(handler)
    async with asyncio.timeout(LIMIT):
        listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
        endpoint = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
        try:
            async with HttpClient(limit=2, connect_timeout=2, read_timeout=read_timeout) as http:
                credentials = StaticCredentials(Credentials("AKHOSTILE", SECRET))
                signed = SignedSession(http, credentials, endpoint, "us-east-1", True)
                backend = FastBackend(signed, _no_slow_path)
                try:
                    return await call(backend)
                except S3FlowError as error:
                    return error
        finally:
            listener.close()
            await listener.wait_closed()
            await server.stop()


def clean(error: object, row, kind: type[S3FlowError] = S3FlowError) -> None:  # type: ignore[no-untyped-def]
    """A one-line S3FlowError of ``kind`` with no secret in it counts as failing cleanly."""
    assert isinstance(error, kind), error
    assert "\n" not in str(error) and SECRET not in str(error)
    row.failed_cleanly += 1


async def test_a_huge_claimed_length_costs_no_memory(reliability_row) -> None:
    row = reliability_row("GET answer claims 800 MB, sends 7 bytes", "1 request")

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 800000000\r\n\r\n1234567")

    row.tried += 1
    tracemalloc.start()
    try:
        error = await against(handler, lambda s3: s3.get_object("b", "k"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    clean(error, row, RetryableError)
    assert peak < 32 * 1024 * 1024


async def test_an_oversized_xml_answer_is_refused(reliability_row) -> None:
    row = reliability_row("listing answer claims 9 GB", "1 request")

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 9000000000\r\n\r\n<ListBucketResult>")
        await peer.until_client_leaves()

    row.tried += 1
    error = await against(handler, lambda s3: s3.list_page("b"))
    clean(error, row, ServiceError)
    assert not isinstance(error, RetryableError)


async def test_unasked_bytes_on_an_idle_connection_are_not_the_next_answer(reliability_row) -> None:
    row = reliability_row("unasked answer sent on an idle keep-alive connection", "1 request")

    async def handler(peer: Peer) -> None:
        while request := await peer.request():
            etag = request.line.split()[1].rsplit("/", 1)[1]
            await peer.answer(b"", f'ETag: "{etag}"')
            if peer.index == 0:
                await asyncio.sleep(0.05)  # the connection is back in the pool by now
                await peer.send(b'HTTP/1.1 200 OK\r\nETag: "stale"\r\nContent-Length: 0\r\n\r\n')

    async def two_heads(s3: FastBackend) -> list[str]:
        first = await s3.head_object("b", "one")
        await asyncio.sleep(0.2)
        return [first.etag, (await s3.head_object("b", "two")).etag]

    row.tried += 1
    etags = await against(handler, two_heads)
    row.completed_right_bytes += etags == ["one", "two"]
    assert etags == ["one", "two"]


async def test_an_early_refusal_of_a_big_put_is_reported_at_once(reliability_row) -> None:
    row = reliability_row("403 before a 64 MiB PUT body is read, connection left open", "1 request")

    async def handler(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        body = b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
        await peer.answer(body, status="403 Forbidden")
        await asyncio.sleep(LIMIT)

    row.tried += 1
    # a read timeout past the test's bound: only an early wake-up can finish in time
    error = await against(
        handler, lambda s3: s3.put_object("b", "k", bytes(64 * 1024 * 1024)), read_timeout=LIMIT * 3
    )
    clean(error, row, AccessDenied)


@pytest.mark.parametrize(
    "head",
    [
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: xchunkedx\r\n",
        b"Content-Length: 5, 5\r\n",
        b"Content-Length : 5\r\n",
    ],
    ids=["gzip-chunked", "xchunkedx", "cl-5-5", "space-before-colon"],
)
async def test_ambiguous_framing_is_refused(head: bytes, reliability_row) -> None:
    row = reliability_row(f"GET answer with {head.decode().strip()!r}", "1 request")

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\n" + head + b"\r\n5\r\nhello\r\n0\r\n\r\n")

    row.tried += 1
    error = await against(handler, lambda s3: s3.get_object("b", "k"))
    clean(error, row, RetryableError)


@pytest.mark.seaweed
async def test_no_clobber_put_whose_reply_is_lost_is_not_reported_as_existing(
    proxy: FaultProxy, faulty, direct, bucket, key, reliability_row
) -> None:
    """SeaweedFS stores the PUT, its reply stalls past the read timeout, the retry meets 412:
    the object is ours, so the write succeeded."""
    row = reliability_row(f"{Fault.STALL} (no-clobber PutObject, once)", "1 request")
    data = bytes(range(256)) * 4096
    proxy.configure([Rule(Fault.STALL, 1.0, method="PUT", limit=1)], seed=0)
    row.tried += 1
    async with faulty(read_timeout=READ_TIMEOUT) as s3:
        result = await s3.put_object(bucket, key, data, no_clobber=True)
    row.injected = sum(proxy.injected().values())
    row.retries = result.retries
    ok = (
        hashlib.sha256(await direct.get_object(bucket, key)).digest()
        == hashlib.sha256(data).digest()
    )
    row.completed_right_bytes += ok
    assert ok
    assert proxy.injected()[Fault.STALL] == 1
